"""The publishing pipeline's port onto one GitHub pull request.

What stands is read once per run (the review comments also feed the acceptance figures);
findings become review comments posted in reviews of at most 30, with the bounded retry that
takes out the comments GitHub refuses; the summary is one issue comment edited in place.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from reviewer.diff import FileDiff
from reviewer.model import Acceptance, Finding
from reviewer.platforms.common import fingerprints_in, is_summary
from reviewer.platforms.github.acceptance import earlier_acceptance
from reviewer.platforms.github.api import Comment, GitHubAPI
from reviewer.platforms.github.post import Payload, post_bounded, review_comment
from reviewer.platforms.pipeline import Standing, SummaryComment
from reviewer.platforms.plan import Placed


class GitHubPort:
    def __init__(self, api: GitHubAPI, head_sha: str, ours: Callable[[Comment], bool]) -> None:
        self._api = api
        self._head = head_sha
        self._ours = ours
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
        return earlier_acceptance(
            self._all_comments(), self._own_review_comments(), self._api.reactions
        )

    def _all_comments(self) -> list[Comment]:
        if self._comments is None:
            self._comments = self._api.review_comments()
        return self._comments

    def _own_review_comments(self) -> list[Comment]:
        return [c for c in self._all_comments() if fingerprints_in([c.body]) and self._ours(c)]


def our_summary(comments: Sequence[Comment], ours: Callable[[Comment], bool]) -> Comment | None:
    """Our summary comment. A marker in someone else's comment is ignored: it could otherwise
    make the tool skip what it never reviewed."""
    return next((c for c in comments if is_summary(c.body) and ours(c)), None)
