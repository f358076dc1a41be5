"""Passes and verification through the engine, against the HTTP fake model."""

from __future__ import annotations

import json
from typing import Any

import pytest

from reviewer.cli import main
from reviewer.config import Config
from reviewer.context import NoContext
from reviewer.diff import parse_diff
from reviewer.engine import ReviewInput, review
from reviewer.errors import ConfigError
from reviewer.gateway import LiteLLMGateway
from reviewer.platforms.base import Change
from reviewer.report.reasons import dropped_reason
from reviewer.telemetry import TelemetryFile
from tests.fakes.model_server import (
    FakeModelServer,
    Recorded,
    Reply,
    error_reply,
    findings_reply,
    verdicts_reply,
)

MODEL = "openai/gpt-4.1-mini"


def diff_of(*paths: str, added: int = 12) -> str:
    out = []
    for path in paths:
        out += [f"diff --git a/{path} b/{path}", f"--- a/{path}", f"+++ b/{path}"]
        out += [f"@@ -1,1 +1,{added + 1} @@", " import os"]
        out += [f"+value_{i} = os.environ.get('V{i}', 'default {i}')" for i in range(added)]
    return "\n".join(out) + "\n"


def finding(path: str, i: int, title: str, severity: str = "medium") -> dict[str, Any]:
    return {"path": path, "quote": f"value_{i} = os.environ.get('V{i}', 'default {i}')",
            "evidence": f"value_{i} has no check", "severity": severity, "category": "bug",
            "title": title, "body": "because"}  # fmt: skip


def is_verifier(request: Recorded | dict[str, Any]) -> bool:
    body = request.body if isinstance(request, Recorded) else request
    return "You are the verifier" in str(body["messages"][0]["content"])


def run(server: FakeModelServer, diff: str, **config: Any) -> Any:
    gateway = LiteLLMGateway([MODEL], api_base=server.base_url, api_key="sk-x", max_retries=0)
    settings = Config(model=MODEL, chunk_tokens=config.pop("chunk_tokens", 600), **config)
    return review(ReviewInput(parse_diff(diff)), settings, gateway, NoContext())


def test_verifier_confirms_rejects_ignores_and_a_failed_batch_loses_nothing(
    model_server: FakeModelServer,
) -> None:
    def answer(body: dict[str, Any]) -> Reply:
        user = str(body["messages"][1]["content"])
        if is_verifier(body):
            if "### b.py" in user:
                return error_reply(500)
            return verdicts_reply(
                {"id": "c1", "verdict": "confirmed", "reason": "real", "severity": "high"},
                {"id": "c2", "verdict": "rejected", "reason": "V1 always has a default"},
            )  # c3 is not mentioned
        if "### a.py" in user:
            return findings_reply(
                finding("a.py", 0, "first"),
                finding("a.py", 1, "second"),
                finding("a.py", 2, "third"),
            )
        return findings_reply(finding("b.py", 3, "in b"))

    model_server.respond_with(answer)
    result = run(model_server, diff_of("a.py", "b.py", added=20), depth="lite")
    assert result.summary.chunks == 2
    assert sorted((f.title, f.severity) for f in result.findings) == [
        ("first", "high"), ("in b", "medium"), ("third", "medium"),
    ]  # fmt: skip
    rejected = [d for d in result.dropped if dropped_reason(d).startswith("verifier:")]
    assert [(d.title, dropped_reason(d)) for d in rejected] == [
        ("second", "verifier: V1 always has a default")
    ]
    verification = result.summary.verification
    assert verification is not None
    assert (verification.candidates, verification.confirmed, verification.rejected) == (4, 1, 1)
    assert (verification.unverified, verification.failed_batches, verification.batches) == (2, 1, 2)
    verifier_requests = [r for r in model_server.requests if is_verifier(r)]
    assert len(verifier_requests) == 2
    [a_request] = [r for r in verifier_requests if "### a.py" in r.prompt_text]
    block = a_request.body["messages"][1]["content"].split("```json\n")[1].split("\n```")[0]
    assert [(c["id"], c["title"]) for c in json.loads(block)] == [
        ("c1", "first"), ("c2", "second"), ("c3", "third"),
    ]  # fmt: skip
    assert json.loads(block)[0]["evidence"] == "value_0 has no check"
    [verifier] = [f for f in result.summary.by_pass if f.name == "verifier"]
    assert (verifier.calls, verifier.failed) == (2, 1)
    assert result.summary.failed_chunks == 0  # the review itself is complete


def test_builtin_findings_are_never_sent_to_the_verifier(model_server: FakeModelServer) -> None:
    secret = "AKIA" + "Q3EGWDKYZ7N4PLRT"
    diff = diff_of("a.py").replace("+value_0 = ", f"+key = '{secret}'\n+value_0 = ")
    model_server.respond_with(
        lambda body: verdicts_reply() if is_verifier(body) else findings_reply()
    )
    result = run(model_server, diff, depth="lite")
    assert [f.source for f in result.findings] == ["builtin"]
    assert not any(is_verifier(r) for r in model_server.requests)  # nothing to verify


def test_full_depth_runs_each_specialist_pass_on_its_model_then_the_verifier(
    model_server: FakeModelServer,
) -> None:
    def answer(body: dict[str, Any]) -> Reply:
        if is_verifier(body):
            return verdicts_reply({"id": "c1", "verdict": "confirmed", "reason": "ok"})
        if "**security** pass" in body["messages"][0]["content"]:
            return findings_reply(finding("auth.py", 4, "token compared with ==", "high"))
        return findings_reply()

    model_server.respond_with(answer)
    result = run(
        model_server, diff_of("auth.py"), depth="auto",
        pass_models=(("performance", "openai/gpt-4o-mini"),), verifier_model="openai/gpt-4.1",
    )  # fmt: skip
    summary = result.summary
    assert (summary.depth, summary.passes) == ("full", ("correctness", "security", "performance"))
    assert "security-sensitive path auth.py" in summary.depth_reason
    by_focus = {}
    for request in model_server.requests:
        system = request.system
        focus = next((p for p in summary.passes if f"**{p}** pass" in system), "verifier")
        by_focus[focus] = request.body["model"]
    assert by_focus == {
        "correctness": "gpt-4.1-mini", "security": "gpt-4.1-mini",
        "performance": "gpt-4o-mini", "verifier": "gpt-4.1",
    }  # fmt: skip
    assert [f.title for f in result.findings] == ["token compared with =="]
    assert [(f.name, f.calls) for f in summary.by_pass] == [
        ("correctness", 1), ("security", 1), ("performance", 1), ("verifier", 1),
    ]  # fmt: skip
    assert summary.llm_calls == 4
    assert sum(f.prompt_tokens for f in summary.by_pass) == summary.prompt_tokens


def test_the_passes_of_a_chunk_run_in_parallel(model_server: FakeModelServer) -> None:
    model_server.set_default(Reply(content='{"findings": []}', delay_s=0.1))
    result = run(model_server, diff_of("a.py"), depth="full", concurrency=3)
    spans = [(r.received_at, r.answered_at) for r in model_server.requests]
    assert result.summary.llm_calls == len(spans) == 3
    assert max(sum(1 for s, e in spans if s <= t < e) for t, _ in spans) == 3


def test_trivial_changes_get_one_pass_and_no_verifier(model_server: FakeModelServer) -> None:
    model_server.set_default(findings_reply(finding("a.py", 0, "only")))
    result = run(model_server, diff_of("a.py", added=2), depth="auto")
    assert (result.summary.depth, result.summary.verification) == ("trivial", None)
    assert len(model_server.requests) == 1
    assert [f.title for f in result.findings] == ["only"]


def test_verify_false_skips_the_verifier_at_every_tier(model_server: FakeModelServer) -> None:
    model_server.set_default(findings_reply(finding("a.py", 0, "only")))
    result = run(model_server, diff_of("a.py"), depth="full", verify=False, passes=("security",))
    assert [is_verifier(r) for r in model_server.requests] == [False]
    assert result.summary.verification is None


def test_diff_end_to_end_reports_depth_passes_and_verification(
    model_server: FakeModelServer, tmp_path: Any, capsys: Any, monkeypatch: Any
) -> None:
    monkeypatch.setenv("AI_REVIEW_API_KEY", "sk-test")

    def answer(body: dict[str, Any]) -> Reply:
        if is_verifier(body):
            return verdicts_reply({"id": "c1", "verdict": "rejected", "reason": "not real"})
        return findings_reply(finding("a.py", 2, "noise"))

    model_server.respond_with(answer)
    (tmp_path / "change.diff").write_text(diff_of("a.py"))
    args = ["--diff", "change.diff", "--model", MODEL, "--api-base", model_server.base_url]
    assert main([*args, "--depth", "lite", "--format", "json"]) == 0
    summary = json.loads(capsys.readouterr().out)["summary"]
    assert (summary["depth"], summary["passes"]) == ("lite", ["review"])
    assert summary["verification"]["rejected"] == 1
    assert summary["unverified"] == 0
    assert set(summary["by_pass"]) == {"review", "verifier"}
    assert main([*args, "--depth", "lite"]) == 0
    text = capsys.readouterr().out
    assert "lite (chosen with --depth or depth in the config)" in text
    assert "1 candidate: 0 confirmed, 1 rejected, 0 unverified" in text
    assert "verifier: not real" in text


def review_by_default(server: FakeModelServer, diff: str, tmp_path: Any, capsys: Any) -> Any:
    """`ai-review --diff` with no depth anywhere (no flag, no config file): the JSON report."""
    (tmp_path / "change.diff").write_text(diff)
    args = ["--diff", "change.diff", "--model", MODEL, "--api-base", server.base_url]
    assert main([*args, "--format", "json"]) == 0
    return json.loads(capsys.readouterr().out)


def pass_of(request: Recorded) -> str:
    """Which pass a request is: the verifier, a specialist (named in its prompt), or the review."""
    if is_verifier(request):
        return "verifier"
    system = str(request.body["messages"][0]["content"])
    named = [
        name for name in ("correctness", "security", "performance") if f"**{name}** pass" in system
    ]
    return named[0] if named else "review"


@pytest.fixture
def rejecting_verifier(model_server: FakeModelServer, monkeypatch: Any) -> FakeModelServer:
    """Every pass finds one problem on line 2 of the first file; the verifier rejects it."""
    monkeypatch.setenv("AI_REVIEW_API_KEY", "sk-test")

    def answer(body: dict[str, Any]) -> Reply:
        if is_verifier(body):
            return verdicts_reply({"id": "c1", "verdict": "rejected", "reason": "V2 has a default"})
        path = "auth/session.py" if "### auth/session.py" in str(body["messages"]) else "a.py"
        return findings_reply(finding(path, 2, "unchecked value"))

    model_server.respond_with(answer)
    return model_server


def test_by_default_a_trivial_change_gets_one_pass_and_no_verifier(
    rejecting_verifier: FakeModelServer, tmp_path: Any, capsys: Any
) -> None:
    report = review_by_default(rejecting_verifier, diff_of("a.py", added=5), tmp_path, capsys)
    assert [pass_of(r) for r in rejecting_verifier.requests] == ["review"]
    summary = report["summary"]
    assert (summary["depth"], summary["passes"], summary["verification"]) == (
        "trivial", ["review"], None
    )  # fmt: skip
    assert summary["depth_reason"] == "5 changed lines (trivial_max_lines = 10)"
    assert [f["title"] for f in report["findings"]] == ["unchecked value"]  # nobody checked it


def test_by_default_a_change_over_ten_lines_is_verified(
    rejecting_verifier: FakeModelServer, tmp_path: Any, capsys: Any
) -> None:
    report = review_by_default(rejecting_verifier, diff_of("a.py", added=11), tmp_path, capsys)
    assert [pass_of(r) for r in rejecting_verifier.requests] == ["review", "verifier"]
    assert report["summary"]["depth"] == "lite"
    assert report["findings"] == []  # the verifier's rejection keeps the noise off the review
    [dropped] = report["dropped"]
    assert (dropped["title"], dropped["reason"]) == (
        "unchecked value",
        "verifier: V2 has a default",
    )


def test_by_default_a_security_sensitive_path_gets_the_specialist_passes(
    rejecting_verifier: FakeModelServer, tmp_path: Any, capsys: Any
) -> None:
    diff = diff_of("auth/session.py", added=3)
    report = review_by_default(rejecting_verifier, diff, tmp_path, capsys)
    called = sorted(pass_of(r) for r in rejecting_verifier.requests)
    assert called == ["correctness", "performance", "security", "verifier"]
    summary = report["summary"]
    assert (summary["depth"], summary["passes"]) == (
        "full",
        ["correctness", "security", "performance"],
    )
    assert summary["depth_reason"] == "security-sensitive path auth/session.py"
    assert report["findings"] == [] and summary["verification"]["rejected"] == 1


def test_telemetry_and_stats_break_the_cost_down_per_pass(
    model_server: FakeModelServer, tmp_path: Any, capsys: Any
) -> None:
    model_server.respond_with(
        lambda body: (
            verdicts_reply({"id": "c1", "verdict": "confirmed"})
            if is_verifier(body)
            else findings_reply(finding("a.py", 1, "seen by every pass"))
        )
    )
    result = run(model_server, diff_of("a.py"), depth="full", passes=("correctness", "security"))
    telemetry = TelemetryFile(tmp_path / "t.jsonl")
    change = Change(ReviewInput(parse_diff(diff_of("a.py"))), NoContext(), repo="o/r", number=7)
    telemetry.record(change, result, None)
    telemetry.record(change, result, None)
    lines = [json.loads(line) for line in (tmp_path / "t.jsonl").read_text().splitlines()]
    review_line = lines[0]
    assert (review_line["depth"], review_line["passes"]) == ("full", ["correctness", "security"])
    assert review_line["verification"]["confirmed"] == 1
    assert "depth_reason" not in review_line  # words, never in telemetry
    assert sorted(line["pass"] for line in lines[1:4]) == ["correctness", "security", "verifier"]
    assert main(["stats", str(tmp_path / "t.jsonl"), "--group-by", "pass", "--format", "json"]) == 0
    groups = json.loads(capsys.readouterr().out)["groups"]
    assert sorted(groups) == ["correctness", "security", "verifier"]
    assert all(group["reviews"] == 2 for group in groups.values())
    per_pass = {f.name: f for f in result.summary.by_pass}
    tokens = per_pass["verifier"].prompt_tokens + per_pass["verifier"].completion_tokens
    assert groups["verifier"]["tokens_per_review"] == tokens


def test_the_verifier_reads_only_the_hunks_its_candidates_lie_in(
    model_server: FakeModelServer,
) -> None:
    two_hunks = diff_of("a.py", added=3) + (
        "@@ -40,1 +43,2 @@\n far_away = 1\n+untouched_by_findings = far_away + 1\n"
    )
    model_server.respond_with(
        lambda body: (
            verdicts_reply() if is_verifier(body) else findings_reply(finding("a.py", 1, "x"))
        )
    )
    run(model_server, two_hunks, depth="lite")
    [review_request, verifier_request] = model_server.requests
    assert "untouched_by_findings" in review_request.prompt_text
    user = verifier_request.body["messages"][1]["content"]
    assert "value_1 = os.environ" in user
    assert "untouched_by_findings" not in user


def test_a_repository_adds_its_own_pass_and_a_missing_template_is_a_config_error(
    model_server: FakeModelServer, tmp_path: Any
) -> None:
    (tmp_path / "pass_migrations.j2").write_text("This is the **migrations** pass: locks.\n")
    model_server.set_default(findings_reply())
    run(model_server, diff_of("a.py"), depth="full", verify=False,
        passes=("migrations", "security"), prompts_dir=str(tmp_path))  # fmt: skip
    systems = sorted(r.system for r in model_server.requests)
    assert "**migrations** pass: locks." in systems[0]
    assert "**security** pass" in systems[1]
    with pytest.raises(ConfigError, match=r"pass_typo\.j2"):
        run(model_server, diff_of("a.py"), depth="full", passes=("typo",))


def test_a_pass_model_at_another_provider_never_gets_the_review_models_key() -> None:
    direct = LiteLLMGateway([MODEL], api_key="sk-openai-only")
    elsewhere = direct.with_models(["anthropic/claude-haiku-4-5", MODEL])
    assert elsewhere._key_for("anthropic/claude-haiku-4-5") is None
    assert direct.with_models(["openai/gpt-4o-mini"])._key_for("openai/gpt-4o-mini") == (
        "sk-openai-only"
    )
    through_gateway = LiteLLMGateway([MODEL], api_base="https://gw.example/v1", api_key="sk-gw")
    other = through_gateway.with_models(["anthropic/claude-haiku-4-5"])
    assert other._key_for("anthropic/claude-haiku-4-5") == "sk-gw"  # the gateway's key


def test_verification_stays_within_the_reviews_token_budget(model_server: FakeModelServer) -> None:
    def answer(body: dict[str, Any]) -> Reply:
        if is_verifier(body):
            return verdicts_reply({"id": "c1", "verdict": "rejected", "reason": "no"})
        user = str(body["messages"][1]["content"])
        path = "a.py" if "### a.py" in user else "b.py"
        return findings_reply(finding(path, 1, f"in {path}"), prompt_tokens=1000)

    model_server.respond_with(answer)
    diff = diff_of("a.py", "b.py", added=20)
    result = run(model_server, diff, depth="lite", max_prompt_tokens=3500)
    verification = result.summary.verification
    assert verification is not None
    # 2,000 tokens went to the passes; the 1,500 left hold one verification (~800), not two
    assert (verification.batches, verification.over_budget, verification.unverified) == (1, 1, 1)
    assert len(result.findings) == 1  # the other one was rejected; the unsent one is kept
    assert sum(is_verifier(r) for r in model_server.requests) == 1
