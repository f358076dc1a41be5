"""Budgets: the caps per review, what goes first, and that nothing is skipped silently."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from reviewer.budget import (
    COMPLETION_TOKENS_ESTIMATE,
    estimated_cost,
    is_sensitive,
    path_kind,
    plan_budget,
    priority,
)
from reviewer.chunk import Chunk
from reviewer.cli import main
from reviewer.diff import parse_diff
from reviewer.gateway import count_tokens
from reviewer.report.reasons import skipped_reason
from tests.fakes.diffs import file_diff, make_diff
from tests.fakes.model_server import FakeModelServer, Recorded

MODEL = "openai/gpt-4.1-mini"
PRICE = (4e-7, 1.6e-6)  # gpt-4.1-mini in litellm's bundled price map
# Five chunks at chunk_tokens = 500, one file each, in diff order.
PATHS = ["src/big.py", "src/auth/login.py", "src/small.py", "tests/test_small.py", "docs/guide.md"]
DIFF = file_diff(PATHS[0], lines=14) + make_diff(PATHS[1:], lines=10)
WORTH_FIRST = ["src/auth/login.py", "src/big.py", "src/small.py", "tests/test_small.py"]


@pytest.fixture(autouse=True)
def api_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AI_REVIEW_API_KEY", "sk-test")


def chunks(*specs: tuple[str, int]) -> list[Chunk]:
    """One chunk per (path, added lines), in this order."""
    text = "".join(file_diff(path, lines=lines) for path, lines in specs)
    return [Chunk(i, (file,), 100) for i, file in enumerate(parse_diff(text).files)]


def paths(kept: list[Chunk]) -> list[str]:
    return [file.path for chunk in kept for file in chunk.files]


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("src/app.py", 0),
        ("Makefile", 0),
        ("tests/test_app.py", 1),
        ("pkg/app_test.go", 1),
        ("web/src/cart.spec.ts", 1),
        ("conftest.py", 1),
        ("src/__tests__/cart.js", 1),
        ("README.md", 2),
        ("docs/conf.py", 2),
        ("CHANGELOG.rst", 2),
    ],
)
def test_path_kinds(path: str, kind: int) -> None:
    assert path_kind(path) == kind


def test_sensitive_paths() -> None:
    sensitive = ["src/Auth/views.py", "lib/crypto.rs", "app/PasswordReset.java", "db/raw_sql.py"]
    assert all(is_sensitive(p) for p in sensitive)
    assert all(is_sensitive(p) for p in ["payments/stripe.py", "iam/permissions.py"])
    assert not any(is_sensitive(p) for p in ["src/cart.py", "README.md", "ui/button.tsx"])


def test_priority_source_then_sensitive_then_larger() -> None:
    given = chunks(
        ("docs/security.md", 30),
        ("tests/test_auth.py", 30),
        ("src/cart.py", 5),
        ("src/views.py", 20),
        ("src/token_store.py", 2),
    )
    ordered = sorted(given, key=priority)
    assert paths(ordered) == [
        "src/token_store.py",
        "src/views.py",
        "src/cart.py",
        "tests/test_auth.py",
        "docs/security.md",
    ]


def test_token_cap_keeps_what_is_worth_most_in_diff_order() -> None:
    given = chunks(("docs/a.md", 9), ("src/b.py", 3), ("src/c.py", 8), ("tests/test_d.py", 9))
    kept, skipped = plan_budget(given, [100, 100, 100, 100], 250, None, None)
    assert paths(kept) == ["src/b.py", "src/c.py"]  # both source, diff order kept
    assert [(s.path, skipped_reason(s)) for s in skipped] == [
        ("docs/a.md", "not reviewed: over the review's token budget"),
        ("tests/test_d.py", "not reviewed: over the review's token budget"),
    ]


def test_a_smaller_chunk_behind_a_big_one_may_still_fit() -> None:
    given = chunks(("src/a.py", 9), ("src/b.py", 5), ("src/c.py", 1))
    kept, skipped = plan_budget(given, [80, 300, 20], 150, None, None)
    assert paths(kept) == ["src/a.py", "src/c.py"]
    assert [s.path for s in skipped] == ["src/b.py"]


def test_usd_cap_uses_the_price_and_an_answer_estimate() -> None:
    given = chunks(("src/a.py", 9), ("src/b.py", 5), ("src/c.py", 1))
    each = estimated_cost(1000, PRICE)
    assert each == pytest.approx(1000 * 4e-7 + COMPLETION_TOKENS_ESTIMATE * 1.6e-6)
    kept, skipped = plan_budget(given, [1000] * 3, None, each * 2.5, PRICE)
    assert paths(kept) == ["src/a.py", "src/b.py"]
    assert [(s.path, skipped_reason(s)) for s in skipped] == [
        ("src/c.py", "not reviewed: over the review's USD budget")
    ]
    # Without a price the USD cap cannot be estimated: only the token cap applies.
    kept, skipped = plan_budget(given, [1000] * 3, 2500, 0.000001, None)
    assert paths(kept) == ["src/a.py", "src/b.py"] and skipped_reason(skipped[0]).endswith(
        "token budget"
    )


def test_no_caps_and_free_chunks_keep_everything() -> None:
    given = chunks(("src/a.py", 3), ("src/b.py", 3))
    assert plan_budget(given, [10**9, 10**9], None, None, PRICE) == (given, ())
    kept, skipped = plan_budget(given, [0, 0], 1, 0.0, PRICE)  # e.g. both answered by the cache
    assert (kept, skipped) == (given, ())


def test_a_file_split_over_chunks_is_partly_reviewed() -> None:
    [file] = parse_diff(file_diff("src/a.py", hunks=2)).files
    first, second = (Chunk(i, (type(file)(**{**file.__dict__, "hunks": (h,)}),), 50)
                     for i, h in enumerate(file.hunks))  # fmt: skip
    kept, skipped = plan_budget([first, second], [100, 100], 150, None, None)
    assert kept == [first]
    assert [(s.path, skipped_reason(s)) for s in skipped] == [
        ("src/a.py", "partly not reviewed: over the review's token budget")
    ]


# Through the command line: the cap stops spending and lists the rest.


def run(
    capsys: pytest.CaptureFixture[str],
    server: FakeModelServer,
    tmp_path: Path,
    *extra: str,
    **config: Any,
) -> tuple[int, dict[str, Any], str]:
    diff = tmp_path / "change.diff"
    diff.write_text(DIFF)
    config.setdefault("depth", "trivial")  # one pass: the caps are measured on the review calls
    settings = tmp_path / ".ai-review.toml"
    settings.write_text("".join(f"{k} = {json.dumps(v)}\n" for k, v in config.items()))
    args = ["--diff", str(diff), "--config", str(settings), "--format", "json"]
    code = main([*args, "--model", MODEL, "--api-base", server.base_url, *extra])
    out, err = capsys.readouterr()
    return code, json.loads(out), err


def estimate(request: Recorded) -> int:
    """The engine's estimate of a request: system prompt tokens plus user prompt tokens."""
    return sum(count_tokens(MODEL, m["content"]) for m in request.body["messages"])


def sent_paths(server: FakeModelServer) -> list[str]:
    return sorted(p for r in server.requests for p in PATHS if f"### {p} " in r.prompt_text)


@pytest.fixture
def estimates(
    capsys: pytest.CaptureFixture[str], model_server: FakeModelServer, tmp_path: Path
) -> dict[str, int]:
    """Each file's prompt estimate, measured on an uncapped run."""
    code, report, _ = run(capsys, model_server, tmp_path, chunk_tokens=500)
    assert code == 0 and report["summary"]["chunks"] == len(model_server.requests) == 5
    measured = {p: estimate(r) for r in model_server.requests for p in PATHS if p in r.prompt_text}
    model_server.requests.clear()
    return measured


def test_token_cap_stops_spending_and_lists_the_rest(
    capsys: pytest.CaptureFixture[str],
    model_server: FakeModelServer,
    tmp_path: Path,
    estimates: dict[str, int],
) -> None:
    cap = sum(estimates[p] for p in WORTH_FIRST[:3]) + 5  # room for three chunks
    code, report, err = run(capsys, model_server, tmp_path, chunk_tokens=500, max_prompt_tokens=cap)
    assert code == 0, err
    assert sent_paths(model_server) == sorted(WORTH_FIRST[:3])
    assert sum(estimate(r) for r in model_server.requests) <= cap
    summary = report["summary"]
    assert summary["chunks"] == summary["llm_calls"] == 3
    assert summary["files_reviewed"] == 3
    assert summary["files_skipped"] == [
        {"path": "tests/test_small.py", "reason": "not reviewed: over the review's token budget"},
        {"path": "docs/guide.md", "reason": "not reviewed: over the review's token budget"},
    ]


def test_usd_cap_with_a_known_price(
    capsys: pytest.CaptureFixture[str],
    model_server: FakeModelServer,
    tmp_path: Path,
    estimates: dict[str, int],
) -> None:
    cap = sum(estimated_cost(estimates[p], PRICE) for p in WORTH_FIRST[:2]) * 1.01
    code, report, _ = run(capsys, model_server, tmp_path, chunk_tokens=500, max_cost_usd=cap)
    assert code == 0
    assert sent_paths(model_server) == sorted(WORTH_FIRST[:2])
    reasons = {s["path"]: s["reason"] for s in report["summary"]["files_skipped"]}
    assert set(reasons) == {"src/small.py", "tests/test_small.py", "docs/guide.md"}
    assert all("USD budget" in reason for reason in reasons.values())
    assert report["summary"]["cost_usd"] <= cap  # the fake answers are short


def test_unknown_price_applies_only_the_token_cap_and_says_so(
    capsys: pytest.CaptureFixture[str], model_server: FakeModelServer, tmp_path: Path
) -> None:
    code, report, _ = run(
        capsys,
        model_server,
        tmp_path,
        "--model",
        "openai/qwen3-coder",
        chunk_tokens=500,
        max_cost_usd=0.0001,
    )
    assert code == 0
    assert len(model_server.requests) == 5  # nothing could be estimated, nothing else caps
    note = report["summary"]["note"]
    assert "max_cost_usd not applied" in note and "openai/qwen3-coder" in note
    assert report["summary"]["cost_usd"] is None
    assert not report["summary"]["files_skipped"]


def test_caps_must_be_positive(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    settings = tmp_path / ".ai-review.toml"
    for line in ("max_prompt_tokens = 0", "max_cost_usd = -1"):
        settings.write_text(line + "\n")
        assert main(["--diff", str(tmp_path / "x.diff"), "--config", str(settings)]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and line.split()[0] in err


def test_everything_over_budget_sends_nothing_and_lists_every_file(
    capsys: pytest.CaptureFixture[str], model_server: FakeModelServer, tmp_path: Path
) -> None:
    code, report, _ = run(capsys, model_server, tmp_path, chunk_tokens=500, max_prompt_tokens=10)
    assert code == 0 and model_server.requests == []
    summary = report["summary"]
    assert (summary["chunks"], summary["llm_calls"], summary["files_reviewed"]) == (0, 0, 0)
    assert [s["path"] for s in summary["files_skipped"]] == PATHS
    assert all("budget" in s["reason"] for s in summary["files_skipped"])


def test_unknown_price_with_a_token_cap_says_only_the_token_cap_applies(
    capsys: pytest.CaptureFixture[str], model_server: FakeModelServer, tmp_path: Path
) -> None:
    _, report, _ = run(
        capsys,
        model_server,
        tmp_path,
        "--model",
        "openai/qwen3-coder",
        chunk_tokens=500,
        max_cost_usd=0.0001,
        max_prompt_tokens=10**6,
    )
    assert "only max_prompt_tokens limits this review" in report["summary"]["note"]
    assert len(model_server.requests) == 5
