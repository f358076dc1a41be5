"""What went wrong with one model request, in words a user can act on.

litellm reports a refused connection, a reset or an HTML page as `InternalServerError (HTTP
500)`, though no HTTP answer ever came. The cause chain still holds the truth (the socket
error, the httpx exception); this module reads it, once, at the edge.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

RETRYABLE_STATUS = frozenset({408, 429})
KEY_STATUS = frozenset({401, 403})
CONFIG_STATUS = frozenset({400, 404})
# 400s that are about this request, not the set-up: another chunk or model may pass.
REQUEST_SPECIFIC = frozenset({"ContextWindowExceededError", "ContentPolicyViolationError"})
_REFUSED = frozenset({"ConnectionRefusedError"})
_RESET = frozenset({"ConnectionResetError", "ReadError", "RemoteProtocolError", "BrokenPipeError"})
_TIMEOUT = frozenset(
    {"TimeoutError", "TimeoutException", "APITimeoutError", "ReadTimeout", "ConnectTimeout"}
    | {"WriteTimeout", "PoolTimeout", "Timeout"}
)
_CONNECT = frozenset({"ConnectError", "APIConnectionError", "ConnectionError", "gaierror"})
_PREFIX = re.compile(r"^(?:litellm\.\w+:\s*|\w+Error:\s*|\w+Exception - |Error code: \d+ - )+")
MAX_MESSAGE_CHARS = 300
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
MIN_SECRET_CHARS = 6  # shorter values would mask ordinary words


class CallTimeout(Exception):
    """A request that did not finish within its total deadline (connect, send and read)."""

    def __init__(self, seconds: float) -> None:
        shown = f"{seconds:.1f}".rstrip("0").rstrip(".")
        super().__init__(f"timed out after {shown} s")
        self.seconds = seconds


@dataclass(frozen=True)
class Failure:
    """One failed request: a line for the user and what it means for retries and exit codes."""

    text: str
    retryable: bool
    status: int | None = None  # None: no HTTP answer came

    @property
    def key_refused(self) -> bool:
        return self.status in KEY_STATUS

    @property
    def misconfigured(self) -> bool:
        """A refusal every retry and every chunk would get: the set-up is wrong."""
        return self.status in KEY_STATUS or self.status in CONFIG_STATUS


def classify(exc: BaseException, api_base: str | None, secrets: Iterable[str] = ()) -> Failure:
    """The failure `exc` stands for; no secret (the key, header values, the environment's
    *_API_KEY variables) appears in its text, whatever the answer echoed."""
    chain = list(_chain(exc))
    names = {cls.__name__ for error in chain for cls in type(error).__mro__}
    where = _where(chain, api_base)
    failure = _transport(chain, names, where) or _answer(exc, names, where)
    text = failure.text
    for secret in _secrets(secrets):
        text = text.replace(secret, "***")
    return Failure(text, failure.retryable, failure.status)


def _secrets(given: Iterable[str]) -> list[str]:
    found = [*given, *(v for k, v in os.environ.items() if k.endswith(("_API_KEY", "_TOKEN")))]
    return sorted({s for s in found if len(s) >= MIN_SECRET_CHARS}, key=len, reverse=True)


def _transport(chain: list[BaseException], names: set[str], where: str) -> Failure | None:
    """A failure with no HTTP answer: refused, reset, timed out, unreachable."""
    timeout = next((e for e in chain if isinstance(e, CallTimeout)), None)
    if timeout is not None:
        return Failure(f"no answer from {where}: {timeout}", True)
    if names & _TIMEOUT:
        return Failure(f"no answer from {where}: timed out", True)
    if names & _REFUSED:
        return Failure(f"cannot connect to {where}: connection refused", True)
    if names & _RESET:
        return Failure(f"connection to {where} reset before an answer came", True)
    if names & _CONNECT:
        cause = str(chain[-1]) or type(chain[-1]).__name__
        return Failure(f"cannot connect to {where}: {_one_line(cause)}", True)
    return None


def _answer(exc: BaseException, names: set[str], where: str) -> Failure:
    """A failure with an HTTP answer (or a body that was not the API's JSON)."""
    message = _gateway_message(exc)
    if "Empty or invalid response" in message or "JSONDecodeError" in names:
        return Failure(
            f"{where} answered with a body that is not JSON (an HTML page?): check that the "
            "base URL points at the API, e.g. ending in /v1",
            False,  # the same page every time: retrying only delays the report
        )
    status = getattr(exc, "status_code", None)
    if not isinstance(status, int):
        return Failure(f"{type(exc).__name__} from {where}: {message}", False)
    retryable = status in RETRYABLE_STATUS or status >= 500
    if status in CONFIG_STATUS and names & REQUEST_SPECIFIC:
        return Failure(f"HTTP {status} from {where} ({type(exc).__name__}): {message}", False)
    return Failure(f"HTTP {status} from {where}: {message}", retryable, status)


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _where(chain: list[BaseException], api_base: str | None) -> str:
    """host:port the request went to: the gateway's, else the one the client recorded."""
    if api_base:
        parts = urlsplit(api_base)
        return parts.netloc.rsplit("@", 1)[-1] or api_base
    for error in reversed(chain):  # the deepest holds the request really sent
        try:
            url = getattr(error, "request", None).url  # type: ignore[union-attr]
        except (AttributeError, RuntimeError):  # httpx raises RuntimeError when unset
            continue
        host, port = getattr(url, "host", None), getattr(url, "port", None)
        if host:
            return f"{host}:{port}" if port else str(host)
    return "the provider's API"


def _gateway_message(exc: BaseException) -> str:
    """The answer's own message (e.g. LiteLLM proxy's "No connected db."), one short line."""
    text = _PREFIX.sub("", _one_line(str(getattr(exc, "message", "") or exc)))
    text = text or type(exc).__name__
    return text if len(text) <= MAX_MESSAGE_CHARS else text[: MAX_MESSAGE_CHARS - 1] + "…"


def _one_line(text: str) -> str:
    """One line, and no control character: an answer may echo the request (the diff, which
    is untrusted) and it ends up in a CI log, where ESC sequences would be obeyed."""
    return " ".join(_CONTROL.sub(" ", text).split())
