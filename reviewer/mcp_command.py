"""`ai-review mcp`: the command that serves the review over MCP, kept apart from
`reviewer.mcp_support` (which a review run imports) so the run and the server never import
each other."""

from __future__ import annotations

from collections.abc import Sequence

from reviewer.errors import UsageError
from reviewer.mcp_support import require_mcp

MCP_HELP = """usage: ai-review mcp

Serve ai-review as a Model Context Protocol server on stdio (tools: review_diff, review_git)
for coding agents. The model and its key come from the environment (AI_REVIEW_MODEL,
AI_REVIEW_API_KEY or the provider's key, AI_REVIEW_API_BASE) and .ai-review.toml, as for
`ai-review --diff`. Needs the extra: pip install 'ai-review[mcp]'.
"""


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
