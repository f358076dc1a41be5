"""Shared fixtures: a clean environment per test and the fake model server."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakes.model_server import FakeModelServer

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test sees the developer's keys, CI variables or working directory."""
    for var in list(os.environ):
        if var.startswith(("AI_REVIEW_", "GITHUB_", "GITLAB_", "CI_")) or var.endswith(
            ("_API_KEY", "_TOKEN")
        ):
            monkeypatch.delenv(var)
    monkeypatch.setenv("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def model_server() -> Iterator[FakeModelServer]:
    with FakeModelServer() as server:
        yield server
