"""Record and replay model answers, as gateways: the engine and the judge cannot tell.

An answer is stored under a hash of the request (the model chain and both messages), one
small JSON file each in DIR/answers/. A replay answers from there and never opens a
connection; a request the recording lacks is an error that names the case. Each wrapper
satisfies reviewer.gateway.Gateway (`price` and `prepare` included, which another branch adds
to it); a method added to that protocol (tool calling, a chain for another model) gets the same
treatment: key the request (tools included), store or look up the final reply.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from reviewer.errors import InputError, UsageError
from reviewer.gateway import Gateway, ModelReply, price_per_token

_REPLY_FIELDS = {f.name for f in dataclasses.fields(ModelReply)}


def request_key(models: Sequence[str], system: str, user: str) -> str:
    data = json.dumps({"models": list(models), "system": system, "user": user}, sort_keys=True)
    return hashlib.sha256(data.encode("utf-8", errors="replace")).hexdigest()


class Recording:
    """A recording directory: answers by request key, and each case's measured latency so a
    replay reports the figures of the run it replays."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._lock = threading.Lock()

    def save(self, key: str, reply: ModelReply) -> None:
        folder = self.root / "answers"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            text = json.dumps(dataclasses.asdict(reply), indent=1, sort_keys=True)
            (folder / f"{key}.json").write_text(text + "\n", encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"cannot write to --record {self.root}: {exc.strerror}") from exc

    def load(self, key: str) -> ModelReply | None:
        path = self.root / "answers" / f"{key}.json"
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return ModelReply(**{k: v for k, v in data.items() if k in _REPLY_FIELDS})
        except FileNotFoundError:
            return None
        except (OSError, ValueError, TypeError) as exc:
            raise InputError(f"recorded answer {path} cannot be read: {exc}") from exc

    def save_latencies(self, latencies: dict[str, dict[str, float]]) -> None:
        with self._lock:
            text = json.dumps(latencies, indent=1, sort_keys=True)
            try:
                self.root.mkdir(parents=True, exist_ok=True)
                (self.root / "latency.json").write_text(text + "\n", encoding="utf-8")
            except OSError as exc:
                raise UsageError(f"cannot write to --record {self.root}: {exc.strerror}") from exc

    def latencies(self) -> dict[str, dict[str, float]]:
        try:
            data: Any = json.loads((self.root / "latency.json").read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            raise InputError(f"{self.root}/latency.json cannot be read: {exc}") from exc
        return data if isinstance(data, dict) else {}


class RecordingGateway:
    """Passes every request to the real gateway and stores its answer."""

    def __init__(self, inner: Gateway, recording: Recording) -> None:
        self.models = inner.models
        self._inner = inner
        self._recording = recording

    def complete(self, system: str, user: str) -> ModelReply:
        reply = self._inner.complete(system, user)
        self._recording.save(request_key(self.models, system, user), reply)
        return reply

    def count_tokens(self, text: str) -> int:
        return self._inner.count_tokens(text)

    def price(self) -> tuple[float, float] | None:
        return price_per_token(self.models[0])

    def prepare(self) -> None:
        """Nothing to start: the evaluation loads litellm before the first case."""


class ReplayGateway:
    """Answers from a recording; `label` names the case in the error for a missing answer."""

    def __init__(
        self,
        models: Sequence[str],
        recording: Recording,
        label: str,
        count_tokens: Callable[[str], int],
    ) -> None:
        self.models = tuple(models)
        self._recording = recording
        self._label = label
        self._count_tokens = count_tokens

    def complete(self, system: str, user: str) -> ModelReply:
        reply = self._recording.load(request_key(self.models, system, user))
        if reply is None:
            raise UsageError(
                f"--replay {self._recording.root}: no recorded answer for {self._label} "
                f"(model {self.models[0]}): the prompts, models or cases changed since it was "
                "recorded; record again with --record"
            )
        return reply

    def count_tokens(self, text: str) -> int:
        return self._count_tokens(text)

    def price(self) -> tuple[float, float] | None:
        """The first model's price, for budgets: a replay is checked as the recording was."""
        return price_per_token(self.models[0])

    def prepare(self) -> None:
        """Nothing will be sent."""
