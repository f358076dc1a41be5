"""How fast is the engine around the model? Run: python -m benchmarks.bench_engine

A fake OpenAI-compatible server answers every call after a fixed latency, so the model phase
has a known ideal: latency x ceil(calls / concurrency). Figures are ratios against that ideal
or against a baseline measured in the same run, since these machines are noisy.
"""

from __future__ import annotations

import argparse
import math
import re
import resource
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reviewer.chunk import render_hunk
from reviewer.config import Config
from reviewer.context import LocalCheckout
from reviewer.diff import Diff, parse_diff
from reviewer.engine import ReviewInput, review
from reviewer.gateway import LiteLLMGateway, count_tokens
from tests.fakes.model_server import FakeModelServer, Reply, findings_reply, verdicts_reply

MODEL = "openai/gpt-4.1-mini"


def synthetic_diff(files: int, hunks_per_file: int, added_per_hunk: int) -> str:
    """A diff of Python-like files: each hunk adds lines between three context lines."""
    out: list[str] = []
    for f in range(files):
        path = f"pkg/module_{f:03d}.py"
        out += [f"diff --git a/{path} b/{path}", f"--- a/{path}", f"+++ b/{path}"]
        old = new = 1
        for h in range(hunks_per_file):
            out.append(f"@@ -{old},6 +{new},{6 + added_per_hunk} @@ def handler_{h}(request):")
            out += [f"     value_{h}_{i} = compute(request, {i})" for i in range(3)]
            out += [
                f"+    result_{h}_{i} = transform(value_{h}_{i % 3}, limit={i}) or default"
                for i in range(added_per_hunk)
            ]
            out += [f"     log.debug('step {h} {i}', extra={{'n': {i}}})" for i in range(3)]
            old += 40
            new += 40 + added_per_hunk
    return "\n".join(out) + "\n"


def synthetic_checkout(root: Path, diff: Diff) -> None:
    """New-file contents matching the diff, so the default context has lines to show."""
    for file in diff.files:
        size = max(h.new_start + h.new_len for h in file.hunks) + 40
        lines = [f"    filler_{n} = configure({n})" for n in range(1, size + 1)]
        for hunk in file.hunks:
            for line in hunk.lines:
                if line.new is not None:
                    lines[line.new - 1] = line.text
        target = root / file.path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text("\n".join(lines) + "\n")


class CpuMeter:
    """CPU seconds spent in the fake server's handler threads, to subtract from the process."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.lock = threading.Lock()

    def add(self, seconds: float) -> None:
        with self.lock:
            self.seconds += seconds


@dataclass(frozen=True)
class Figures:
    name: str
    changed: int
    calls: int
    model_phase: float
    ideal: float
    wall: float
    tool_cpu: float
    prompt_tokens: int
    hunk_tokens: int


def measure(name: str, diff_text: str, latency: float, concurrency: int) -> Figures:
    diff = parse_diff(diff_text)
    meter = CpuMeter()
    with FakeModelServer() as server:

        def answer(body: dict[str, object]) -> Reply:
            started = time.thread_time()
            reply = Reply(content='```json\n{"findings": []}\n```', delay_s=latency)
            meter.add(time.thread_time() - started)
            return reply

        server.respond_with(answer)
        # default context, one pass per chunk (the figures the README reports); the depth
        # tiers are measured apart, in measure_tier
        config = Config(model=MODEL, concurrency=concurrency, depth="trivial")
        gateway = LiteLLMGateway([MODEL], api_base=server.base_url, api_key="sk-bench")
        # One-time set-up (HTTP client, tokenizer) is per process, not per review.
        gateway.complete("warm up", "the HTTP client")
        gateway.count_tokens("warm up the tokenizer")
        server.requests.clear()
        with tempfile.TemporaryDirectory() as root:
            synthetic_checkout(Path(root), diff)
            cpu0, wall0 = time.process_time(), time.perf_counter()
            result = review(ReviewInput(diff), config, gateway, LocalCheckout(Path(root)))
            wall = time.perf_counter() - wall0
            cpu = time.process_time() - cpu0
        prompts = [r.prompt_text for r in server.requests]
    calls = result.summary.llm_calls
    hunk_tokens = sum(count_tokens(MODEL, render_hunk(h)) for f in diff.files for h in f.hunks)
    return Figures(
        name=name,
        changed=diff.changed,
        calls=calls,
        model_phase=result.summary.latency_llm_s,
        ideal=latency * math.ceil(calls / concurrency),
        wall=wall,
        tool_cpu=max(cpu - meter.seconds, 0.0),
        prompt_tokens=sum(count_tokens(MODEL, p) for p in prompts),
        hunk_tokens=hunk_tokens,
    )


ADDED_LINE = re.compile(r"^\s*\d+ \+(.+)$", re.MULTILINE)


def tier_answer(latency: float) -> Callable[[dict[str, Any]], Reply]:
    """Review passes report one finding per chunk (on its first added line); the verifier
    confirms it. So every tier pays for what it would pay for in a real review."""

    def answer(body: dict[str, Any]) -> Reply:
        messages = body["messages"]
        if "You are the verifier" in str(messages[0]["content"]):
            return verdicts_reply({"id": "c1", "verdict": "confirmed"}, delay_s=latency)
        match = ADDED_LINE.search(str(messages[1]["content"]))
        path = re.search(r"^### (\S+)", str(messages[1]["content"]), re.MULTILINE)
        finding = {"path": path.group(1) if path else "", "quote": match.group(1) if match else "",
                   "severity": "medium", "category": "bug", "title": "t", "body": "b"}  # fmt: skip
        return findings_reply(finding, delay_s=latency)

    return answer


@dataclass(frozen=True)
class TierFigures:
    depth: str
    calls: int
    prompt_tokens: int
    model_phase: float
    ideal: float


def measure_tier(diff_text: str, depth: str, latency: float, concurrency: int) -> TierFigures:
    """One review at a forced depth; the ideal is the passes' round trips in parallel, then
    the verifier's: latency x (ceil(pass calls / concurrency) + ceil(verify calls / ...))."""
    diff = parse_diff(diff_text)
    with FakeModelServer() as server:
        server.respond_with(tier_answer(latency))
        config = Config(model=MODEL, concurrency=concurrency, depth=depth)
        gateway = LiteLLMGateway([MODEL], api_base=server.base_url, api_key="sk-bench")
        gateway.complete("warm up", "the HTTP client")
        server.requests.clear()
        with tempfile.TemporaryDirectory() as root:
            synthetic_checkout(Path(root), diff)
            result = review(ReviewInput(diff), config, gateway, LocalCheckout(Path(root)))
    summary = result.summary
    verify = next((f.calls for f in summary.by_pass if f.name == "verifier"), 0)
    passes = summary.llm_calls - verify
    rounds = math.ceil(passes / concurrency) + math.ceil(verify / concurrency)
    return TierFigures(
        depth, summary.llm_calls, summary.prompt_tokens, summary.latency_llm_s, latency * rounds
    )


def tiers_table(diff_text: str, latency: float, concurrency: int) -> None:
    print("\ndepth tiers on the 5,000-line case (one finding per chunk, all confirmed)")
    print("depth | calls | prompt tokens (x one pass) | model phase / ideal")
    base: TierFigures | None = None
    for depth in ("trivial", "lite", "full"):
        f = measure_tier(diff_text, depth, latency, concurrency)
        base = base or f
        ratio = f.prompt_tokens / base.prompt_tokens
        print(
            f"{f.depth} | {f.calls} | {f.prompt_tokens:,} ({ratio:.2f}x)"
            f" | {f.model_phase:.2f}/{f.ideal:.2f} s = {f.model_phase / f.ideal:.2f}x"
        )


def help_startup(runs: int = 5) -> tuple[float, float]:
    """Median wall time of `ai-review --help` and of a bare interpreter, for the ratio."""

    def timed(args: list[str]) -> float:
        samples = []
        for _ in range(runs):
            start = time.perf_counter()
            subprocess.run(args, check=True, capture_output=True)
            samples.append(time.perf_counter() - start)
        return sorted(samples)[len(samples) // 2]

    cli = [sys.executable, "-m", "reviewer.cli", "--help"]
    return timed(cli), timed([sys.executable, "-c", "pass"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--latency", type=float, default=0.5, help="seconds per model call")
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    cases = [
        ("small", synthetic_diff(2, 2, 10)),
        ("medium", synthetic_diff(12, 4, 10)),
        ("large (5,000 changed lines)", synthetic_diff(50, 10, 10)),
    ]
    print(f"latency per call {args.latency:.2f} s, concurrency {args.concurrency}\n")
    header = "case | changed | calls | model phase / ideal | wall - model | tool CPU | "
    print(header + "prompt tok / changed line | prompt tok / hunk tok")
    for name, text in cases:
        f = measure(name, text, args.latency, args.concurrency)
        print(
            f"{f.name} | {f.changed} | {f.calls} | {f.model_phase:.2f}/{f.ideal:.2f} s = "
            f"{f.model_phase / f.ideal:.2f}x | {f.wall - f.model_phase:.3f} s | {f.tool_cpu:.3f} s"
            f" | {f.prompt_tokens / f.changed:.1f} | {f.prompt_tokens / f.hunk_tokens:.2f}x"
        )
    tiers_table(cases[-1][1], args.latency, args.concurrency)
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    cli, bare = help_startup()
    print(f"\npeak memory (whole process, litellm included): {peak_mib:.0f} MiB")
    print(f"`ai-review --help`: {cli:.3f} s (bare interpreter {bare:.3f} s, {cli / bare:.1f}x)")


if __name__ == "__main__":
    main()
