"""A small OpenAI-compatible chat-completions server on 127.0.0.1, answering from a script.

Tests queue replies (or give a function of the request) and read back what was asked, so
the real litellm client is exercised over real HTTP.
"""

from __future__ import annotations

import json
import socket
import struct
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from types import TracebackType
from typing import Any

from tests.fakes.base import FakeHTTPServer


@dataclass(frozen=True)
class Reply:
    """One scripted answer: a completion (status 200) or an error status with headers."""

    content: str = ""
    status: int = 200
    headers: tuple[tuple[str, str], ...] = ()
    delay_s: float = 0.0
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    cached_tokens: int = 0
    raw_body: str | None = None
    content_type: str = "application/json"
    drip_s: float = 0.0  # send the body one byte at a time, this long apart
    reset: bool = False  # close the connection abruptly instead of answering
    tool_calls: tuple[tuple[str, dict[str, Any]], ...] = ()  # (name, arguments) to request


def tool_call_reply(*calls: tuple[str, dict[str, Any]]) -> Reply:
    """A turn in which the model asks for these tool calls instead of answering."""
    return Reply(tool_calls=tuple(calls))


def verdicts_reply(*verdicts: dict[str, Any], **kwargs: Any) -> Reply:
    """A verifier's answer: a fenced JSON block with these verdicts."""
    body = json.dumps({"verdicts": list(verdicts)}, indent=1)
    return Reply(content=f"```json\n{body}\n```\n", **kwargs)


def findings_reply(*findings: dict[str, Any], **kwargs: Any) -> Reply:
    """A reply whose content is a fenced JSON block with these findings."""
    body = json.dumps({"findings": list(findings)}, indent=1)
    return Reply(content=f"Here is my review.\n```json\n{body}\n```\n", **kwargs)


def error_reply(status: int, retry_after: str | None = None, message: str = "") -> Reply:
    headers = (("Retry-After", retry_after),) if retry_after is not None else ()
    error = {"error": {"message": message or f"scripted {status}", "type": "server_error"}}
    return Reply(status=status, headers=headers, raw_body=json.dumps(error))


def html_reply(status: int = 200) -> Reply:
    """What a misrouted base URL or a proxy's error page sends: HTML, not the API's JSON."""
    page = "<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"
    return Reply(status=status, raw_body=page, content_type="text/html")


@dataclass
class Recorded:
    """A request the server received: its JSON body and headers (lower-cased names)."""

    body: dict[str, Any]
    headers: dict[str, str]
    received_at: float
    answered_at: float = 0.0

    @property
    def prompt_text(self) -> str:
        return "\n".join(str(m.get("content", "")) for m in self.body.get("messages", []))

    @property
    def system(self) -> str:
        return str(self.body["messages"][0]["content"])

    @property
    def tool_results(self) -> list[str]:
        """The tool results this request carries back to the model, in order."""
        return [str(m["content"]) for m in self.body["messages"] if m.get("role") == "tool"]


Responder = Callable[[dict[str, Any]], Reply]


@dataclass
class _State:
    replies: deque[Reply] = field(default_factory=deque)
    responder: Responder | None = None
    default: Reply = field(default_factory=findings_reply)
    requests: list[Recorded] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    stopping: threading.Event = field(default_factory=threading.Event)

    def next_reply(self, body: dict[str, Any]) -> Reply:
        with self.lock:
            if self.replies:
                return self.replies.popleft()
        if self.responder is not None:
            return self.responder(body)
        return self.default


class FakeModelServer:
    """Context manager: `with FakeModelServer() as model: model.base_url ...`."""

    def __init__(self) -> None:
        self.state = _State()
        state = self.state

        class Handler(_Handler):
            server_state = state

        self._server = FakeHTTPServer(Handler)
        self._server.daemon_threads = True  # a reply delayed on purpose never holds the stop

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.port}/v1"

    @property
    def requests(self) -> list[Recorded]:
        return self.state.requests

    def queue(self, *replies: Reply) -> None:
        with self.state.lock:
            self.state.replies.extend(replies)

    def respond_with(self, responder: Responder) -> None:
        self.state.responder = responder

    def set_default(self, reply: Reply) -> None:
        self.state.default = reply

    def __enter__(self) -> FakeModelServer:
        self._server.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.state.stopping.set()  # a dripping answer stops at once
        self._server.stop()


class _Handler(BaseHTTPRequestHandler):
    server_state: _State
    # One request per connection: nothing is left open when a test's server shuts down.
    protocol_version = "HTTP/1.0"

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the default stderr logging."""

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        body = json.loads(self.rfile.read(length) or b"{}")
        record = Recorded(body, {k.lower(): v for k, v in self.headers.items()}, time.monotonic())
        with self.server_state.lock:
            self.server_state.requests.append(record)
        if not self.path.rstrip("/").endswith("/chat/completions"):
            self._send(404, json.dumps({"error": {"message": "not found"}}), ())
            return
        reply = self.server_state.next_reply(body)
        if reply.delay_s:
            time.sleep(reply.delay_s)
        record.answered_at = time.monotonic()
        if reply.reset:
            # SO_LINGER 0: close sends a TCP RST, what a crashing proxy does
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            return
        text = reply.raw_body or ("{}" if reply.status != 200 else _completion(body, reply))
        self._send(reply.status, text, reply.headers, reply)

    def _send(
        self,
        status: int,
        text: str,
        headers: tuple[tuple[str, str], ...],
        reply: Reply | None = None,
    ) -> None:
        data = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", reply.content_type if reply else "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        if reply is None or not reply.drip_s:
            self.wfile.write(data)
            return
        for byte in data:  # a slow upstream: every read succeeds, the body never ends in time
            if self.server_state.stopping.wait(reply.drip_s):
                return
            try:
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
            except OSError:  # the client gave up: what a deadline is for
                return


def _completion(request: dict[str, Any], reply: Reply) -> str:
    prompt_chars = sum(len(str(m.get("content", ""))) for m in request.get("messages", []))
    prompt_tokens = reply.prompt_tokens if reply.prompt_tokens is not None else prompt_chars // 4
    completion = reply.completion_tokens
    completion_tokens = completion if completion is not None else len(reply.content) // 4
    message: dict[str, Any] = {"role": "assistant", "content": reply.content}
    if reply.tool_calls:
        message["content"] = None
        message["tool_calls"] = [
            {"id": f"call_{n}", "type": "function",
             "function": {"name": name, "arguments": json.dumps(arguments)}}
            for n, (name, arguments) in enumerate(reply.tool_calls)
        ]  # fmt: skip
    return json.dumps(
        {
            "id": "chatcmpl-fake",
            "object": "chat.completion",
            "created": 1_700_000_000,
            "model": request.get("model", "fake"),
            "choices": [
                {
                    "index": 0,
                    "message": message,
                    "finish_reason": "tool_calls" if reply.tool_calls else "stop",
                }
            ],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
                "prompt_tokens_details": {"cached_tokens": reply.cached_tokens},
            },
        }
    )
