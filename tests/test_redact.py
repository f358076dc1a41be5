"""Redaction of what reaches the model: text of several lines, key bodies, and the whole run."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from reviewer.cli import main
from reviewer.redact import may_hold_secret, redact_text
from tests.fakes.model_server import FakeModelServer, findings_reply
from tests.secret_corpus import CORPUS, MARKER, load

KEY = load("leaks")[[f.name for f in load("leaks")].index("server.key")]
_SEPARATORS = re.compile(r"""[\s"'`=:@,;(){}]""")


def secret_values() -> list[str]:
    """Each labelled value of the corpus, as it was before the marker split it."""
    values = []
    for path in sorted((CORPUS / "leaks").iterdir()):
        for raw in path.read_text(encoding="utf-8").splitlines():
            if MARKER not in raw or "-----BEGIN" in raw:
                continue
            left, right = raw.split(MARKER, 1)
            head = _SEPARATORS.split(left)[-1]
            tail = _SEPARATORS.split(right)[0]
            values.append(head + tail)
    return values


def test_a_key_pasted_in_a_description_is_blanked_whole() -> None:
    description = "Rotated the key:\n\n```\n" + "\n".join(KEY.lines) + "\n```\nThanks!"

    redacted = redact_text(description).split("\n")

    assert redacted[:3] == ["Rotated the key:", "", "```"]
    assert redacted[3] == "[REDACTED:private-key]"
    assert redacted[4:-3] == ["[REDACTED:private-key]"] * (len(KEY.lines) - 2)
    assert redacted[-3:] == [KEY.lines[-1], "```", "Thanks!"]


def test_a_key_body_line_alone_is_blanked() -> None:
    # Context lines reach the redactor one by one: a body line has no marker beside it.
    assert redact_text(KEY.lines[5]) == "[REDACTED:private-key]"
    assert redact_text("    " + KEY.lines[5] + "\\n") == "[REDACTED:private-key]"
    assert redact_text("x = 1\n" + KEY.lines[5]) == "x = 1\n[REDACTED:private-key]"


@pytest.mark.parametrize(
    "line",
    [
        "a" * 64,  # no mix of cases and digits
        "abcdefghijklmnopqrstuvwxyz" * 3,
        "def configure_the_logging_handlers_for_the_application_at_start(self):",
        "ABCDEFGHabcdefgh01234567" * 2,  # 48 wide: not a key body line
    ],
)
def test_lines_that_are_not_key_bodies_are_kept(line: str) -> None:
    assert redact_text(line) == line


def test_no_corpus_secret_reaches_the_model_from_diff_context_or_guidelines(
    model_server: FakeModelServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AI_REVIEW_API_KEY", "sk-test-key-never-printed")
    repo = tmp_path / "repo"
    repo.mkdir()
    leaks = load("leaks")
    diff = ""
    for file in leaks:
        (repo / file.name).write_text("\n".join(file.lines) + "\n", encoding="utf-8")
        # One added line in the middle of each file: the rest reaches the model as context.
        middle = len(file.lines) // 2
        diff += (
            f"diff --git a/{file.name} b/{file.name}\n--- a/{file.name}\n+++ b/{file.name}\n"
            f"@@ -{middle + 1},0 +{middle + 1},1 @@\n+# reviewed\n"
        )
    (repo / "REVIEW.md").write_text("Keys for tests:\n" + "\n".join(KEY.lines), encoding="utf-8")
    (tmp_path / "change.diff").write_text(diff, encoding="utf-8")
    model_server.set_default(findings_reply())

    model = ["--model", "openai/gpt-4.1-mini", "--api-base", model_server.base_url]
    code = main(["--diff", str(tmp_path / "change.diff"), "--repo-root", str(repo), *model])

    sent = "\n".join(request.prompt_text for request in model_server.requests)
    assert code == 0
    assert "[REDACTED:" in sent
    assert "Keys for tests" in sent  # the guidelines were sent, redacted
    leaked = [value for value in secret_values() if value in sent]
    assert leaked == []
    assert len(secret_values()) >= 90


def test_may_hold_secret_is_false_only_when_no_pattern_can_match() -> None:
    assert may_hold_secret("password = x")
    assert may_hold_secret("AKIA")
    assert not may_hold_secret("for item in items: print(item)")


def test_a_description_that_only_mentions_an_end_marker_keeps_its_lines() -> None:
    # A whole text starts outside any key; only a hunk may start inside one.
    text = "Parse keys properly.\nThey end with\n-----END RSA PRIVATE KEY-----\nDone."

    assert redact_text(text) == text


@pytest.mark.parametrize(
    ("line", "secret"),
    [
        ('password = "Winter2024!Secure"', "Winter2024!Secure"),  # made by a person, quoted
        ("DB_PASSWORD=Rd!sPa55w0rd2024", "Rd!sPa55w0rd2024"),  # bare, in a .env file
        ("  password: Yh7$kq2Lm9PzX", "Yh7$kq2Lm9PzX"),  # bare, in YAML
        ("Server=db;User Id=sa;Password=S3cr3t!Pass;", "S3cr3t!Pass"),  # a connection string
        ("SECRET_KEY = b'" + "k3J9sP0vXq7LmN2bR8tYw4Zc" + "'", "k3J9sP0vXq7LmN2bR8tYw4Zc"),
    ],
)
def test_assigned_secrets_are_redacted_quoted_or_bare(line: str, secret: str) -> None:
    assert redact_text(line) == line.replace(secret, "[REDACTED:generic-secret]")


def test_a_keys_short_last_line_never_reaches_the_model_as_context(
    model_server: FakeModelServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Line by line, a key's last body line (short, unpadded) looks like any word; only the
    # whole file shows it lies between BEGIN and END.
    monkeypatch.setenv("AI_REVIEW_API_KEY", "sk-test-key-never-printed")
    tail = "q7Zx3PZk9aBcW2"
    body = ["MIIEowIBAAKCAQEA" + "x7Kp2Lm9Qr4Tv8Wz" * 3, "Zm9vYmFyYmF6cXV4" * 4, tail]
    key = ["-----BEGIN RSA PRIVATE KEY-----", *body, "-----END RSA PRIVATE KEY-----"]
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "deploy.py").write_text("KEY = '''\n" + "\n".join(key) + "\n'''\nrun()\n")
    diff = "--- a/deploy.py\n+++ b/deploy.py\n@@ -8,1 +8,2 @@\n run()\n+run_again()\n"
    (tmp_path / "change.diff").write_text(diff, encoding="utf-8")
    model_server.set_default(findings_reply())

    model = ["--model", "openai/gpt-4.1-mini", "--api-base", model_server.base_url]
    code = main(["--diff", str(tmp_path / "change.diff"), "--repo-root", str(repo), *model])

    sent = "\n".join(request.prompt_text for request in model_server.requests)
    assert code == 0
    assert "run_again()" in sent and "END RSA PRIVATE KEY" in sent  # the context was sent
    assert tail not in sent
