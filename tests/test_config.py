"""Configuration: defaults < config file < environment < flags; unknown keys are errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from reviewer.config import Arm, build_config
from reviewer.errors import ConfigError
from reviewer.trust import load_config


def test_precedence_flag_over_env_over_file_over_default() -> None:
    file = {"model": "from-file", "max_comments": 5, "min_severity": "medium"}
    env = {"AI_REVIEW_MODEL": "from-env", "AI_REVIEW_FALLBACK_MODELS": "a/one, b/two"}
    config = build_config(file, env, {"model": "from-flag"})
    assert config.model == "from-flag"
    assert config.fallback_models == ("a/one", "b/two")
    assert (config.max_comments, config.min_severity, config.concurrency) == (5, "medium", 8)
    assert build_config(file, env, {}).model == "from-env"
    assert build_config(file, {}, {}).model == "from-file"


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"colour": "blue"}, "unknown key 'colour'"),
        ({"max_comments": "ten"}, "'max_comments' has the wrong type"),
        ({"concurrency": True}, "'concurrency' has the wrong type"),
        ({"min_severity": "urgent"}, "`min_severity` must be one of"),
        ({"chunk_tokens": 10}, "`chunk_tokens` must be at least 500"),
        ({"arms": [{"name": "a"}]}, "needs a `name` and a `model`"),
        ({"arms": [{"name": "a", "model": "m", "colour": 1}]}, "unknown key 'colour' in [[arms]]"),
        ({"arms": [{"name": "a", "model": "m"}, {"name": "a", "model": "n"}]}, "unique"),
    ],
)
def test_bad_values_name_the_key(values: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=None) as caught:
        build_config(values, {}, {}, source=".ai-review.toml")
    assert message in str(caught.value)


def test_arms_are_read_with_defaults() -> None:
    config = build_config(
        {"arms": [{"name": "open", "model": "openai/qwen3-coder", "weight": 40}]}, {}, {}
    )
    assert config.arms == (Arm("open", "openai/qwen3-coder", (), 40.0, None, ()),)


def test_own_file_then_pyproject_table(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.ai-review]\nmodel = "from-pyproject"\n')
    assert load_config(tmp_path, None, {}).model == "from-pyproject"
    (tmp_path / ".ai-review.toml").write_text('model = "from-own-file"\n')
    assert load_config(tmp_path, None, {}).model == "from-own-file"


def test_unreadable_or_invalid_files_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path, str(tmp_path / "missing.toml"), {})
    broken = tmp_path / "broken.toml"
    broken.write_text("model = \n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(tmp_path, str(broken), {})


def test_a_model_or_gateway_from_flag_or_env_outranks_the_files_arms() -> None:
    arms = [{"name": "a", "model": "m/one", "api_base": "https://arm.example/v1"}]
    assert build_config({"arms": arms}, {}, {}).arms[0].api_base == "https://arm.example/v1"
    assert build_config({"arms": arms}, {}, {"model": "m/flag"}).arms == ()
    assert build_config({"arms": arms}, {"AI_REVIEW_MODEL": "m/env"}, {}).arms == ()
    env_gateway = build_config({"arms": arms}, {"AI_REVIEW_API_BASE": "https://gw/v1"}, {})
    assert [(a.model, a.api_base) for a in env_gateway.arms] == [("m/one", None)]
    assert env_gateway.api_base == "https://gw/v1"
