"""The model seam: one method to complete a prompt. The only module that imports litellm.

litellm is imported lazily (it takes seconds) and told to use its bundled price map, so
importing ai-review makes no network call; token counts and prices come from `pricing`, which
reads litellm's data without importing it. Retries (429, 5xx, timeouts, connection errors)
back off exponentially and honour Retry-After within the review's deadline; then the fallback
models are tried in order. Every request has a total deadline, a slowly dripping body included.
"""

from __future__ import annotations

import copy
import functools
import os
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Protocol, TypeVar

from reviewer.errors import ModelError, UsageError
from reviewer.gateway_errors import CallTimeout, Failure, classify
from reviewer.pricing import count_tokens, missing_key, price_per_token, provider

__all__ = ["Gateway", "LiteLLMGateway", "ModelReply", "count_tokens", "price_per_token"]
MAX_RETRY_AFTER_S = 120.0
T = TypeVar("T")
MAX_BACKOFF_S = 30.0


@dataclass(frozen=True)
class ModelReply:
    """The model's text and what the call cost. `cost_usd` is None when the price is unknown."""

    text: str
    model: str
    prompt_tokens: int
    completion_tokens: int
    cached_tokens: int
    cost_usd: float | None
    latency_s: float
    retries: int
    fallback: bool
    tool_calls: int = 0  # tool calls answered within the conversation (complete_with_tools)


class Gateway(Protocol):
    """Where prompts go. `complete` raises ModelError when every model failed."""

    models: tuple[str, ...]

    def complete(self, system: str, user: str) -> ModelReply: ...

    def count_tokens(self, text: str) -> int: ...

    def price(self) -> tuple[float, float] | None:
        """(input, output) USD per token of the first model, None when unknown."""
        ...

    def prepare(self) -> None:
        """Something will be sent: start loading the client in the background."""
        ...


@cache
def _litellm() -> Any:
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    import litellm

    litellm.suppress_debug_info = True
    litellm.telemetry = False
    litellm.drop_params = True  # providers that do not take `temperature` still answer
    return litellm


def load_client() -> None:
    """Import litellm now, on this thread (token counting no longer does): before an
    evaluation starts its clocks, or ahead of an agent's first review."""
    _litellm()


@cache
def preload() -> None:
    """Import litellm on a daemon thread (once), while the review prepares its prompts."""
    threading.Thread(target=_litellm, name="ai-review-import", daemon=True).start()


def _retry_after(exc: BaseException) -> float | None:
    headers = getattr(exc, "litellm_response_headers", None)
    if headers is None:
        response = getattr(exc, "response", None)
        headers = getattr(response, "headers", None)
    value = headers.get("retry-after") if headers is not None else None
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


class LiteLLMGateway:
    """Reaches any litellm model string, directly or through a gateway `api_base`.

    `timeout_s` bounds each request from connect to the last byte; `deadline_s` bounds the
    whole review (every call, retry and wait), counted from the gateway's creation.
    """

    def __init__(
        self,
        models: Sequence[str],
        *,
        api_base: str | None = None,
        api_key: str | None = None,
        timeout_s: float = 120.0,
        max_retries: int = 3,
        temperature: float = 0.1,
        extra_headers: dict[str, str] | None = None,
        extra_body: dict[str, Any] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        deadline_s: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not models:
            raise ValueError("at least one model is needed")
        self.models = tuple(models)
        self._api_base = api_base
        self._api_key = api_key
        self._timeout_s = timeout_s
        self._max_retries = max_retries
        self._temperature = temperature
        self._extra_headers = extra_headers or {}
        self._extra_body = extra_body or {}
        self._sleep = sleep
        self._clock = clock
        self._deadline = clock() + deadline_s if deadline_s is not None else None
        self._deadline_s = deadline_s

    def count_tokens(self, text: str) -> int:
        return count_tokens(self.models[0], text)

    def price(self) -> tuple[float, float] | None:
        return price_per_token(self.models[0])

    def prepare(self) -> None:
        preload()

    def _key_for(self, model: str) -> str | None:
        """AI_REVIEW_API_KEY goes to the gateway when there is one (every model is reached
        through it); without one it is the first model's provider key, and never goes to
        another provider: a fallback elsewhere uses its provider's own variable."""
        if self._api_base or provider(model) == provider(self.models[0]):
            return self._api_key
        return None

    def check_keys(self) -> None:
        """Fail fast, before any chunk is sent, when a model's API key is missing: otherwise
        every call fails after its retries with an error that does not say why."""
        for model in self.models:
            missing = None if self._key_for(model) else missing_key(model)
            if missing:
                raise UsageError(
                    f"no API key for {model}: set {missing} (or AI_REVIEW_API_KEY), "
                    "e.g. as a masked CI secret"
                )

    def complete(self, system: str, user: str) -> ModelReply:
        """The first model's answer, else the next fallback's. Latency and retries cover
        every attempt of the call, the failed models' included."""

        def ask(model: str) -> tuple[Any, int]:
            request = functools.partial(self._call, model, system, user)
            return self._complete_with_retries(model, request)

        (response, tries), answered = self._first_to_answer(ask)
        retries = answered.failed_attempts + tries - 1
        return _reply(response, answered.model, answered.latency_s, retries, answered.fallback)

    def _first_to_answer(self, ask: Callable[[str], T]) -> tuple[T, _Answered]:
        """`ask(model)` for the first model, then each fallback, until one answers;
        ModelError naming every model's failure when none did."""
        started = self._clock()
        errors: list[str] = []
        attempts = 0
        refused = misconfigured = True
        for position, model in enumerate(self.models):
            try:
                value = ask(model)
            except ModelError as exc:
                errors.append(f"{model}: {exc}")
                attempts += exc.attempts
                refused = refused and exc.key_refused
                misconfigured = misconfigured and exc.misconfigured
                continue
            latency = self._clock() - started
            return value, _Answered(model, position > 0, attempts, latency)
        raise ModelError(
            "; ".join(errors),
            model=self.models[-1],
            attempts=attempts,
            key_refused=refused,
            misconfigured=misconfigured,
        )

    def _complete_with_retries(
        self, model: str, request: Callable[[float], Any]
    ) -> tuple[Any, int]:
        """The response of `request(timeout)` and how many requests it took; ModelError
        after the last retry."""
        attempt = 0
        while True:
            attempt += 1
            left = self._left()
            if left is not None and left <= 0:
                raise ModelError(self._deadline_text(), model=model, attempts=attempt - 1)
            try:
                return self._call_within(request, left), attempt
            except Exception as exc:  # litellm raises many types; translated once, here
                secrets = [self._api_key or "", *self._extra_headers.values()]
                failure = classify(exc, self._api_base, secrets)
                wait = self._wait(exc, failure, attempt)
                if wait is None:
                    raise _model_error(failure, model, attempt) from exc
            self._sleep(wait)

    def _wait(self, exc: BaseException, failure: Failure, attempt: int) -> float | None:
        """Seconds to wait before the next attempt; None when there is none (not retryable,
        out of retries, or the wait would outlast the review's deadline)."""
        if not failure.retryable or attempt > self._max_retries:
            return None
        hinted = _retry_after(exc)
        if hinted is not None and hinted > MAX_RETRY_AFTER_S:
            return None  # "come back tomorrow": waiting helps no one, the fallback may
        wait = hinted if hinted is not None else min(2.0 ** (attempt - 1), MAX_BACKOFF_S)
        left = self._left()
        return None if left is not None and wait >= left else wait

    def _left(self) -> float | None:
        return None if self._deadline is None else self._deadline - self._clock()

    def _deadline_text(self) -> str:
        return f"the review's deadline of {self._deadline_s:g} s passed before this call"

    def _call_within(self, request: Callable[[float], Any], left: float | None) -> Any:
        """The call, bounded in total: the HTTP client's timeout is per read, so a body
        dripping one byte at a time would hold it for ever. The request runs on a daemon
        thread that is abandoned (and ends at its own read timeout) when time is up."""
        limit = self._timeout_s if left is None else min(self._timeout_s, left)
        box: dict[str, Any] = {}
        done = threading.Event()

        def target() -> None:
            try:
                box["value"] = request(limit)
            except BaseException as exc:  # handed to the caller's thread
                box["error"] = exc
            finally:
                done.set()

        threading.Thread(target=target, name="ai-review-call", daemon=True).start()
        if not done.wait(limit):
            raise CallTimeout(limit)
        if "error" in box:
            raise box["error"]
        return box["value"]

    def _call(self, model: str, system: str, user: str, timeout: float) -> Any:
        return self._completion(model, _messages(model, system, user), timeout)

    def _completion(
        self, model: str, messages: list[dict[str, Any]], timeout: float, **tools: Any
    ) -> Any:
        """One request, with the gateway's settings; retries and fallbacks are ours."""
        return _litellm().completion(
            model=model,
            messages=messages,
            api_base=self._api_base,
            api_key=self._key_for(model),
            timeout=timeout,
            temperature=self._temperature,
            num_retries=0,
            max_retries=0,
            extra_headers=self._extra_headers or None,
            **({"extra_body": self._extra_body} if self._extra_body else {}),
            **tools,
        )

    # --- The tool-calling conversation (repository and MCP tools): kept apart from
    # `complete` so the two evolve separately; it shares the retry policy and fallbacks.

    def with_models(self, models: Sequence[str]) -> LiteLLMGateway:
        """The same gateway settings (base URL, key, timeouts, headers) for other models:
        a pass or the verifier with a model of its own."""
        other = copy.copy(self)
        other.models = tuple(models)
        if not self._api_base and provider(other.models[0]) != provider(self.models[0]):
            # AI_REVIEW_API_KEY is the review model's provider key: never sent to another
            # provider; a pass model elsewhere uses its provider's own variable.
            other._api_key = None
        return other

    def complete_with_tools(self, system: str, user: str, offer: ToolOffer) -> ModelReply:
        """The final answer of a conversation in which the model may call the offered tools
        (OpenAI function specs), at most `offer.max_calls` times; `offer.dispatch(name,
        arguments_json)` answers each call and never raises. Figures add up over every turn."""
        turns, answered = self._first_to_answer(
            lambda model: self._converse(model, system, user, offer)
        )
        return _conversation_reply(
            turns, answered.model, answered.latency_s, answered.failed_attempts, answered.fallback
        )

    def _converse(self, model: str, system: str, user: str, offer: ToolOffer) -> _Turns:
        messages = _messages(model, system, user)
        turns = _Turns()
        while True:
            choice = "none" if turns.tool_calls >= offer.max_calls else "auto"
            response, tries = self._with_retries(model, messages, offer.specs, choice)
            turns.responses.append(response)
            turns.retries += tries - 1
            message = response.choices[0].message
            requested = list(getattr(message, "tool_calls", None) or [])
            if not requested or choice == "none":
                return turns
            messages.append(_assistant_turn(message, requested))
            for call in requested:
                messages.append(_tool_answer(call, turns, offer))

    def _with_retries(
        self, model: str, messages: list[dict[str, Any]], tools: Sequence[Mapping[str, Any]],
        choice: str,
    ) -> tuple[Any, int]:  # fmt: skip
        return self._complete_with_retries(
            model, lambda limit: self._call_with_tools(model, messages, tools, choice, limit)
        )

    def _call_with_tools(
        self, model: str, messages: list[dict[str, Any]], tools: Sequence[Mapping[str, Any]],
        choice: str, timeout: float,
    ) -> Any:  # fmt: skip
        return self._completion(
            model, list(messages), timeout, tools=list(tools), tool_choice=choice
        )


@dataclass(frozen=True)
class _Answered:
    """Which model of the chain answered, after how many failed requests and how long."""

    model: str
    fallback: bool
    failed_attempts: int  # requests sent to the models that failed before it
    latency_s: float


@dataclass(frozen=True)
class ToolOffer:
    """Tools for one conversation: their OpenAI function specs, who answers a call
    (name, arguments as JSON text) -> result text, and how many calls are allowed."""

    specs: tuple[Mapping[str, Any], ...]
    dispatch: Callable[[str, str], str]
    max_calls: int


TOOL_LIMIT_REACHED = "error: the tool call limit of this review step is reached; answer now"


@dataclass
class _Turns:
    responses: list[Any] = field(default_factory=list)
    retries: int = 0
    tool_calls: int = 0


def _assistant_turn(message: Any, requested: list[Any]) -> dict[str, Any]:
    calls = [
        {
            "id": call.id,
            "type": "function",
            "function": {"name": call.function.name, "arguments": call.function.arguments},
        }
        for call in requested
    ]
    return {"role": "assistant", "content": message.content, "tool_calls": calls}


def _tool_answer(call: Any, turns: _Turns, offer: ToolOffer) -> dict[str, Any]:
    if turns.tool_calls >= offer.max_calls:
        result = TOOL_LIMIT_REACHED
    else:
        turns.tool_calls += 1
        result = offer.dispatch(str(call.function.name), str(call.function.arguments or "{}"))
    return {"role": "tool", "tool_call_id": call.id, "content": result}


def _conversation_reply(
    turns: _Turns, model: str, latency: float, attempts: int, fallback: bool
) -> ModelReply:
    replies = [_reply(r, model, 0.0, 0, fallback) for r in turns.responses]
    costs = [r.cost_usd for r in replies]
    return ModelReply(
        text=replies[-1].text,
        model=model,
        prompt_tokens=sum(r.prompt_tokens for r in replies),
        completion_tokens=sum(r.completion_tokens for r in replies),
        cached_tokens=sum(r.cached_tokens for r in replies),
        cost_usd=None if None in costs else sum(c or 0.0 for c in costs),
        latency_s=latency,
        retries=attempts + turns.retries,
        fallback=fallback,
        tool_calls=turns.tool_calls,
    )


def supports_tools(model: str) -> bool:
    """Whether litellm knows the model to take function calling (its bundled model map)."""
    try:
        return bool(_litellm().supports_function_calling(model=model))
    except Exception:  # an unknown model: litellm raises rather than answer False
        return False


def _model_error(failure: Failure, model: str, attempts: int) -> ModelError:
    return ModelError(
        failure.text,
        model=model,
        attempts=attempts,
        key_refused=failure.key_refused,
        misconfigured=failure.misconfigured,
    )


def _messages(model: str, system: str, user: str) -> list[dict[str, Any]]:
    # The system prompt is identical across a review's chunks and comes first, so providers
    # with prompt caching reuse it; Anthropic needs it marked explicitly.
    if "claude" in model or model.startswith(("anthropic/", "bedrock/", "vertex_ai/")):
        content: Any = [{"type": "text", "text": system, "cache_control": {"type": "ephemeral"}}]
    else:
        content = system
    return [{"role": "system", "content": content}, {"role": "user", "content": user}]


def _reply(response: Any, model: str, latency: float, retries: int, fallback: bool) -> ModelReply:
    usage = getattr(response, "usage", None)
    details = getattr(usage, "prompt_tokens_details", None)
    text = response.choices[0].message.content or ""
    return ModelReply(
        text=text,
        model=model,
        prompt_tokens=int(getattr(usage, "prompt_tokens", 0) or 0),
        completion_tokens=int(getattr(usage, "completion_tokens", 0) or 0),
        cached_tokens=int(getattr(details, "cached_tokens", 0) or 0),
        cost_usd=_cost(response, model),
        latency_s=latency,
        retries=retries,
        fallback=fallback,
    )


def _cost(response: Any, model: str) -> float | None:
    hidden = getattr(response, "_hidden_params", {}) or {}
    cost = hidden.get("response_cost")
    if cost is None:
        try:
            cost = _litellm().completion_cost(completion_response=response, model=model)
        except Exception:  # unknown price: reported as unknown, never as zero
            return None
    return float(cost) if cost is not None else None
