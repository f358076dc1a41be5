"""run.py's decisions that span the stages: exit codes and a model pass without its key."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reviewer.cli import main
from tests.conftest import EXAMPLES
from tests.fakes.github_server import FakeGitHub, PullFile
from tests.fakes.model_server import FakeModelServer, findings_reply

SAMPLE = str(EXAMPLES / "sample.diff")
HEAD, BASE = "a" * 40, "b" * 40
SECRET_PATCH = '@@ -1,1 +1,2 @@\n import os\n+KEY = "AKIAZ7Q4R2M8K1VXW3PL"\n'


def test_a_finding_over_max_comments_still_fails_the_gate(
    capsys: pytest.CaptureFixture[str],
) -> None:
    args = ["--diff", SAMPLE, "--format", "json", "--max-comments", "0", "--fail-on", "critical"]
    assert main(args) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["findings"] == []
    assert {d["reason"] for d in report["dropped"]} == {"over max-comments"}


def test_a_fork_pr_without_the_model_key_still_gets_the_builtin_review(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    with FakeGitHub() as gh:
        gh.add_token("ghs_token")
        gh.add_pull(
            "octo/app",
            3,
            head_sha=HEAD,
            base_sha=BASE,
            files=[PullFile("app.py", patch=SECRET_PATCH)],
        )
        for name, value in {
            "GITHUB_API_URL": gh.url,
            "GITHUB_TOKEN": "ghs_token",
            "AI_REVIEW_MODEL": "openai/gpt-4.1-mini",  # set, but the fork's run has no key
        }.items():
            monkeypatch.setenv(name, value)
        code = main(["--github", "--repo", "octo/app", "--pr", "3", "--format", "json"])
        report = json.loads(capsys.readouterr().out)
        [review] = gh.reviews("octo/app", 3)
        [summary] = gh.issue_comments("octo/app", 3)
    assert code == 0
    assert "Model review skipped: no API key for openai/gpt-4.1-mini" in report["summary"]["note"]
    assert [c["line"] for c in review["comments"]] == [2]  # the leaked key, inline
    assert "OPENAI_API_KEY" in summary["body"]


def test_a_missing_key_on_a_local_run_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AI_REVIEW_MODEL", "openai/gpt-4.1-mini")
    assert main(["--diff", SAMPLE]) == 2
    assert "set OPENAI_API_KEY" in capsys.readouterr().err


def test_every_note_reaches_the_summary_and_none_carries_a_secret(
    capfd: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    model_server: FakeModelServer,
) -> None:
    # The engine's note (no price for the model: the cost cap cannot apply) and the MCP
    # server's (it did not start; its error names a path holding a key) both reach the
    # summary, the key redacted.
    monkeypatch.setenv("AI_REVIEW_API_KEY", "sk-test")
    leaky = "/nonexistent/AKIAZ7Q4R2M8K1VXW3PL/docs-server"
    config = tmp_path / "review.toml"
    config.write_text(
        'max_cost_usd = 0.5\ntools = true\ndepth = "trivial"\n'
        f'[[mcp_servers]]\nname = "docs"\ncommand = ["{leaky}"]\ntools = ["search"]\n'
    )
    model_server.set_default(findings_reply())
    args = ["--diff", str(EXAMPLES / "sample.diff"), "--config", str(config), "--format", "json"]
    model = ["--model", "openai/no-such-priced-model", "--api-base", model_server.base_url]
    code = main([*args, *model])
    out, err = capfd.readouterr()
    assert code == 0, err
    note = json.loads(out)["summary"]["note"]
    assert "max_cost_usd not applied" in note
    assert "docs" in note and "did not start" in note and "[REDACTED:" in note
    assert "AKIAZ7Q4R2M8K1VXW3PL" not in note
