"""Depth, verification and repository tools in `--github` and `--gitlab` runs: the fake
platform serves the files at the head (no checkout), the fake model reviews, calls tools and
verifies."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests import test_gitlab as gitlab_tests
from tests.fakes.github_server import FakeGitHub
from tests.fakes.gitlab_server import FakeGitLab
from tests.fakes.model_server import (
    FakeModelServer,
    Reply,
    findings_reply,
    tool_call_reply,
    verdicts_reply,
)
from tests.test_github import (  # the GitHub run's fixtures and helpers
    BASE_SHA,
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

fake = gitlab_tests.fake
__all__ = ["fake", "gh", "job"]  # pytest fixtures, used by name


def test_a_lite_review_reads_files_through_the_api_and_posts_only_what_survives(
    capsys: pytest.CaptureFixture[str],
    gh: FakeGitHub,
    model_server: FakeModelServer,
    job: Job,
    tmp_path: Path,
) -> None:
    open_pull(gh)
    config = 'depth = "lite"\ntools = true\nmax_tool_calls = 4\n'
    gh.set_contents(REPO, BASE_SHA, {".ai-review.toml": config})  # trusted: the base's config
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


def test_a_full_gitlab_review_runs_the_passes_verifies_and_posts_the_survivors(
    capsys: pytest.CaptureFixture[str],
    fake: FakeGitLab,
    model_server: FakeModelServer,
    tmp_path: Path,
) -> None:
    config = (
        'depth = "full"\npasses = ["correctness", "performance"]\ntools = true\n'
        '[pass_models]\nperformance = "openai/gpt-4o-mini"\n'
    )
    fake.set_files(gitlab_tests.PROJECT, gitlab_tests.BASE, {".ai-review.toml": config})
    fake.set_files(gitlab_tests.PROJECT, gitlab_tests.HEAD, {"src/rates.py": "MAX_RATE = 3\n"})

    def answer(body: dict[str, Any]) -> Reply:
        system = str(body["messages"][0]["content"])
        if "You are the verifier" in system:
            return verdicts_reply(
                {"id": "c1", "verdict": "confirmed", "reason": "real"},
                {"id": "c2", "verdict": "rejected", "reason": "cached upstream"},
            )
        if "**performance** pass" in system:
            return findings_reply(gitlab_tests.ON_RANGE)
        if not any(m.get("role") == "tool" for m in body["messages"]):
            return tool_call_reply(("read_file", {"path": "src/rates.py"}))
        return findings_reply(gitlab_tests.ON_ADDED)

    model_server.respond_with(answer)
    code, report, err = gitlab_tests.run(capsys, model_server)
    assert code == 0, err
    titles = [r.json_or_form["body"] for r in gitlab_tests.posts(fake)]
    assert len(titles) == 1 and "Rate parameter lacks validation" in titles[0]
    summary = report["summary"]
    assert (summary["depth"], summary["passes"]) == ("full", ["correctness", "performance"])
    assert set(summary["by_pass"]) == {"correctness", "performance", "verifier"}
    assert summary["tool_calls"] == 1
    models = {r.body["model"] for r in model_server.requests if "**performance** pass" in r.system}
    assert models == {"gpt-4o-mini"}
    assert "verifier: cached upstream" in [d["reason"] for d in report["dropped"]]
    assert any("1 rejected" in note for note in gitlab_tests.summary_notes(fake))
