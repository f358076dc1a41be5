"""What became of earlier comments, from listed review comments: pure, with literal values."""

from __future__ import annotations

import pytest

from reviewer.model import Acceptance
from reviewer.platforms.github import acceptance as github_acceptance
from reviewer.platforms.github.acceptance import earlier_acceptance
from reviewer.platforms.github.api import Comment

BOT = "ai-review[bot]"


def ours(
    ident: int,
    *,
    outdated: bool = False,
    reactions: frozenset[str] | None = None,
    reply_to: int | None = None,
) -> Comment:
    body = "<!-- ai-review:fp=0123456789abcdef -->"
    return Comment(ident, body, BOT, True, "", reply_to, outdated, reactions)


def reply(ident: int, to: int, author: str = "octocat", *, bot: bool = False) -> Comment:
    return Comment(ident, "reply", author, bot, reply_to=to)


def no_lookups(ident: int) -> frozenset[str]:
    raise AssertionError(f"looked up the reactions of {ident}")


def test_a_first_review_has_no_acceptance() -> None:
    assert earlier_acceptance([], [], no_lookups) is None
    someone = Comment(1, "hi", "octocat", False, reactions=frozenset())
    assert earlier_acceptance([someone], [], no_lookups) is None


def test_fates_from_the_listed_comments() -> None:
    fixed = ours(1, outdated=True, reactions=frozenset())
    liked = ours(2, reactions=frozenset({"+1", "eyes"}))
    disliked = ours(3, outdated=True, reactions=frozenset({"-1"}))
    quiet = ours(4, reactions=frozenset({"laugh"}))
    comments = [
        fixed,
        liked,
        disliked,
        quiet,
        reply(5, 2),
        reply(6, 2, "mona"),  # a second reply to the same comment counts once
        reply(7, 3, BOT, bot=True),  # the tool itself
        reply(8, 4, "dependabot[bot]", bot=True),  # another app
        reply(9, 99),  # a thread that is not ours
    ]
    acceptance = earlier_acceptance(comments, [fixed, liked, disliked, quiet], no_lookups)
    assert acceptance == Acceptance(
        comments=4, outdated=2, thumbs_up=1, thumbs_down=1, replied=1, accepted=2, signalled=3
    )


def test_a_reply_by_the_person_whose_token_posted_is_no_signal() -> None:
    mine = ours(1, reactions=frozenset())
    posted_by_a_person = Comment(1, mine.body, "alice", False, reactions=frozenset())
    comments = [posted_by_a_person, reply(2, 1, "alice"), reply(3, 1, "bob")]
    acceptance = earlier_acceptance(comments, [posted_by_a_person], no_lookups)
    assert acceptance is not None and acceptance.replied == 1
    acceptance = earlier_acceptance(comments[:2], [posted_by_a_person], no_lookups)
    assert acceptance is not None and acceptance.replied == 0


def test_replies_carrying_a_marker_are_not_earlier_comments() -> None:
    top = ours(1, reactions=frozenset())
    quoted = ours(2, reply_to=1, reactions=frozenset({"+1"}))
    acceptance = earlier_acceptance([top, quoted], [top, quoted], no_lookups)
    assert acceptance == Acceptance(comments=1)


def test_unlisted_reactions_are_looked_up_for_the_newest_comments_only(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(github_acceptance, "MAX_REACTION_LOOKUPS", 2)
    asked: list[int] = []

    def lookup(ident: int) -> frozenset[str]:
        asked.append(ident)
        return frozenset({"+1"})

    earlier = [ours(10), ours(30), ours(20), ours(40, reactions=frozenset())]
    acceptance = earlier_acceptance(earlier, earlier, lookup)
    assert asked == [30, 20]  # the oldest unlisted one counts without reactions
    assert acceptance is not None and (acceptance.thumbs_up, acceptance.comments) == (2, 4)
