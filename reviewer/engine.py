"""Run the stages of one review: the orchestration reads like the pipeline.

diff ─► redact ─► select ─► depth ─► chunk ─► prompt (per pass) ─► cache ─► budget ─► model
     ─► parse ─► anchor ─► verify ─► rank ─► result
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from reviewer.budget import plan_budget
from reviewer.builtin import builtin_findings
from reviewer.cache import ResponseCache
from reviewer.chunk import Chunk, build_chunks
from reviewer.config import Config
from reviewer.context import ContextSource, read_guidelines
from reviewer.diff import FileDiff
from reviewer.dispatch import ChunkJob, ChunkOutcome, Progress, run_chunks
from reviewer.gateway import Gateway
from reviewer.model import (
    CallRecord,
    Finding,
    ReviewInput,
    ReviewResult,
    SkipCode,
    Skipped,
    Summary,
)
from reviewer.passes import (
    Allowance,
    PassSetup,
    Verified,
    pass_figures,
    setup_passes,
    verify_step,
)
from reviewer.pricing import price_per_token
from reviewer.prompt import PromptInputs, render_pass_system, render_review
from reviewer.rank import rank_findings
from reviewer.redact import redact_diff, redact_lines, redact_text
from reviewer.select import select_files
from reviewer.toolbox import ToolBox
from reviewer.verify import VERIFIER

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
    setup: PassSetup | None = None
    jobs: list[ChunkJob] = field(default_factory=list)
    verified: Verified | None = None


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
    toolboxes: Sequence[ToolBox] = (),
) -> ReviewResult:
    started = clock()
    diff = redact_diff(request.diff)
    selected, skipped = select_files(diff, config.exclude, config.include)
    plan = _Plan(request, selected, skipped, builtin_findings(request.diff), arm, cache is not None)
    if gateway is None:
        return _result(plan, [], config, clock() - started)
    plan.models = list(gateway.models)
    plan.setup = setup = setup_passes(config, selected, gateway, toolboxes)
    if cache is None and selected:  # something will be sent: load the client meanwhile
        gateway.prepare()
    chunks = build_chunks(selected, config.chunk_tokens, gateway.count_tokens)
    inputs = _prompt_inputs(request, config, source)
    lines = _line_reader(source)
    jobs = _jobs(chunks, inputs, lines, cache, setup)
    if cache is not None and any(job.cached is None for job in jobs):
        gateway.prepare()
    jobs = _within_budget(plan, jobs, config, gateway)
    plan.chunks = list({job.chunk.index: job.chunk for job in jobs}.values())
    plan.jobs = jobs
    outcomes = run_chunks(
        jobs, gateway, cache, concurrency=config.concurrency, progress=progress, clock=clock
    )
    found = [(job.chunk, o.findings) for job, o in zip(jobs, outcomes, strict=True)]
    plan.verified = verify_step(
        found, setup, inputs, lines,
        concurrency=config.concurrency, default_model=plan.models[0], clock=clock,
        allowance=_allowance(config, outcomes, gateway, setup.verifier_model),
    )  # fmt: skip
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
        return None if text is None else redact_lines(text)

    return lines


def _jobs(
    chunks: list[Chunk],
    inputs: PromptInputs,
    lines: Callable[[str], list[str] | None],
    cache: ResponseCache | None,
    setup: PassSetup,
) -> list[ChunkJob]:
    """One job per chunk and pass; every pass of a chunk shares its user prompt."""
    users = [render_review(chunk, inputs, lines) for chunk in chunks]
    jobs = []
    for role in setup.depth.passes:
        # identical for every chunk of a pass: providers cache it
        system = render_pass_system(inputs, role, max_tool_calls=setup.tool_calls_for(role))
        cacheable = cache is not None and setup.cacheable[role]
        for chunk, user in zip(chunks, users, strict=True):
            cached = cache.get(system, user) if cache and cacheable else None
            jobs.append(ChunkJob(chunk, system, user, cached, role, setup.asks[role], cacheable))
    return jobs


def _within_budget(
    plan: _Plan, jobs: list[ChunkJob], config: Config, gateway: Gateway
) -> list[ChunkJob]:
    """The jobs the caps allow; cached answers cost nothing and always fit."""
    if not jobs or (config.max_prompt_tokens is None and config.max_cost_usd is None):
        return jobs
    price = gateway.price() if config.max_cost_usd is not None else None
    if config.max_cost_usd is not None and price is None:
        rest = "only max_prompt_tokens limits this review"
        if config.max_prompt_tokens is None:
            rest = "set max_prompt_tokens to cap this review"
        plan.note = UNKNOWN_PRICE_NOTE.format(model=gateway.models[0], rest=rest)
    system = gateway.count_tokens(jobs[0].system)  # the same system prompt for every chunk
    chunks = {job.chunk.index: job.chunk for job in jobs}  # a chunk costs all its passes
    estimates = dict.fromkeys(chunks, 0)
    for job in jobs:
        # With tools, each turn sends the conversation again: the cap holds for the worst
        # case, one turn per allowed call plus the answer.
        turns = 1 + (plan.setup.tool_calls_for(job.role) if plan.setup else 0)
        cost = 0 if job.cached else system + gateway.count_tokens(job.user)
        estimates[job.chunk.index] += turns * cost
    kept, plan.over_budget = plan_budget(
        list(chunks.values()), list(estimates.values()), config.max_prompt_tokens,
        config.max_cost_usd, price,
    )  # fmt: skip
    indexes = {chunk.index for chunk in kept}
    return [job for job in jobs if job.chunk.index in indexes]


def _result(
    plan: _Plan, outcomes: list[ChunkOutcome], config: Config, elapsed: float
) -> ReviewResult:
    verified = plan.verified or Verified([f for o in outcomes for f in o.findings], [], [], None)
    anchored = plan.builtin + verified.findings
    findings, ranked_out = rank_findings(
        anchored, min_severity=config.min_severity, max_comments=config.max_comments
    )
    calls = tuple(o.call for o in outcomes if o.call is not None) + tuple(verified.calls)
    sent = tuple(c for c in calls if c.outcome != "cached")  # cached: nothing paid this time
    hits = tuple(c for c in calls if c.outcome == "cached")
    failed = _failed_chunks(plan, outcomes)
    not_reviewed = _failed_files(failed) + plan.over_budget
    summary = Summary(
        models=tuple(plan.models),
        chunks=len(plan.chunks),
        failed_chunks=len(failed),
        llm_calls=len(sent) + sum(c.retries for c in sent),  # requests, retries included
        prompt_tokens=sum(c.prompt_tokens for c in sent),
        completion_tokens=sum(c.completion_tokens for c in sent),
        cached_tokens=sum(c.cached_tokens for c in sent),
        cost_usd=_total_cost(sent),
        latency_total_s=elapsed,
        latency_llm_s=_model_phase(outcomes) + verified.seconds,
        files_reviewed=len({f.path for f in plan.selected} - {s.path for s in not_reviewed}),
        files_skipped=plan.request.unavailable + plan.skipped + not_reviewed,
        arm=plan.arm,
        cache_hits=len(hits) if plan.caching else None,
        saved_usd=_total_cost(hits) if plan.caching else None,
        errors=tuple(sorted({c.error for c in calls if c.error})),
        retries=sum(c.retries for c in sent),
        fallback_calls=sum(1 for c in sent if c.fallback and c.outcome == "ok"),
        notes=_notes(plan),
        **_depth_figures(plan, verified, sent),
    )
    dropped = [d for o in outcomes for d in o.dropped] + verified.dropped + ranked_out
    return ReviewResult(tuple(findings), tuple(dropped), summary, calls)


def _allowance(
    config: Config, outcomes: list[ChunkOutcome], gateway: Gateway, model: str
) -> Allowance | None:
    """What the caps leave for verification after what the passes spent."""
    if config.max_prompt_tokens is None and config.max_cost_usd is None:
        return None
    sent = [o.call for o in outcomes if o.call is not None and o.call.outcome != "cached"]
    tokens = math.inf
    if config.max_prompt_tokens is not None:
        tokens = config.max_prompt_tokens - sum(c.prompt_tokens for c in sent)
    price = price_per_token(model) if config.max_cost_usd is not None else None
    usd = math.inf
    if config.max_cost_usd is not None and price is not None:
        usd = config.max_cost_usd - sum(c.cost_usd or 0.0 for c in sent)
    return Allowance(gateway.count_tokens, tokens, usd, price)


def _failed_chunks(plan: _Plan, outcomes: list[ChunkOutcome]) -> list[Chunk]:
    """Chunks that no pass reviewed: every call made for them failed."""
    failed = {job.chunk.index for job, o in zip(plan.jobs, outcomes, strict=True) if o.failed}
    failed -= {j.chunk.index for j, o in zip(plan.jobs, outcomes, strict=True) if not o.failed}
    return [chunk for chunk in plan.chunks if chunk.index in failed]


def _depth_figures(plan: _Plan, verified: Verified, sent: tuple[CallRecord, ...]) -> dict[str, Any]:
    """The summary's depth, passes, verification, tools and per-pass figures."""
    if plan.setup is None:
        return {}
    depth = plan.setup.depth
    roles = (*depth.passes, *((VERIFIER,) if depth.verify else ()))
    return {
        "depth": depth.tier,
        "depth_reason": depth.reason,
        "passes": depth.passes,
        "verification": verified.figures,
        "tool_calls": sum(c.tool_calls for c in sent),
        "tools_note": plan.setup.tools_note,
        "by_pass": pass_figures(sent, roles),
    }


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
