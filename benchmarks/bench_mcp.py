"""What does reaching ai-review over MCP cost? Run: python -m benchmarks.bench_mcp

`ai-review mcp` is started as an agent starts it (a subprocess on stdio, the SDK's client) against
a fake OpenAI-compatible server that answers after a fixed latency. Prints the start-up time
(until the tools are listed), the first review right after start-up and after the idle warm-up,
and, for a medium diff, each review's round trip against the engine's own time in the report
(`summary.latency_s.total`): the difference is what the MCP layer adds.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import anyio
from mcp import Client, StdioServerParameters

from tests.fakes.diffs import make_diff
from tests.fakes.model_server import FakeModelServer, Reply

ROOT = Path(__file__).resolve().parent.parent


def server_params(base_url: str) -> StdioServerParameters:
    env = {
        "AI_REVIEW_MODEL": "openai/gpt-4.1-mini",
        "AI_REVIEW_API_BASE": base_url,
        "AI_REVIEW_API_KEY": "sk-bench",
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
        "PYTHONPATH": str(ROOT),
    }
    return StdioServerParameters(
        command=sys.executable, args=["-m", "reviewer.cli", "mcp"], env=env, cwd=ROOT
    )


async def review_s(client: Client, diff: str) -> tuple[float, float]:
    """The round trip of one review_diff call, and the engine's own time in its report."""
    started = time.perf_counter()
    result = await client.call_tool("review_diff", {"diff": diff})
    round_trip = time.perf_counter() - started
    if result.is_error or result.structured_content is None:
        raise SystemExit(f"review_diff failed: {result.content}")
    engine: float = result.structured_content["summary"]["latency_s"]["total"]
    return round_trip, engine


async def session(
    base_url: str, small: str, medium: str, idle_s: float, runs: int
) -> tuple[float, float, list[tuple[float, float]]]:
    """Start-up until the tools are listed, the first review, then `runs` medium reviews."""
    started = time.perf_counter()
    async with Client(server_params(base_url)) as client:
        await client.list_tools()
        listed = time.perf_counter() - started
        await anyio.sleep(idle_s)
        first, _ = await review_s(client, small)
        trips = [await review_s(client, medium) for _ in range(runs)]
    return listed, first, trips


async def measure(base_url: str, small: str, medium: str, idle_s: float, runs: int) -> None:
    for wait, count in ((0.0, 0), (idle_s, runs)):
        listed, first, trips = await session(base_url, small, medium, wait, count)
        print(f"start-up to tools listed {listed:.2f} s; first review after {wait:.0f} s idle: "
              f"{first:.2f} s")  # fmt: skip
    round_trip = statistics.median(trip for trip, _ in trips)
    engine = statistics.median(engine for _, engine in trips)
    overhead = statistics.median(trip - engine for trip, engine in trips)
    print(
        f"medium diff, {runs} reviews: round trip median {round_trip:.3f} s, engine median "
        f"{engine:.3f} s, MCP overhead median {overhead * 1000:.0f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--latency", type=float, default=0.1, help="seconds per model call")
    parser.add_argument("--files", type=int, default=20)
    parser.add_argument("--idle", type=float, default=10.0, help="seconds before the review")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    small = make_diff(["warm_up.py"])
    medium = make_diff([f"pkg/module_{n:03d}.py" for n in range(args.files)], hunks=3, lines=12)
    with FakeModelServer() as server:
        server.set_default(Reply(content='```json\n{"findings": []}\n```', delay_s=args.latency))
        anyio.run(measure, server.base_url, small, medium, args.idle, args.runs)


if __name__ == "__main__":
    main()
