"""`ai-review mcp`'s tools, driven by the official SDK client (in-process here; over real
stdio in test_mcp_stdio.py), against the HTTP fake model."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import anyio
import pytest
from mcp import Client
from mcp.types import CallToolResult, TextContent

from reviewer.mcp_server import build_server
from tests.conftest import EXAMPLES
from tests.fakes.model_server import (
    FakeModelServer,
    Reply,
    error_reply,
    findings_reply,
    verdicts_reply,
)
from tests.test_cli import OFF_BY_ONE

SAMPLE = (EXAMPLES / "sample.diff").read_text()
T = TypeVar("T")


def run_async(session: Callable[[], Awaitable[T]]) -> T:
    """anyio.run on a thread of its own: the main thread's event loop (which litellm may have
    set up in an earlier test) is left alone."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(anyio.run, session).result()


@pytest.fixture(autouse=True)
def model_env(monkeypatch: pytest.MonkeyPatch, model_server: FakeModelServer) -> None:
    monkeypatch.setenv("AI_REVIEW_MODEL", "openai/gpt-4.1-mini")
    monkeypatch.setenv("AI_REVIEW_API_BASE", model_server.base_url)
    monkeypatch.setenv("AI_REVIEW_API_KEY", "sk-test-key-never-printed")


def call(name: str, arguments: dict[str, Any], seen: list[Any] | None = None) -> CallToolResult:
    async def session() -> CallToolResult:
        async def record(progress: float, total: float | None, message: str | None) -> None:
            if seen is not None:
                seen.append((progress, total, message))

        async with Client(build_server()) as client:
            return await client.call_tool(name, arguments, progress_callback=record)

    return run_async(session)


def error_text(result: CallToolResult) -> str:
    assert result.is_error
    [block] = result.content
    assert isinstance(block, TextContent)
    return block.text


def test_review_diff_reports_findings_at_their_lines(model_server: FakeModelServer) -> None:
    # The same depth as the CLI: the sample is a "lite" change, one pass then the verifier.
    model_server.queue(
        findings_reply(OFF_BY_ONE), verdicts_reply({"id": "c1", "verdict": "confirmed"})
    )
    progress: list[Any] = []
    result = call("review_diff", {"diff": SAMPLE, "repo_root": str(EXAMPLES)}, progress)
    assert not result.is_error
    report = result.structured_content
    assert report is not None
    located = {(f["path"], f["line"], f["source"]) for f in report["findings"]}
    assert ("shop/cart.py", 24, "llm") in located
    assert ("shop/settings.py", 4, "builtin") in located
    assert report["summary"]["llm_calls"] == 2 and report["summary"]["failed_chunks"] == 0
    assert report["summary"]["depth"] == "lite"
    assert report["summary"]["verification"]["confirmed"] == 1
    [block] = result.content  # the same report as text, for clients without structured content
    assert isinstance(block, TextContent) and json.loads(block.text) == report
    assert progress == [(1, 1, "1 of 1 chunks reviewed")]
    assert "sk-test-key-never-printed" not in model_server.requests[0].prompt_text


def test_the_model_argument_and_the_repository_config_apply(
    model_server: FakeModelServer, tmp_path: Path
) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / ".ai-review.toml").write_text('min_severity = "critical"\n')
    model_server.queue(findings_reply(OFF_BY_ONE))
    result = call("review_diff", {"diff": SAMPLE, "repo_root": str(repo), "model": "openai/o4"})
    report = result.structured_content
    assert report is not None
    assert model_server.requests[0].body["model"] == "o4"
    assert {f["severity"] for f in report["findings"]} == {"critical"}  # high is below it
    assert any(d["reason"] == "below min-severity" for d in report["dropped"])


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"diff": "not a diff"}, "the input is not a unified diff"),
        ({"diff": SAMPLE, "repo_root": "/no/such/dir"}, "repo_root /no/such/dir is not a dir"),
        ({"diff": SAMPLE, "config": "/no/such.toml"}, "config file /no/such.toml does not exist"),
        ({"diff": 42}, "diff"),
    ],
)
def test_a_bad_argument_is_a_one_line_tool_error(arguments: dict[str, Any], message: str) -> None:
    text = error_text(call("review_diff", arguments))
    assert text.startswith("Error executing tool review_diff:")
    assert message in text
    assert "Traceback" not in text


def test_a_model_outage_is_a_tool_error_and_the_next_call_is_answered(
    model_server: FakeModelServer, tmp_path: Path
) -> None:
    config = tmp_path / "no-retries.toml"
    config.write_text("max_retries = 0\n")
    model_server.queue(error_reply(500))

    async def session() -> tuple[CallToolResult, CallToolResult]:
        async with Client(build_server()) as client:
            args = {"diff": SAMPLE, "config": str(config)}
            return await client.call_tool("review_diff", args), await client.call_tool(
                "review_diff", args
            )

    failed, answered = run_async(session)
    assert "the model could not review the change" in error_text(failed)
    assert not answered.is_error
    assert answered.structured_content is not None
    assert answered.structured_content["summary"]["llm_calls"] == 1


def git(repo: Path, *args: str) -> str:
    identity = ["-c", "user.name=Dev", "-c", "user.email=dev@example.com"]
    done = subprocess.run(
        ["git", *identity, "-C", str(repo), *args], capture_output=True, text=True, check=True
    )
    return done.stdout


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """main: app.py; branch feature: one commit, one staged and one unstaged change."""
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    (repo / "app.py").write_text("def total(items):\n    return sum(items)\n")
    git(repo, "add", "app.py")
    git(repo, "commit", "-q", "-m", "first")
    git(repo, "checkout", "-q", "-b", "feature")
    (repo / "cart.py").write_text("ITEMS = []\n")
    git(repo, "add", "cart.py")
    git(repo, "commit", "-q", "-m", "cart")
    (repo / "staged.py").write_text("STAGED = 1\n")
    git(repo, "add", "staged.py")
    (repo / "app.py").write_text("def total(items):\n    return sum(items) + 1\n")
    return repo


def test_review_git_reviews_the_change_since_the_merge_base(
    repo: Path, model_server: FakeModelServer
) -> None:
    result = call("review_git", {"repo_root": str(repo)})
    assert not result.is_error, result.content
    prompt = model_server.requests[0].prompt_text
    assert "cart.py" in prompt and "staged.py" in prompt and "sum(items) + 1" in prompt
    assert result.structured_content is not None
    assert result.structured_content["summary"]["files_reviewed"] == 3


def test_review_git_staged_only_against_a_given_base(
    repo: Path, model_server: FakeModelServer
) -> None:
    result = call("review_git", {"repo_root": str(repo), "base": "HEAD", "staged": True})
    assert not result.is_error, result.content
    prompt = model_server.requests[0].prompt_text
    assert "staged.py" in prompt
    assert "cart.py" not in prompt and "sum(items) + 1" not in prompt


@pytest.mark.parametrize(
    ("base", "message"),
    [
        ("--output=/tmp/x", "is not a commit"),
        ("no-such-branch", "'no-such-branch' is not a commit"),
    ],
)
def test_review_git_refuses_a_base_that_is_not_a_commit(
    repo: Path, base: str, message: str
) -> None:
    text = error_text(call("review_git", {"repo_root": str(repo), "base": base}))
    assert message in text


def test_review_git_outside_a_repository_is_a_tool_error(tmp_path: Path) -> None:
    text = error_text(call("review_git", {"repo_root": str(tmp_path)}))
    assert "git rev-parse failed" in text and "not a git repository" in text


def test_the_default_base_follows_origin_head(repo: Path, model_server: FakeModelServer) -> None:
    git(repo, "branch", "-m", "main", "trunk")  # neither main nor master: origin/HEAD decides
    git(repo, "update-ref", "refs/remotes/origin/trunk", "trunk")
    git(repo, "symbolic-ref", "refs/remotes/origin/HEAD", "refs/remotes/origin/trunk")
    assert not call("review_git", {"repo_root": str(repo)}).is_error
    assert "cart.py" in model_server.requests[0].prompt_text


def test_without_a_default_branch_or_git_the_tool_says_so(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    git(repo, "branch", "-m", "main", "trunk")
    text = error_text(call("review_git", {"repo_root": str(repo)}))
    assert "cannot tell the default branch" in text and "pass `base`" in text
    monkeypatch.setenv("PATH", "")
    assert "git is not installed" in error_text(call("review_git", {"repo_root": str(repo)}))


def big_diff(files: int) -> str:
    lines = "".join(f"+value_{n} = compute({n}, 'some padding text here')\n" for n in range(60))
    return "".join(
        f"diff --git a/m{i}.py b/m{i}.py\nnew file mode 100644\n--- /dev/null\n+++ b/m{i}.py\n"
        f"@@ -0,0 +1,60 @@\n{lines}"
        for i in range(files)
    )


def test_a_cancelled_call_sends_no_further_model_calls(
    model_server: FakeModelServer, tmp_path: Path
) -> None:
    config = tmp_path / "one-at-a-time.toml"
    config.write_text("concurrency = 1\nchunk_tokens = 500\n")
    model_server.set_default(Reply(content='{"findings": []}', delay_s=0.1))

    async def session() -> None:
        async with Client(build_server()) as client:
            args = {"diff": big_diff(5), "config": str(config)}
            async with anyio.create_task_group() as group:
                group.start_soon(client.call_tool, "review_diff", args)
                while not model_server.requests:
                    await anyio.sleep(0.01)
                group.cancel_scope.cancel()
            await anyio.sleep(0.4)  # four more chunks' worth of model latency

    run_async(session)
    assert len(model_server.requests) == 1
