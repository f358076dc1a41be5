"""Value types shared by the stages: findings, what was dropped or skipped, the review result."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Severity = Literal["critical", "high", "medium", "low"]
Category = Literal["bug", "security", "performance", "maintainability", "style", "docs", "test"]
Side = Literal["RIGHT", "LEFT"]
Source = Literal["llm", "builtin"]

SEVERITIES: tuple[Severity, ...] = ("critical", "high", "medium", "low")
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


@dataclass(frozen=True)
class Dropped:
    """A finding that is not reported inline, and why: nothing is dropped silently."""

    path: str
    line: int | None
    title: str
    reason: str
    severity: str = "medium"
    body: str = ""


@dataclass(frozen=True)
class Skipped:
    """A file (or part of one) that was not reviewed, and why."""

    path: str
    reason: str


@dataclass(frozen=True)
class CallRecord:
    """One model request as telemetry and the summary see it: figures only, never text."""

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
    cache_hits: int | None = None
    errors: tuple[str, ...] = ()
    note: str = ""  # one line for the reader, e.g. how to enable the model pass


@dataclass(frozen=True)
class ReviewResult:
    """Everything a reporter or poster needs: findings, dropped findings and figures."""

    findings: tuple[Finding, ...]
    dropped: tuple[Dropped, ...]
    summary: Summary
    calls: tuple[CallRecord, ...] = field(default=())
