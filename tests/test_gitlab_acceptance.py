"""What the notes alone tell about the tool's earlier diff discussions (the pure part)."""

from __future__ import annotations

from reviewer.model import CommentFate
from reviewer.platforms.common import fingerprint_marker
from reviewer.platforms.gitlab.acceptance import (
    MAX_RATED,
    EarlierComment,
    earlier_comments,
    with_awards,
)
from reviewer.platforms.gitlab.api import Award, Note

BOT, HEAD, OLD = "ai-review-bot", "a1" * 20, "0f" * 20
MARKED = f"**High · bug:** x\n\n{fingerprint_marker('0123abcd')}"


def note(
    ident: int,
    thread: str,
    *,
    body: str = MARKED,
    author: str = BOT,
    system: bool = False,
    resolved: bool = False,
    position_head: str | None = HEAD,
) -> Note:
    return Note(ident, body, author, system, thread, resolved, position_head)


def test_only_the_tools_own_fingerprinted_diff_notes_count() -> None:
    notes = [
        note(1, "summary", position_head=None),  # the summary note: not on a line
        note(2, "theirs", author="mallory"),  # a marker in someone else's note
        note(3, "plain", body="no marker here"),
        note(4, "system", system=True),
        note(5, "mine"),
    ]
    assert earlier_comments(notes, BOT, HEAD) == [EarlierComment(5, CommentFate())]


def test_resolved_outdated_and_replied_from_the_thread() -> None:
    notes = [
        note(1, "a", resolved=True),
        note(2, "b", position_head=OLD),  # GitLab left it on the version it was made on
        note(3, "c"),
        note(4, "c", author=BOT),  # the tool answering itself is no reply
        note(5, "c", author="ghost", system=True),
        note(6, "d"),
        note(7, "d", author="reviewer", body="Fixed."),
    ]
    assert [c.fate for c in earlier_comments(notes, BOT, HEAD)] == [
        CommentFate(resolved=True),
        CommentFate(outdated=True),
        CommentFate(),
        CommentFate(replied=True),
    ]


def test_at_most_the_newest_discussions_are_rated() -> None:
    notes = [note(n, f"t{n}") for n in range(MAX_RATED + 5)]
    rated = earlier_comments(notes, BOT, HEAD)
    assert len(rated) == MAX_RATED and rated[0].note_id == 5


def test_awards_by_others_set_the_thumbs() -> None:
    comment = EarlierComment(1, CommentFate(resolved=True))
    awards = [Award("thumbsup", "reviewer"), Award("thumbsdown", BOT), Award("tada", "x")]
    assert with_awards(comment, awards, BOT) == CommentFate(resolved=True, thumbs_up=True)
    assert with_awards(comment, [Award("thumbsdown", "x")], BOT).accepted is False
