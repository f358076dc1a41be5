"""Checks that need no model: committed secrets and merge-conflict markers on added lines."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace

from reviewer.diff import Diff, DiffLine, Hunk
from reviewer.model import Category, Finding, Severity
from reviewer.redact import BY_KIND, find_secrets, redact_text

_CONFLICT_EDGE = re.compile(r"(?:<{7}|>{7})(?: |$)")
_CONFLICT_MIDDLE = re.compile(r"(?:={7}|\|{7}(?: .*)?)$")
_CONFLICT_TITLE = "Unresolved merge-conflict marker"
_CONFLICT_BODY = (
    "These lines hold merge-conflict markers left from an unfinished merge or rebase: the file "
    "will not parse, or holds both sides of the conflict. Resolve the conflict and remove the "
    "markers."
)
_LEAK_ADVICE = (
    "This line adds what looks like a live credential ({kind}). Treat it as leaked: revoke or "
    "rotate it now, and load it from a secret store (CI secrets, a vault, the environment) "
    "instead of the repository; deleting it in a later commit leaves it in the history. "
    "ai-review redacted the value from everything it sent to the model."
)


def builtin_findings(diff: Diff) -> list[Finding]:
    """Secrets and merge-conflict markers on added lines (a removed secret is no new leak)."""
    findings: list[Finding] = []
    for file in diff.files:
        added = [line for hunk in file.hunks for line in hunk.lines if line.kind == "add"]
        findings += _secret_findings(file.path, added)
        has_edge_marker = any(_CONFLICT_EDGE.match(line.text) for line in added)
        for hunk in file.hunks:
            for first, last in _conflicts(hunk, has_edge_marker):
                finding = _finding(
                    file.path,
                    first,
                    _CONFLICT_TITLE,
                    _CONFLICT_BODY,
                    severity="high",
                    category="bug",
                )
                findings.append(replace(finding, end_line=last.new or finding.line))
    return findings


def _secret_findings(path: str, added: list[DiffLine]) -> Iterator[Finding]:
    previous: list[str] = []
    for line in added:
        kinds = list(dict.fromkeys(secret.kind for secret in find_secrets(line.text)))
        for kind in kinds:
            if kind == "private-key" and kind in previous:
                continue  # a key's header and its first body line are one secret
            pattern = BY_KIND[kind]
            advice = _LEAK_ADVICE.format(kind=kind)
            yield _finding(path, line, pattern.title, advice, confidence=pattern.confidence)
        previous = kinds


def _conflicts(hunk: Hunk, file_has_edge_marker: bool) -> Iterator[tuple[DiffLine, DiffLine]]:
    """One (first, last) marker line pair per conflict: `<<<<<<<` through `>>>>>>>` when both
    are added in this hunk, else each stray marker alone. One conflict, one finding."""
    opened: DiffLine | None = None
    pending: list[DiffLine] = []
    for line in hunk.lines:
        if line.kind != "add" or not _is_conflict_marker(line.text, file_has_edge_marker):
            continue
        if line.text.startswith("<<<<<<<"):
            yield from ((m, m) for m in ([opened] if opened else []) + pending)
            opened, pending = line, []
        elif line.text.startswith(">>>>>>>") and opened is not None:
            yield opened, line
            opened, pending = None, []
        else:
            pending.append(line)
    yield from ((m, m) for m in ([opened] if opened else []) + pending)


def _is_conflict_marker(text: str, file_has_edge_marker: bool) -> bool:
    # A lone ======= is also a reStructuredText or Markdown heading underline: it only counts
    # beside a <<<<<<< or >>>>>>> marker in the same file, as does diff3's ||||||| base marker.
    if _CONFLICT_EDGE.match(text):
        return True
    return file_has_edge_marker and _CONFLICT_MIDDLE.match(text) is not None


def _finding(
    path: str,
    line: DiffLine,
    title: str,
    body: str,
    *,
    severity: Severity = "critical",
    category: Category = "security",
    confidence: float = 1.0,
) -> Finding:
    number = line.new if line.new is not None else 0
    return Finding(
        path=path,
        line=number,
        end_line=number,
        side="RIGHT",
        severity=severity,
        category=category,
        title=title,
        body=body,
        suggestion=None,
        confidence=confidence,
        source="builtin",
        fingerprint="",
        code=redact_text(line.text),
        line_kind="add",
        new_line=number,
    )
