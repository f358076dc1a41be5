"""Run the stages of one review: the orchestration reads like the pipeline.

diff ─► redact ─► select ─► chunk ─► prompt ─► cache ─► budget ─► model ─► parse ─► anchor
     ─► rank ─► result
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from reviewer.budget import plan_budget
from reviewer.builtin import builtin_findings
from reviewer.cache import ResponseCache
from reviewer.chunk import Chunk, build_chunks
from reviewer.config import Config
from reviewer.context import ContextSource, read_guidelines
from reviewer.diff import FileDiff
from reviewer.dispatch import ChunkJob, ChunkOutcome, Progress, run_chunks
from reviewer.gateway import Gateway, price_per_token
from reviewer.model import (
    CallRecord,
    Finding,
    ReviewInput,
    ReviewResult,
    SkipCode,
    Skipped,
    Summary,
)
from reviewer.prompt import PromptInputs, render_review, render_system
from reviewer.rank import rank_findings
from reviewer.redact import redact_diff, redact_text
from reviewer.select import select_files

__all__ = ["Progress", "ReviewInput", "review"]  # ReviewInput: re-exported from model
NO_MODEL_NOTE = (
    "Built-in checks only: set AI_REVIEW_MODEL (or --model, e.g. openai/gpt-4.1-mini) "
    "and the provider's API key to add the model review."
)
UNKNOWN_PRICE_NOTE = (
    "max_cost_usd not applied: litellm has no price for {model}, so the cost cannot be "
    "estimated before sending; {rest}."
)


@dataclass
class _Plan:
    """What one review covers; chunks and models stay empty without a model."""

    request: ReviewInput
    selected: tuple[FileDiff, ...]
    skipped: tuple[Skipped, ...]
    builtin: list[Finding]
    arm: str | None = None
    caching: bool = False
    chunks: list[Chunk] = field(default_factory=list)  # sent to the model or answered by cache
    models: list[str] = field(default_factory=list)
    over_budget: tuple[Skipped, ...] = ()
    note: str = ""


def review(
    request: ReviewInput,
    config: Config,
    gateway: Gateway | None,
    source: ContextSource,
    *,
    arm: str | None = None,
    cache: ResponseCache | None = None,
    progress: Progress | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> ReviewResult:
    started = clock()
    diff = redact_diff(request.diff)
    selected, skipped = select_files(diff, config.exclude, config.include)
    plan = _Plan(request, selected, skipped, builtin_findings(request.diff), arm, cache is not None)
    if gateway is None:
        return _result(plan, [], config, clock() - started)
    plan.models = list(gateway.models)
    chunks = build_chunks(selected, config.chunk_tokens, gateway.count_tokens)
    inputs = _prompt_inputs(request, config, source)
    jobs = _jobs(chunks, inputs, _line_reader(source), cache)
    jobs = _within_budget(plan, jobs, config, gateway)
    plan.chunks = [job.chunk for job in jobs]
    outcomes = run_chunks(
        jobs, gateway, cache, concurrency=config.concurrency, progress=progress, clock=clock
    )
    return _result(plan, outcomes, config, clock() - started)


def _prompt_inputs(request: ReviewInput, config: Config, source: ContextSource) -> PromptInputs:
    guidelines = tuple(
        type(g)(g.path, redact_text(g.text)) for g in read_guidelines(source, config.guidelines)
    )
    return PromptInputs(
        guidelines=guidelines,
        title=redact_text(request.title),
        description=redact_text(request.description),
        context_lines=config.context_lines,
        prompts_dir=config.prompts_dir,
    )


def _line_reader(source: ContextSource) -> Callable[[str], list[str] | None]:
    @functools.cache
    def lines(path: str) -> list[str] | None:
        text = source.read(path)
        return None if text is None else [redact_text(line) for line in text.splitlines()]

    return lines


def _jobs(
    chunks: list[Chunk],
    inputs: PromptInputs,
    lines: Callable[[str], list[str] | None],
    cache: ResponseCache | None,
) -> list[ChunkJob]:
    system = render_system(inputs)  # identical for every chunk: providers cache it
    jobs = []
    for chunk in chunks:
        user = render_review(chunk, inputs, lines)
        jobs.append(ChunkJob(chunk, system, user, cache.get(system, user) if cache else None))
    return jobs


def _within_budget(
    plan: _Plan, jobs: list[ChunkJob], config: Config, gateway: Gateway
) -> list[ChunkJob]:
    """The jobs the caps allow; cached answers cost nothing and always fit."""
    if not jobs or (config.max_prompt_tokens is None and config.max_cost_usd is None):
        return jobs
    price = price_per_token(gateway.models[0]) if config.max_cost_usd is not None else None
    if config.max_cost_usd is not None and price is None:
        rest = "only max_prompt_tokens limits this review"
        if config.max_prompt_tokens is None:
            rest = "set max_prompt_tokens to cap this review"
        plan.note = UNKNOWN_PRICE_NOTE.format(model=gateway.models[0], rest=rest)
    system = gateway.count_tokens(jobs[0].system)  # the same system prompt for every chunk
    estimates = [0 if job.cached else system + gateway.count_tokens(job.user) for job in jobs]
    kept, plan.over_budget = plan_budget(
        [job.chunk for job in jobs], estimates, config.max_prompt_tokens, config.max_cost_usd, price
    )
    indexes = {chunk.index for chunk in kept}
    return [job for job in jobs if job.chunk.index in indexes]


def _result(
    plan: _Plan, outcomes: list[ChunkOutcome], config: Config, elapsed: float
) -> ReviewResult:
    anchored = plan.builtin + [f for o in outcomes for f in o.findings]
    findings, ranked_out = rank_findings(
        anchored, min_severity=config.min_severity, max_comments=config.max_comments
    )
    calls = tuple(o.call for o in outcomes if o.call is not None)
    sent = tuple(c for c in calls if c.outcome != "cached")  # cached: nothing paid this time
    hits = tuple(c for c in calls if c.outcome == "cached")
    failed = [c for c, o in zip(plan.chunks, outcomes, strict=True) if o.failed]
    not_reviewed = _failed_files(failed) + plan.over_budget
    summary = Summary(
        models=tuple(plan.models),
        chunks=len(plan.chunks),
        failed_chunks=len(failed),
        llm_calls=len(sent),
        prompt_tokens=sum(c.prompt_tokens for c in sent),
        completion_tokens=sum(c.completion_tokens for c in sent),
        cached_tokens=sum(c.cached_tokens for c in sent),
        cost_usd=_total_cost(sent),
        latency_total_s=elapsed,
        latency_llm_s=_model_phase(outcomes),
        files_reviewed=len({f.path for f in plan.selected} - {s.path for s in not_reviewed}),
        files_skipped=plan.request.unavailable + plan.skipped + not_reviewed,
        arm=plan.arm,
        cache_hits=len(hits) if plan.caching else None,
        saved_usd=_total_cost(hits) if plan.caching else None,
        errors=tuple(sorted({c.error for c in calls if c.error})),
        notes=_notes(plan),
    )
    dropped = [d for o in outcomes for d in o.dropped] + ranked_out
    return ReviewResult(tuple(findings), tuple(dropped), summary, calls)


def _notes(plan: _Plan) -> tuple[str, ...]:
    if not plan.models:
        return (NO_MODEL_NOTE,)
    return (plan.note,) if plan.note else ()


def _total_cost(calls: tuple[CallRecord, ...]) -> float | None:
    if any(c.cost_usd is None for c in calls):
        return None
    return sum(c.cost_usd or 0.0 for c in calls)


def _model_phase(outcomes: list[ChunkOutcome]) -> float:
    if not outcomes:
        return 0.0
    return max(o.finished for o in outcomes) - min(o.started for o in outcomes)


def _failed_files(failed: list[Chunk]) -> tuple[Skipped, ...]:
    paths = dict.fromkeys(f.path for chunk in failed for f in chunk.files)
    return tuple(Skipped(path, SkipCode.MODEL_FAILED) for path in paths)
