"""The publishing pipeline's port onto one GitHub pull request.

What stands is read once per run (the review comments also feed the acceptance figures);
findings become review comments posted in reviews of at most 30, with the bounded retry that
takes out the comments GitHub refuses; the summary is one issue comment edited in place.
Threads are read and resolved through GraphQL (REST has neither); a token that may not
resolve (GitHub wants `contents: write` of an app's token) answers the thread once instead.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from reviewer.diff import FileDiff
from reviewer.model import Acceptance, Finding
from reviewer.platforms.common import fingerprints_in, is_summary
from reviewer.platforms.github.acceptance import earlier_acceptance
from reviewer.platforms.github.api import Comment, GitHubAPI
from reviewer.platforms.github.graphql import ReviewThread, ThreadNote
from reviewer.platforms.github.post import Payload, post_bounded, review_comment
from reviewer.platforms.pipeline import Resolution, Standing, SummaryComment
from reviewer.platforms.plan import Placed
from reviewer.platforms.threads import EarlierThread, comment_title


class GitHubPort:
    def __init__(
        self, api: GitHubAPI, head_sha: str, ours: Callable[[Comment], bool], identity: str = ""
    ) -> None:
        self._api = api
        self._head = head_sha
        self._ours = ours
        self._identity = identity
        self._threads: dict[str, ReviewThread] = {}
        self._comments: list[Comment] | None = None
        self._standing: Standing | None = None

    def standing(self) -> Standing:
        if self._standing is None:
            mine = self._own_review_comments()
            found = our_summary(self._api.issue_comments(), self._ours)
            summary = None if found is None else SummaryComment(found.id, found.body, found.url)
            self._standing = Standing(summary, frozenset(fingerprints_in(c.body for c in mine)))
        return self._standing

    def place(self, finding: Finding, file: FileDiff) -> Placed[Payload]:
        span = f"lines {finding.line}-{finding.end_line}" if finding.end_line > finding.line else ""
        where = f"{span or f'line {finding.end_line}'} ({finding.side})"
        return Placed(finding, review_comment(finding), where)

    def post(self, batch: Sequence[Placed[Payload]]) -> list[tuple[Placed[Payload], str]]:
        body = f"AI review of `{self._head[:7]}`; the summary comment has the details."
        _, refused = post_bounded(
            batch,
            lambda part: self._api.create_review(self._head, body, [p.payload for p in part]),
        )
        return refused

    def write_summary(self, existing: SummaryComment | None, body: str) -> str:
        if existing is None:
            return self._api.create_comment(body)
        return self._api.edit_comment(existing.ident, body)

    def acceptance(self) -> Acceptance | None:
        # Threads as read before this run resolved any (self.threads()): what readers did.
        resolved = frozenset(t.notes[0].id for t in self._threads.values() if t.resolved)
        return earlier_acceptance(
            self._all_comments(), self._own_review_comments(), self._api.reactions, resolved
        )

    def threads(self) -> list[EarlierThread]:
        """Threads opened by an inline comment of ours (fingerprint marker, our author);
        none to ask GraphQL for when REST lists no comment of ours."""
        if not self._own_review_comments():
            return []
        thumbs_down = {c.id for c in self._all_comments() if c.reactions and "-1" in c.reactions}
        found = []
        for thread in self._api.review_threads():
            first = thread.notes[0] if thread.notes else None
            fingerprints = fingerprints_in([first.body]) if first else set()
            if first is None or not fingerprints or not self._ours(_as_comment(first)):
                continue
            self._threads[thread.id] = thread
            others = [n for n in thread.notes[1:] if not self._ours(_as_comment(n))]
            found.append(
                EarlierThread(
                    ident=thread.id,
                    key=f"{self._identity}/{first.id}",
                    path=thread.path,
                    fingerprint=min(fingerprints),
                    title=comment_title(first.body),
                    resolved=thread.resolved,
                    outdated=thread.outdated,
                    answered=bool(others),
                    thumbs_down=first.id in thumbs_down,
                )
            )
        return found

    def resolve(self, thread: EarlierThread) -> Resolution:
        if self._api.resolve_thread(thread.ident):
            return Resolution.RESOLVED
        first = self._threads[thread.ident].notes[0]
        self._api.reply(first.id, ADDRESSED_REPLY)
        return Resolution.REPLIED

    def _all_comments(self) -> list[Comment]:
        if self._comments is None:
            self._comments = self._api.review_comments()
        return self._comments

    def _own_review_comments(self) -> list[Comment]:
        return [c for c in self._all_comments() if fingerprints_in([c.body]) and self._ours(c)]


ADDRESSED_REPLY = (
    "This looks addressed: the lines changed and the finding is no longer reported. "
    "(ai-review may not resolve threads with this token.)"
)


def _as_comment(note: ThreadNote) -> Comment:
    return Comment(note.id, note.body, note.author, note.author.endswith("[bot]"))


def our_summary(comments: Sequence[Comment], ours: Callable[[Comment], bool]) -> Comment | None:
    """Our summary comment. A marker in someone else's comment is ignored: it could otherwise
    make the tool skip what it never reviewed."""
    return next((c for c in comments if is_summary(c.body) and ours(c)), None)
