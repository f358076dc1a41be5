"""Telemetry: one `review` line per run and one `call` line per model call, figures only."""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from reviewer import run as run_module
from reviewer.cli import main
from reviewer.errors import PlatformError
from reviewer.model import Acceptance, CommentFate, ReviewResult, Summary
from reviewer.options import Options
from reviewer.platforms.base import Change, Published
from reviewer.platforms.local import LocalDiff
from reviewer.telemetry import (
    TelemetryFile,
    acceptance_dict,
    iso_time,
    open_telemetry,
    review_line,
)
from reviewer.trust import TrustedConfig
from tests.conftest import EXAMPLES
from tests.fakes.model_server import FakeModelServer, error_reply, findings_reply
from tests.test_cli import FLOAT_TOTAL, OFF_BY_ONE

SAMPLE = str(EXAMPLES / "sample.diff")
MODEL = "openai/gpt-4.1-mini"
REVIEW_KEYS = {
    "type", "time", "run", "repo", "number", "head_sha", "arm", "models", "chunks", "llm_calls",
    "prompt_tokens", "completion_tokens", "cached_tokens", "cost_usd", "latency_s", "cache_hits",
    "saved_usd", "findings", "findings_by_severity", "findings_by_category", "posted", "dropped",
    "failed_chunks", "files_reviewed", "files_skipped", "files_over_budget", "acceptance",
    "depth", "passes", "verification", "unverified", "tool_calls", "by_pass",
    "resolved_threads", "comments", "retries", "fallback_calls",
}  # fmt: skip
CALL_KEYS = {
    "type", "time", "run", "repo", "number", "arm", "chunk", "model", "prompt_tokens",
    "completion_tokens", "cached_tokens", "cost_usd", "latency_s", "retries", "fallback",
    "outcome", "pass", "tool_calls",
}  # fmt: skip


@pytest.fixture(autouse=True)
def api_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AI_REVIEW_API_KEY", "sk-test-key-never-printed")


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def review(server: FakeModelServer, telemetry: Path, *extra: str) -> int:
    args = ["--diff", SAMPLE, "--repo-root", str(EXAMPLES), "--format", "json", "--model", MODEL]
    args += ["--depth", "trivial"]  # one call line per review: these tests read the lines
    return main([*args, "--api-base", server.base_url, "--telemetry", str(telemetry), *extra])


def test_a_run_appends_a_review_line_and_a_call_line(
    capsys: pytest.CaptureFixture[str], model_server: FakeModelServer, tmp_path: Path
) -> None:
    model_server.queue(
        findings_reply(OFF_BY_ONE, FLOAT_TOTAL, prompt_tokens=1200, completion_tokens=300)
    )
    telemetry = tmp_path / "telemetry.jsonl"
    assert review(model_server, telemetry) == 0
    report = json.loads(capsys.readouterr().out)
    line, call = lines(telemetry)
    assert set(line) == REVIEW_KEYS and set(call) == CALL_KEYS
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", line["time"])
    assert line["type"] == "review" and call["type"] == "call" and call["run"] == line["run"]
    assert (line["repo"], line["number"], line["head_sha"], line["arm"]) == (None,) * 4
    assert line["models"] == [MODEL] and (line["chunks"], line["llm_calls"]) == (1, 1)
    assert (line["prompt_tokens"], line["completion_tokens"], line["cached_tokens"]) == (
        1200,
        300,
        0,
    )
    assert line["cost_usd"] == pytest.approx(1200 * 4e-7 + 300 * 1.6e-6)
    assert set(line["latency_s"]) == {"total", "llm"}
    assert line["latency_s"]["total"] >= line["latency_s"]["llm"] > 0
    findings = report["findings"]
    assert line["findings"] == len(findings) == 4  # 2 from the model, 2 built in
    assert line["findings_by_severity"] == dict(Counter(f["severity"] for f in findings))
    assert line["findings_by_severity"] == {"critical": 1, "high": 2, "medium": 1}
    assert line["findings_by_category"] == {"bug": 3, "security": 1}
    assert (line["posted"], line["dropped"], line["failed_chunks"]) == (0, 0, 0)
    assert (line["cache_hits"], line["saved_usd"], line["acceptance"]) == (None, None, None)
    assert call == call | {
        "chunk": 0,
        "arm": None,
        "model": MODEL,
        "prompt_tokens": 1200,
        "completion_tokens": 300,
        "cost_usd": line["cost_usd"],
        "retries": 0,
        "fallback": False,
        "outcome": "ok",
    }


def test_nothing_of_the_code_the_prompt_or_secrets_is_written(
    capsys: pytest.CaptureFixture[str], model_server: FakeModelServer, tmp_path: Path
) -> None:
    model_server.queue(findings_reply(OFF_BY_ONE, FLOAT_TOTAL))
    telemetry = tmp_path / "telemetry.jsonl"
    review(model_server, telemetry)
    report = capsys.readouterr().out
    text = telemetry.read_text()
    for finding in json.loads(report)["findings"]:
        assert finding["title"] not in text and finding["path"] not in text
    for secret_or_code in ("sk-test-key", "AKIAZ7Q4R2M8K1VXW3PL", "del self.items", "class Cart"):
        assert secret_or_code not in text
    assert "untrusted" not in text and 'findings": [' not in text


def test_runs_append_and_cached_and_failed_calls_are_told_apart(
    capsys: pytest.CaptureFixture[str], model_server: FakeModelServer, tmp_path: Path
) -> None:
    telemetry, cache = tmp_path / "t.jsonl", str(tmp_path / "cache")
    model_server.queue(findings_reply(prompt_tokens=1000, completion_tokens=100))
    review(model_server, telemetry, "--cache-dir", cache)
    review(model_server, telemetry, "--cache-dir", cache)
    model_server.queue(error_reply(400))
    assert review(model_server, telemetry) == 2  # every model refused it: a configuration error
    capsys.readouterr()
    records = lines(telemetry)
    assert [r["type"] for r in records] == ["review", "call"] * 3
    cold, warm, failed = records[0], records[2], records[4]
    assert (cold["cache_hits"], warm["cache_hits"], failed["cache_hits"]) == (0, 1, None)
    assert (warm["llm_calls"], warm["cost_usd"]) == (0, 0.0)
    assert warm["saved_usd"] == cold["cost_usd"] == pytest.approx(1000 * 4e-7 + 100 * 1.6e-6)
    cached_call = records[3]
    assert cached_call["outcome"] == "cached"
    assert cached_call["prompt_tokens"] == cached_call["completion_tokens"] == 0
    assert (cached_call["cost_usd"], cached_call["saved_usd"]) == (0.0, cold["cost_usd"])
    assert failed["failed_chunks"] == 1 and records[5]["outcome"] == "failed"
    assert sum(r["cost_usd"] for r in records if r["type"] == "call") == cold["cost_usd"]


def test_unwritable_telemetry_file_exits_2_before_any_model_call(
    capsys: pytest.CaptureFixture[str], model_server: FakeModelServer, tmp_path: Path
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    for target in (tmp_path, blocker / "telemetry.jsonl"):
        assert review(model_server, target) == 2
        captured = capsys.readouterr()
        assert captured.out == "" and captured.err.count("\n") == 1
        assert captured.err.startswith(f"ai-review: error: cannot write --telemetry {target}")
    assert model_server.requests == []


class PostingDiff:
    """The local diff, as a platform that posts every finding and knows earlier comments."""

    def __init__(self, options: Options, acceptance: Acceptance | None, fail: bool):
        assert options.diff is not None
        self.inner = LocalDiff(options.diff, None)
        self.acceptance = acceptance
        self.fail = fail

    def fetch(self, *, full: bool) -> Change:
        change = self.inner.fetch(full=full)
        return replace(change, repo="acme/shop", number=7, head_sha="0a1b2c3", identity="gh#7")

    def publish(self, change: Change, result: ReviewResult, *, dry_run: bool) -> Published:
        if self.fail:
            raise PlatformError("GitHub refused the review (HTTP 422)")
        return Published(posted=result.findings[:1], acceptance=self.acceptance)

    def close(self) -> None:
        self.inner.close()


def use_platform(
    monkeypatch: pytest.MonkeyPatch, acceptance: Acceptance | None = None, fail: bool = False
) -> None:
    def factory(options: Options, root: Path | None) -> tuple[PostingDiff, TrustedConfig]:
        return PostingDiff(options, acceptance, fail), run_module.local_config(options, root)

    monkeypatch.setitem(run_module.PLATFORMS, "diff", factory)


def test_platform_figures_and_acceptance_reach_the_review_line(
    capsys: pytest.CaptureFixture[str],
    model_server: FakeModelServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fates = [CommentFate(resolved=True), CommentFate(thumbs_down=True, replied=True)]
    use_platform(monkeypatch, Acceptance.tally([*fates, CommentFate()]))
    telemetry = tmp_path / "t.jsonl"
    assert review(model_server, telemetry) == 0
    capsys.readouterr()
    line = lines(telemetry)[0]
    assert (line["repo"], line["number"], line["head_sha"], line["posted"]) == (
        "acme/shop",
        7,
        "0a1b2c3",
        1,
    )
    assert line["acceptance"] == {
        "comments": 3,
        "resolved": 1,
        "outdated": 0,
        "thumbs_up": 0,
        "thumbs_down": 1,
        "replied": 1,
        "accepted": 1,
        "signalled": 2,
        "rate": 0.5,
    }
    assert lines(telemetry)[1]["repo"] == "acme/shop"


def test_a_review_whose_posting_failed_is_still_recorded(
    capsys: pytest.CaptureFixture[str],
    model_server: FakeModelServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    use_platform(monkeypatch, fail=True)
    telemetry = tmp_path / "t.jsonl"
    assert review(model_server, telemetry) == 3
    assert "GitHub refused" in capsys.readouterr().err
    line = lines(telemetry)[0]
    assert line["posted"] is None and line["llm_calls"] == 1


def test_acceptance_rate_definition() -> None:
    assert CommentFate(resolved=True).accepted
    assert CommentFate(outdated=True).accepted
    assert CommentFate(thumbs_up=True, replied=True).accepted
    assert not CommentFate(resolved=True, thumbs_down=True).accepted  # a 👎 overrides
    assert not CommentFate(replied=True).accepted and CommentFate(replied=True).signalled
    assert not CommentFate().signalled
    tally = Acceptance.tally(
        [CommentFate(resolved=True), CommentFate(replied=True), CommentFate(), CommentFate()]
    )
    assert (tally.comments, tally.accepted, tally.signalled) == (4, 1, 2)
    assert tally.acceptance_rate == 0.5
    assert Acceptance.tally([CommentFate()]).acceptance_rate is None
    assert Acceptance().acceptance_rate is None
    assert acceptance_dict(None) is None
    assert acceptance_dict(Acceptance()) == dict.fromkeys(
        ("comments", "resolved", "outdated", "thumbs_up", "thumbs_down", "replied"), 0
    ) | {"accepted": 0, "signalled": 0, "rate": None}


def test_review_line_counts_budget_skips_and_time_is_utc() -> None:
    from reviewer.context import NoContext
    from reviewer.diff import Diff
    from reviewer.engine import ReviewInput
    from reviewer.model import SkipCode, Skipped

    summary = Summary(
        files_skipped=(
            Skipped("a.py", SkipCode.OVER_BUDGET, "over the review's token budget"),
            Skipped("b.lock", SkipCode.LOCK_FILE),
            Skipped("c.py", SkipCode.PARTLY_OVER_BUDGET, "over the review's USD budget"),
        )
    )
    change = Change(ReviewInput(Diff(())), NoContext())
    line = review_line(change, ReviewResult((), (), summary), Published(), time="t", run="r")
    assert (line["files_skipped"], line["files_over_budget"]) == (3, 2)
    later = datetime(2025, 3, 1, 13, 30, tzinfo=timezone(timedelta(hours=2)))
    assert iso_time(later) == "2025-03-01T11:30:00.000Z"
    assert iso_time(datetime(2025, 1, 2, tzinfo=UTC)) == "2025-01-02T00:00:00.000Z"


def test_open_telemetry_creates_the_file(tmp_path: Path) -> None:
    target = tmp_path / "new.jsonl"
    assert open_telemetry(str(target)).path == target and target.read_text() == ""


def test_a_late_write_failure_is_one_clear_error(tmp_path: Path) -> None:
    from reviewer.context import NoContext
    from reviewer.diff import Diff
    from reviewer.engine import ReviewInput
    from reviewer.errors import UsageError

    change = Change(ReviewInput(Diff(())), NoContext())
    result = ReviewResult((), (), Summary())
    with pytest.raises(UsageError, match="cannot write --telemetry"):
        TelemetryFile(tmp_path).record(change, result, None)  # a directory, since opened


def test_retries_and_fallback_answers_reach_the_review_line(
    capsys: pytest.CaptureFixture[str], model_server: FakeModelServer, tmp_path: Path
) -> None:
    # A 503 then an answer is one retry; a 400 from the first model and an answer from the
    # fallback is one fallback call. Both are on the review line, as in the report.
    telemetry = tmp_path / "t.jsonl"
    model_server.queue(error_reply(503, retry_after="0"), findings_reply())
    assert review(model_server, telemetry) == 0
    model_server.queue(error_reply(400), findings_reply())
    assert review(model_server, telemetry, "--fallback-model", "openai/gpt-4.1") == 0
    capsys.readouterr()
    retried, fell_back = [r for r in lines(telemetry) if r["type"] == "review"]
    assert (retried["retries"], retried["fallback_calls"]) == (1, 0)
    assert fell_back["fallback_calls"] == 1
