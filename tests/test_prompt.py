"""Prompt templates: the shipped ones, a repository's own, and clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from reviewer.chunk import Chunk
from reviewer.context import Guideline
from reviewer.diff import parse_file_patch
from reviewer.errors import ConfigError
from reviewer.prompt import PromptInputs, render_review, render_system

CHUNK = Chunk(0, (parse_file_patch("@@ -1,1 +1,2 @@\n a = 1\n+b = 2\n", "m.py"),), 10)


def no_files(path: str) -> list[str] | None:
    return None


def test_shipped_templates_fence_the_diff_and_guidelines() -> None:
    inputs = PromptInputs(guidelines=(Guideline("REVIEW.md", "Money is cents."),), title="T")
    system = render_system(inputs)
    assert "Money is cents." in system and "<untrusted-guidelines-" in system
    user = render_review(CHUNK, inputs, no_files)
    assert "### m.py (modified)" in user
    assert "    2 +b = 2" in user
    assert "Title: T" in user


def test_a_repository_can_override_one_template(tmp_path: Path) -> None:
    (tmp_path / "system.j2").write_text("House rules only.{{ nonce[:0] }}\n")
    inputs = PromptInputs(prompts_dir=str(tmp_path))
    assert render_system(inputs) == "House rules only.\n"
    assert "### m.py" in render_review(CHUNK, inputs, no_files)  # review.j2: the shipped one


def test_template_errors_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="is not a directory"):
        render_system(PromptInputs(prompts_dir=str(tmp_path / "missing")))
    (tmp_path / "system.j2").write_text("{{ undefined_name }}")
    with pytest.raises(ConfigError, match="cannot be rendered"):
        render_system(PromptInputs(prompts_dir=str(tmp_path)))
