import base64

import pytest

PNG_1X1 = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
HELLO = base64.b64encode(b"hello world").decode()


@pytest.mark.parametrize(
    ("raw", "encoded"),
    [
        (b"any carnal pleasure.", "YW55IGNhcm5hbCBwbGVhc3VyZS4="),
        (b"\x00\x01\x02\x03", "AAECAw=="),
    ],
)
def test_roundtrip(raw: bytes, encoded: str) -> None:
    assert base64.b64encode(raw).decode() == encoded


def test_basic_auth_header_is_built_from_the_config(client) -> None:
    header = client.auth_header(user="alice", password=FAKE_PASSWORD)
    assert header.startswith("Basic ")


def test_bearer_scheme_name() -> None:
    assert parse_scheme("Bearer realm=example") == "Bearer"
