"""MCP servers as review context: their allow-listed tools as a ToolBox.

The entry point is `open_mcp_tools(servers, environ)`, a context manager that starts every
configured server once, yields the box and the notes for the summary, and stops them all
when the run ends, whatever happened. A server that does not start, does not answer in time
or offers none of its allowed tools becomes a note, never a failed review.

The SDK's client is async; it runs on one event-loop thread owned by this module, and the box
answers the review's worker threads synchronously. Only this module imports the MCP client.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import sys
import threading
from collections.abc import Coroutine, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.types import CallToolResult, TextContent, Tool

from reviewer.mcp_config import McpServerConfig, resolve_env
from reviewer.redact import redact_text
from reviewer.toolbox import ToolError, ToolReportedError, ToolSpec

MAX_RESULT_CHARS = 20_000
STOP_TIMEOUT_S = 10.0
_LIST_PAGES = 20
_T = TypeVar("_T")


@contextmanager
def open_mcp_tools(
    servers: Sequence[McpServerConfig], environ: Mapping[str, str], *, cwd: Path | None = None
) -> Iterator[tuple[McpToolBox, tuple[str, ...]]]:
    """The allowed tools of `servers` as one ToolBox, and notes about servers left out."""
    loop = _LoopThread()
    sessions = [_Session(server, loop) for server in servers]
    try:
        for session in sessions:
            session.launch(environ, cwd)
        notes = [note for session in sessions for note in session.wait_ready()]
        yield McpToolBox([s for s in sessions if s.tools]), tuple(notes)
    finally:
        for session in sessions:
            session.stop()
        loop.close()


class McpToolBox:
    """Tools named `<server>__<tool>`; only allow-listed tools are offered or called."""

    def __init__(self, sessions: Sequence[_Session]) -> None:
        self._routes = {
            f"{s.server.name}__{tool.name}": (s, tool) for s in sessions for tool in s.tools
        }

    def specs(self) -> tuple[ToolSpec, ...]:
        return tuple(
            ToolSpec(name, tool.description or "", tool.input_schema)
            for name, (_, tool) in sorted(self._routes.items())
        )

    def call(self, name: str, arguments: Mapping[str, Any]) -> str:
        route = self._routes.get(name)
        if route is None:
            raise ToolError(f"tool {name!r} is not available: it is not on the allow-list")
        session, tool = route
        return session.call(tool.name, dict(arguments))


class _LoopThread:
    """An asyncio event loop on its own daemon thread."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self.loop.run_forever, name="ai-review-mcp", daemon=True
        )
        self._thread.start()

    def submit(self, coro: Coroutine[Any, Any, _T]) -> concurrent.futures.Future[_T]:
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(STOP_TIMEOUT_S)
        if not self._thread.is_alive():
            self.loop.close()


@dataclass
class _Session:
    """One server: started once, its allowed tools listed, stopped at the end."""

    server: McpServerConfig
    loop: _LoopThread
    tools: tuple[Tool, ...] = ()
    client: Client | None = None
    notes: list[str] = field(default_factory=list)
    _ready: concurrent.futures.Future[list[Tool]] = field(
        init=False, default_factory=concurrent.futures.Future
    )
    _held: concurrent.futures.Future[None] | None = field(init=False, default=None)
    _task: asyncio.Task[None] | None = field(init=False, default=None)
    _stop: asyncio.Event = field(init=False, default_factory=asyncio.Event)

    def launch(self, environ: Mapping[str, str], cwd: Path | None) -> None:
        env, missing = resolve_env(self.server, environ)
        self.notes += [f"{self._label} needs {var}, which is not set" for var in missing]
        self._held = self.loop.submit(self._hold(self._target(env, cwd)))

    def _target(self, env: dict[str, str], cwd: Path | None) -> Any:
        if self.server.url is not None:
            return self.server.url
        command, *args = self.server.command
        params = StdioServerParameters(command=command, args=args, env=env, cwd=cwd)
        # The server's stderr is the process's. The SDK's default is sys.stderr as it was
        # when the SDK was imported: in an embedding run (a captured or redirected stream)
        # that may have no file descriptor, and no server would start.
        return stdio_client(params, errlog=sys.__stderr__ or sys.stderr)

    async def _hold(self, target: Any) -> None:
        """The session's whole life in one task, as the SDK's task groups require."""
        self._task = asyncio.current_task()
        try:
            async with Client(target, read_timeout_seconds=self.server.timeout_s) as client:
                self.client = client
                self._ready.set_result(await _list_tools(client))
                await self._stop.wait()
        except Exception as exc:  # any failure to start is a note, never a failed review
            if not self._ready.done():
                self._ready.set_exception(exc)
        finally:
            self.client = None

    def wait_ready(self) -> list[str]:
        try:
            listed = self._ready.result(timeout=self.server.timeout_s)
        except concurrent.futures.TimeoutError:
            return [*self.notes, f"{self._label} did not answer within {self.server.timeout_s:g} s"]
        except Exception as exc:
            return [*self.notes, f"{self._label} did not start ({_describe(exc)})"]
        allowed = set(self.server.tools)
        self.tools = tuple(tool for tool in listed if tool.name in allowed)
        offered = {tool.name for tool in self.tools}
        if not offered:
            return [*self.notes, f"{self._label} offers none of the allowed tools"]
        absent = [name for name in self.server.tools if name not in offered]
        if absent:
            self.notes.append(f"{self._label} does not offer {', '.join(absent)}")
        return self.notes

    def call(self, tool: str, arguments: dict[str, Any]) -> str:
        client = self.client
        if client is None:
            raise ToolError(f"{self._label} is no longer running")
        timeout = self.server.timeout_s
        future = self.loop.submit(client.call_tool(tool, arguments, read_timeout_seconds=timeout))
        try:
            result = future.result(timeout=timeout + 1)
        except Exception as exc:  # the server's failure is a tool result the model reads
            future.cancel()
            raise ToolError(f"{self.server.name}__{tool} failed ({_describe(exc)})") from exc
        return _result_text(result)

    def stop(self) -> None:
        """End the session and its process: gracefully when it runs, else by cancelling."""
        if self._held is None or self._held.done():
            return
        try:
            self.loop.submit(self._shutdown()).result(timeout=3 * STOP_TIMEOUT_S)
        except concurrent.futures.TimeoutError:  # pragma: no cover - a process that ignores kill
            self._held.cancel()

    async def _shutdown(self) -> None:
        task = self._task
        if task is None:  # pragma: no cover - _hold was scheduled first and has started
            return
        if self.client is not None:
            self._stop.set()
            await asyncio.wait({task}, timeout=STOP_TIMEOUT_S)
        if not task.done():
            task.cancel()
            await asyncio.wait({task}, timeout=STOP_TIMEOUT_S)

    @property
    def _label(self) -> str:
        return f"MCP server {self.server.name!r}"


async def _list_tools(client: Client) -> list[Tool]:
    tools: list[Tool] = []
    cursor: str | None = None
    for _ in range(_LIST_PAGES):  # a server that pages forever cannot hang the review
        page = await client.list_tools(cursor=cursor)
        tools += page.tools
        cursor = page.next_cursor
        if cursor is None:
            break
    return tools


def _result_text(result: CallToolResult) -> str:
    """The result as text for the model: untrusted data, redacted and capped."""
    parts = [
        block.text if isinstance(block, TextContent) else f"[{block.type} content omitted]"
        for block in result.content
    ]
    if not parts and result.structured_content is not None:
        parts.append(json.dumps(result.structured_content, ensure_ascii=False))
    text = redact_text("\n".join(parts))
    if len(text) > MAX_RESULT_CHARS:
        text = text[:MAX_RESULT_CHARS] + "\n[... truncated]"
    if result.is_error:
        raise ToolReportedError(text or "the tool reported an error")
    return text


def _describe(exc: BaseException) -> str:
    """One line naming the failure; the message of a process or protocol error, cut short."""
    if isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        return _describe(exc.exceptions[0])
    message = str(exc).strip().splitlines()
    detail = f": {message[0][:200]}" if message else ""
    return f"{type(exc).__name__}{detail}"
