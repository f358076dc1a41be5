"""MCP servers as review context: a real stdio server the test writes, through the SDK client."""

from __future__ import annotations

import json
import os
import sys
import textwrap
from pathlib import Path

import pytest

from reviewer.cli import main
from reviewer.mcp_config import McpServerConfig
from reviewer.mcp_support import context_tools
from reviewer.mcp_tools import open_mcp_tools
from reviewer.toolbox import ToolError
from tests.fakes.model_server import FakeModelServer, findings_reply, tool_call_reply

CONTEXT_SERVER = textwrap.dedent(
    """
    import os, sys
    from pathlib import Path
    from mcp.server.mcpserver import Image, MCPServer
    from mcp.server.mcpserver.exceptions import ToolError

    Path(sys.argv[1]).write_text(str(os.getpid()))
    server = MCPServer("docs")

    @server.tool()
    def lookup(term: str) -> str:
        \"\"\"Look a term up in the team's docs.\"\"\"
        token = "token ok" if os.environ.get("DOCS_TOKEN") == "s3cret-docs" else "no token"
        leaked = " review key leaked" if "AI_REVIEW_API_KEY" in os.environ else ""
        return f"{term}: see docs/{term}.md ({token}{leaked}) AKIAZ7Q4R2M8K1VXW3PL"

    @server.tool()
    def secret_admin() -> str:
        \"\"\"Never offered to the model: a call leaves a mark the tests look for.\"\"\"
        Path(sys.argv[1] + ".admin").write_text("ran")
        return "admin data"

    @server.tool()
    def broken() -> str:
        raise ToolError("the docs index is gone")

    @server.tool()
    def big() -> str:
        return "x" * 30_000

    @server.tool()
    def picture() -> Image:
        return Image(data=b"not really a png", format="png")

    @server.tool()
    def crash() -> str:
        os._exit(1)

    server.run("stdio")
    """
)


@pytest.fixture
def docs_server(tmp_path: Path) -> tuple[McpServerConfig, Path]:
    script = tmp_path / "docs_server.py"
    script.write_text(CONTEXT_SERVER)
    pid_file = tmp_path / "docs.pid"
    server = McpServerConfig(
        name="docs",
        tools=("lookup", "broken", "big", "picture", "crash", "not_there"),
        command=(sys.executable, str(script), str(pid_file)),
        env=(("DOCS_TOKEN", "env:DOCS_TOKEN"),),
        timeout_s=20,
    )
    return server, pid_file


def test_only_allowed_tools_are_offered_and_called_and_the_server_stops(
    docs_server: tuple[McpServerConfig, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    server, pid_file = docs_server
    monkeypatch.setenv("AI_REVIEW_API_KEY", "sk-never-for-context-servers")
    with open_mcp_tools([server], {"DOCS_TOKEN": "s3cret-docs"}) as (box, notes):
        names = [spec.name for spec in box.specs()]
        [lookup] = [spec for spec in box.specs() if spec.name == "docs__lookup"]
        answer = box.call("docs__lookup", {"term": "Cart"})
        with pytest.raises(ToolError, match="not on the allow-list"):
            box.call("docs__secret_admin", {})
        assert not pid_file.with_name("docs.pid.admin").exists()  # never reached the server
        with pytest.raises(ToolError, match="the docs index is gone"):
            box.call("docs__broken", {})
        big, picture = box.call("docs__big", {}), box.call("docs__picture", {})
        pid = int(pid_file.read_text())
        with pytest.raises(ToolError, match="docs__crash failed"):
            box.call("docs__crash", {})
        with pytest.raises(ToolError):  # a server that died answers no more calls
            box.call("docs__lookup", {"term": "Cart"})
    assert names == [f"docs__{n}" for n in ("big", "broken", "crash", "lookup", "picture")]
    assert len(big) < 21_000 and big.endswith("[... truncated]")
    assert picture == "[image content omitted]"
    assert "Look a term up" in lookup.description
    assert lookup.parameters["properties"]["term"]["type"] == "string"
    assert notes == ("MCP server 'docs' does not offer not_there",)
    # Its token from env:DOCS_TOKEN; never the review's own key; results redacted like the diff.
    assert answer.startswith("Cart: see docs/Cart.md (token ok)") and "leaked" not in answer
    assert "AKIAZ7Q4R2M8K1VXW3PL" not in answer and "[REDACTED" in answer
    with pytest.raises(ProcessLookupError):  # stopped (and reaped) when the run ended
        os.kill(pid, 0)


def test_servers_that_fail_are_notes_and_the_others_still_serve(
    docs_server: tuple[McpServerConfig, Path], tmp_path: Path
) -> None:
    docs, _ = docs_server
    broken = [
        McpServerConfig("absent", ("x",), command=(str(tmp_path / "no-such-server"),)),
        McpServerConfig("quits", ("x",), command=(sys.executable, "-c", "pass")),
        McpServerConfig(
            "mute",
            ("x",),
            command=(sys.executable, "-c", "import sys; sys.stdin.read()"),
            timeout_s=0.5,
        ),
        McpServerConfig("other", ("search",), command=docs.command),
        McpServerConfig("web", ("x",), url="http://127.0.0.1:9/mcp", timeout_s=5),
    ]
    with open_mcp_tools([docs, *broken], {}) as (box, notes):
        names = [spec.name for spec in box.specs()]
    assert "docs__lookup" in names
    by_server = {note.split("'")[1]: note for note in notes}
    assert "did not start (FileNotFoundError" in by_server["absent"]
    assert "did not start" in by_server["quits"]
    assert by_server["mute"] == "MCP server 'mute' did not answer within 0.5 s"
    assert by_server["other"] == "MCP server 'other' offers none of the allowed tools"
    assert "did not start" in by_server["web"]
    # env:DOCS_TOKEN is not set: said, not hidden
    assert "MCP server 'docs' needs DOCS_TOKEN, which is not set" in notes


def test_context_tools_is_the_run_s_entry_point(tmp_path: Path) -> None:
    with context_tools((), {}) as nothing:
        assert nothing == ((), ())
    absent = McpServerConfig("absent", ("x",), command=(str(tmp_path / "no-such-server"),))
    with context_tools((absent,), {}, cwd=tmp_path) as (boxes, notes):
        assert [box.specs() for box in boxes] == [()]
        assert notes[0].startswith("MCP server 'absent' did not start (FileNotFoundError")


# ------------------------------------------------------------------ end to end: a --diff review

CART_DIFF = """diff --git a/cart.py b/cart.py
--- a/cart.py
+++ b/cart.py
@@ -1,1 +1,2 @@
 import pricing
+total = pricing.price(3) * qty
"""
QTY = {"path": "cart.py", "quote": "total = pricing.price(3) * qty", "severity": "high",
       "category": "bug", "title": "qty is undefined", "body": "NameError at run time"}  # fmt: skip


def test_a_diff_review_calls_the_allowed_tool_is_refused_the_other_and_notes_a_dead_server(
    docs_server: tuple[McpServerConfig, Path],
    model_server: FakeModelServer,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """Issue 12: the servers' allowed tools are offered next to the repository's, a result
    goes back to the model as untrusted data, a forbidden tool never runs, a server that does
    not start is a note in a complete review."""
    server, pid_file = docs_server
    monkeypatch.setenv("AI_REVIEW_API_KEY", "sk-review-key")
    monkeypatch.setenv("DOCS_TOKEN", "s3cret-docs")
    root = tmp_path / "repo"
    (root / ".git").mkdir(parents=True)
    (root / "cart.py").write_text("import pricing\ntotal = pricing.price(3) * qty\n")
    command = ", ".join(json.dumps(part) for part in server.command)
    (root / ".ai-review.toml").write_text(
        f'model = "openai/gpt-4.1-mini"\napi_base = "{model_server.base_url}"\ntools = true\n'
        f'[[mcp_servers]]\nname = "docs"\ncommand = [{command}]\ntools = ["lookup"]\n'
        'env = { DOCS_TOKEN = "env:DOCS_TOKEN" }\n'
        f'[[mcp_servers]]\nname = "absent"\ncommand = ["{tmp_path / "no-such-server"}"]\n'
        'tools = ["search"]\n'
    )
    model_server.queue(
        tool_call_reply(("docs__lookup", {"term": "Cart"})),
        tool_call_reply(("docs__secret_admin", {})),
        findings_reply(QTY),
    )
    diff = tmp_path / "change.diff"
    diff.write_text(CART_DIFF)
    monkeypatch.chdir(root)
    code = main(["--diff", str(diff), "--format", "json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    report = json.loads(out)
    assert [f["title"] for f in report["findings"]] == ["qty is undefined"]
    first, second, last = model_server.requests
    offered = [tool["function"]["name"] for tool in first.body["tools"]]
    assert offered == ["read_file", "search_code", "docs__lookup"]
    [looked_up] = second.tool_results
    assert looked_up.startswith("<untrusted-tool-result-")
    assert "Cart: see docs/Cart.md (token ok)" in looked_up
    assert "AKIAZ7Q4R2M8K1VXW3PL" not in looked_up  # redacted like the diff
    refused = last.tool_results[-1]
    assert refused.startswith("error: unknown tool 'docs__secret_admin'")
    assert not (tmp_path / "docs.pid.admin").exists()  # the server never ran it
    summary = report["summary"]
    assert summary["tool_calls"] == 2
    assert "MCP server 'absent' did not start (FileNotFoundError" in summary["note"]
    assert "sk-review-key" not in json.dumps([r.body for r in model_server.requests])
    with pytest.raises(ProcessLookupError):  # the run stopped its server
        os.kill(int(pid_file.read_text()), 0)
