"""Run the stages of one review: the orchestration reads like the pipeline.

diff ─► redact ─► select ─► chunk ─► prompt ─► model ─► parse ─► anchor ─► rank ─► result
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cache

from reviewer.anchor import anchor_findings, dropped_from_rejected
from reviewer.answer import parse_answer
from reviewer.builtin import builtin_findings, redact_diff, redact_text
from reviewer.chunk import Chunk, build_chunks
from reviewer.config import Config
from reviewer.context import ContextSource, read_guidelines
from reviewer.diff import Diff, FileDiff
from reviewer.errors import ModelError
from reviewer.gateway import Gateway
from reviewer.model import CallRecord, Dropped, Finding, ReviewResult, Skipped, Summary
from reviewer.prompt import PromptInputs, render_review, render_system
from reviewer.rank import rank_findings
from reviewer.select import select_files

Progress = Callable[[int, int], None]
NO_MODEL_NOTE = (
    "Built-in checks only: set AI_REVIEW_MODEL (or --model, e.g. openai/gpt-4.1-mini) "
    "and the provider's API key to add the model review."
)


@dataclass(frozen=True)
class ReviewInput:
    """What is reviewed: the diff, and what the platform knows about the change."""

    diff: Diff
    title: str = ""
    description: str = ""
    unavailable: tuple[Skipped, ...] = ()  # files the platform sent without a patch


@dataclass
class _Plan:
    """What one review covers; chunks and models stay empty without a model."""

    request: ReviewInput
    selected: tuple[FileDiff, ...]
    skipped: tuple[Skipped, ...]
    builtin: list[Finding]
    chunks: list[Chunk] = field(default_factory=list)
    models: list[str] = field(default_factory=list)


@dataclass
class _ChunkOutcome:
    findings: list[Finding] = field(default_factory=list)
    dropped: list[Dropped] = field(default_factory=list)
    call: CallRecord | None = None
    started: float = 0.0
    finished: float = 0.0

    @property
    def failed(self) -> bool:
        return self.call is not None and self.call.outcome == "failed"


def review(
    request: ReviewInput,
    config: Config,
    gateway: Gateway | None,
    source: ContextSource,
    *,
    progress: Progress | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> ReviewResult:
    started = clock()
    diff = redact_diff(request.diff)
    selected, skipped = select_files(diff, config.exclude, config.include)
    plan = _Plan(request, selected, skipped, builtin_findings(request.diff))
    if gateway is None:
        return _result(plan, [], config, clock() - started)
    plan.models = list(gateway.models)
    plan.chunks = build_chunks(selected, config.chunk_tokens, gateway.count_tokens)
    inputs = _prompt_inputs(request, config, source)
    prompts = _render_prompts(plan.chunks, inputs, _line_reader(source))
    outcomes = _run_chunks(
        plan.chunks, prompts, gateway, concurrency=config.concurrency, progress=progress, clock=clock
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
    @cache
    def lines(path: str) -> list[str] | None:
        text = source.read(path)
        return None if text is None else [redact_text(line) for line in text.splitlines()]

    return lines


def _render_prompts(
    chunks: list[Chunk], inputs: PromptInputs, lines: Callable[[str], list[str] | None]
) -> list[tuple[str, str]]:
    system = render_system(inputs)
    return [(system, render_review(chunk, len(chunks), inputs, lines)) for chunk in chunks]


def _run_chunks(
    chunks: list[Chunk],
    prompts: list[tuple[str, str]],
    gateway: Gateway,
    *,
    concurrency: int,
    progress: Progress | None,
    clock: Callable[[], float],
) -> list[_ChunkOutcome]:
    done = 0

    def run(index: int) -> _ChunkOutcome:
        nonlocal done
        outcome = _review_chunk(chunks[index], *prompts[index], gateway, clock)
        done += 1
        if progress is not None:
            progress(done, len(chunks))
        return outcome

    with ThreadPoolExecutor(max_workers=max(1, min(concurrency, len(chunks)))) as pool:
        return list(pool.map(run, range(len(chunks))))


def _review_chunk(
    chunk: Chunk, system: str, user: str, gateway: Gateway, clock: Callable[[], float]
) -> _ChunkOutcome:
    outcome = _ChunkOutcome(started=clock())
    try:
        reply = gateway.complete(system, user)
    except ModelError as exc:
        outcome.finished = clock()
        outcome.call = CallRecord(
            chunk.index, gateway.models[0], 0, 0, 0, 0.0, outcome.finished - outcome.started,
            0, False, "failed", str(exc),
        )  # fmt: skip
        return outcome
    outcome.finished = clock()
    error = ""
    try:
        raw, rejected = parse_answer(reply.text)
    except ValueError as exc:
        raw, rejected, error = [], [], f"answer not understood: {exc}"
    outcome.findings, outcome.dropped = anchor_findings(raw, chunk.files)
    outcome.dropped += dropped_from_rejected(rejected)
    outcome.call = CallRecord(
        chunk.index, reply.model, reply.prompt_tokens, reply.completion_tokens,
        reply.cached_tokens, reply.cost_usd, reply.latency_s, reply.retries, reply.fallback,
        "failed" if error else "ok", error,
    )  # fmt: skip
    return outcome


def _result(
    plan: _Plan, outcomes: list[_ChunkOutcome], config: Config, elapsed: float
) -> ReviewResult:
    anchored = plan.builtin + [f for o in outcomes for f in o.findings]
    findings, ranked_out = rank_findings(
        anchored, min_severity=config.min_severity, max_comments=config.max_comments
    )
    calls = tuple(o.call for o in outcomes if o.call is not None)
    failed = [c for c, o in zip(plan.chunks, outcomes, strict=True) if o.failed]
    reviewed = {f.path for f in plan.selected} - {f.path for c in failed for f in c.files}
    summary = Summary(
        models=tuple(plan.models),
        chunks=len(plan.chunks),
        failed_chunks=len(failed),
        llm_calls=len(calls),
        prompt_tokens=sum(c.prompt_tokens for c in calls),
        completion_tokens=sum(c.completion_tokens for c in calls),
        cached_tokens=sum(c.cached_tokens for c in calls),
        cost_usd=_total_cost(calls),
        latency_total_s=elapsed,
        latency_llm_s=_model_phase(outcomes),
        files_reviewed=len(reviewed),
        files_skipped=plan.request.unavailable + plan.skipped + _failed_files(failed),
        errors=tuple(sorted({c.error for c in calls if c.error})),
        note="" if plan.models else NO_MODEL_NOTE,
    )
    dropped = [d for o in outcomes for d in o.dropped] + ranked_out
    return ReviewResult(tuple(findings), tuple(dropped), summary, calls)


def _total_cost(calls: tuple[CallRecord, ...]) -> float | None:
    if any(c.cost_usd is None for c in calls):
        return None
    return sum(c.cost_usd or 0.0 for c in calls)


def _model_phase(outcomes: list[_ChunkOutcome]) -> float:
    if not outcomes:
        return 0.0
    return max(o.finished for o in outcomes) - min(o.started for o in outcomes)


def _failed_files(failed: list[Chunk]) -> tuple[Skipped, ...]:
    paths = dict.fromkeys(f.path for chunk in failed for f in chunk.files)
    return tuple(Skipped(path, "not reviewed: the model call failed") for path in paths)
