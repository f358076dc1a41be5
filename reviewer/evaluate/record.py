"""Record and replay model answers, as gateways: the engine and the judge cannot tell.

An answer is stored under a hash of the request (the model chain, both messages and, for a
tool conversation, the tools offered), one small JSON file each in DIR/answers/. A replay
answers from there and never opens a connection; a request the recording lacks is an error
that names the case. Each wrapper is a RoutingGateway (reviewer/passes.py), so a pass or the
verifier with a model of its own, and tools, work as in a live run.

A tool conversation is stored as its final reply (its figures count every turn and tool
call): a replay returns that reply and does not call the tools again, so a replayed review
never starts an MCP server's tool nor reads the repository on the model's behalf.
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
from reviewer.gateway import ModelReply, ToolOffer, price_per_token
from reviewer.passes import RoutingGateway

_REPLY_FIELDS = {f.name for f in dataclasses.fields(ModelReply)}


def request_key(
    models: Sequence[str], system: str, user: str, offer: ToolOffer | None = None
) -> str:
    """The request's hash; a tool conversation's includes the tools' specs and call limit
    (without tools the key is what it always was: older recordings still replay)."""
    request: dict[str, Any] = {"models": list(models), "system": system, "user": user}
    if offer is not None:
        request["tools"] = {"specs": list(offer.specs), "max_calls": offer.max_calls}
    data = json.dumps(request, sort_keys=True)
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

    def __init__(self, inner: RoutingGateway, recording: Recording) -> None:
        self.models = inner.models
        self._inner = inner
        self._recording = recording

    def complete(self, system: str, user: str) -> ModelReply:
        reply = self._inner.complete(system, user)
        self._recording.save(request_key(self.models, system, user), reply)
        return reply

    def with_models(self, models: Sequence[str]) -> RecordingGateway:
        return RecordingGateway(self._inner.with_models(models), self._recording)

    def complete_with_tools(self, system: str, user: str, offer: ToolOffer) -> ModelReply:
        reply = self._inner.complete_with_tools(system, user, offer)
        self._recording.save(request_key(self.models, system, user, offer), reply)
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
        return self._answer(request_key(self.models, system, user))

    def with_models(self, models: Sequence[str]) -> ReplayGateway:
        """Another model's answers from the same recording. Token counts stay the review
        model's: budgets are planned on the review's own gateway."""
        return ReplayGateway(models, self._recording, self._label, self._count_tokens)

    def complete_with_tools(self, system: str, user: str, offer: ToolOffer) -> ModelReply:
        """The recorded final reply; the tools are not called again (see the module doc)."""
        return self._answer(request_key(self.models, system, user, offer))

    def _answer(self, key: str) -> ModelReply:
        reply = self._recording.load(key)
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
