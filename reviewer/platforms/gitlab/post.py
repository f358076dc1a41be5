"""The publishing pipeline's port onto one GitLab merge request.

A finding becomes a diff discussion (one request each, paced: GitLab rate-limits bursts of
notes); a position GitLab refuses (400) is returned as refused and listed in the summary,
the others still post. The summary is one note, found again by its hidden marker and its
author, and edited in place.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from reviewer.diff import FileDiff
from reviewer.model import Acceptance, Finding
from reviewer.platforms.common import comment_body, fingerprints_in, is_summary, reviewed_head
from reviewer.platforms.gitlab.acceptance import acceptance
from reviewer.platforms.gitlab.api import GitLabAPI, MergeRequest, Note, PositionRefused
from reviewer.platforms.gitlab.position import position_for, suggestion_block
from reviewer.platforms.pipeline import Resolution, Standing, SummaryComment
from reviewer.platforms.plan import Placed
from reviewer.platforms.threads import EarlierThread, comment_title

PAUSE_S = 0.05  # between discussion posts: GitLab rate-limits bursts of notes
Position = dict[str, Any]


@dataclass(frozen=True)
class Summary:
    """The tool's summary note on the merge request."""

    note_id: int
    body: str
    head: str | None


def last_summary(notes: Iterable[Note], username: str) -> Summary | None:
    """The tool's own summary note: a marker in someone else's note is not trusted."""
    for note in own_notes(notes, username):
        if is_summary(note.body):
            return Summary(note.id, note.body, reviewed_head(note.body))
    return None


def own_notes(notes: Iterable[Note], username: str) -> list[Note]:
    return [note for note in notes if note.author == username and not note.system]


class GitLabPort:
    def __init__(self, api: GitLabAPI, mr: MergeRequest, username: str, identity: str = "") -> None:
        self._api = api
        self._mr = mr
        self._username = username
        self._identity = identity
        self._notes: list[Note] | None = None

    def standing(self) -> Standing:
        mine = own_notes(self._every_note(), self._username)
        found = last_summary(mine, self._username)
        summary = None
        if found is not None:
            url = f"{self._mr.web_url}#note_{found.note_id}"
            summary = SummaryComment(found.note_id, found.body, url)
        return Standing(summary, frozenset(fingerprints_in(note.body for note in mine)))

    def place(self, finding: Finding, file: FileDiff) -> Placed[Position] | str:
        position = position_for(finding, file, self._mr.refs)
        if position is None:
            return "no such line in GitLab's diff"
        body = comment_body(finding, suggestion_block(finding))
        return Placed(finding, {"body": body, "position": position}, _lines(position))

    def post(self, batch: Sequence[Placed[Position]]) -> list[tuple[Placed[Position], str]]:
        """Each discussion on its own, paced; a refused position is returned with why."""
        refused: list[tuple[Placed[Position], str]] = []
        for index, placed in enumerate(batch):
            if index:
                time.sleep(PAUSE_S)
            try:
                self._api.create_discussion(placed.payload["body"], placed.payload["position"])
            except PositionRefused as exc:
                refused.append((placed, str(exc)))
        return refused

    def write_summary(self, existing: SummaryComment | None, body: str) -> str:
        if existing is None:
            note_id = self._api.create_note(body)
        else:
            self._api.update_note(existing.ident, body)
            note_id = existing.ident
        return f"{self._mr.web_url}#note_{note_id}"

    def acceptance(self) -> Acceptance | None:
        notes = self._every_note()
        return acceptance(
            self._api,
            notes,
            self._username,
            self._mr.refs.head_sha,
            reviewed_before=last_summary(notes, self._username) is not None,
        )

    def threads(self) -> list[EarlierThread]:
        """Diff discussions opened by a note of ours carrying a fingerprint marker."""
        discussions: dict[str, list[Note]] = {}
        for note in self._every_note():
            discussions.setdefault(note.discussion_id, []).append(note)
        found = []
        for first, *later in discussions.values():
            fingerprints = fingerprints_in([first.body])
            if first.author != self._username or first.system or not fingerprints:
                continue
            if first.position_head is None:
                continue
            found.append(
                EarlierThread(
                    ident=first.discussion_id,
                    key=f"{self._identity}/{first.id}",
                    path=first.position_path,
                    fingerprint=min(fingerprints),
                    title=comment_title(first.body),
                    resolved=first.resolved,
                    outdated=first.position_head != self._mr.refs.head_sha,
                    answered=any(n.author != self._username and not n.system for n in later),
                    thumbs_down=False,  # awards cost a request each: read for acceptance only
                )
            )
        return found

    def resolve(self, thread: EarlierThread) -> Resolution:
        self._api.resolve_discussion(thread.ident)
        return Resolution.RESOLVED

    def _every_note(self) -> list[Note]:
        if self._notes is None:
            self._notes = self._api.notes()
        return self._notes


def _lines(position: Position) -> str:
    numbers = [f"{key} {position[key]}" for key in ("old_line", "new_line") if key in position]
    return ", ".join(numbers) + (" (range)" if "line_range" in position else "")
