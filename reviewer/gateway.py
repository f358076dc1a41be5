"""The model seam: one method to complete a prompt. The only module that imports litellm.

litellm is imported lazily (it takes seconds) and told to use its bundled price map, so
importing ai-review makes no network call. Retries (429, 5xx, timeouts, connection errors)
back off exponentially and honour Retry-After; then the fallback models are tried in order.
"""

from __future__ import annotations

import copy
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Protocol

from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt

from reviewer.errors import ModelError, UsageError

MAX_RETRY_AFTER_S = 120.0


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


@cache
def _litellm() -> Any:
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    import litellm

    litellm.suppress_debug_info = True
    litellm.telemetry = False
    litellm.drop_params = True  # providers that do not take `temperature` still answer
    return litellm


def _retry_after(exc: BaseException) -> float | None:
    headers = getattr(exc, "litellm_response_headers", None)
    if headers is None:
        response = getattr(exc, "response", None)
        headers = getattr(response, "headers", None)
    value = headers.get("retry-after") if headers is not None else None
    try:
        return min(float(value), MAX_RETRY_AFTER_S) if value is not None else None
    except ValueError:
        return None


def _is_retryable(exc: BaseException) -> bool:
    status = getattr(exc, "status_code", None)
    if isinstance(status, int):
        return status in {408, 429} or status >= 500
    name = type(exc).__name__
    return name in {"Timeout", "APIConnectionError", "APITimeoutError", "ServiceUnavailableError"}


def describe_error(exc: BaseException) -> str:
    """One line for the summary: the error class and status, never the request or its key."""
    status = getattr(exc, "status_code", None)
    label = type(exc).__name__
    return f"{label} (HTTP {status})" if isinstance(status, int) else label


class LiteLLMGateway:
    """Reaches any litellm model string, directly or through a gateway `api_base`."""

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
        sleep: Callable[[float], None] = time.sleep,
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
        self._sleep = sleep

    def count_tokens(self, text: str) -> int:
        return count_tokens(self.models[0], text)

    def _key_for(self, model: str) -> str | None:
        """AI_REVIEW_API_KEY goes to the gateway when there is one (every model is reached
        through it); without one it is the first model's provider key, and never goes to
        another provider: a fallback elsewhere uses its provider's own variable."""
        if self._api_base or _provider(model) == _provider(self.models[0]):
            return self._api_key
        return None

    def check_keys(self) -> None:
        """Fail fast, before any chunk is sent, when a model's API key is missing: otherwise
        every call fails after its retries with an error that does not say why."""
        for model in self.models:
            if self._key_for(model):
                continue
            report = _litellm().validate_environment(model=model, api_base=self._api_base)
            # Only plain key variables: cloud credentials (AWS roles, ...) and local servers
            # (Ollama) can work without anything in the environment.
            missing = [k for k in report.get("missing_keys", []) if k.endswith("_API_KEY")]
            if missing:
                raise UsageError(
                    f"no API key for {model}: set {missing[0]} (or AI_REVIEW_API_KEY), "
                    "e.g. as a masked CI secret"
                )

    def complete(self, system: str, user: str) -> ModelReply:
        """The first model's answer, else the next fallback's. Latency and retries cover
        every attempt of the call, the failed models' included."""
        started = time.monotonic()
        errors: list[str] = []
        attempts = 0
        refused = True
        for position, model in enumerate(self.models):
            try:
                response, tries = self._complete_with_retries(model, system, user)
            except ModelError as exc:
                errors.append(f"{model}: {exc}")
                attempts += exc.attempts
                refused = refused and exc.key_refused
                continue
            latency = time.monotonic() - started
            return _reply(response, model, latency, attempts + tries - 1, position > 0)
        message = "; ".join(errors)
        raise ModelError(message, model=self.models[-1], attempts=attempts, key_refused=refused)

    def _complete_with_retries(self, model: str, system: str, user: str) -> tuple[Any, int]:
        """The response and how many requests it took; ModelError after the last retry."""
        retrying = Retrying(
            stop=stop_after_attempt(self._max_retries + 1),
            wait=self._wait,
            retry=retry_if_exception(_is_retryable),
            sleep=self._sleep,
            reraise=True,
        )
        try:
            response = retrying(self._call, model, system, user)
        except Exception as exc:  # litellm raises many types; translated once, here
            attempts = retrying.statistics.get("attempt_number", 1)
            refused = getattr(exc, "status_code", None) in {401, 403}
            raise ModelError(
                describe_error(exc), model=model, attempts=attempts, key_refused=refused
            ) from exc
        return response, retrying.statistics.get("attempt_number", 1)

    def _wait(self, state: RetryCallState) -> float:
        outcome = state.outcome
        exc = outcome.exception() if outcome is not None else None
        hinted = _retry_after(exc) if exc is not None else None
        backoff = min(2.0 ** (state.attempt_number - 1), 30.0)
        return hinted if hinted is not None else backoff

    def _call(self, model: str, system: str, user: str) -> Any:
        litellm = _litellm()
        return litellm.completion(
            model=model,
            messages=_messages(model, system, user),
            api_base=self._api_base,
            api_key=self._key_for(model),
            timeout=self._timeout_s,
            temperature=self._temperature,
            num_retries=0,
            max_retries=0,
            extra_headers=self._extra_headers or None,
        )

    # --- The tool-calling conversation (repository and MCP tools): kept apart from
    # `complete` so the two evolve separately; it shares the retry policy and fallbacks.

    def with_models(self, models: Sequence[str]) -> LiteLLMGateway:
        """The same gateway settings (base URL, key, timeouts, headers) for other models:
        a pass or the verifier with a model of its own."""
        other = copy.copy(self)
        other.models = tuple(models)
        if not self._api_base and _provider(other.models[0]) != _provider(self.models[0]):
            # AI_REVIEW_API_KEY is the review model's provider key: never sent to another
            # provider; a pass model elsewhere uses its provider's own variable.
            other._api_key = None
        return other

    def complete_with_tools(self, system: str, user: str, offer: ToolOffer) -> ModelReply:
        """The final answer of a conversation in which the model may call the offered tools
        (OpenAI function specs), at most `offer.max_calls` times; `offer.dispatch(name,
        arguments_json)` answers each call and never raises. Figures add up over every turn."""
        started = time.monotonic()
        errors: list[str] = []
        attempts = 0
        refused = True
        for position, model in enumerate(self.models):
            try:
                turns = self._converse(model, system, user, offer)
            except ModelError as exc:
                errors.append(f"{model}: {exc}")
                attempts += exc.attempts
                refused = refused and exc.key_refused
                continue
            latency = time.monotonic() - started
            return _conversation_reply(turns, model, latency, attempts, position > 0)
        message = "; ".join(errors)
        raise ModelError(message, model=self.models[-1], attempts=attempts, key_refused=refused)

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
        retrying = Retrying(
            stop=stop_after_attempt(self._max_retries + 1),
            wait=self._wait,
            retry=retry_if_exception(_is_retryable),
            sleep=self._sleep,
            reraise=True,
        )
        try:
            response = retrying(self._call_with_tools, model, messages, tools, choice)
        except Exception as exc:  # litellm raises many types; translated once, here
            attempts = retrying.statistics.get("attempt_number", 1)
            refused = getattr(exc, "status_code", None) in {401, 403}
            raise ModelError(
                describe_error(exc), model=model, attempts=attempts, key_refused=refused
            ) from exc
        return response, retrying.statistics.get("attempt_number", 1)

    def _call_with_tools(
        self, model: str, messages: list[dict[str, Any]], tools: Sequence[Mapping[str, Any]],
        choice: str,
    ) -> Any:  # fmt: skip
        return _litellm().completion(
            model=model,
            messages=list(messages),
            tools=list(tools),
            tool_choice=choice,
            api_base=self._api_base,
            api_key=self._key_for(model),
            timeout=self._timeout_s,
            temperature=self._temperature,
            num_retries=0,
            max_retries=0,
            extra_headers=self._extra_headers or None,
        )


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


def _provider(model: str) -> str:
    return model.split("/", 1)[0] if "/" in model else "openai"


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


def price_per_token(model: str) -> tuple[float, float] | None:
    """(input, output) USD per token from litellm's bundled price map, or None if unknown."""
    entry = _litellm().model_cost.get(model) or _litellm().model_cost.get(model.split("/", 1)[-1])
    if not entry or "input_cost_per_token" not in entry:
        return None
    return float(entry["input_cost_per_token"]), float(entry.get("output_cost_per_token", 0.0))


def count_tokens(model: str, text: str) -> int:
    """Tokens of `text` for `model`, with the tokenizers litellm ships (no download)."""
    return int(_litellm().token_counter(model=_tokenizer_model(model), text=text))


@cache
def _tokenizer_model(model: str) -> str:
    # litellm fetches some tokenizers (Llama, Cohere, ...) from a hub on first use; the tool
    # must reach no host but the model endpoint, so only bundled tokenizers are used.
    if "claude" in model:
        return model
    return "gpt-4o"
