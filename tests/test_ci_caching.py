"""The Action restores its virtualenv from the cache; the GitLab example caches pip."""

from __future__ import annotations

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
