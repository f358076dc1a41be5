"""The gate to the optional MCP SDK: nothing here imports it until it is needed.

`ai-review --help` and reviews without MCP never load the SDK (it is an extra, and slow to
import); without the extra installed, `ai-review mcp` or a config with `[[mcp_servers]]` is a
usage error that says what to install.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

from reviewer.errors import UsageError
from reviewer.mcp_config import McpServerConfig
from reviewer.toolbox import ToolBox

INSTALL_HINT = "MCP support is not installed: pip install 'ai-review[mcp]'"
MCP_HELP = """usage: ai-review mcp

Serve ai-review as a Model Context Protocol server on stdio (tools: review_diff, review_git)
for coding agents. The model and its key come from the environment (AI_REVIEW_MODEL,
AI_REVIEW_API_KEY or the provider's key, AI_REVIEW_API_BASE) and .ai-review.toml, as for
`ai-review --diff`. Needs the extra: pip install 'ai-review[mcp]'.
"""


def require_mcp(what: str) -> None:
    """Raise a one-line usage error (exit 2) when the `mcp` package cannot be imported."""
    if importlib.util.find_spec("mcp") is None:
        raise UsageError(f"{what} needs the MCP SDK. {INSTALL_HINT}")


def mcp_main(argv: Sequence[str]) -> int:
    """`ai-review mcp`: serve the review tools over stdio until the client hangs up."""
    if list(argv) in (["-h"], ["--help"]):
        print(MCP_HELP, end="")
        return 0
    if list(argv) not in ([], ["--stdio"]):
        raise UsageError(
            "`ai-review mcp` takes no arguments: it serves MCP on stdio (see the README)"
        )
    require_mcp("`ai-review mcp`")
    from reviewer.mcp_server import serve_stdio  # pragma: no cover - test_mcp_stdio's child

    serve_stdio()  # pragma: no cover
    return 0  # pragma: no cover


@contextmanager
def context_tools(
    servers: Sequence[McpServerConfig], environ: Mapping[str, str], *, cwd: Path | None = None
) -> Iterator[tuple[tuple[ToolBox, ...], tuple[str, ...]]]:
    """The ToolBoxes of `[[mcp_servers]]` for one run and the notes for its summary; the
    servers run while the block runs. Without servers: nothing, and the SDK is not loaded."""
    if not servers:
        yield (), ()
        return
    require_mcp("[[mcp_servers]] in the config")
    from reviewer.mcp_tools import open_mcp_tools

    with open_mcp_tools(servers, environ, cwd=cwd) as (box, notes):
        yield (box,), notes
