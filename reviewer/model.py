"""Value types shared by the stages: findings, what was dropped or skipped, the review result."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Literal, Protocol

if TYPE_CHECKING:  # a type only: the diff model imports nothing of ours either
    from reviewer.diff import Diff

Severity = Literal["critical", "high", "medium", "low"]
Category = Literal["bug", "security", "performance", "maintainability", "style", "docs", "test"]
Side = Literal["RIGHT", "LEFT"]
Source = Literal["llm", "builtin"]

SEVERITIES: tuple[Severity, ...] = ("critical", "high", "medium", "low")
# The report formats of the command line (--format); reviewer.report renders each one.
REPORT_FORMATS = ("text", "json", "markdown", "sarif", "codequality")
CATEGORIES: tuple[Category, ...] = (
    "bug",
    "security",
    "performance",
    "maintainability",
    "style",
    "docs",
    "test",
)


def severity_rank(severity: str) -> int:
    """0 for the most severe; unknown severities sort last."""
    ranks: dict[str, int] = {name: rank for rank, name in enumerate(SEVERITIES)}
    return ranks.get(severity, len(SEVERITIES))


@dataclass(frozen=True)
class ReviewInput:
    """What is reviewed: the diff, and what the platform knows about the change."""

    diff: Diff
    title: str = ""
    description: str = ""
    unavailable: tuple[Skipped, ...] = ()  # files the platform sent without a patch


@dataclass(frozen=True)
class RawFinding:
    """A finding as the model stated it, validated but not yet anchored onto the diff."""

    path: str
    line: int | None
    end_line: int | None
    quote: str
    severity: Severity
    category: Category
    title: str
    body: str
    suggestion: str | None
    confidence: float
    evidence: str = ""  # what in the code makes it real (asked for before the severity)


class Located(Protocol):
    """What a dropped entry keeps of a finding, anchored or as the model stated it."""

    @property
    def path(self) -> str: ...
    @property
    def line(self) -> int | None: ...
    @property
    def title(self) -> str: ...
    @property
    def severity(self) -> str: ...
    @property
    def body(self) -> str: ...


@dataclass(frozen=True)
class Finding:
    """A finding anchored onto lines the diff shows, ready to report or post inline."""

    path: str
    line: int
    end_line: int
    side: Side
    severity: Severity
    category: Category
    title: str
    body: str
    suggestion: str | None
    confidence: float
    source: Source
    fingerprint: str
    code: str = ""  # the anchored code lines, as the diff shows them (for reports)
    line_kind: Literal["add", "del", "ctx"] = "add"  # kind of the first anchored line
    old_line: int | None = None  # old-file number of the first line, when it has one
    new_line: int | None = None  # new-file number of the first line, when it has one
    evidence: str = ""  # the model's evidence, shown to the verifier (not reported)


class DropCode(StrEnum):
    """Why a finding is not reported inline. Behaviour (exit codes, telemetry) reads the code;
    the words are the reporters' (reviewer.report.reasons), with the entry's `detail`."""

    DUPLICATE = "duplicate"
    BELOW_MIN_SEVERITY = "below_min_severity"
    OVER_MAX_COMMENTS = "over_max_comments"  # still a finding: a --fail-on gate counts it
    FILE_NOT_IN_DIFF = "file_not_in_diff"
    NOT_ON_DIFF = "not_on_diff"  # no quote, and its line is not one the diff shows
    QUOTE_NOT_FOUND = "quote_not_found"  # its quote matches no line the model was shown
    INVALID = "invalid"  # detail: what is wrong with the model's entry
    VERIFIER_REJECTED = "verifier_rejected"  # detail: the verifier's sentence
    CANNOT_GO_INLINE = "cannot_go_inline"  # detail: why the platform has no place for it
    REFUSED = "refused"  # detail: what the platform answered
    READ_ONLY = "read_only"  # the token may not post


class SkipCode(StrEnum):
    """Why a file (or part of one) was not reviewed; worded by the reporters as well."""

    BINARY = "binary"
    DELETED = "deleted"
    EXCLUDED = "excluded"
    NOT_INCLUDED = "not_included"
    LOCK_FILE = "lock_file"
    GENERATED = "generated"
    VENDORED = "vendored"
    MINIFIED = "minified"
    EMPTY_NEW_FILE = "empty_new_file"
    MODE_CHANGE = "mode_change"
    UNCHANGED_COPY = "unchanged_copy"  # detail: "renamed" or "copied"
    NO_CONTENT_CHANGE = "no_content_change"
    OVER_BUDGET = "over_budget"  # detail: which budget
    PARTLY_OVER_BUDGET = "partly_over_budget"  # detail: which budget
    MODEL_FAILED = "model_failed"
    UNAVAILABLE = "unavailable"  # detail: what the platform says about the missing patch


BUDGET_SKIPS = frozenset({SkipCode.OVER_BUDGET, SkipCode.PARTLY_OVER_BUDGET})


@dataclass(frozen=True)
class Dropped:
    """A finding that is not reported inline, and why: nothing is dropped silently."""

    path: str
    line: int | None
    title: str
    code: DropCode
    detail: str = ""
    severity: str = "medium"
    body: str = ""

    @classmethod
    def of(cls, finding: Located, code: DropCode, detail: str = "") -> Dropped:
        """A finding, anchored or as the model stated it, with why it is not inline."""
        return cls(
            finding.path, finding.line, finding.title, code, detail, finding.severity, finding.body
        )


@dataclass(frozen=True)
class Skipped:
    """A file (or part of one) that was not reviewed, and why."""

    path: str
    code: SkipCode
    detail: str = ""


@dataclass(frozen=True)
class CallRecord:
    """One model request as telemetry and the summary see it: figures only, never text.

    A `cached` record carries the figures of the original call its answer came from: nothing
    was sent or paid this time, so the summary's totals leave it out.
    """

    chunk: int
    model: str
    prompt_tokens: int
    completion_tokens: int
    cached_tokens: int
    cost_usd: float | None
    latency_s: float
    retries: int
    fallback: bool
    outcome: Literal["ok", "cached", "failed"]
    error: str = ""
    key_refused: bool = False  # failed because every model refused the API key (401/403)
    misconfigured: bool = False  # failed because every model refused the request as set up
    role: str = "review"  # the pass that made the call ("review" for a single pass), or "verifier"
    tool_calls: int = 0  # tool calls the model made within this call's conversation


@dataclass(frozen=True)
class PassFigures:
    """What one pass (or the verifier) cost: the summary's per-pass breakdown."""

    name: str
    calls: int = 0
    failed: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float | None = 0.0
    latency_s: float = 0.0  # summed over its calls (they overlap in time)
    tool_calls: int = 0


@dataclass(frozen=True)
class Verification:
    """What the verifier did to the candidates; all zero when it did not run."""

    candidates: int = 0  # findings sent to it
    confirmed: int = 0
    rejected: int = 0
    severity_changed: int = 0
    unverified: int = 0  # not mentioned in its answer, or their batch failed: kept
    batches: int = 0
    failed_batches: int = 0  # calls that failed or were not understood: candidates kept
    over_budget: int = 0  # batches not sent: the review's caps were spent by the passes


@dataclass(frozen=True)
class Summary:
    """Figures of one review run (the JSON report's `summary`)."""

    models: tuple[str, ...] = ()
    chunks: int = 0
    failed_chunks: int = 0
    llm_calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0
    cost_usd: float | None = 0.0
    latency_total_s: float = 0.0
    latency_llm_s: float = 0.0
    files_reviewed: int = 0
    files_skipped: tuple[Skipped, ...] = ()
    arm: str | None = None
    cache_hits: int | None = None  # None when the response cache is off
    saved_usd: float | None = None  # what the cache hits cost when first answered
    errors: tuple[str, ...] = ()
    retries: int = 0  # requests beyond the first of each call
    fallback_calls: int = 0  # calls answered by a fallback model
    notes: tuple[str, ...] = ()  # lines for the reader, e.g. how to enable the model pass
    depth: str = ""  # the tier (trivial, lite, full); empty without a model review
    depth_reason: str = ""
    passes: tuple[str, ...] = ()
    verification: Verification | None = None  # None when the tier or config skips it
    tool_calls: int = 0
    tools_note: str = ""  # why tools were not offered although `tools = true`
    by_pass: tuple[PassFigures, ...] = ()


@dataclass(frozen=True)
class ReviewResult:
    """Everything a reporter or poster needs: findings, dropped findings and figures."""

    findings: tuple[Finding, ...]
    dropped: tuple[Dropped, ...]
    summary: Summary
    calls: tuple[CallRecord, ...] = field(default=())


@dataclass(frozen=True)
class CommentFate:
    """What became of one inline comment an earlier review posted on the same change."""

    resolved: bool = False  # its thread was resolved
    outdated: bool = False  # a later commit changed the lines it was on
    thumbs_up: bool = False  # it has a 👍 reaction
    thumbs_down: bool = False  # it has a 👎 reaction
    replied: bool = False  # someone answered in its thread

    @property
    def accepted(self) -> bool:
        """Acted on: resolved, 👍, or its lines changed; a 👎 overrides all of these."""
        return (self.resolved or self.outdated or self.thumbs_up) and not self.thumbs_down

    @property
    def signalled(self) -> bool:
        """Anyone reacted to it at all; comments without a signal are left out of the rate."""
        return any((self.resolved, self.outdated, self.thumbs_up, self.thumbs_down, self.replied))


@dataclass(frozen=True)
class Acceptance:
    """What became of the earlier reviews' comments, counted per comment (not per reaction).

    The platforms fill it on a rerun with `Acceptance.tally(fates)`; telemetry records it.
    """

    comments: int = 0
    resolved: int = 0
    outdated: int = 0
    thumbs_up: int = 0
    thumbs_down: int = 0
    replied: int = 0
    accepted: int = 0  # comments whose CommentFate.accepted holds
    signalled: int = 0  # comments whose CommentFate.signalled holds

    @classmethod
    def tally(cls, fates: Iterable[CommentFate]) -> Acceptance:
        fates = tuple(fates)
        return cls(
            comments=len(fates),
            resolved=sum(f.resolved for f in fates),
            outdated=sum(f.outdated for f in fates),
            thumbs_up=sum(f.thumbs_up for f in fates),
            thumbs_down=sum(f.thumbs_down for f in fates),
            replied=sum(f.replied for f in fates),
            accepted=sum(f.accepted for f in fates),
            signalled=sum(f.signalled for f in fates),
        )

    @property
    def acceptance_rate(self) -> float | None:
        """Accepted comments among those with any signal; None when none has a signal."""
        return self.accepted / self.signalled if self.signalled else None
