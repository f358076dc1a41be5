"""The review's identity reaches the gateway as its own attribution metadata."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reviewer.attribution import attribution
from reviewer.cli import main
from tests.conftest import EXAMPLES
from tests.fakes.model_server import FakeModelServer


def test_litellm_proxy_gets_tags_and_spend_logs_metadata(
    model_server: FakeModelServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AI_REVIEW_API_KEY", "sk-test")
    config = tmp_path / "c.toml"
    config.write_text('gateway_metadata = "litellm"\n')
    args = ["--diff", str(EXAMPLES / "sample.diff"), "--model", "openai/gpt-4.1-mini"]
    assert main([*args, "--api-base", model_server.base_url, "--config", str(config)]) == 0
    request = model_server.requests[0]
    tags = "ai-review,repository:local,number:-,arm:-,pass:review"
    assert request.headers["x-litellm-tags"] == tags
    assert request.body["metadata"]["spend_logs_metadata"]["repository"] == "local"
    assert request.body["metadata"]["tags"] == tags.split(",")


def test_cloudflare_gets_five_metadata_entries_and_nothing_can_split_a_header() -> None:
    sent = attribution("cloudflare", repo="acme/shop\r\nx-evil: 1", number=7, arm="frontier")
    metadata = json.loads(sent.headers["cf-aig-metadata"])
    assert metadata == {"tool": "ai-review", "repository": "acme/shop__x-evil:_1",
                        "number": "7", "arm": "frontier", "pass": "review"}  # fmt: skip
    assert sent.body == {}
    assert attribution(None, repo="a/b", number=1, arm=None).headers == {}


def test_an_unknown_gateway_kind_is_a_configuration_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "c.toml"
    config.write_text('gateway_metadata = "kong"\n')
    assert main(["--diff", str(EXAMPLES / "sample.diff"), "--config", str(config)]) == 2
    assert "gateway_metadata" in capsys.readouterr().err
