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


def require_mcp(what: str) -> None:
    """Raise a one-line usage error (exit 2) when the `mcp` package cannot be imported."""
    if importlib.util.find_spec("mcp") is None:
        raise UsageError(f"{what} needs the MCP SDK. {INSTALL_HINT}")


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
