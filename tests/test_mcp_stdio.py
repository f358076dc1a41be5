"""`ai-review mcp` as an agent runs it: a subprocess on stdio, driven by the SDK's client;
and the extra stays unloaded when MCP is not used, and is asked for when it is missing."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
from mcp import Client, StdioServerParameters
from mcp.client import IncomingMessage

from reviewer.cli import main
from tests.conftest import EXAMPLES
from tests.fakes.model_server import FakeModelServer, error_reply, findings_reply
from tests.test_cli import OFF_BY_ONE
from tests.test_mcp_server import run_async

SAMPLE = (EXAMPLES / "sample.diff").read_text()
ROOT = Path(__file__).resolve().parent.parent


def test_the_server_over_stdio(model_server: FakeModelServer, tmp_path: Path) -> None:
    (tmp_path / ".ai-review.toml").write_text("max_retries = 0\n")
    env = {
        "AI_REVIEW_MODEL": "openai/gpt-4.1-mini",
        "AI_REVIEW_API_BASE": model_server.base_url,
        "AI_REVIEW_API_KEY": "sk-test-key-never-printed",
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
        "PYTHONPATH": str(ROOT),
    }
    params = StdioServerParameters(
        command=sys.executable, args=["-m", "reviewer.cli", "mcp"], env=env, cwd=tmp_path
    )
    not_protocol: list[Exception] = []

    async def on_message(message: IncomingMessage) -> None:
        if isinstance(message, Exception):  # a line on stdout that is not JSON-RPC
            not_protocol.append(message)

    async def session() -> dict[str, Any]:
        async with Client(params, message_handler=on_message) as client:
            tools = {tool.name: tool for tool in (await client.list_tools()).tools}
            model_server.queue(error_reply(500), findings_reply(OFF_BY_ONE))
            args = {"diff": SAMPLE, "repo_root": str(tmp_path)}
            outage = await client.call_tool("review_diff", args)
            answered = await client.call_tool("review_diff", args)
            bad = await client.call_tool("review_git", {"repo_root": str(tmp_path / "nope")})
            return {"tools": tools, "outage": outage, "answered": answered, "bad": bad}

    got = run_async(session)
    tools = got["tools"]
    assert set(tools) == {"review_diff", "review_git"}
    assert tools["review_diff"].input_schema["required"] == ["diff"]
    assert set(tools["review_git"].input_schema["properties"]) == {"repo_root", "base", "staged"}
    output = tools["review_diff"].output_schema
    assert set(output["required"]) == {"findings", "dropped", "summary"}
    assert output["additionalProperties"] is True  # reports gain keys only by adding
    assert got["outage"].is_error and "could not review" in got["outage"].content[0].text
    report = got["answered"].structured_content
    assert ("shop/cart.py", 24) in {(f["path"], f["line"]) for f in report["findings"]}
    assert got["bad"].is_error and "is not a directory" in got["bad"].content[0].text
    assert not_protocol == []


def test_help_and_a_review_without_mcp_do_not_load_it() -> None:
    probe = (
        "import sys\n"
        "from reviewer.cli import main\n"
        f"codes = [main(['--help']), main(['--diff', {str(EXAMPLES / 'sample.diff')!r}])]\n"
        "loaded = sorted(m for m in sys.modules if m == 'mcp' or m.startswith('mcp.'))\n"
        "print('RESULT', codes, loaded, file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert "RESULT [0, 0] []" in done.stderr  # help, then a review (built-in checks)
    assert "Possible AWS access key committed" in done.stdout


def test_without_the_extra_mcp_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setitem(sys.modules, "mcp", None)  # how Python sees a package not installed
    (tmp_path / ".ai-review.toml").write_text(
        '[[mcp_servers]]\nname = "docs"\ncommand = ["docs-mcp"]\ntools = ["search"]\n'
    )
    codes = [main(["mcp"]), main(["--diff", str(EXAMPLES / "sample.diff")])]
    err = capsys.readouterr().err.splitlines()
    assert codes == [2, 2]
    assert err == [
        "ai-review: error: `ai-review mcp` needs the MCP SDK. MCP support is not installed: "
        "pip install 'ai-review[mcp]'",
        "ai-review: error: [[mcp_servers]] in the config needs the MCP SDK. MCP support is not "
        "installed: pip install 'ai-review[mcp]'",
    ]


def test_mcp_takes_no_arguments_but_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["mcp", "--port", "80"]) == 2
    assert "takes no arguments" in capsys.readouterr().err
    assert main(["mcp", "--help"]) == 0
    assert "review_diff, review_git" in capsys.readouterr().out


def test_server_json_names_this_package_and_version() -> None:
    server = json.loads((ROOT / "server.json").read_text())
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    [package] = server["packages"]
    assert server["version"] == package["version"] == project["version"]
    assert package["identifier"] == project["name"]
    assert "mcp" in project["optional-dependencies"]
    # The registry checks PyPI ownership by this marker in the package's README.
    assert f"<!-- mcp-name: {server['name']} -->" in (ROOT / "README.md").read_text()
