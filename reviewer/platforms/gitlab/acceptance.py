"""What became of the tool's earlier diff discussions on a merge request (telemetry's
`acceptance`), read on a rerun.

The discussions are the ones publishing already lists to find posted fingerprints; the only
extra requests are one award-emoji list per earlier discussion, for the newest MAX_RATED.

- resolved: the thread is resolved.
- outdated: the REST API has no such field. On every push GitLab moves a diff note's
  `position` to the new diff version while it can still trace the line; when it cannot (the
  line was changed or removed) the position stays on the version it was made on, and the web
  page shows "changed this line in version N". So a note whose position's `head_sha` is not
  the merge request's current head was outdated by a later commit.
- thumbs_up / thumbs_down: a `thumbsup` / `thumbsdown` award on the tool's note by someone else.
- replied: a later note in the thread by someone else (system notes are not replies).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from reviewer.model import Acceptance, CommentFate
from reviewer.platforms.common import fingerprints_in
from reviewer.platforms.gitlab.api import Award, GitLabAPI, Note

MAX_RATED = 100  # award requests per run: one per earlier discussion, newest first


@dataclass(frozen=True)
class EarlierComment:
    """One of the tool's earlier diff discussions, and its fate without the awards."""

    note_id: int
    fate: CommentFate


def earlier_comments(notes: Iterable[Note], username: str, head_sha: str) -> list[EarlierComment]:
    """The tool's own diff discussions among `notes` (every note of every discussion, oldest
    first), newest MAX_RATED, with what the notes alone tell."""
    threads: dict[str, list[Note]] = {}
    for note in notes:
        threads.setdefault(note.discussion_id, []).append(note)
    found = []
    for first, *later in threads.values():
        if not _is_own_diff_comment(first, username):
            continue
        fate = CommentFate(
            resolved=first.resolved,
            outdated=first.position_head != head_sha,
            replied=any(note.author != username and not note.system for note in later),
        )
        found.append(EarlierComment(first.id, fate))
    return found[-MAX_RATED:]


def _is_own_diff_comment(note: Note, username: str) -> bool:
    """A marker in someone else's note is not trusted, as for fingerprints and the summary."""
    return (
        note.author == username
        and not note.system
        and note.position_head is not None
        and bool(fingerprints_in([note.body]))
    )


def with_awards(comment: EarlierComment, awards: Iterable[Award], username: str) -> CommentFate:
    """The fate with the 👍/👎 others gave the note."""
    names = {award.name for award in awards if award.author != username}
    return replace(comment.fate, thumbs_up="thumbsup" in names, thumbs_down="thumbsdown" in names)


def acceptance(
    api: GitLabAPI, notes: list[Note], username: str, head_sha: str, *, reviewed_before: bool
) -> Acceptance | None:
    """The earlier comments' fates counted; None when the tool never reviewed the merge
    request (no summary note and no diff discussion of its own)."""
    comments = earlier_comments(notes, username, head_sha)
    if not comments and not reviewed_before:
        return None
    fates = [with_awards(c, api.awards(c.note_id), username) for c in comments]
    return Acceptance.tally(fates)
