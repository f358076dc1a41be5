"""GitHub's posting quirks: a review comment's JSON, and posting reviews so that one bad
comment never loses the others (GitHub's 422 refuses the whole review). Pure functions."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from typing import TypeVar

from reviewer.errors import PlatformError
from reviewer.model import Finding
from reviewer.platforms.common import comment_body, fenced_suggestion

MAX_COMMENTS_PER_REVIEW = 30  # more per request trips GitHub's abuse detection
MAX_EXTRA_REVIEWS = 8  # requests spent finding the comments GitHub refuses, at most

Payload = dict[str, str | int]
T = TypeVar("T")


class ReviewRefused(PlatformError):
    """GitHub refused a review with 422. `per_comment`: the refusal is about one of its
    comments (not on the diff, ...), so a review with fewer comments may pass."""

    def __init__(self, message: str, *, per_comment: bool) -> None:
        super().__init__(message)
        self.per_comment = per_comment


def review_comment(finding: Finding) -> Payload:
    """The comment's JSON: `line`/`side` on its last line, `start_line`/`start_side` for a
    range (only when it starts before `line`: equal is refused), a suggestion on new code
    (GitHub applies it to the commented lines)."""
    payload: Payload = {
        "path": finding.path,
        "body": comment_body(finding, fenced_suggestion(finding, "suggestion")),
        "line": finding.end_line,
        "side": finding.side,
    }
    if finding.line < finding.end_line:
        payload.update(start_line=finding.line, start_side=finding.side)
    return payload


def post_bounded(
    items: Sequence[T],
    post: Callable[[Sequence[T]], None],
    *,
    per_request: int = MAX_COMMENTS_PER_REVIEW,
    extra_requests: int = MAX_EXTRA_REVIEWS,
) -> tuple[list[T], list[tuple[T, str]]]:
    """Post `items` in requests of at most `per_request`; return what was posted and what
    was refused, with why. GitHub's 422 does not say which comment it refuses, so a refused
    request is split in halves, each posted on its own, down to single comments, spending at
    most `extra_requests` more requests; what is still refused then is returned."""
    pending = deque(items[i : i + per_request] for i in range(0, len(items), per_request))
    posted: list[T] = []
    refused: list[tuple[T, str]] = []
    budget = extra_requests
    while pending:
        batch = pending.popleft()
        try:
            post(batch)
        except ReviewRefused as exc:
            if len(batch) > 1 and exc.per_comment and budget >= 2:
                budget -= 2
                half = (len(batch) + 1) // 2
                pending.extendleft([batch[half:], batch[:half]])
            else:
                refused += [(item, _refusal(exc, len(batch))) for item in batch]
        else:
            posted += batch
    return posted, refused


def _refusal(exc: ReviewRefused, batch: int) -> str:
    if batch == 1:
        return f"GitHub refused the comment ({exc})"
    return f"GitHub refused the review holding it ({exc})"
