"""How long does `ai-review eval` take on the starter set? Run: python -m benchmarks.bench_eval

The 21 cases in evals/ are evaluated against a fake OpenAI-compatible server that answers
every review after a fixed latency (no findings), once live with --record and once with
--replay. Cases run in parallel, so the live run should take about
ceil(cases / concurrency) x latency plus overhead, not cases x latency; the replay should
make no request and take only the review pipeline's own time.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import tempfile
import time
from pathlib import Path

from reviewer.cli import main as ai_review
from reviewer.gateway import count_tokens
from tests.fakes.model_server import FakeModelServer, Reply

CASES = Path(__file__).resolve().parent.parent / "evals" / "cases.jsonl"
MODEL = "openai/gpt-4.1-mini"


def timed(args: list[str]) -> float:
    started = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        code = ai_review(["eval", str(CASES), "--model", MODEL, "--format", "json", *args])
    assert code == 0, code
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--latency", type=float, default=0.5, help="seconds per model answer")
    args = parser.parse_args()
    os.environ.setdefault("AI_REVIEW_API_KEY", "sk-bench")
    count_tokens(MODEL, "litellm is imported before the clock starts")
    with FakeModelServer() as server, tempfile.TemporaryDirectory() as folder:
        server.set_default(Reply(content='{"findings": []}', delay_s=args.latency))
        live = timed(["--api-base", server.base_url, "--record", folder])
        sent = len(server.requests)
        replay = timed(["--api-base", server.base_url, "--replay", folder])
        print(f"cases: 21, model latency {args.latency:.2f} s, sequential would be "
              f"{21 * args.latency:.1f} s")  # fmt: skip
        print(f"live (--record): {live:.2f} s, {sent} requests")
        print(f"replay:          {replay:.2f} s, {len(server.requests) - sent} requests")


if __name__ == "__main__":
    main()
