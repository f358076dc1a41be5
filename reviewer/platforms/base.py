"""The platform seam: fetch a change to review, publish the result. Nothing more."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from reviewer.context import ContextSource
from reviewer.diff import Diff
from reviewer.model import Acceptance, Dropped, Finding, ReviewInput, ReviewResult


@dataclass(frozen=True)
class Change:
    """A change under review and who it is: the identity decides the routing arm."""

    review_input: ReviewInput
    source: ContextSource
    repo: str | None = None
    number: int | None = None
    head_sha: str | None = None
    identity: str = ""  # stable across reruns: "github:owner/name#7", or the diff's hash
    # An incremental review covers only what changed since this earlier reviewed head (None:
    # the whole change); equal to head_sha when nothing changed since.
    since: str | None = None
    notes: tuple[str, ...] = ()  # for the summary, e.g. why the whole change was reviewed
    # The whole change, when the review covers less of it (an incremental rerun): what the
    # change touches decides what is trusted (its config, templates, cache), not the delta.
    whole: Diff | None = None

    @property
    def touched(self) -> Diff:
        """Every file the change touches, whatever part of it this run reviews."""
        return self.whole if self.whole is not None else self.review_input.diff


@dataclass(frozen=True)
class Published:
    """What reached the platform, and what could not (it is then listed in the summary)."""

    posted: tuple[Finding, ...] = ()
    not_posted: tuple[Dropped, ...] = ()  # findings not inline, and why (in the summary)
    already_posted: int = 0
    summary_url: str | None = None
    notes: tuple[str, ...] = field(default=())
    # On a change reviewed before: what became of the earlier comments (None when unknown).
    acceptance: Acceptance | None = None
    resolved: int = 0  # earlier threads of ours closed as fixed (resolved, or answered so)
    # (comment key, "addressed" | "dismissed" | "open") for each earlier comment of ours
    comment_states: tuple[tuple[str, str], ...] = ()
    log: tuple[str, ...] = ()  # lines for the job log, printed by the run (nothing deep prints)


class Platform(Protocol):
    def fetch(self, *, full: bool) -> Change: ...

    def publish(self, change: Change, result: ReviewResult, *, dry_run: bool) -> Published: ...

    def close(self) -> None:
        """Release what the platform holds open (an HTTP session); called once the run is
        over, whatever happened, after fetch or publish or neither."""
        ...
