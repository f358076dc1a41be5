"""What a run pays before its first model request, and a rerun answered by the cache.
Run: python -m benchmarks.bench_startup [--runs 3]

Each figure is a ratio to a bare `python -c "import litellm"` measured in the same run (the
machines are shared and noisy): the time from launching `ai-review --diff` to the first
request reaching a local fake model server, and the wall time of a rerun whose every chunk is
answered by the response cache (no request, no litellm import).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.bench_engine import synthetic_diff
from tests.fakes.model_server import FakeModelServer, Reply

MODEL = "openai/gpt-4.1-mini"
ENV = {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True", "AI_REVIEW_API_KEY": "sk-bench"}


def bare_import() -> float:
    """From launch to the end of `import litellm` (the interpreter's exit not counted)."""
    code = "import time, litellm; print(time.monotonic())"
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", code], env=ENV, check=True, capture_output=True, text=True
    )
    return float(done.stdout.split()[-1]) - started


def review(server: FakeModelServer, diff: Path, cache: Path) -> tuple[float, float | None]:
    """Wall time of one `ai-review --diff` run and when its first request arrived."""
    server.requests.clear()
    args = ["--diff", str(diff), "--model", MODEL, "--api-base", server.base_url]
    args += ["--cache-dir", str(cache), "--format", "json", "--output", os.devnull]
    started = time.monotonic()  # CLOCK_MONOTONIC: the same clock in both processes
    subprocess.run([sys.executable, "-m", "reviewer.cli", *args], env=ENV, check=True)
    wall = time.monotonic() - started
    first = min((r.received_at for r in server.requests), default=None)
    return wall, None if first is None else first - started


def measure(runs: int) -> dict[str, list[float]]:
    figures: dict[str, list[float]] = {"import": [], "first": [], "cached": []}
    with tempfile.TemporaryDirectory() as tmp, FakeModelServer() as server:
        server.set_default(Reply(content='{"findings": []}'))
        diff = Path(tmp) / "medium.diff"
        diff.write_text(synthetic_diff(files=12, hunks_per_file=4, added_per_hunk=10))
        for run in range(runs):
            cache = Path(tmp) / f"cache-{run}"
            figures["import"].append(bare_import())
            _, first = review(server, diff, cache)  # cold: nothing cached, litellm imported
            assert first is not None, "the cold run sent no request"
            figures["first"].append(first)
            wall, none = review(server, diff, cache)  # every chunk answered by the cache
            assert none is None, "the cached rerun sent a request"
            figures["cached"].append(wall)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    figures = measure(args.runs)
    bare = statistics.median(figures["import"])
    first, cached = statistics.median(figures["first"]), statistics.median(figures["cached"])
    print(f"bare `import litellm`:        {bare:.2f} s (median of {args.runs})")
    print(f"cold run, first request at:   {first:.2f} s = {first / bare:.2f}x (target <= 1.0x)")
    print(f"fully cached rerun, wall:     {cached:.2f} s = {cached / bare:.2f}x (target <= 0.33x)")


if __name__ == "__main__":
    main()
