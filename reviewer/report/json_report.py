"""The JSON report (`--format json`): exactly the shape the contract fixes."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from reviewer.model import Dropped, Finding, PassFigures, ReviewResult, Summary
from reviewer.report.common import report_order
from reviewer.report.reasons import dropped_reason, skipped_reason


def to_json(result: ReviewResult) -> str:
    report = {
        "findings": [finding_dict(finding) for finding in report_order(result.findings)],
        "dropped": [dropped_dict(dropped) for dropped in result.dropped],
        "summary": summary_dict(result.summary),
    }
    return json.dumps(report, indent=2, ensure_ascii=False) + "\n"


def finding_dict(finding: Finding) -> dict[str, Any]:
    return {
        "path": finding.path,
        "line": finding.line,
        "end_line": finding.end_line,
        "side": finding.side,
        "severity": finding.severity,
        "category": finding.category,
        "title": finding.title,
        "body": finding.body,
        "suggestion": finding.suggestion,
        "confidence": finding.confidence,
        "source": finding.source,
        "fingerprint": finding.fingerprint,
    }


def dropped_dict(dropped: Dropped) -> dict[str, Any]:
    return {
        "path": dropped.path,
        "line": dropped.line,
        "title": dropped.title,
        "reason": dropped_reason(dropped),
    }


def summary_dict(summary: Summary) -> dict[str, Any]:
    """The report's `summary`; optional keys appear only when they carry something."""
    data: dict[str, Any] = {
        "models": list(summary.models),
        "chunks": summary.chunks,
        "failed_chunks": summary.failed_chunks,
        "llm_calls": summary.llm_calls,
        "prompt_tokens": summary.prompt_tokens,
        "completion_tokens": summary.completion_tokens,
        "cached_tokens": summary.cached_tokens,
        # Rounded only to hide float noise from sums; None stays None (unknown is not free).
        "cost_usd": None if summary.cost_usd is None else round(summary.cost_usd, 8),
        "latency_s": {
            "total": round(summary.latency_total_s, 3),
            "llm": round(summary.latency_llm_s, 3),
        },
        "files_reviewed": summary.files_reviewed,
        "files_skipped": [
            {"path": s.path, "reason": skipped_reason(s)} for s in summary.files_skipped
        ],
        "arm": summary.arm,
    }
    if summary.cache_hits is not None:
        data["cache_hits"] = summary.cache_hits
    if summary.saved_usd is not None:  # what the cache hits cost when first paid for
        data["saved_usd"] = round(summary.saved_usd, 8)
    data["retries"] = summary.retries
    data["fallback_calls"] = summary.fallback_calls
    if summary.errors:
        data["errors"] = list(summary.errors)
    if summary.notes:
        data["note"] = " ".join(summary.notes)
    if summary.depth:
        data.update(depth_dict(summary))
    return data


def depth_dict(summary: Summary) -> dict[str, Any]:
    """Depth, passes, verification and tools: what an evaluation compares between variants
    (`verify = false` against `verify = true`: `verification` is null when it did not run)."""
    verification = summary.verification
    return {
        "depth": summary.depth,
        "depth_reason": summary.depth_reason,
        "passes": list(summary.passes),
        "verification": None if verification is None else asdict(verification),
        "unverified": 0 if verification is None else verification.unverified,
        "tool_calls": summary.tool_calls,
        **({"tools_note": summary.tools_note} if summary.tools_note else {}),
        "by_pass": {f.name: _pass_dict(f) for f in summary.by_pass},
    }


def _pass_dict(figures: PassFigures) -> dict[str, Any]:
    data = asdict(figures)
    del data["name"]
    data["latency_s"] = round(figures.latency_s, 3)
    data["cost_usd"] = None if figures.cost_usd is None else round(figures.cost_usd, 8)
    return data
