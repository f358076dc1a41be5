"""`ai-review stats`: figures per arm, model or repo from telemetry written by real runs."""

from __future__ import annotations

import json
import statistics
from pathlib import Path
from typing import Any

import pytest

from reviewer.cli import main
from reviewer.stats import aggregate, percentile, read_reviews
from tests.fakes.diffs import added_line, make_diff
from tests.fakes.model_server import FakeModelServer, error_reply, findings_reply

FINDING = {
    "path": "src/a.py",
    "quote": added_line("src/a.py", 0, 3, "A").strip(),
    "severity": "high",
    "category": "bug",
    "title": "t",
    "body": "b",
}


@pytest.fixture(autouse=True)
def api_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AI_REVIEW_API_KEY", "sk-test")


def stats(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["stats", *args])
    out, err = capsys.readouterr()
    return code, out, err


def stats_json(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    code, out, err = stats(capsys, "--format", "json", *args)
    assert code == 0, err
    data = json.loads(out)
    assert set(data) == {"groups"}
    groups: dict[str, Any] = data["groups"]
    return groups


@pytest.fixture
def telemetry(
    capsys: pytest.CaptureFixture[str], model_server: FakeModelServer, tmp_path: Path
) -> Path:
    """Five real runs: three on the frontier arm (one a cache hit), two on the open arm
    (one with an unknown price, one whose only call failed)."""
    config = tmp_path / "arms.toml"
    config.write_text(
        f'api_base = "{model_server.base_url}"\n'
        '[[arms]]\nname = "frontier"\nmodel = "openai/gpt-4.1-mini"\n'
        '[[arms]]\nname = "open"\nmodel = "openai/qwen3-coder"\n'
    )
    diffs = {}
    for name, path in (("A", "src/a.py"), ("B", "src/b.py")):
        diffs[name] = tmp_path / f"{name}.diff"
        diffs[name].write_text(make_diff([path], lines=10, seed=name))
    model_server.queue(
        findings_reply(FINDING, prompt_tokens=1000, completion_tokens=200),
        findings_reply(prompt_tokens=2000, completion_tokens=100),
        findings_reply(FINDING, prompt_tokens=1500, completion_tokens=300),
        error_reply(400),
    )
    target = tmp_path / "telemetry.jsonl"
    cache = ["--cache-dir", str(tmp_path / "cache")]
    runs = [("frontier", "A", cache, 0), ("frontier", "B", cache, 0), ("frontier", "A", cache, 0)]
    runs += [("open", "A", [], 0), ("open", "B", [], 2)]  # a 400 on every model: exit 2
    for arm, diff, extra, code in runs:
        args = ["--diff", str(diffs[diff]), "--config", str(config), "--arm", arm, *extra]
        assert main([*args, "--format", "json", "--telemetry", str(target)]) == code
    capsys.readouterr()
    assert len(model_server.requests) == 4
    return target


def review_lines(path: Path) -> list[dict[str, Any]]:
    records = [json.loads(line) for line in path.read_text().splitlines()]
    return [record for record in records if record["type"] == "review"]


def test_stats_from_real_runs_match_hand_computed_figures(
    capsys: pytest.CaptureFixture[str], telemetry: Path
) -> None:
    groups = stats_json(capsys, str(telemetry))
    assert list(groups) == ["frontier", "open"]
    latency = {
        arm: sorted(r["latency_s"]["total"] for r in review_lines(telemetry) if r["arm"] == arm)
        for arm in groups
    }
    frontier_cost = [1000 * 4e-7 + 200 * 1.6e-6, 2000 * 4e-7 + 100 * 1.6e-6, 0.0]  # 3rd cached
    assert groups["frontier"] == pytest.approx(
        {
            "reviews": 3,
            "latency_s_median": latency["frontier"][1],
            "latency_s_p90": latency["frontier"][2],  # nearest rank: ceil(0.9 * 3) = 3rd
            "cost_usd_median": frontier_cost[0],
            "cost_usd_p90": frontier_cost[1],
            "cost_usd_total": sum(frontier_cost),
            "tokens_per_review": (1200 + 2100 + 0) / 3,
            "cache_hit_rate": round(1 / 3, 4),  # 1 hit, 2 calls sent
            "findings_per_review": round(2 / 3, 3),
            "failure_rate": 0.0,
            "acceptance_rate": None,
            "addressed_rate": None,
        }
    )
    assert groups["open"] == pytest.approx(
        {
            "reviews": 2,
            "latency_s_median": round(statistics.median(latency["open"]), 3),
            "latency_s_p90": latency["open"][1],
            # the priced-less review is left out: only the failed one (0 spent) counts
            "cost_usd_median": 0.0,
            "cost_usd_p90": 0.0,
            "cost_usd_total": 0.0,
            "tokens_per_review": (1800 + 0) / 2,
            "cache_hit_rate": 0.0,
            "findings_per_review": 0.5,
            "failure_rate": 0.5,
            "acceptance_rate": None,
            "addressed_rate": None,
        }
    )


def test_group_by_model_and_repo(capsys: pytest.CaptureFixture[str], telemetry: Path) -> None:
    by_model = stats_json(capsys, str(telemetry), "--group-by", "model")
    assert {name: g["reviews"] for name, g in by_model.items()} == {
        "openai/gpt-4.1-mini": 3,
        "openai/qwen3-coder": 2,
    }
    by_repo = stats_json(capsys, str(telemetry), "--group-by", "repo")
    assert list(by_repo) == ["(none)"] and by_repo["(none)"]["reviews"] == 5
    assert by_repo["(none)"]["cost_usd_total"] == pytest.approx(0.00072 + 0.00096)


def test_text_and_markdown_tables(capsys: pytest.CaptureFixture[str], telemetry: Path) -> None:
    code, text, _ = stats(capsys, str(telemetry))
    assert code == 0
    assert "frontier" in text and "open" in text and "reviews" in text
    assert "$0.0017" in text  # frontier's total
    code, markdown, _ = stats(capsys, str(telemetry), "--format", "markdown")
    rows = markdown.splitlines()
    assert rows[0].startswith("| group | reviews | latency_s_median |")
    assert rows[1].startswith("|---|---:|")
    assert rows[2].startswith("| frontier | 3 |") and rows[3].startswith("| open | 2 |")
    assert rows[3].endswith("| 50% | - | - |")  # failure rate, no acceptance data


def line(**fields: Any) -> str:
    base: dict[str, Any] = {
        "type": "review",
        "time": "2025-03-01T10:00:00.000Z",
        "repo": "acme/shop",
        "number": 1,
        "arm": "frontier",
        "models": ["openai/gpt-4.1-mini"],
        "llm_calls": 2,
        "prompt_tokens": 100,
        "completion_tokens": 10,
        "cost_usd": 0.01,
        "latency_s": {"total": 3.0, "llm": 2.0},
        "cache_hits": None,
        "findings": 1,
        "failed_chunks": 0,
        "acceptance": None,
    }
    return json.dumps(base | fields)


def acceptance(accepted: int, signalled: int) -> dict[str, int]:
    return {"comments": signalled + 1, "accepted": accepted, "signalled": signalled}


def test_acceptance_is_weighted_by_comments_over_reviews_that_carry_it(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text(
        "\n".join(
            [
                line(acceptance=acceptance(3, 4)),
                line(acceptance=acceptance(1, 4)),
                line(acceptance=acceptance(0, 0)),  # comments, but nobody reacted
                line(),  # first review of a change: nothing to accept yet
                line(arm="open", acceptance=acceptance(0, 0)),
                line(arm="open", acceptance={"rate": 1.0}),  # unreadable: ignored
            ]
        )
        + "\n"
    )
    groups = stats_json(capsys, str(path))
    assert groups["frontier"]["acceptance_rate"] == 0.5  # (3 + 1) / (4 + 4)
    assert groups["open"]["acceptance_rate"] is None
    assert groups["open"]["reviews"] == 2


def test_malformed_lines_are_skipped_and_counted(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text(
        "\n".join(
            [
                line(),
                "   ",
                "not json",
                "[1, 2]",
                '{"type": "review"}',
                line(cost_usd="free"),
                line(latency_s=float("nan")),
                '{"type": "call", "model": "m"}',  # call lines are not counted
                '{"type": "something-new"}',
                "",
            ]
        )
    )
    code, out, err = stats(capsys, str(path))
    assert code == 0 and "Skipped 5 lines not understood." in out
    assert err == "ai-review: warning: skipped 5 lines not understood\n"
    groups = stats_json(capsys, str(path))
    assert groups["frontier"]["reviews"] == 1
    code, markdown, _ = stats(capsys, str(path), "--format", "markdown")
    assert markdown.endswith("\nSkipped 5 lines not understood.\n")


def test_since_filters_by_day_and_several_files_add_up(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    first.write_text(line(time="2025-01-31T23:59:59.999Z") + "\n")
    second.write_text(line(time="2025-02-01T00:00:00.000Z", cost_usd=0.03) + "\n")
    both = stats_json(capsys, str(first), str(second))
    assert both["frontier"]["reviews"] == 2
    assert both["frontier"]["cost_usd_total"] == pytest.approx(0.04)
    since = stats_json(capsys, str(first), str(second), "--since", "2025-02-01")
    assert since["frontier"]["reviews"] == 1 and since["frontier"]["cost_usd_total"] == 0.03


def test_no_reviews_and_errors(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    assert stats_json(capsys, str(empty)) == {}
    code, out, _ = stats(capsys, str(empty))
    assert code == 0 and "No reviews" in out
    for args, message in (
        ([str(tmp_path / "missing.jsonl")], "does not exist"),
        ([str(tmp_path)], "cannot read telemetry file"),
        ([str(empty), "--since", "last week"], "not a date"),
        ([str(empty), "--group-by", "colour"], "invalid choice"),
        ([], "required"),
    ):
        code, out, err = stats(capsys, *args)
        assert code == 2 and out == "" and err.count("\n") == 1 and message in err


def test_null_groups_and_unknown_costs() -> None:
    text = "\n".join([line(arm=None, cost_usd=None, models=[]), line(arm=None, repo=None)])
    reviews, malformed = read_reviews(text, "arm")
    assert malformed == 0
    groups = aggregate(reviews)
    assert list(groups) == ["(none)"]
    assert groups["(none)"]["cost_usd_total"] == 0.01  # the unknown cost is left out
    only_unknown = aggregate(read_reviews(line(cost_usd=None), "arm")[0])["frontier"]
    assert only_unknown["cost_usd_median"] is None and only_unknown["cost_usd_total"] is None
    assert list(aggregate(read_reviews(line(models=[]), "model")[0])) == ["(none)"]
    no_calls = aggregate(read_reviews(line(llm_calls=0), "arm")[0])["frontier"]
    assert no_calls["cache_hit_rate"] is None
    plain_latency = aggregate(read_reviews(line(latency_s=4.5), "arm")[0])["frontier"]
    assert plain_latency["latency_s_median"] == 4.5


def test_nearest_rank_percentile() -> None:
    assert percentile([5.0], 90) == 5.0
    assert percentile([2.0, 1.0], 90) == 2.0
    assert percentile([float(v) for v in range(10, 0, -1)], 90) == 9.0
    assert percentile([float(v) for v in range(1, 21)], 90) == 18.0
    assert percentile([1.0, 2.0, 3.0], 50) == 2.0
