"""What does the response cache save on a rerun? Run: python -m benchmarks.bench_cache

A medium diff (40 files x 3 hunks of Python-like lines) is reviewed twice through the command
line against a fake OpenAI-compatible server that answers after a fixed latency, with a fresh
cache directory: the cold run pays for every chunk, the warm rerun of the unchanged diff
should pay for none. Prints wall time, model calls and cost of both runs, and the ratios.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reviewer.cli import main as ai_review
from tests.fakes.diffs import make_diff
from tests.fakes.model_server import FakeModelServer, Reply

MODEL = "openai/gpt-4.1-mini"


@dataclass(frozen=True)
class Run:
    wall_s: float
    calls: int
    requests: int
    cost_usd: float
    cache_hits: int
    chunks: int


def review(server: FakeModelServer, diff: Path, cache: Path) -> Run:
    before = len(server.requests)
    args = ["--diff", str(diff), "--format", "json", "--model", MODEL]
    args += ["--api-base", server.base_url, "--cache-dir", str(cache)]
    args += ["--depth", "trivial"]  # one call per chunk, as the README's figures were measured
    out = io.StringIO()
    started = time.perf_counter()
    with contextlib.redirect_stdout(out):
        code = ai_review(args)
    wall = time.perf_counter() - started
    if code != 0:
        raise SystemExit(f"the review exited {code}")
    summary: dict[str, Any] = json.loads(out.getvalue())["summary"]
    return Run(
        wall_s=wall,
        calls=summary["llm_calls"],
        requests=len(server.requests) - before,
        cost_usd=summary["cost_usd"],
        cache_hits=summary["cache_hits"],
        chunks=summary["chunks"],
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--latency", type=float, default=0.2, help="seconds per model call")
    parser.add_argument("--files", type=int, default=40)
    args = parser.parse_args()
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    os.environ.setdefault("AI_REVIEW_API_KEY", "sk-bench")
    paths = [f"pkg/module_{n:03d}.py" for n in range(args.files)]
    reply = Reply(content='```json\n{"findings": []}\n```', delay_s=args.latency)
    with tempfile.TemporaryDirectory() as scratch, FakeModelServer() as server:
        server.set_default(reply)
        diff = Path(scratch) / "medium.diff"
        diff.write_text(make_diff(paths, hunks=3, lines=12))
        warm_up = Path(scratch) / "warm-up.diff"
        warm_up.write_text(make_diff(["warm_up.py"]))
        review(server, warm_up, Path(scratch) / "other")  # litellm's import is not per review
        cache = Path(scratch) / "cache"
        cold = review(server, diff, cache)
        warm = review(server, diff, cache)
    print(f"{args.files} files x 3 hunks, {cold.chunks} chunks, {args.latency:.2f} s per call")
    print("run  | wall s | model calls | HTTP requests | cost USD | cache hits")
    for name, run in (("cold", cold), ("warm", warm)):
        print(
            f"{name} | {run.wall_s:6.2f} | {run.calls:11d} | {run.requests:13d} | "
            f"{run.cost_usd:8.5f} | {run.cache_hits}"
        )
    print(
        f"warm / cold: wall {warm.wall_s / cold.wall_s:.3f}x "
        f"({cold.wall_s / warm.wall_s:.0f}x faster), "
        f"calls {warm.calls}/{cold.calls}, cost ${warm.cost_usd:.5f} vs ${cold.cost_usd:.5f}"
    )


if __name__ == "__main__":
    main()
