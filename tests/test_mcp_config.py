"""[[mcp_servers]] in the config file, and a review cancelled over MCP."""

from __future__ import annotations

import threading
import tomllib
from pathlib import Path

import pytest

from reviewer.config import build_config
from reviewer.errors import ConfigError, ModelError
from reviewer.gateway import LiteLLMGateway
from reviewer.mcp_config import McpServerConfig, resolve_env
from reviewer.mcp_review import CancellableGateway
from reviewer.trust import load_config
from tests.fakes.model_server import FakeModelServer

GOOD = """
[[mcp_servers]]
name = "docs"
command = ["python", "-m", "docs_mcp"]
tools = ["search_docs"]
env = { DOCS_TOKEN = "env:DOCS_TOKEN", MODE = "read-only" }

[[mcp_servers]]
name = "tickets"
url = "https://mcp.example.com/mcp"
tools = ["get_issue", "search"]
timeout_s = 5
"""


def servers(text: str) -> tuple[McpServerConfig, ...]:
    return build_config(tomllib.loads(text), {}, {}).mcp_servers


def test_servers_are_read_from_the_config_file(tmp_path: Path) -> None:
    (tmp_path / ".ai-review.toml").write_text(GOOD)
    docs, tickets = load_config(tmp_path, None, {}).mcp_servers
    assert docs == McpServerConfig(
        name="docs",
        tools=("search_docs",),
        command=("python", "-m", "docs_mcp"),
        env=(("DOCS_TOKEN", "env:DOCS_TOKEN"), ("MODE", "read-only")),
    )
    assert (tickets.url, tickets.tools, tickets.timeout_s) == (
        "https://mcp.example.com/mcp",
        ("get_issue", "search"),
        5.0,
    )
    assert resolve_env(docs, {"DOCS_TOKEN": "t0k"}) == (
        {"DOCS_TOKEN": "t0k", "MODE": "read-only"},
        [],
    )
    assert resolve_env(docs, {}) == ({"MODE": "read-only"}, ["DOCS_TOKEN"])


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ('name = "d"\ncommand = ["x"]\ntools = ["t"]\nargs = []', "unknown key 'args'"),
        ('name = "d"\ntools = ["t"]', "needs either `command` (stdio) or `url`"),
        ('name = "d"\ncommand = ["x"]\nurl = "https://x"\ntools = ["t"]', "needs either"),
        ('name = "d"\ncommand = ["x"]', "needs `tools`"),
        ('name = "d"\ncommand = ["x"]\ntools = []', "needs `tools`"),
        ('name = "a__b"\ncommand = ["x"]\ntools = ["t"]', "needs a `name`"),
        ('command = ["x"]\ntools = ["t"]', "needs a `name`"),
        ('name = "d"\ncommand = "python -m x"\ntools = ["t"]', "`command` must be a non-empty"),
        ('name = "d"\nurl = "file:///etc"\ntools = ["t"]', "`url` must be an http(s) URL"),
        ('name = "d"\nurl = "https://x"\ntools = ["t"]\nenv = {A = "b"}', "`command` servers only"),
        ('name = "d"\ncommand = ["x"]\ntools = ["t"]\nenv = {A = 1}', "`env` must be a table"),
        ('name = "d"\ncommand = ["x"]\ntools = ["t"]\ntimeout_s = 0', "`timeout_s` must be"),
        (
            'name = "d"\ncommand = ["x"]\ntools = ["t"]\nenv = {T = "env:GITHUB_TOKEN"}',
            "GITHUB_TOKEN",
        ),
    ],
)
def test_a_bad_entry_is_a_config_error_naming_the_problem(entry: str, message: str) -> None:
    with pytest.raises(ConfigError, match="config file: ") as caught:
        servers(f"[[mcp_servers]]\n{entry}\n")
    assert message in str(caught.value)


def test_the_shape_of_the_array_and_unique_names() -> None:
    with pytest.raises(ConfigError, match="wrong type"):
        servers('mcp_servers = "docs"')
    with pytest.raises(ConfigError, match="must be a table"):
        servers('mcp_servers = ["docs"]')
    twice = '[[mcp_servers]]\nname = "d"\ncommand = ["x"]\ntools = ["t"]\n'
    with pytest.raises(ConfigError, match="names must be unique"):
        servers(twice + twice)


def test_a_cancelled_review_sends_nothing_more(model_server: FakeModelServer) -> None:
    cancelled = threading.Event()
    inner = LiteLLMGateway(["openai/gpt-4.1-mini"], api_base=model_server.base_url, api_key="k")
    gateway = CancellableGateway(inner, cancelled)
    assert gateway.count_tokens("one two three") == inner.count_tokens("one two three")
    gateway.complete("system", "first chunk")
    cancelled.set()
    with pytest.raises(ModelError, match="cancelled"):
        gateway.complete("system", "second chunk")
    assert [r.body["messages"][-1]["content"] for r in model_server.requests] == ["first chunk"]
