"""What a failed model request is called, over real HTTP: refused, reset, HTML, slow drip,
a gateway's 400 with its message, a refused key, deadlines and Retry-After."""

from __future__ import annotations

import itertools
import socket

import pytest

from reviewer.errors import ModelError
from reviewer.gateway import LiteLLMGateway
from reviewer.gateway_errors import classify
from tests.fakes.model_server import (
    FakeModelServer,
    Reply,
    error_reply,
    findings_reply,
    html_reply,
)

MODEL = "openai/gpt-4.1-mini"


class FakeClock:
    """Monotonic time that moves only when the gateway sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def gateway(base_url: str, clock: FakeClock, *models: str, **kw: float) -> LiteLLMGateway:
    return LiteLLMGateway(
        models or (MODEL,),
        api_base=base_url,
        api_key="sk-secret-test",
        sleep=clock.sleep,
        clock=clock,
        **kw,  # type: ignore[arg-type]
    )


def failure(base_url: str, **kw: float) -> ModelError:
    with pytest.raises(ModelError) as caught:
        gateway(base_url, FakeClock(), **kw).complete("s", "u")
    assert "sk-secret-test" not in str(caught.value)
    return caught.value


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_refused_connection_is_named_with_host_and_port() -> None:
    port = closed_port()
    error = failure(f"http://127.0.0.1:{port}/v1", max_retries=1)
    assert str(error) == f"{MODEL}: cannot connect to 127.0.0.1:{port}: connection refused"
    assert "HTTP" not in str(error) and error.attempts == 2  # retried: it may come back
    assert not error.misconfigured


def test_a_reset_connection_is_named(model_server: FakeModelServer) -> None:
    model_server.set_default(Reply(reset=True))
    error = failure(model_server.base_url, max_retries=0)
    assert "127.0.0.1" in str(error) and "reset" in str(error)
    assert "HTTP" not in str(error)


def test_an_html_page_is_not_called_a_server_error(model_server: FakeModelServer) -> None:
    model_server.set_default(html_reply())
    error = failure(model_server.base_url, max_retries=3)
    assert len(model_server.requests) == 1  # the same page every time: not retried
    assert "not JSON" in str(error) and "/v1" in str(error)
    assert "InternalServerError" not in str(error) and "HTTP 500" not in str(error)


def test_a_slow_drip_is_bounded_by_timeout_s(model_server: FakeModelServer) -> None:
    # Every read gets a byte in time; only a total deadline ends the call.
    model_server.set_default(findings_reply(drip_s=0.05))
    error = failure(model_server.base_url, timeout_s=0.3, max_retries=1)
    assert (
        str(error)
        == f"{MODEL}: no answer from 127.0.0.1:{port(model_server)}: timed out after 0.3 s"
    )
    assert error.attempts == 2 and len(model_server.requests) == 2


def test_a_gateways_400_carries_its_own_message(model_server: FakeModelServer) -> None:
    model_server.set_default(error_reply(400, message="No connected db."))
    error = failure(model_server.base_url)
    assert str(error) == f"{MODEL}: HTTP 400 from 127.0.0.1:{port(model_server)}: No connected db."
    assert error.misconfigured and not error.key_refused
    assert len(model_server.requests) == 1  # the same answer every time: not retried


def test_no_key_or_header_secret_survives_an_echoing_answer(
    model_server: FakeModelServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-provider-secret")
    echo = "bad: sk-secret-test cf-token-secret sk-provider-secret"
    model_server.set_default(error_reply(400, message=echo))
    chain = LiteLLMGateway(
        (MODEL,), api_base=model_server.base_url, api_key="sk-secret-test",
        extra_headers={"cf-aig-authorization": "cf-token-secret"},
    )  # fmt: skip
    with pytest.raises(ModelError) as caught:
        chain.complete("s", "u")
    assert str(caught.value).endswith("bad: *** *** ***")


def test_an_echoed_escape_sequence_never_reaches_the_log(model_server: FakeModelServer) -> None:
    model_server.set_default(
        error_reply(400, message="bad \x1b[2J\x1b]8;;http://x\x07 line\n::error::x")
    )
    error = failure(model_server.base_url)
    assert "\x1b" not in str(error) and "\x07" not in str(error) and "\n" not in str(error)
    assert str(error).endswith("bad [2J ]8;;http://x line ::error::x")


def test_a_refused_key_is_a_key_problem(model_server: FakeModelServer) -> None:
    model_server.set_default(error_reply(401, message="Incorrect API key provided: sk-secret-test"))
    error = failure(model_server.base_url)
    assert error.key_refused and error.misconfigured
    assert "HTTP 401" in str(error) and "Incorrect API key provided: ***" in str(error)


def test_a_fallback_that_answers_counts_every_request(model_server: FakeModelServer) -> None:
    model_server.queue(error_reply(503), error_reply(503), findings_reply())
    clock = FakeClock()
    reply = gateway(model_server.base_url, clock, MODEL, "openai/gpt-4.1", max_retries=1).complete(
        "s", "u"
    )
    assert (reply.model, reply.fallback, reply.retries) == ("openai/gpt-4.1", True, 2)
    assert clock.sleeps == [1.0]


def test_retry_after_never_outlasts_the_review_deadline(model_server: FakeModelServer) -> None:
    model_server.set_default(error_reply(429, "100000"))
    clock = FakeClock()
    with pytest.raises(ModelError) as caught:
        gateway(model_server.base_url, clock, deadline_s=60).complete("s", "u")
    assert clock.sleeps == []  # a wait past the deadline is not waited: the call fails now
    assert "HTTP 429" in str(caught.value) and len(model_server.requests) == 1


def test_a_retry_after_beyond_two_minutes_goes_to_the_fallback_at_once(
    model_server: FakeModelServer,
) -> None:
    model_server.queue(error_reply(429, "100000"), findings_reply())
    clock = FakeClock()
    reply = gateway(model_server.base_url, clock, MODEL, "openai/gpt-4.1").complete("s", "u")
    assert clock.sleeps == [] and (reply.model, reply.retries) == ("openai/gpt-4.1", 1)


def test_the_review_deadline_bounds_retries_and_later_calls(model_server: FakeModelServer) -> None:
    model_server.set_default(error_reply(429, "20"))
    clock = FakeClock()
    chain = gateway(model_server.base_url, clock, deadline_s=45, max_retries=5)
    with pytest.raises(ModelError):
        chain.complete("s", "u")
    assert clock.sleeps == [20.0, 20.0]  # a third wait would end past the deadline
    assert len(model_server.requests) == 3
    clock.now += 10  # the other chunks took the rest
    with pytest.raises(ModelError) as caught:
        chain.complete("s", "u")
    assert "deadline of 45 s" in str(caught.value) and len(model_server.requests) == 3


def port(server: FakeModelServer) -> str:
    return server.base_url.rsplit(":", 1)[1].split("/")[0]


def chained(*errors: BaseException) -> BaseException:
    """errors[0] raised from errors[1] raised from ... (the way litellm wraps httpx)."""
    for outer, inner in itertools.pairwise(errors):
        outer.__cause__ = inner
    return errors[0]


def test_a_name_that_does_not_resolve_is_named() -> None:
    import socket as sockets

    import httpx

    error = chained(RuntimeError("Connection error."), httpx.ConnectError("dns"),
                    sockets.gaierror(-2, "Name or service not known"))  # fmt: skip
    text = classify(error, "https://gw.example:8443/v1").text
    assert text == "cannot connect to gw.example:8443: [Errno -2] Name or service not known"


def test_without_api_base_the_request_url_names_the_host() -> None:
    import httpx

    inner = httpx.ConnectError("refused", request=httpx.Request("POST", "https://api.x.ai/v1"))
    error = chained(RuntimeError("wrapped"), inner, ConnectionRefusedError(111, "refused"))
    assert classify(error, None).text == "cannot connect to api.x.ai: connection refused"
    assert classify(ValueError("odd"), None).text == "ValueError from the provider's API: odd"


def test_a_context_window_400_is_about_the_request_not_the_set_up() -> None:
    class ContextWindowExceededError(Exception):
        status_code = 400

    failure = classify(ContextWindowExceededError("too long"), "http://gw:4000")
    assert not failure.misconfigured and not failure.retryable
    assert "ContextWindowExceededError" in failure.text
    long = classify(type("BadRequestError", (Exception,), {"status_code": 400})("x" * 900), None)
    assert long.misconfigured and len(long.text) < 400 and long.text.endswith("…")


def test_timeouts_of_the_client_are_named_too() -> None:
    import httpx

    error = chained(RuntimeError("Request timed out."), httpx.ReadTimeout("read"))
    assert classify(error, "http://gw:4000/v1").text == "no answer from gw:4000: timed out"
