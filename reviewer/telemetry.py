"""Run telemetry (`--telemetry FILE`): JSON lines appended per review and per model call.

Figures only, so the file can be kept and shared: never code, prompt text, finding titles or
bodies, file paths, error text or secrets. `ai-review stats` aggregates these lines.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from reviewer.errors import UsageError
from reviewer.model import (
    BUDGET_SKIPS,
    CATEGORIES,
    SEVERITIES,
    Acceptance,
    CallRecord,
    ReviewResult,
)
from reviewer.platforms.base import Change, Published
from reviewer.report.json_report import depth_dict


@dataclass(frozen=True)
class TelemetryFile:
    path: Path

    def record(
        self,
        change: Change,
        result: ReviewResult,
        published: Published | None,
        *,
        now: datetime | None = None,
    ) -> None:
        """Append the review's line and one line per call, in one write."""
        stamp = iso_time(now or datetime.now(UTC))
        run = uuid.uuid4().hex
        lines = [review_line(change, result, published, time=stamp, run=run)]
        lines += call_lines(change, result, time=stamp, run=run)
        text = "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines)
        try:
            with self.path.open("a", encoding="utf-8") as handle:
                handle.write(text)
        except OSError as exc:
            raise UsageError(f"cannot write --telemetry {self.path}: {exc.strerror}") from exc


def open_telemetry(path: str) -> TelemetryFile:
    """Checked before the review runs, so a wrong path costs no model call (exit 2)."""
    target = Path(path)
    try:
        with target.open("a", encoding="utf-8"):
            pass
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise UsageError(
            f"cannot write --telemetry {path}: {reason}; pass a file in a writable directory"
        ) from exc
    return TelemetryFile(target)


def iso_time(moment: datetime) -> str:
    """ISO-8601 in UTC with a `Z`, to the millisecond."""
    text = moment.astimezone(UTC).isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z")


def review_line(
    change: Change, result: ReviewResult, published: Published | None, *, time: str, run: str
) -> dict[str, Any]:
    summary = result.summary
    return {
        "type": "review",
        "time": time,
        "run": run,
        "repo": change.repo,
        "number": change.number,
        "head_sha": change.head_sha,
        "arm": summary.arm,
        "models": list(summary.models),
        "chunks": summary.chunks,
        "llm_calls": summary.llm_calls,
        "prompt_tokens": summary.prompt_tokens,
        "completion_tokens": summary.completion_tokens,
        "cached_tokens": summary.cached_tokens,
        "cost_usd": _usd(summary.cost_usd),
        "latency_s": {
            "total": round(summary.latency_total_s, 3),
            "llm": round(summary.latency_llm_s, 3),
        },
        "cache_hits": summary.cache_hits,
        "saved_usd": _usd(summary.saved_usd),
        "findings": len(result.findings),
        "findings_by_severity": _counts((f.severity for f in result.findings), SEVERITIES),
        "findings_by_category": _counts((f.category for f in result.findings), CATEGORIES),
        "posted": None if published is None else len(published.posted),
        "dropped": len(result.dropped),
        "failed_chunks": summary.failed_chunks,
        "retries": summary.retries,  # requests beyond the first of each call
        "fallback_calls": summary.fallback_calls,
        "files_reviewed": summary.files_reviewed,
        "files_skipped": len(summary.files_skipped),
        "files_over_budget": sum(s.code in BUDGET_SKIPS for s in summary.files_skipped),
        "acceptance": acceptance_dict(published.acceptance if published else None),
        **_depth_figures(result),
    } | comments_dict(published)


def comments_dict(published: Published | None) -> dict[str, Any]:
    """Each earlier comment of ours and its state (addressed, dismissed, open), by a key that
    is the same on every rerun, so `stats` counts a comment once; and threads resolved."""
    states = published.comment_states if published else ()
    return {
        "resolved_threads": published.resolved if published else 0,
        "comments": [{"key": key, "state": state} for key, state in states],
    }


def _depth_figures(result: ReviewResult) -> dict[str, Any]:
    """Depth, verification, tools and the per-pass breakdown (`stats --group-by pass`)."""
    summary = result.summary
    if not summary.depth:
        return {}
    figures = depth_dict(summary)
    del figures["depth_reason"]  # words, not figures: may name a file path
    figures.pop("tools_note", None)
    return figures


def call_lines(
    change: Change, result: ReviewResult, *, time: str, run: str
) -> list[dict[str, Any]]:
    return [
        {"type": "call", "time": time, "run": run, "repo": change.repo, "number": change.number}
        | {"arm": result.summary.arm}
        | _call_figures(call)
        for call in result.calls
    ]


def _call_figures(call: CallRecord) -> dict[str, Any]:
    figures: dict[str, Any] = {
        "chunk": call.chunk,
        "model": call.model,
        "prompt_tokens": call.prompt_tokens,
        "completion_tokens": call.completion_tokens,
        "cached_tokens": call.cached_tokens,
        "cost_usd": _usd(call.cost_usd),
        "latency_s": round(call.latency_s, 3),
        "retries": call.retries,
        "fallback": call.fallback,
        "outcome": call.outcome,
        "pass": call.role,
        "tool_calls": call.tool_calls,
    }
    if call.outcome == "cached":  # nothing was sent or paid now; the original cost is saved
        figures |= {"prompt_tokens": 0, "completion_tokens": 0, "cached_tokens": 0}
        figures |= {"cost_usd": 0.0, "saved_usd": _usd(call.cost_usd)}
    return figures


def acceptance_dict(acceptance: Acceptance | None) -> dict[str, Any] | None:
    if acceptance is None:
        return None
    rate = acceptance.acceptance_rate
    return asdict(acceptance) | {"rate": None if rate is None else round(rate, 4)}


def _counts(values: Any, names: tuple[str, ...]) -> dict[str, int]:
    counted = Counter(values)
    return {name: counted[name] for name in names if counted[name]}


def _usd(value: float | None) -> float | None:
    return None if value is None else round(value, 8)
