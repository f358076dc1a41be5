"""What became of our earlier inline comments, and which of their threads to resolve.

Pure decisions over what each platform reads of its threads. A thread of ours is resolved
when all of these hold:
- its finding is gone: no finding of this run has its fingerprint, nor its path and title
  (a fix that only reworded the flagged line changes the fingerprint, not the problem);
- a later commit changed its lines (the platform says the comment is outdated), and this run
  reviewed its file again (so the finding had the chance to come back);
- nobody else wrote in the thread after us (a question or an objection is left to people);
- it is not resolved already, and we never resolved it before (a thread a person reopened
  stays open: the summary keeps the list of threads we resolved).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from enum import StrEnum

from reviewer.model import Finding

_RESOLVED = re.compile(r"<!-- ai-review:resolved=([\w,=-]*) -->")


class CommentState(StrEnum):
    """An earlier comment's state, as telemetry's addressed rate counts it."""

    ADDRESSED = "addressed"  # its lines changed and the finding is gone
    DISMISSED = "dismissed"  # resolved or 👎 without a change to its lines
    OPEN = "open"


@dataclass(frozen=True)
class EarlierThread:
    """One inline comment of ours from an earlier run, and its thread."""

    ident: str  # the platform's thread id (GitHub's node id, GitLab's discussion id)
    key: str  # stable across runs, to count each comment once: "<change identity>/<id>"
    path: str
    fingerprint: str
    title: str  # as our comment states it (normalized when compared)
    resolved: bool = False
    outdated: bool = False  # a later commit changed the lines it is on
    answered: bool = False  # someone else wrote in the thread after our last note
    thumbs_down: bool = False


def still_standing(thread: EarlierThread, findings: Iterable[Finding]) -> bool:
    title = _normal(thread.title)
    return any(
        f.fingerprint == thread.fingerprint or (f.path == thread.path and _normal(f.title) == title)
        for f in findings
    )


def to_resolve(
    threads: Iterable[EarlierThread],
    findings: Collection[Finding],
    reviewed_paths: Collection[str],
    resolved_before: Collection[str],
) -> list[EarlierThread]:
    return [
        t
        for t in threads
        if not t.resolved
        and t.outdated
        and not t.answered
        and t.ident not in resolved_before
        and t.path in reviewed_paths
        and not still_standing(t, findings)
    ]


def comment_state(
    thread: EarlierThread, findings: Collection[Finding], reviewed_paths: Collection[str]
) -> CommentState | None:
    """The comment's state as this run can tell; None when it cannot (its file was not
    reviewed again and nobody dismissed it): the state recorded earlier then still holds."""
    reviewed = thread.path in reviewed_paths
    if thread.outdated and reviewed and not still_standing(thread, findings):
        return CommentState.ADDRESSED
    if (thread.resolved or thread.thumbs_down) and not thread.outdated:
        return CommentState.DISMISSED
    return CommentState.OPEN if reviewed else None


def resolved_marker(idents: Iterable[str]) -> str:
    """A hidden line for the summary: the threads this tool ever resolved on the change."""
    return f"<!-- ai-review:resolved={','.join(sorted(set(idents)))} -->"


def resolved_in(body: str | None) -> frozenset[str]:
    match = _RESOLVED.search(body or "")
    return frozenset(filter(None, match.group(1).split(","))) if match else frozenset()


def _normal(title: str) -> str:
    return " ".join(re.sub(r"[^\w ]+", " ", title.lower()).split())


_TITLE = re.compile(r"^\*\*\w+ · \w+:\*\* (.+)$", re.MULTILINE)


def comment_title(body: str) -> str:
    """The title our inline comment states (reviewer.platforms.common.comment_body)."""
    match = _TITLE.search(body)
    return match.group(1) if match else ""
