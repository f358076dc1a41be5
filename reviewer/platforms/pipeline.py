"""One publishing pipeline for every platform: plan, post, summarize, report.

A platform implements the small `Port` below: read what stands, place a finding, post a
batch and return what was refused, write the summary, resolve a thread. The decisions (what
is new, what cannot be placed, which earlier threads are fixed, the summary's words, the dry
run) are taken here, the same way for all.
Nothing is printed: the lines for the job log come back in `Published.log`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Protocol, TypeVar

from reviewer.diff import FileDiff
from reviewer.errors import ReviewError
from reviewer.model import Acceptance, DropCode, Dropped, Finding, ReviewResult
from reviewer.platforms.base import Change, Published
from reviewer.platforms.plan import Placed, PostingPlan, plan_posting
from reviewer.platforms.summary import (
    capped,
    dry_run_report,
    posted_report,
    posting_notes,
    restamp_summary,
    summary_body,
)
from reviewer.platforms.threads import (
    EarlierThread,
    comment_state,
    resolved_in,
    resolved_marker,
    to_resolve,
)

P = TypeVar("P")
LOG_PREFIX = "ai-review: "


@dataclass(frozen=True)
class SummaryComment:
    """The summary comment an earlier run of ours wrote (found by its marker and author)."""

    ident: int
    body: str
    url: str


@dataclass(frozen=True)
class Standing:
    """What stands on the change already, written by us: the summary, posted fingerprints."""

    summary: SummaryComment | None
    fingerprints: frozenset[str]


class Resolution(StrEnum):
    RESOLVED = "resolved"  # the thread is resolved
    REPLIED = "replied"  # the token may not resolve: a reply says it was addressed
    FAILED = "failed"


class Port(Protocol[P]):
    def standing(self) -> Standing: ...

    def place(self, finding: Finding, file: FileDiff) -> Placed[P] | str:
        """The finding placed on the platform's diff, or why it has no place there."""
        ...

    def post(self, batch: Sequence[Placed[P]]) -> list[tuple[Placed[P], str]]:
        """Post the comments; return those the platform refused, with its reason."""
        ...

    def write_summary(self, existing: SummaryComment | None, body: str) -> str:
        """Create or edit the summary comment; its URL."""
        ...

    def acceptance(self) -> Acceptance | None:
        """What became of the earlier comments (None on a first review)."""
        ...

    def threads(self) -> list[EarlierThread]:
        """Our earlier inline comments' threads (read once per run)."""
        ...

    def resolve(self, thread: EarlierThread) -> Resolution:
        """Resolve a thread whose finding was fixed, or where that is not allowed, reply
        once that it was addressed."""
        ...


@dataclass(frozen=True)
class Outcome:
    """A publish's result for the platform's own reporting: what was sent, and the body."""

    published: Published
    body: str


def plan_for(port: Port[P], change: Change, result: ReviewResult) -> PostingPlan[P]:
    standing = port.standing()
    return plan_posting(
        result.findings, change.review_input.diff, standing.fingerprints, port.place
    )


def publish(port: Port[P], change: Change, result: ReviewResult, *, dry_run: bool) -> Outcome:
    """Post the review: new comments, then the summary written in place. A dry run sends
    nothing and says what it would have sent."""
    standing = port.standing()
    plan = plan_for(port, change, result)
    restamp = _restamped(change, standing)
    if dry_run:
        outcome = _dry_run(change, result, plan, standing, restamp)
        if restamp is None and (fixed := _earlier(port, change, result).resolve):
            log = (*outcome.published.log, f"{LOG_PREFIX}  would resolve {len(fixed)} thread(s)")
            outcome = Outcome(replace(outcome.published, log=log), outcome.body)
    elif restamp is not None:
        url = _write(port, standing.summary, restamp)
        outcome = Outcome(Published(summary_url=url), restamp)
    else:
        outcome = _post(
            port, change, result, plan, standing, earlier=_earlier(port, change, result)
        )
    acceptance = port.acceptance()  # after posting: reading never holds the review up
    return Outcome(replace(outcome.published, acceptance=acceptance), outcome.body)


def nothing_new(change: Change) -> bool:
    request = change.review_input
    return change.since is not None and not request.diff.files and not request.unavailable


@dataclass(frozen=True)
class _Earlier:
    """The earlier threads as this run sees them: which to resolve, each comment's state."""

    resolve: tuple[EarlierThread, ...] = ()
    resolved_before: frozenset[str] = frozenset()
    states: tuple[tuple[str, str], ...] = ()
    notes: tuple[str, ...] = ()


def _earlier(port: Port[P], change: Change, result: ReviewResult) -> _Earlier:
    try:
        threads = port.threads()
    except ReviewError as exc:  # the review still posts; the summary says what is missing
        return _Earlier(notes=(f"Earlier threads not checked: {exc}.",))
    summary = port.standing().summary
    before = resolved_in(summary.body if summary else None)
    skipped = {s.path for s in result.summary.files_skipped}
    reviewed = {f.path for f in change.review_input.diff.files} - skipped
    chosen = to_resolve(threads, result.findings, reviewed, before)
    found = ((t.key, comment_state(t, result.findings, reviewed)) for t in threads)
    states = tuple((key, str(state)) for key, state in found if state is not None)
    return _Earlier(tuple(chosen), before, states)


def _restamped(change: Change, standing: Standing) -> str | None:
    """The earlier summary carried over, when this run had nothing new to review."""
    if standing.summary is None or not nothing_new(change) or change.head_sha is None:
        return None
    return restamp_summary(standing.summary.body, change.head_sha, " ".join(change.notes))


def _dry_run(
    change: Change,
    result: ReviewResult,
    plan: PostingPlan[P],
    standing: Standing,
    restamp: str | None,
) -> Outcome:
    new = () if restamp is not None else plan.new
    lines = dry_run_report(
        new, plan.unplaced, len(plan.already), summary_exists=standing.summary is not None
    )
    notes = posting_notes(change.notes, len(plan.already), capped=capped(result))
    body = restamp or summary_body(result, change.head_sha, plan.unplaced, notes)
    published = Published(
        not_posted=plan.unplaced,
        already_posted=len(plan.already),
        notes=("dry run",),
        log=tuple(LOG_PREFIX + line for line in lines),
    )
    return Outcome(published, body)


def _post(
    port: Port[P],
    change: Change,
    result: ReviewResult,
    plan: PostingPlan[P],
    standing: Standing,
    *,
    earlier: _Earlier,
) -> Outcome:
    refused = port.post(plan.new)
    outcomes, failures = _resolve_all(port, earlier.resolve)
    resolved = [i for i, o in outcomes.items() if o == Resolution.RESOLVED]
    replied = [i for i, o in outcomes.items() if o == Resolution.REPLIED]
    refused_ids = {id(placed) for placed, _ in refused}
    posted = tuple(p.finding for p in plan.new if id(p) not in refused_ids)
    not_posted = plan.unplaced + tuple(
        Dropped.of(placed.finding, DropCode.REFUSED, why) for placed, why in refused
    )
    notes = posting_notes(
        change.notes,
        len(plan.already),
        len(resolved),
        len(refused),
        replied=len(replied),
        capped=capped(result),
    )
    body = summary_body(result, change.head_sha, not_posted, notes + earlier.notes + failures)
    ever = earlier.resolved_before | set(resolved) | set(replied)
    body += f"\n{resolved_marker(ever)}\n" if ever else ""
    url = _write(port, standing.summary, body)
    line = posted_report(len(posted), len(not_posted), len(plan.already), len(resolved), url)
    published = Published(
        posted=posted,
        not_posted=not_posted,
        already_posted=len(plan.already),
        summary_url=url,
        notes=change.notes,
        log=(LOG_PREFIX + line,),
        resolved=len(resolved) + len(replied),
        comment_states=earlier.states,
    )
    return Outcome(published, body)


def _resolve_all(
    port: Port[P], threads: Sequence[EarlierThread]
) -> tuple[dict[str, Resolution], tuple[str, ...]]:
    """Each thread's resolution; one that fails is left open and said so in the summary,
    never at the cost of the review."""
    outcomes: dict[str, Resolution] = {}
    errors: list[str] = []
    for thread in threads:
        try:
            outcomes[thread.ident] = port.resolve(thread)
        except ReviewError as exc:  # a refusal too (a token without the right): say so
            outcomes[thread.ident] = Resolution.FAILED
            errors.append(str(exc))
    if not errors:
        return outcomes, ()
    return outcomes, (f"{len(errors)} fixed thread(s) left open: {errors[0]}.",)


def _write(port: Port[P], existing: SummaryComment | None, body: str) -> str:
    if existing is not None and existing.body == body:
        return existing.url  # already says so: not even an edit
    return port.write_summary(existing, body)
