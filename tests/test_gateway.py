"""The model seam over real HTTP: retries, Retry-After, timeouts, fallbacks, prices."""

from __future__ import annotations

import pytest

from reviewer.errors import ModelError
from reviewer.gateway import LiteLLMGateway, count_tokens
from tests.fakes.model_server import FakeModelServer, Reply, error_reply, findings_reply

MODEL = "openai/gpt-4.1-mini"


def gateway(
    server: FakeModelServer, sleeps: list[float], *models: str, **kw: float
) -> LiteLLMGateway:
    return LiteLLMGateway(
        models or (MODEL,),
        api_base=server.base_url,
        api_key="sk-test",
        sleep=sleeps.append,  # a fake clock: nothing sleeps for real
        **kw,  # type: ignore[arg-type]
    )


def test_retry_after_is_honoured(model_server: FakeModelServer) -> None:
    sleeps: list[float] = []
    model_server.queue(error_reply(429, "7"), findings_reply())
    reply = gateway(model_server, sleeps).complete("system", "user")
    assert sleeps == [7.0]
    assert (reply.retries, reply.fallback) == (1, False)


def test_exponential_backoff_without_retry_after(model_server: FakeModelServer) -> None:
    sleeps: list[float] = []
    model_server.queue(error_reply(500), error_reply(502), error_reply(503), findings_reply())
    reply = gateway(model_server, sleeps).complete("system", "user")
    assert sleeps == [1.0, 2.0, 4.0]
    assert reply.retries == 3


def test_client_errors_are_not_retried_and_fall_back(model_server: FakeModelServer) -> None:
    sleeps: list[float] = []
    model_server.queue(error_reply(400), findings_reply(prompt_tokens=10, completion_tokens=5))
    reply = gateway(model_server, sleeps, MODEL, "openai/gpt-4.1").complete("s", "u")
    assert sleeps == []
    assert (reply.model, reply.fallback) == ("openai/gpt-4.1", True)
    assert reply.retries == 1  # the failed request to the first model counts
    assert [r.body["model"] for r in model_server.requests] == ["gpt-4.1-mini", "gpt-4.1"]


def test_every_model_failing_raises_one_error_without_secrets(
    model_server: FakeModelServer,
) -> None:
    model_server.set_default(error_reply(401))
    with pytest.raises(ModelError) as caught:
        gateway(model_server, [], MODEL, "openai/gpt-4.1").complete("s", "u")
    assert (caught.value.model, caught.value.attempts) == ("openai/gpt-4.1", 2)
    message = str(caught.value)
    assert "openai/gpt-4.1-mini" in message and "HTTP 401" in message
    assert "sk-test" not in message and "\n" not in message


def test_a_slow_answer_times_out_and_is_retried(model_server: FakeModelServer) -> None:
    sleeps: list[float] = []
    model_server.queue(Reply(content="{}", delay_s=0.5), findings_reply())
    reply = gateway(model_server, sleeps, timeout_s=0.1).complete("s", "u")
    assert reply.retries == 1 and len(sleeps) == 1


def test_cost_known_and_unknown(model_server: FakeModelServer) -> None:
    model_server.queue(findings_reply(prompt_tokens=1_000_000, completion_tokens=0))
    known = gateway(model_server, []).complete("s", "u")
    assert known.cost_usd == pytest.approx(0.40)
    model_server.queue(findings_reply(prompt_tokens=1000, completion_tokens=10))
    unknown = gateway(model_server, [], "openai/house-model-without-a-price").complete("s", "u")
    assert unknown.cost_usd is None


def test_system_prompt_first_and_marked_cacheable_for_anthropic_style_models(
    model_server: FakeModelServer,
) -> None:
    gateway(model_server, []).complete("static rules", "the chunk")
    messages = model_server.requests[0].body["messages"]
    assert [m["role"] for m in messages] == ["system", "user"]
    assert messages[0]["content"] == "static rules"
    assert model_server.requests[0].body["temperature"] == pytest.approx(0.1)


def test_token_counting_needs_no_download() -> None:
    # Llama and Cohere tokenizers would be fetched from a hub; the bundled ones are used.
    assert count_tokens("ollama/llama3", "def f(x):\n    return x + 1\n") > 5
    assert count_tokens("anthropic/claude-sonnet-4-5", "hello world") > 0


def test_the_api_key_never_goes_to_another_providers_fallback(
    model_server: FakeModelServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Two providers behind one local server: the OpenAI-style key must not reach the other.
    monkeypatch.setenv("OPENROUTER_API_KEY", "sk-or-own-key")
    model_server.queue(error_reply(400), findings_reply())
    sleeps: list[float] = []
    chain = LiteLLMGateway(
        (MODEL, "openrouter/qwen/qwen3-coder"), api_key="sk-openai-key", sleep=sleeps.append
    )
    # No gateway: each provider's own base URL variable points at the fake.
    monkeypatch.setenv("OPENAI_BASE_URL", model_server.base_url)
    monkeypatch.setenv("OPENROUTER_API_BASE", model_server.base_url)
    chain.complete("s", "u")
    keys = [r.headers["authorization"] for r in model_server.requests]
    assert keys == ["Bearer sk-openai-key", "Bearer sk-or-own-key"]
