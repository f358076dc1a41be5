"""The Action restores its virtualenv from the cache; the GitLab example caches pip."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent


def load(name: str) -> Any:
    yaml = pytest.importorskip("yaml")
    return yaml.safe_load((ROOT / name).read_text())


def test_the_action_installs_only_on_a_cache_miss_keyed_on_lock_python_and_code() -> None:
    steps = load("action.yml")["runs"]["steps"]
    [cache] = [step for step in steps if str(step.get("uses", "")).startswith("actions/cache@")]
    key = cache["with"]["key"]
    assert "steps.python.outputs.python-version" in key and "steps.key.outputs.hash" in key
    assert cache["with"]["path"] == "${{ runner.temp }}/ai-review-venv"
    [keyer] = [step for step in steps if step.get("id") == "key"]
    assert "ci/requirements.lock" in keyer["run"] and "reviewer" in keyer["run"]
    [install] = [step for step in steps if "pip install" in step.get("run", "")]
    assert install["if"] == "steps.venv-cache.outputs.cache-hit != 'true'"
    assert steps.index(keyer) < steps.index(cache) < steps.index(install)


def test_the_gitlab_example_caches_pip_downloads_keyed_on_the_lock_file() -> None:
    job = load(".gitlab-ci.example.yml")["ai-review"]
    assert job["variables"]["PIP_CACHE_DIR"] == "$CI_PROJECT_DIR/.cache/pip"
    pip = [c for c in job["cache"] if ".cache/pip/" in c["paths"]]
    assert pip and pip[0]["key"]["files"] == [job["variables"]["AI_REVIEW_LOCK"]]
    assert any(".ai-review-cache/" in c["paths"] for c in job["cache"])


def run_step(step: dict[str, Any], env: dict[str, str], tmp_path: Path) -> dict[str, str]:
    """Run one composite step's bash as the runner would, and read what it wrote to
    $GITHUB_OUTPUT."""
    output = tmp_path / "github_output"
    output.write_text("")
    environ = {**os.environ, "GITHUB_ACTION_PATH": str(ROOT), "GITHUB_OUTPUT": str(output), **env}
    subprocess.run(["bash", "-c", step["run"]], env=environ, check=True, cwd=tmp_path)
    return dict(line.split("=", 1) for line in output.read_text().splitlines())


@pytest.mark.parametrize(
    ("mcp", "lock"), [("false", "ci/requirements.lock"), ("true", "ci/requirements-mcp.lock")]
)
def test_the_mcp_input_installs_from_the_lock_with_the_mcp_sdk(
    mcp: str, lock: str, tmp_path: Path
) -> None:
    steps = load("action.yml")["runs"]["steps"]
    [keyer] = [step for step in steps if step.get("id") == "key"]
    written = run_step(keyer, {"INPUT_MCP": mcp}, tmp_path)
    assert written["lock"] == lock
    locked = (ROOT / lock).read_text()
    assert ("\nmcp==" in locked) == (mcp == "true")
    [install] = [step for step in steps if "pip install" in step.get("run", "")]
    assert install["env"]["LOCK"] == "${{ steps.key.outputs.lock }}"


def test_the_depth_input_reaches_the_command_line(tmp_path: Path) -> None:
    steps = load("action.yml")["runs"]["steps"]
    [review] = [step for step in steps if step.get("id") == "review"]
    assert review["env"]["INPUT_DEPTH"] == "${{ inputs.depth }}"
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    fake = venv / "bin" / "ai-review"
    fake.write_text('#!/bin/sh\nprintf "%s\\n" "$@" > "$(dirname "$0")/args"\n')
    fake.chmod(0o755)
    blank = {name: "" for name in review["env"] if name.startswith("INPUT_")}
    run_step(review, {**blank, "VENV": str(venv), "INPUT_DEPTH": "full"}, tmp_path)
    assert (venv / "bin" / "args").read_text().split() == ["--github", "--depth", "full"]
