"""Where a finding goes on a GitLab merge request diff: pure functions, no I/O.

GitLab finds a diff note's line by its `line_code`: sha1(file path) + "_" + old + "_" + new,
with two running counters that start at the hunk header's numbers. Every diff line records
both counters as they are before it; an added line then advances the new counter only, a
removed line the old one only, an unchanged line both. A position names the line by the
numbers it has: an added line `new_line` only, a removed line `old_line` only, an unchanged
line both. Anything else answers 400 "line_code can't be blank".
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from reviewer.diff import FileDiff, LineKind
from reviewer.model import Finding
from reviewer.platforms.common import fenced_suggestion


@dataclass(frozen=True)
class DiffRefs:
    """The merge request version the positions refer to (`diff_refs`)."""

    base_sha: str
    start_sha: str
    head_sha: str


@dataclass(frozen=True)
class GitLabLine:
    """One line of a file's diff as GitLab numbers it."""

    kind: LineKind
    old_line: int | None  # what a position gives: None for an added line
    new_line: int | None  # None for a removed line
    line_code: str


def gitlab_lines(file: FileDiff) -> tuple[GitLabLine, ...]:
    """Every line of the file's hunks with GitLab's numbers and line code."""
    digest = hashlib.sha1(file.path.encode("utf-8"), usedforsecurity=False).hexdigest()
    lines: list[GitLabLine] = []
    for hunk in file.hunks:
        old, new = hunk.old_start, hunk.new_start
        for line in hunk.lines:
            lines.append(
                GitLabLine(
                    kind=line.kind,
                    old_line=None if line.kind == "add" else old,
                    new_line=None if line.kind == "del" else new,
                    line_code=f"{digest}_{old}_{new}",
                )
            )
            old += line.kind != "add"
            new += line.kind != "del"
    return tuple(lines)


def position_for(finding: Finding, file: FileDiff, refs: DiffRefs) -> dict[str, Any] | None:
    """The `text` position of a diff discussion on the finding's lines, None when the file's
    diff does not show them. A range is commented at its last line with a `line_range`."""
    lines = gitlab_lines(file)
    first = _locate(lines, finding.side, finding.line)
    last = _locate(lines, finding.side, finding.end_line)
    if first is None or last is None:
        return None
    position: dict[str, Any] = {
        "position_type": "text",
        "base_sha": refs.base_sha,
        "start_sha": refs.start_sha,
        "head_sha": refs.head_sha,
        "old_path": file.old_path,
        "new_path": file.path,
        **_line_numbers(last),
    }
    if last != first:
        position["line_range"] = {"start": _range_end(first), "end": _range_end(last)}
    return position


def suggestion_block(finding: Finding) -> str | None:
    """GitLab's ```suggestion:-N+0 block replacing the finding's lines (new-file side only):
    the comment sits on the last line, so N counts the lines above it."""
    above = finding.end_line - finding.line
    return fenced_suggestion(finding, f"suggestion:-{above}+0")


def _locate(lines: tuple[GitLabLine, ...], side: str, number: int) -> GitLabLine | None:
    """The line numbered `number` on the finding's side: new-file numbers are unique among
    added and unchanged lines, old-file numbers among removed and unchanged lines."""
    for line in lines:
        if (line.new_line if side == "RIGHT" else line.old_line) == number:
            return line
    return None


def _line_numbers(line: GitLabLine) -> dict[str, int]:
    numbers = {"old_line": line.old_line, "new_line": line.new_line}
    return {key: value for key, value in numbers.items() if value is not None}


def _range_end(line: GitLabLine) -> dict[str, Any]:
    return {
        "line_code": line.line_code,
        "type": "new" if line.kind == "add" else "old",
        "old_line": line.old_line,
        "new_line": line.new_line,
    }
