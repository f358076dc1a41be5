"""The posting plan every platform follows: which findings are new, which stand already (a
comment of ours carries their fingerprint), and which cannot be placed inline, and why.

The platform only says how a finding is placed on its diff (`place`): GitHub a review
comment's JSON, GitLab a discussion's position. Everything else is decided here, once.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar

from reviewer.diff import Diff, FileDiff, Hunk
from reviewer.model import DropCode, Dropped, Finding, Side

P = TypeVar("P")


@dataclass(frozen=True)
class Placed(Generic[P]):
    """A finding placed on the platform's diff: what to send, and where it goes in words."""

    finding: Finding
    payload: P
    where: str  # e.g. "new_line 4" or "lines 2-4": for the dry-run report


@dataclass(frozen=True)
class PostingPlan(Generic[P]):
    new: tuple[Placed[P], ...]
    unplaced: tuple[Dropped, ...]  # code CANNOT_GO_INLINE, the problem as detail
    already: tuple[Finding, ...]  # a comment of ours stands for it


# Places a finding on a file of the diff, or says why the platform has no place for it.
Placer = Callable[[Finding, FileDiff], "Placed[P] | str"]


def plan_posting(
    findings: Iterable[Finding], diff: Diff, standing: Collection[str], place: Placer[P]
) -> PostingPlan[P]:
    files = {file.path: file for file in diff.files}
    seen = set(standing)
    new: list[Placed[P]] = []
    unplaced: list[Dropped] = []
    already: list[Finding] = []
    for finding in findings:
        if finding.fingerprint in seen:
            already.append(finding)
            continue
        seen.add(finding.fingerprint)
        file = files.get(finding.path)
        problem = placement_problem(finding, file)
        placed = place(finding, file) if file is not None and problem is None else problem
        if isinstance(placed, Placed):
            new.append(placed)
        else:
            unplaced.append(Dropped.of(finding, DropCode.CANNOT_GO_INLINE, placed or ""))
    return PostingPlan(tuple(new), tuple(unplaced), tuple(already))


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
