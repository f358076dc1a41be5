"""`ai-review stats` fits 100 columns: a CI log or a 120-column terminal shows it whole."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reviewer.cli import main


def review_line(arm: str, cost: float, latency: float) -> str:
    return json.dumps({
        "type": "review", "time": "2025-03-01T10:00:00.000Z", "repo": "acme/shop", "number": 1,
        "arm": arm, "models": ["anthropic/claude-sonnet-4-5-20250929"], "llm_calls": 40,
        "prompt_tokens": 234_000, "completion_tokens": 5_000, "cost_usd": cost,
        "latency_s": {"total": latency, "llm": latency}, "cache_hits": 3, "findings": 12,
        "failed_chunks": 0, "acceptance": {"comments": 9, "accepted": 4, "signalled": 6},
    })  # fmt: skip


def test_stats_text_fits_100_columns_and_cuts_no_figure(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "t.jsonl"
    lines = [review_line("frontier-with-a-long-arm-name", 41.1234, 234.5) for _ in range(30)]
    lines.append(review_line("open", 0.0123, 12.3))
    path.write_text("\n".join(lines) + "\n")
    for group in ("arm", "model", "repo"):
        assert main(["stats", str(path), "--group-by", group]) == 0
        text = capsys.readouterr().out
        assert max(len(line) for line in text.splitlines()) <= 100
        assert "…" not in text
    assert "$1233.7143" in text  # the frontier total, whole
    assert "234.5 s" in text and "239,000" in text and "67%" in text
