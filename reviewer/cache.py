"""A content-addressed cache of the model's answers on disk: an unchanged chunk is paid once.

The key is the sha256 of everything that shapes the answer: the model chain, the gateway
URL, the temperature, the system and user prompts, and the cache format. An entry holds the
answer's text and the figures of the call that produced it, as JSON written atomically
(a temporary file, then `os.replace`), so a concurrent or interrupted run never leaves a
half-written entry. The cache is an optimisation: when the directory cannot be used the
review goes on without it, and a corrupt entry is a miss that the fresh answer replaces;
either way the cache keeps one note saying so (its first problem), which the run reports:
nothing here prints.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reviewer.gateway import ModelReply

CACHE_FORMAT = 1


@dataclass(frozen=True)
class CacheScope:
    """What, besides the prompts, decides an answer: the same scope and prompts, the same key."""

    models: tuple[str, ...]
    api_base: str | None
    temperature: float


class ResponseCache:
    """get/put of model answers under `directory`; thread-safe, never raises on I/O. What
    went wrong is kept in `notes` (the first problem only: one is enough to act on)."""

    def __init__(self, directory: Path, scope: CacheScope) -> None:
        self.directory = directory
        self.scope = scope
        self._lock = threading.Lock()
        self._notes: tuple[str, ...] = ()
        self.enabled = True
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            self._disable(f"cannot create {directory} ({_reason(exc)})")

    def key(self, system: str, user: str) -> str:
        scope = self.scope
        material = [CACHE_FORMAT, list(scope.models), scope.api_base, scope.temperature]
        text = json.dumps([*material, system, user], ensure_ascii=False)
        return hashlib.sha256(text.encode("utf-8", errors="surrogatepass")).hexdigest()

    def get(self, system: str, user: str) -> ModelReply | None:
        """The stored answer for these prompts, or None (a miss, or the cache is off)."""
        if not self.enabled:
            return None
        path = self._path(self.key(system, user))
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            self._disable(f"cannot read {path} ({_reason(exc)})")
            return None
        try:
            return _decode(data.decode("utf-8"))
        except (ValueError, KeyError, TypeError) as exc:  # UnicodeDecodeError is a ValueError
            self._once(f"cache entry ignored: {path} is corrupt ({exc}); a new answer replaces it")
            return None

    def put(self, system: str, user: str, reply: ModelReply) -> None:
        if not self.enabled:
            return
        path = self._path(self.key(system, user))
        try:
            path.parent.mkdir(exist_ok=True)
            _write_atomically(path, json.dumps(_encode(reply), ensure_ascii=False))
        except OSError as exc:
            self._disable(f"cannot write to {self.directory} ({_reason(exc)})")

    def _path(self, key: str) -> Path:
        return self.directory / key[:2] / f"{key}.json"

    def _disable(self, why: str) -> None:
        self.enabled = False
        self._once(f"cache disabled: {why}; fix it or pass --no-cache")

    def _once(self, message: str) -> None:
        with self._lock:
            self._notes = self._notes or (message,)

    @property
    def notes(self) -> tuple[str, ...]:
        """What the run should report: why the cache was turned off, or an entry ignored."""
        with self._lock:
            return self._notes


def _write_atomically(path: Path, text: str) -> None:
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def _encode(reply: ModelReply) -> dict[str, Any]:
    return {
        "format": CACHE_FORMAT,
        "text": reply.text,
        "model": reply.model,
        "prompt_tokens": reply.prompt_tokens,
        "completion_tokens": reply.completion_tokens,
        "cached_tokens": reply.cached_tokens,
        "cost_usd": reply.cost_usd,
        "latency_s": reply.latency_s,
        "fallback": reply.fallback,
    }


def _decode(text: str) -> ModelReply:
    data = json.loads(text)
    if not isinstance(data, dict) or data.get("format") != CACHE_FORMAT:
        raise ValueError("not an ai-review cache entry of this version")
    cost = data["cost_usd"]
    return ModelReply(
        text=_typed(data, "text", str),
        model=_typed(data, "model", str),
        prompt_tokens=_typed(data, "prompt_tokens", int),
        completion_tokens=_typed(data, "completion_tokens", int),
        cached_tokens=_typed(data, "cached_tokens", int),
        cost_usd=None if cost is None else float(_typed(data, "cost_usd", (int, float))),
        latency_s=float(_typed(data, "latency_s", (int, float))),
        retries=0,
        fallback=_typed(data, "fallback", bool),
    )


def _typed(data: dict[str, Any], key: str, kind: type | tuple[type, ...]) -> Any:
    value = data[key]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ValueError(f"{key} has the wrong type")
    return value


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)


def holds_entries(directory: Path) -> bool:
    """Whether a cache directory may answer anything: a missing or empty one cannot."""
    try:
        with os.scandir(directory) as entries:
            return next(entries, None) is not None
    except OSError:
        return False
