"""Depth by risk: which tier, passes and verification a change gets, and the config keys."""

from __future__ import annotations

import pytest

from reviewer.config import build_config
from reviewer.depth import DEFAULT_PASSES, DepthPolicy, plan_depth
from reviewer.diff import parse_diff
from reviewer.errors import ConfigError


def diff_of(path: str, added: int) -> str:
    lines = [f"diff --git a/{path} b/{path}", f"--- a/{path}", f"+++ b/{path}"]
    lines.append(f"@@ -1,1 +1,{added + 1} @@")
    lines.append(" import os")
    lines += [f"+value_{i} = {i}" for i in range(added)]
    return "\n".join(lines) + "\n"


AUTO = DepthPolicy(depth="auto")


@pytest.mark.parametrize(
    ("path", "added", "tier", "passes", "verify", "reason"),
    [
        ("app/views.py", 3, "trivial", ("review",), False, "3 changed lines"),
        ("app/views.py", 40, "lite", ("review",), True, "40 changed lines, under"),
        ("app/views.py", 250, "full", DEFAULT_PASSES, True, "250 changed lines"),
        ("docs/guide.md", 400, "lite", ("review",), True, "400 changed lines, 0 outside docum"),
        ("app/auth/login.py", 2, "full", DEFAULT_PASSES, True, "security-sensitive path"),
        (".github/workflows/ci.yml", 1, "full", DEFAULT_PASSES, True, ".github/workflows/ci.yml"),
        ("requirements-dev.txt", 1, "full", DEFAULT_PASSES, True, "requirements-dev.txt"),
        ("db/Migrations/0042_users.py", 1, "full", DEFAULT_PASSES, True, "Migrations"),
    ],
)
def test_auto_scales_the_review_with_the_risk(
    path: str, added: int, tier: str, passes: tuple[str, ...], verify: bool, reason: str
) -> None:
    plan = plan_depth(parse_diff(diff_of(path, added)).files, AUTO)
    assert (plan.tier, plan.passes, plan.verify) == (tier, passes, verify)
    assert reason in plan.reason


def test_thresholds_and_risk_paths_are_configurable() -> None:
    files = parse_diff(diff_of("app/auth.py", 30)).files
    policy = DepthPolicy(depth="auto", trivial_max_lines=50, full_min_lines=60, risk_paths=())
    assert plan_depth(files, policy).tier == "trivial"
    policy = DepthPolicy(depth="auto", full_min_lines=30, risk_paths=())
    assert plan_depth(files, policy).tier == "full"


def test_an_explicit_depth_wins_and_verify_false_turns_the_verifier_off() -> None:
    files = parse_diff(diff_of("app/auth.py", 300)).files
    plan = plan_depth(files, DepthPolicy(depth="lite"))
    assert (plan.tier, plan.passes, plan.verify) == ("lite", ("review",), True)
    assert plan.reason == "chosen with --depth or depth in the config"
    plan = plan_depth(files, DepthPolicy(depth="full", verify=False, passes=("security",)))
    assert (plan.passes, plan.verify) == (("security",), False)


def test_the_config_file_sets_depth_passes_and_models() -> None:
    values = {
        "depth": "auto",
        "verify": False,
        "verifier_model": "anthropic/claude-sonnet-4-5",
        "passes": ["security", "correctness"],
        "pass_models": {"correctness": "openai/qwen3-coder"},
        "tools": True,
        "max_tool_calls": 4,
        "trivial_max_lines": 5,
        "full_min_lines": 100,
        "risk_paths": ["*vault*"],
    }
    config = build_config(values, {}, {"depth": "full"})
    assert config.depth == "full"  # the flag wins
    assert (config.verify, config.tools, config.max_tool_calls) == (False, True, 4)
    assert config.passes == ("security", "correctness")
    assert config.pass_models == (("correctness", "openai/qwen3-coder"),)
    assert config.risk_paths == ("*vault*",)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"depth": "deep"}, "`depth` must be one of auto, trivial, lite, full"),
        ({"verify": "yes"}, "'verify' has the wrong type"),
        ({"max_tool_calls": True}, "'max_tool_calls' has the wrong type"),
        ({"passes": []}, "`passes` must list pass names"),
        ({"passes": ["../etc"]}, "`passes` must list pass names"),
        ({"pass_models": {"security": 3}}, "`pass_models` must be a table"),
        ({"max_tool_calls": -1}, "must not be negative"),
        ({"full_min_lines": 5}, "`full_min_lines` must be more than `trivial_max_lines`"),
    ],
)
def test_bad_depth_settings_name_the_key(values: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        build_config(values, {}, {}, source=".ai-review.toml")
    assert message in str(caught.value)
