"""What became of the inline comments that earlier reviews posted on a pull request: the
`acceptance` that telemetry records (the README's Telemetry section defines it).

It is read from the review comments a rerun lists anyway, to find what it posted before:
- outdated: GitHub sets a comment's `line` to null once a later commit changed its lines;
- 👍/👎: GitHub lists each comment with a count of its reactions per kind, so this costs no
  request. Only where a server lists no counts (an older GitHub Enterprise Server) are the
  reactions asked for, one request per comment, for the newest MAX_REACTION_LOOKUPS comments;
  older ones then count as without reactions;
- replied: another review comment answers it, by someone other than its author, not an app.
- resolved: a thread's `isResolved`, from the GraphQL read of the threads that the run makes
  anyway to decide what to resolve (no request of its own; unknown, so False, when that read
  failed or found no thread of ours).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from reviewer.model import Acceptance, CommentFate
from reviewer.platforms.github.api import Comment

MAX_REACTION_LOOKUPS = 100


def earlier_acceptance(
    comments: Sequence[Comment],
    ours: Sequence[Comment],
    reactions: Callable[[int], frozenset[str]],
    resolved: frozenset[int] = frozenset(),
) -> Acceptance | None:
    """`comments`: all review comments of the pull request; `ours`: those the tool posted
    (fingerprint marker, our author); `reactions`: looks up one comment's reaction kinds;
    `resolved`: the first comments of the threads that were resolved when the run read them.
    None when no earlier review left an inline comment: a first review."""
    earlier = [c for c in ours if c.reply_to is None]
    if not earlier:
        return None
    kinds = _reaction_kinds(earlier, reactions)
    replied = _replied(comments, earlier)
    return Acceptance.tally(
        CommentFate(
            resolved=comment.id in resolved,
            outdated=comment.outdated,
            thumbs_up="+1" in kinds[comment.id],
            thumbs_down="-1" in kinds[comment.id],
            replied=comment.id in replied,
        )
        for comment in earlier
    )


def _reaction_kinds(
    earlier: Sequence[Comment], lookup: Callable[[int], frozenset[str]]
) -> dict[int, frozenset[str]]:
    unlisted = sorted((c.id for c in earlier if c.reactions is None), reverse=True)
    looked_up = {ident: lookup(ident) for ident in unlisted[:MAX_REACTION_LOOKUPS]}
    return {
        c.id: looked_up.get(c.id, frozenset()) if c.reactions is None else c.reactions
        for c in earlier
    }


def _replied(comments: Sequence[Comment], earlier: Sequence[Comment]) -> set[int]:
    """The earlier comments someone answered: a reply by the tool itself or another app is
    not a reader's signal."""
    authors = {c.id: c.author for c in earlier}  # a reply to any other comment never differs
    return {
        c.reply_to
        for c in comments
        if c.reply_to is not None and not c.bot and authors.get(c.reply_to, c.author) != c.author
    }
