"""Dispatch against the in-process FakeGateway: call records, progress, cached answers."""

from __future__ import annotations

import itertools

from reviewer.chunk import Chunk
from reviewer.diff import parse_diff
from reviewer.dispatch import ChunkJob, ChunkOutcome, Progress, run_chunks
from reviewer.errors import ModelError
from reviewer.gateway import ModelReply
from tests.fakes.gateway import FakeGateway, findings_answer

DIFF = parse_diff("--- a/app.py\n+++ b/app.py\n@@ -1,1 +1,2 @@\n import os\n+KEY = os.environ\n")
FOUND = {"path": "app.py", "quote": "KEY = os.environ", "severity": "low", "category": "style",
         "title": "t", "body": "b"}  # fmt: skip


def jobs(count: int, cached: ModelReply | None = None) -> list[ChunkJob]:
    return [ChunkJob(Chunk(i, DIFF.files, 10), "system", f"user {i}", cached) for i in range(count)]


def dispatch(
    gateway: FakeGateway, work: list[ChunkJob], progress: Progress | None
) -> list[ChunkOutcome]:
    ticks = itertools.count()
    clock = lambda: float(next(ticks))  # noqa: E731
    return run_chunks(work, gateway, None, concurrency=2, progress=progress, clock=clock)


def test_a_failed_call_is_recorded_with_what_it_cost_and_why() -> None:
    gateway = FakeGateway(("m1", "m2"))
    refused = ModelError("m2: HTTP 400 from gw: bad", model="m2", attempts=2, misconfigured=True)
    gateway.queue(refused)
    [outcome] = dispatch(gateway, jobs(1), progress=None)
    call = outcome.call
    assert call is not None
    assert (call.outcome, call.model, call.retries, call.fallback) == ("failed", "m2", 1, True)
    assert call.misconfigured and not call.key_refused and call.error == str(refused)


def test_progress_counts_every_chunk_and_outcomes_keep_the_jobs_order() -> None:
    gateway = FakeGateway()
    gateway.respond_with(lambda call: findings_answer(FOUND) if "user 2" in call.user else "{}")
    seen: list[tuple[int, int]] = []
    outcomes = dispatch(gateway, jobs(3), progress=lambda done, total: seen.append((done, total)))
    assert sorted(seen) == [(1, 3), (2, 3), (3, 3)]
    assert [len(o.findings) for o in outcomes] == [0, 0, 1]


def test_a_stored_answer_this_version_cannot_read_is_asked_again() -> None:
    stale = ModelReply("not json at all", "m1", 1, 1, 0, 0.0, 0.1, 0, False)
    gateway = FakeGateway()
    gateway.queue(findings_answer(FOUND))
    [outcome] = dispatch(gateway, jobs(1, cached=stale), progress=None)
    assert outcome.call is not None and outcome.call.outcome == "ok"
    assert len(gateway.calls) == 1
    assert [f.line for f in outcome.findings] == [2]
