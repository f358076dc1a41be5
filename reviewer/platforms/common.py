"""What GitHub and GitLab posting share: hidden markers, comment bodies, incremental scope.

Markers are HTML comments: invisible on both platforms, and found again on the next run so
the summary is edited in place, reruns know the last reviewed commit, and no finding is
posted twice.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

from reviewer.diff import Diff, FileDiff, Hunk
from reviewer.model import Dropped, Finding, ReviewResult, Side
from reviewer.sanitize import MAX_COMMENT_CHARS, fenced, sanitize_markdown, truncate

SUMMARY_TAG = "<!-- ai-review:summary"
_SUMMARY = re.compile(r"<!-- ai-review:summary(?: head=([0-9a-f]{7,64}))? -->")
_FINGERPRINT = re.compile(r"<!-- ai-review:fp=([0-9a-f]{8,64}) -->")
MAX_SUGGESTION_CHARS = 20_000


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


def fenced_suggestion(finding: Finding, info: str) -> str | None:
    """The finding's suggested code fenced as a block opened with `info`, the platform's
    syntax; None when no platform could apply it: a suggestion replaces the commented lines
    of the new file (never removed lines), and a huge one is no longer a suggestion."""
    code = finding.suggestion
    if code is None or finding.side != "RIGHT" or len(code) > MAX_SUGGESTION_CHARS:
        return None
    return fenced(code, info)


def say(*lines: str, prefix: str = "ai-review: ") -> None:
    """Progress for the job log, one line each, on stderr (stdout carries the report)."""
    for line in lines:
        print(prefix + line, file=sys.stderr)


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
            files.append(replace(file, hunks=hunks))
    return Diff(tuple(files))


def _new_range(hunk: Hunk) -> tuple[int, int]:
    return hunk.new_start, hunk.new_start + max(hunk.new_len, 1) - 1


def _overlaps(span: tuple[int, int], spans: list[tuple[int, int]]) -> bool:
    return any(span[0] <= end and start <= span[1] for start, end in spans)


def placement_problem(finding: Finding, file: FileDiff | None) -> str | None:
    """Why `finding` cannot be posted inline on `file`'s diff, or None when it can. A comment
    sits on lines of one hunk: RIGHT on added or context lines (new-file numbers), LEFT on
    removed or context lines (old-file numbers)."""
    if file is None:
        return "its file is not in the diff"
    if finding.end_line < finding.line:
        return "its line range ends before it starts"
    for hunk in file.hunks:
        numbers = _commentable(hunk, finding.side)
        if finding.end_line in numbers:
            return None if finding.line in numbers else "its lines span more than one hunk"
    return "not on a line the diff shows"


def _commentable(hunk: Hunk, side: Side) -> set[int]:
    if side == "RIGHT":
        return {line.new for line in hunk.lines if line.kind != "del" and line.new is not None}
    return {line.old for line in hunk.lines if line.kind != "add" and line.old is not None}


def with_not_posted(
    result: ReviewResult, not_posted: Iterable[tuple[Finding, str]], note: str = ""
) -> ReviewResult:
    """The result as the summary comment shows it: findings that could not go inline are also
    listed with the reason (to_markdown's "Not posted inline"), and `note` joins the note."""
    dropped = tuple(Dropped.of(finding, reason) for finding, reason in not_posted)
    summary = result.summary
    if note:
        summary = replace(summary, note=" ".join(part for part in (summary.note, note) if part))
    return replace(result, dropped=result.dropped + dropped, summary=summary)


_RERUN_TAG = "<!-- ai-review:rerun -->"


def restamp_summary(body: str, head_sha: str, note: str) -> str:
    """An earlier summary carried over to a run that found nothing new to review: its marker
    now names `head_sha`, and one note line (replacing an earlier one) says why. The earlier
    findings and figures stay as they were."""
    lines: list[str] = []
    for line in body.splitlines():
        if _RERUN_TAG in line and lines and not lines[-1]:
            lines.pop()  # the blank line that was inserted with it
        if not is_summary(line) and _RERUN_TAG not in line:
            lines.append(line)
    heading = next((i + 1 for i, line in enumerate(lines) if line.startswith("## ")), 0)
    stamp = f"**{sanitize_markdown(note)}** {_RERUN_TAG}"
    lines[heading:heading] = ["", stamp] if heading else [stamp, ""]
    return "\n".join([summary_marker(head_sha), *lines]).strip("\n") + "\n"


_SHA = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")


def checkout_head(root: Path) -> str | None:
    """The commit checked out in `root`, read from .git without running git; None if unknown.
    Repository context is read from a checkout only when this is the reviewed head commit."""
    git = _git_dir(root)
    if git is None:
        return None
    head = _read(git / "HEAD")
    if head is not None and head.startswith("ref: "):
        return _resolve_ref(git, head.removeprefix("ref: ").strip())
    return head if head is not None and _SHA.fullmatch(head) else None


def _git_dir(root: Path) -> Path | None:
    dot_git = root / ".git"
    if dot_git.is_dir():
        return dot_git
    pointer = _read(dot_git)  # a worktree or submodule: "gitdir: PATH"
    if pointer is None or not pointer.startswith("gitdir: "):
        return None
    return (root / pointer.removeprefix("gitdir: ").strip()).resolve()


def _resolve_ref(git: Path, ref: str) -> str | None:
    common = _read(git / "commondir")
    for where in (git, (git / common).resolve() if common else git):
        sha = _read(where / ref)
        if sha is not None and _SHA.fullmatch(sha):
            return sha
        for line in (_read(where / "packed-refs") or "").splitlines():
            sha, _, name = line.partition(" ")
            if name == ref and _SHA.fullmatch(sha):
                return sha
    return None


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return None
