"""`ai-review mcp`: the review as tools of a Model Context Protocol server on stdio.

The only module that imports the MCP server SDK, loaded by `reviewer.mcp_command` when the
subcommand runs. While it serves, the SDK points file descriptor 1 at stderr, so stray
output (a library's print, a child process) never reaches the protocol stream.
"""

from __future__ import annotations

import contextlib
import json
import logging
import sys
import threading
from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any

import anyio
import anyio.from_thread
import anyio.lowlevel
import anyio.to_thread
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import CallToolResult, TextContent, ToolAnnotations
from pydantic import BaseModel, ConfigDict, Field

from reviewer import __version__
from reviewer.engine import Progress
from reviewer.errors import ReviewError
from reviewer.gateway import count_tokens, load_client
from reviewer.mcp_review import (
    ReviewRequest,
    diff_request,
    git_request,
    review_report,
)

INSTRUCTIONS = (
    "AI code review of a unified diff or of a local git checkout's change. Findings come with "
    "the file, lines, severity and, where there is one, a suggested fix; the summary says what "
    "the review cost and covered. "
    "Nothing is posted anywhere."
)
_READ_ONLY = ToolAnnotations(read_only_hint=True, destructive_hint=False, open_world_hint=True)


class _Open(BaseModel):
    # Reports gain keys over time (the contract changes only by adding): they pass through,
    # and the schema says so (additionalProperties), so clients that validate keep working.
    model_config = ConfigDict(extra="allow")


class FindingOut(_Open):
    path: str
    line: int
    end_line: int
    side: str
    severity: str
    category: str
    title: str
    body: str
    suggestion: str | None
    confidence: float | None
    source: str
    fingerprint: str


class DroppedOut(_Open):
    path: str
    line: int | None
    title: str
    reason: str


class SummaryOut(_Open):
    models: list[str]
    chunks: int
    failed_chunks: int
    llm_calls: int
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float | None
    latency_s: dict[str, float]
    files_reviewed: int
    files_skipped: list[dict[str, str]]


class ReviewReport(_Open):
    """The JSON report of `ai-review --format json`."""

    findings: list[FindingOut]
    dropped: list[DroppedOut]
    summary: SummaryOut


Report = Annotated[CallToolResult, ReviewReport]


def build_server() -> MCPServer:
    server = MCPServer(
        "ai-review",
        instructions=INSTRUCTIONS,
        version=__version__,
        log_level="WARNING",
        lifespan=_warm_up,
    )

    @server.tool(annotations=_READ_ONLY)
    async def review_diff(
        diff: Annotated[str, Field(description="unified diff text (git diff, format-patch)")],
        ctx: Context,
        repo_root: Annotated[
            str | None, Field(description="checkout the diff applies to, read for context")
        ] = None,
        config: Annotated[
            str | None, Field(description="config file (default: the repo's .ai-review.toml)")
        ] = None,
        model: Annotated[
            str | None, Field(description="litellm model, e.g. openai/gpt-4.1")
        ] = None,
    ) -> Report:
        """Review a unified diff; returns findings at their lines and the review's summary."""
        request = await _checked(diff_request, diff, repo_root, config, model)
        return await _review(request, ctx)

    @server.tool(annotations=_READ_ONLY)
    async def review_git(
        repo_root: Annotated[str, Field(description="the git checkout to review")],
        ctx: Context,
        base: Annotated[
            str | None, Field(description="commit to diff against (default: the merge base)")
        ] = None,
        staged: Annotated[bool, Field(description="review only the staged changes")] = False,
    ) -> Report:
        """Review the working tree's change in a local git checkout (committed and not)."""
        request = await _checked(git_request, repo_root, base, staged)
        return await _review(request, ctx)

    return server


@contextlib.asynccontextmanager
async def _warm_up(server: MCPServer) -> AsyncIterator[None]:
    """litellm takes seconds to import: load it while the agent has not asked for a review
    yet, so the first review does not wait for it. By now the SDK owns stdout, so nothing
    the import prints can reach the protocol stream."""
    threading.Thread(target=_load_model_client, name="ai-review-warm-up", daemon=True).start()
    yield


def _load_model_client() -> None:
    with contextlib.suppress(Exception):  # only a head start: the first review reports failures
        load_client()
        count_tokens("gpt-4o", "warm up")


async def _checked(make: Callable[..., ReviewRequest], *args: Any) -> ReviewRequest:
    """The request the arguments describe (git runs here, off the event loop)."""
    try:
        request = await anyio.to_thread.run_sync(make, *args)
    except ReviewError as exc:
        raise ToolError(str(exc)) from exc
    return request


async def _review(request: ReviewRequest, ctx: Context) -> CallToolResult:
    cancelled = threading.Event()
    progress = _progress_sender(ctx, cancelled)
    try:
        report = await anyio.to_thread.run_sync(
            review_report, request, progress, cancelled, abandon_on_cancel=True
        )
    except ReviewError as exc:
        raise ToolError(str(exc)) from exc
    finally:  # on cancellation too: no chunk not yet sent is sent
        cancelled.set()
    text = json.dumps(report, indent=1, ensure_ascii=False)
    return CallToolResult(content=[TextContent(type="text", text=text)], structured_content=report)


def _progress_sender(ctx: Context, cancelled: threading.Event) -> Progress:
    """A progress(done, total) callable for the engine's worker threads."""
    token = anyio.lowlevel.current_token()

    def send(done: int, total: int) -> None:
        if cancelled.is_set():  # pragma: no cover - a chunk finishing after its review ended
            return
        message = f"{done} of {total} chunks reviewed"
        try:
            anyio.from_thread.run(ctx.report_progress, done, total, message, token=token)
        except RuntimeError:  # pragma: no cover - the request ended meanwhile: nobody listens
            return

    return send


def serve_stdio() -> None:  # pragma: no cover - runs in test_mcp_stdio's child process
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING)
    build_server().run("stdio")
