"""Routing: a deterministic weighted split over arms, forced arms, per-arm gateways and headers."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from reviewer.cli import main
from reviewer.config import Arm, Config, build_config
from reviewer.errors import ConfigError
from reviewer.platforms.local import LocalDiff
from reviewer.routing import Route, choose_arm, resolve_headers, route
from tests.conftest import EXAMPLES
from tests.fakes.model_server import FakeModelServer

SAMPLE = str(EXAMPLES / "sample.diff")
SPLIT = (
    Arm("frontier", "openai/gpt-4.1-mini", weight=60),
    Arm("open", "openai/qwen3-coder", weight=40),
)


@pytest.fixture(autouse=True)
def api_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AI_REVIEW_API_KEY", "sk-test-key-never-printed")


@pytest.fixture
def open_server() -> Iterator[FakeModelServer]:
    with FakeModelServer() as server:
        yield server


def identities(count: int) -> list[str]:
    return [f"github:acme/shop#{number}" for number in range(1, count + 1)]


def test_split_follows_the_weights_over_many_changes() -> None:
    counts = Counter(choose_arm(SPLIT, identity).name for identity in identities(2000))
    assert counts["frontier"] + counts["open"] == 2000
    assert 0.56 <= counts["frontier"] / 2000 <= 0.64
    three = (Arm("a", "m", weight=50), Arm("b", "m", weight=30), Arm("c", "m", weight=20))
    shares = Counter(choose_arm(three, identity).name for identity in identities(2000))
    assert [round(shares[name] / 2000, 2) for name in "abc"] == pytest.approx(
        [0.5, 0.3, 0.2], abs=0.04
    )


def test_a_change_never_moves_between_reruns() -> None:
    first = [choose_arm(SPLIT, identity).name for identity in identities(500)]
    again = [choose_arm(SPLIT, identity).name for identity in identities(500)]
    assert first == again
    # Pinned: changing the hash would move every open merge request to another arm.
    assert [choose_arm(SPLIT, i).name for i in identities(8)] == [
        "frontier", "frontier", "open", "frontier", "open", "open", "open", "open"
    ]  # fmt: skip


def test_zero_weight_arm_gets_no_traffic() -> None:
    arms = (Arm("live", "m1", weight=1), Arm("parked", "m2", weight=0))
    assert {choose_arm(arms, identity).name for identity in identities(300)} == {"live"}


def test_route_takes_the_arm_chain_and_falls_back_to_top_level_gateway() -> None:
    arms = (
        Arm("frontier", "anthropic/claude-sonnet-4-5", ("openai/gpt-4.1",), 1, "https://gw/v1"),
        Arm("open", "openai/qwen3-coder", weight=1),
    )
    config = Config(arms=arms, api_base="https://default/v1", extra_headers=(("X-Team", "ai"),))
    assert route(config, "x", "frontier") == Route(
        "frontier",
        ("anthropic/claude-sonnet-4-5", "openai/gpt-4.1"),
        "https://gw/v1",
        (("X-Team", "ai"),),
    )
    assert route(config, "x", "open") == Route(
        "open", ("openai/qwen3-coder",), "https://default/v1", (("X-Team", "ai"),)
    )
    assert route(Config(), "x") is None
    plain = route(Config(model="m", fallback_models=("f",)), "x")
    assert plain == Route(None, ("m", "f"), None)


def test_forcing_an_unknown_arm_or_without_arms_is_a_usage_error() -> None:
    with pytest.raises(ConfigError, match=r"no such arm \(configured: frontier, open\)"):
        route(Config(arms=SPLIT), "x", "closed")
    with pytest.raises(ConfigError, match="defines no"):
        route(Config(model="m"), "x", "open")


def test_header_values_come_from_the_environment() -> None:
    headers = (("X-Gateway-Key", "env:GATEWAY_KEY"), ("X-Team", "review"))
    assert resolve_headers(headers, {"GATEWAY_KEY": "gw-secret"}) == {
        "X-Gateway-Key": "gw-secret",
        "X-Team": "review",
    }
    with pytest.raises(ConfigError, match="needs the environment variable GATEWAY_KEY"):
        resolve_headers(headers, {})


def test_arms_config_is_checked() -> None:
    with pytest.raises(ConfigError, match="unique"):
        build_config({"arms": [{"name": "a", "model": "m"}, {"name": "a", "model": "n"}]}, {}, {})
    with pytest.raises(ConfigError, match="non-negative"):
        build_config({"arms": [{"name": "a", "model": "m", "weight": -1}]}, {}, {})
    with pytest.raises(ConfigError, match="unknown key 'colour'"):
        build_config({"arms": [{"name": "a", "model": "m", "colour": 1}]}, {}, {})


# Through the command line, against two gateways.


def write_arms_config(path: Path, frontier_base: str, open_base: str, **extra: Any) -> Path:
    lines = [f"{key} = {json.dumps(value)}" for key, value in extra.items()]
    lines += [
        "[[arms]]",
        'name = "frontier"',
        'model = "openai/gpt-4.1-mini"',
        "weight = 60",
        f'api_base = "{frontier_base}"',
        "[[arms]]",
        'name = "open"',
        'model = "openai/qwen3-coder"',
        "weight = 40",
        f'api_base = "{open_base}"',
        "[arms.extra_headers]",
        'X-Gateway-Key = "env:GATEWAY_KEY"',
        'X-Team = "review-bot"',
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def run_json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any], str]:
    code = main(["--format", "json", *args])
    out, err = capsys.readouterr()
    return code, json.loads(out) if out.strip() else {}, err


def test_the_split_routes_a_diff_to_its_arm_gateway_and_model(
    capsys: pytest.CaptureFixture[str],
    model_server: FakeModelServer,
    open_server: FakeModelServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GATEWAY_KEY", "gw-secret")
    config = write_arms_config(tmp_path / "arms.toml", model_server.base_url, open_server.base_url)
    identity = LocalDiff(SAMPLE, None).fetch(full=False).identity
    expected = choose_arm(SPLIT, identity).name
    for _ in range(2):  # a rerun lands on the same arm
        code, report, err = run_json(capsys, "--diff", SAMPLE, "--config", str(config))
        assert code == 0, err
        assert report["summary"]["arm"] == expected
    servers = {"frontier": model_server, "open": open_server}
    chosen, other = servers[expected], servers["open" if expected == "frontier" else "frontier"]
    assert len(chosen.requests) == 2 and other.requests == []
    wanted = "gpt-4.1-mini" if expected == "frontier" else "qwen3-coder"
    assert {r.body["model"] for r in chosen.requests} == {wanted}


def test_forced_arm_uses_its_gateway_model_and_headers(
    capsys: pytest.CaptureFixture[str],
    model_server: FakeModelServer,
    open_server: FakeModelServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GATEWAY_KEY", "gw-secret")
    config = write_arms_config(tmp_path / "arms.toml", model_server.base_url, open_server.base_url)
    for arm, server, model in (
        ("open", open_server, "qwen3-coder"),
        ("frontier", model_server, "gpt-4.1-mini"),
    ):
        code, report, err = run_json(
            capsys, "--diff", SAMPLE, "--config", str(config), "--arm", arm
        )
        assert code == 0, err
        summary = report["summary"]
        assert summary["arm"] == arm and summary["models"] == [f"openai/{model}"]
        [request] = server.requests
        assert request.body["model"] == model
        assert request.headers["authorization"] == "Bearer sk-test-key-never-printed"
    open_headers = open_server.requests[0].headers
    assert open_headers["x-gateway-key"] == "gw-secret"
    assert open_headers["x-team"] == "review-bot"
    assert "x-gateway-key" not in model_server.requests[0].headers
    assert report["summary"]["cost_usd"] is not None  # gpt-4.1-mini has a price
    assert "gw-secret" not in err


def test_pyproject_arms_and_unknown_price(
    capsys: pytest.CaptureFixture[str], open_server: FakeModelServer, tmp_path: Path
) -> None:
    (tmp_path / "pyproject.toml").write_text(
        "[project]\nname = 'x'\n\n[tool.ai-review]\n"
        f'api_base = "{open_server.base_url}"\n'
        '[[tool.ai-review.arms]]\nname = "open"\nmodel = "openai/qwen3-coder"\n'
    )
    code, report, err = run_json(capsys, "--diff", SAMPLE, "--repo-root", str(tmp_path))
    assert code == 0, err
    assert report["summary"]["arm"] == "open"
    assert report["summary"]["cost_usd"] is None  # no price known: unknown, never 0
    assert open_server.requests[0].body["model"] == "qwen3-coder"


def test_missing_header_variable_and_unknown_arm_exit_2(
    capsys: pytest.CaptureFixture[str],
    model_server: FakeModelServer,
    open_server: FakeModelServer,
    tmp_path: Path,
) -> None:
    config = write_arms_config(tmp_path / "arms.toml", model_server.base_url, open_server.base_url)
    assert main(["--diff", SAMPLE, "--config", str(config), "--arm", "open"]) == 2
    assert "needs the environment variable GATEWAY_KEY" in capsys.readouterr().err
    assert main(["--diff", SAMPLE, "--config", str(config), "--arm", "closed"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no such arm" in err
    assert main(["--diff", SAMPLE, "--arm", "open", "--model", "openai/gpt-4.1-mini"]) == 2
    assert "defines no [[arms]]" in capsys.readouterr().err
    assert model_server.requests == [] and open_server.requests == []
