"""What a run on a platform reviews: the whole change, or what changed since the last review.

One decision for every platform: the summary comment of the last review names its head;
unless the run reviews everything (`--full`, or a `--fail-on` gate, decided by the run), only
the hunks that the commits since then touched are reviewed, and a rerun on the same head
reviews nothing. The platform only supplies the comparison (None: it cannot compare).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from reviewer.diff import Diff, Hunk
from reviewer.model import Skipped


@dataclass(frozen=True)
class Scope:
    """The part of the change to review, and what the summary says about it."""

    diff: Diff
    unavailable: tuple[Skipped, ...]
    since: str | None = None  # the head reviewed last, when only later changes are reviewed
    notes: tuple[str, ...] = ()

    @property
    def nothing_new(self) -> bool:
        """Reviewed before, and nothing of the change's diff changed since."""
        return self.since is not None and not self.diff.files and not self.unavailable


def incremental_scope(
    diff: Diff,
    unavailable: tuple[Skipped, ...],
    last: str | None,
    head: str,
    compare: Callable[[str, str], Diff | None],
) -> Scope:
    """`last`: the head the last review covered (None: review everything). `compare(a, b)`:
    the files changed between two commits as a diff, or None when the platform cannot say."""
    if last is None:
        return Scope(diff, unavailable)
    if last == head:
        note = f"No new commits since `{last[:7]}`, reviewed before: nothing new to review."
        return Scope(Diff(()), (), since=last, notes=(note,))
    changed = compare(last, head)
    if changed is None:
        note = f"The changes since `{last[:7]}` cannot be compared: reviewed everything."
        return Scope(diff, unavailable, notes=(note,))
    scoped = restrict_to(diff, changed)
    if not scoped.files:
        note = f"The commits since `{last[:7]}` change nothing in the reviewed diff."
    else:
        note = (
            f"Incremental review: only the changes since `{last[:7]}` (--full reviews all); "
            "earlier findings stay in their threads."
        )
    paths = {file.path for file in changed.files}
    left_out = tuple(s for s in unavailable if s.path in paths)
    return Scope(scoped, left_out, since=last, notes=(note,))


def restrict_to(diff: Diff, changed: Diff) -> Diff:
    """The hunks of `diff` that overlap, in the new file, a hunk of `changed`: the part of a
    change touched by commits pushed since the last review."""
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
