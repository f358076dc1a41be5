"""Depth, verification and repository tools in a `--github` run: the fake GitHub serves the
files at the head (no checkout), the fake model reviews, calls tools and verifies."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.fakes.github_server import FakeGitHub
from tests.fakes.model_server import (
    FakeModelServer,
    Reply,
    findings_reply,
    tool_call_reply,
    verdicts_reply,
)
from tests.test_github import (  # the GitHub run's fixtures and helpers
    HEAD,
    PATH,
    REPO,
    SIGNATURE,
    TAX,
    V1,
    Job,
    gh,
    job,
    open_pull,
    posted_reviews,
    review,
    summary_body,
)

__all__ = ["gh", "job"]  # pytest fixtures, used by name


def test_a_lite_review_reads_files_through_the_api_and_posts_only_what_survives(
    capsys: pytest.CaptureFixture[str],
    gh: FakeGitHub,
    model_server: FakeModelServer,
    job: Job,
    tmp_path: Path,
) -> None:
    (tmp_path / ".ai-review.toml").write_text('depth = "lite"\ntools = true\nmax_tool_calls = 4\n')
    open_pull(gh)
    gh.set_contents(REPO, HEAD, {PATH: V1, "src/tax.py": "RATE = 0.2  # a fraction, not 1.2\n"})

    def answer(body: dict[str, Any]) -> Reply:
        system = str(body["messages"][0]["content"])
        tool_turns = [m for m in body["messages"] if m.get("role") == "tool"]
        if "You are the verifier" in system:
            return verdicts_reply(
                {"id": "c1", "verdict": "confirmed", "reason": "tax is a fraction"},
                {"id": "c2", "verdict": "rejected", "reason": "a style point"},
            )
        if not tool_turns:
            return tool_call_reply(
                ("read_file", {"path": "src/tax.py"}), ("read_file", {"path": "../secrets"})
            )
        return findings_reply(TAX, SIGNATURE)

    model_server.respond_with(answer)
    code, report, err = review(capsys, model_server)
    assert code == 0, err
    [posted] = posted_reviews(gh)
    assert [c["line"] for c in posted.json["comments"]] == [7]  # TAX only
    reasons = [d["reason"] for d in report["dropped"]]
    assert "verifier: a style point" in reasons
    summary = report["summary"]
    assert (summary["depth"], summary["tool_calls"]) == ("lite", 2)
    assert summary["verification"]["confirmed"] == 1
    tool_results = [
        str(m["content"])
        for r in model_server.requests
        for m in r.body["messages"]
        if m.get("role") == "tool"
    ]
    assert any("RATE = 0.2" in text for text in tool_results)
    assert "error: refused: '../secrets' leaves the repository" in tool_results
    reads = {r.path for r in gh.requests if "/contents/" in r.path}
    assert not any("secrets" in path for path in reads)
    assert "1 rejected" in summary_body(gh)
