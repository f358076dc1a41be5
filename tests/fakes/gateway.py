"""An in-process Gateway for engine-level tests: queues answers, records calls, no HTTP.

It plugs into the same `Gateway` seam the real `LiteLLMGateway` does (simonw/llm's mock
model). The HTTP model fake stays for the gateway's own tests and a few end-to-end runs.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from reviewer.errors import ModelError
from reviewer.gateway import ModelReply
from reviewer.pricing import count_tokens

GPT_4_1_MINI = (0.4e-6, 1.6e-6)  # USD per token, as litellm's price map has it


@dataclass(frozen=True)
class Call:
    """One `complete` call as the gateway received it."""

    system: str
    user: str

    @property
    def prompt_text(self) -> str:
        return f"{self.system}\n{self.user}"


Answer = str | ModelError
Responder = Callable[[Call], Answer]


def findings_answer(*findings: dict[str, Any]) -> str:
    return "```json\n" + json.dumps({"findings": list(findings)}) + "\n```"


class FakeGateway:
    """Answers from a queue, then from `respond_with`, then `default`; records every call."""

    def __init__(
        self,
        models: tuple[str, ...] = ("openai/gpt-4.1-mini",),
        *,
        price: tuple[float, float] | None = GPT_4_1_MINI,
        default: Answer = '{"findings": []}',
    ) -> None:
        self.models = models
        self.calls: list[Call] = []
        self.prepared = 0
        self.default = default
        self._price = price
        self._answers: deque[Answer] = deque()
        self._responder: Responder | None = None
        self._lock = threading.Lock()

    def queue(self, *answers: Answer) -> None:
        with self._lock:
            self._answers.extend(answers)

    def respond_with(self, responder: Responder) -> None:
        self._responder = responder

    def complete(self, system: str, user: str) -> ModelReply:
        call = Call(system, user)
        with self._lock:
            self.calls.append(call)
            queued = self._answers.popleft() if self._answers else None
        answer = queued if queued is not None else self._next(call)
        if isinstance(answer, ModelError):
            raise answer
        prompt, completion = len(call.prompt_text) // 4, len(answer) // 4
        cost = (
            None if self._price is None else prompt * self._price[0] + completion * self._price[1]
        )
        return ModelReply(answer, self.models[0], prompt, completion, 0, cost, 0.0, 0, False)

    def _next(self, call: Call) -> Answer:
        return self._responder(call) if self._responder is not None else self.default

    def count_tokens(self, text: str) -> int:
        return count_tokens(self.models[0], text)

    def price(self) -> tuple[float, float] | None:
        return self._price

    def prepare(self) -> None:
        self.prepared += 1
