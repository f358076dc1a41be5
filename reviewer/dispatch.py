"""Send each chunk's prompts to the model, or take the answer from the cache, concurrently.

Each chunk becomes a `ChunkOutcome`: its anchored findings, what was dropped, and one
`CallRecord` (`ok`, `cached` or `failed`). A model failure is recorded, never raised: the
summary lists the chunk's files as not reviewed.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Literal

from reviewer.anchor import anchor_findings, dropped_from_rejected
from reviewer.answer import parse_answer
from reviewer.cache import ResponseCache
from reviewer.chunk import Chunk
from reviewer.errors import ModelError
from reviewer.gateway import Gateway, ModelReply
from reviewer.model import CallRecord, Dropped, Finding

Progress = Callable[[int, int], None]
Clock = Callable[[], float]


@dataclass(frozen=True)
class ChunkJob:
    """A chunk with its rendered prompts, and the cached answer when there is one."""

    chunk: Chunk
    system: str
    user: str
    cached: ModelReply | None = None
    role: str = "review"  # the pass this job belongs to
    ask: Callable[[str, str], ModelReply] | None = None  # the pass's own model or tools
    cacheable: bool = True  # False when its answer depends on more than its prompts


@dataclass
class ChunkOutcome:
    findings: list[Finding] = field(default_factory=list)
    dropped: list[Dropped] = field(default_factory=list)
    call: CallRecord | None = None
    started: float = 0.0
    finished: float = 0.0

    @property
    def failed(self) -> bool:
        return self.call is not None and self.call.outcome == "failed"


def run_chunks(
    jobs: list[ChunkJob],
    gateway: Gateway,
    cache: ResponseCache | None,
    *,
    concurrency: int,
    progress: Progress | None,
    clock: Clock,
) -> list[ChunkOutcome]:
    """One outcome per job, in the jobs' order."""
    done = 0

    def run(job: ChunkJob) -> ChunkOutcome:
        nonlocal done
        outcome = review_chunk(job, gateway, cache, clock)
        done += 1
        if progress is not None:
            progress(done, len(jobs))
        return outcome

    if not jobs:
        return []
    with ThreadPoolExecutor(max_workers=max(1, min(concurrency, len(jobs)))) as pool:
        return list(pool.map(run, jobs))


def review_chunk(
    job: ChunkJob, gateway: Gateway, cache: ResponseCache | None, clock: Clock
) -> ChunkOutcome:
    started = clock()
    try:
        reply = job.cached or (job.ask or gateway.complete)(job.system, job.user)
    except ModelError as exc:
        finished = clock()
        failed = CallRecord(
            job.chunk.index, exc.model or gateway.models[0], 0, 0, 0, 0.0, finished - started,
            max(exc.attempts - 1, 0), len(gateway.models) > 1, "failed", str(exc), exc.key_refused,
            exc.misconfigured,
            job.role,
        )  # fmt: skip
        return ChunkOutcome(call=failed, started=started, finished=finished)
    finished = clock()
    error = ""
    try:
        raw, rejected = parse_answer(reply.text)
    except ValueError as exc:
        if job.cached is not None:  # a stored answer this version cannot read: ask the model
            return review_chunk(replace(job, cached=None), gateway, cache, clock)
        raw, rejected, error = [], [], f"answer not understood: {exc}"
    if cache is not None and job.cached is None and not error and job.cacheable:
        cache.put(job.system, job.user, reply)  # only answers that were understood
    findings, dropped = anchor_findings(raw, job.chunk.files)
    dropped += dropped_from_rejected(rejected)
    call = _record(job, reply, error, finished - started)
    return ChunkOutcome(findings, dropped, call, started, finished)


def _record(job: ChunkJob, reply: ModelReply, error: str, elapsed: float) -> CallRecord:
    """A cached record keeps the original call's figures; its latency is this lookup's."""
    kind: Literal["ok", "cached", "failed"] = "failed" if error else "ok"
    if job.cached is not None:  # stored answers were understood when stored
        kind = "cached"
    latency = elapsed if job.cached is not None else reply.latency_s
    return CallRecord(
        job.chunk.index, reply.model, reply.prompt_tokens, reply.completion_tokens,
        reply.cached_tokens, reply.cost_usd, latency, reply.retries, reply.fallback, kind, error,
        False, False, job.role, reply.tool_calls,
    )  # fmt: skip
