"""What GitHub and GitLab posting share: hidden markers, comment bodies, incremental scope.

Markers are HTML comments: invisible on both platforms, and found again on the next run so
the summary is edited in place, reruns know the last reviewed commit, and no finding is
posted twice.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import replace

from reviewer.diff import Diff, FileDiff, Hunk
from reviewer.model import Finding
from reviewer.sanitize import MAX_COMMENT_CHARS, sanitize_markdown, truncate

SUMMARY_TAG = "<!-- ai-review:summary"
_SUMMARY = re.compile(r"<!-- ai-review:summary(?: head=([0-9a-f]{7,64}))? -->")
_FINGERPRINT = re.compile(r"<!-- ai-review:fp=([0-9a-f]{8,64}) -->")


def summary_marker(head_sha: str | None) -> str:
    return f"{SUMMARY_TAG} head={head_sha} -->" if head_sha else f"{SUMMARY_TAG} -->"


def is_summary(body: str | None) -> bool:
    return bool(body) and _SUMMARY.search(body or "") is not None


def reviewed_head(body: str | None) -> str | None:
    """The head commit the summary comment says was reviewed last, if any."""
    match = _SUMMARY.search(body or "")
    return match.group(1) if match else None


def fingerprint_marker(fingerprint: str) -> str:
    return f"<!-- ai-review:fp={fingerprint} -->"


def fingerprints_in(bodies: Iterable[str | None]) -> set[str]:
    """Fingerprints of findings already posted, read from existing comment bodies."""
    return {fp for body in bodies for fp in _FINGERPRINT.findall(body or "")}


def comment_body(finding: Finding, suggestion: str | None = None) -> str:
    """An inline comment: severity, category and title, the body, an optional suggestion
    block (platform syntax, built by the caller), and the hidden fingerprint marker.
    Model text is sanitized: no mentions, no raw HTML, no images, bounded length."""
    head = f"**{finding.severity.capitalize()} · {finding.category}:** "
    head += sanitize_markdown(finding.title)
    marker = fingerprint_marker(finding.fingerprint)
    room = MAX_COMMENT_CHARS - len(head) - len(marker) - len(suggestion or "") - 16
    text = truncate(sanitize_markdown(finding.body), max(room, 200))
    parts = [head, text, suggestion or "", marker]
    return "\n\n".join(part for part in parts if part)


def restrict_to(diff: Diff, changed: Diff) -> Diff:
    """The hunks of `diff` that overlap, in the new file, a hunk of `changed`: the part of a
    pull request touched by commits pushed since the last review."""
    ranges: dict[str, list[tuple[int, int]]] = {}
    for file in changed.files:
        ranges.setdefault(file.path, []).extend(_new_range(h) for h in file.hunks)
    files = []
    for file in diff.files:
        if file.path not in ranges:
            continue
        hunks = tuple(h for h in file.hunks if _overlaps(_new_range(h), ranges[file.path]))
        if hunks or not file.hunks:
            files.append(_with_hunks(file, hunks))
    return Diff(tuple(files))


def _new_range(hunk: Hunk) -> tuple[int, int]:
    return hunk.new_start, hunk.new_start + max(hunk.new_len, 1) - 1


def _overlaps(span: tuple[int, int], spans: list[tuple[int, int]]) -> bool:
    return any(span[0] <= end and start <= span[1] for start, end in spans)


def _with_hunks(file: FileDiff, hunks: tuple[Hunk, ...]) -> FileDiff:
    return replace(file, hunks=hunks)
