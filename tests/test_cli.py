"""The whole pipeline through `main(argv)`, with the real litellm client against a fake model."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from reviewer.cli import main
from tests.conftest import EXAMPLES
from tests.fakes.model_server import (
    FakeModelServer,
    Reply,
    error_reply,
    findings_reply,
    verdicts_reply,
)

SAMPLE = str(EXAMPLES / "sample.diff")
MODEL = "openai/gpt-4.1-mini"

OFF_BY_ONE = {
    "path": "shop/cart.py",
    "line": 24,
    "end_line": 24,
    "quote": "del self.items[index + 1]",
    "severity": "high",
    "category": "bug",
    "title": "remove() deletes the item after the matching one",
    "body": "`index + 1` removes the wrong item, and raises IndexError for the last one.",
    "suggestion": "                del self.items[index]",
    "confidence": 0.9,
}
FLOAT_TOTAL = {
    "path": "shop/cart.py",
    "line": 99,  # wrong on purpose: the quote decides
    "quote": "return total - total * self.discount_percent / 100",
    "severity": "medium",
    "category": "bug",
    "title": "total_cents() returns a float",
    "body": "True division turns the total into a float; use integer arithmetic.",
    "suggestion": None,
    "confidence": 0.7,
}


ONE_PASS = ("--depth", "trivial")


def run_json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any], str]:
    code = main(["--format", "json", *args])
    out, err = capsys.readouterr()
    return code, json.loads(out) if out.strip() else {}, err


def model_args(server: FakeModelServer) -> list[str]:
    return ["--model", MODEL, "--api-base", server.base_url]


@pytest.fixture(autouse=True)
def api_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AI_REVIEW_API_KEY", "sk-test-key-never-printed")


def test_sample_without_model_runs_builtin_checks(capsys: pytest.CaptureFixture[str]) -> None:
    code, report, _ = run_json(capsys, "--diff", SAMPLE)
    assert code == 0
    titles = [(f["path"], f["line"], f["severity"], f["source"]) for f in report["findings"]]
    assert ("shop/settings.py", 4, "critical", "builtin") in titles
    assert ("shop/settings.py", 3, "high", "builtin") in titles  # one conflict, lines 3-7
    assert len(titles) == 2
    assert report["summary"]["llm_calls"] == 0
    assert "AI_REVIEW_MODEL" in report["summary"]["note"]
    assert "AKIAZ7Q4R2M8K1VXW3PL" not in json.dumps(report)


def test_full_review_anchors_dedups_and_sums(
    capsys: pytest.CaptureFixture[str], model_server: FakeModelServer
) -> None:
    duplicate = dict(OFF_BY_ONE, title="remove() deletes the wrong item", confidence=0.6)
    off_diff = dict(FLOAT_TOTAL, quote="def add(self, item: Item) -> None:", line=1, title="x")
    off_diff["quote"] = "class Unrelated:"
    model_server.queue(
        findings_reply(
            OFF_BY_ONE, FLOAT_TOTAL, duplicate, off_diff, prompt_tokens=1200, completion_tokens=300
        ),
        # the default depth (auto) verifies a change of this size: the verifier confirms both
        verdicts_reply(
            {"id": "c1", "verdict": "confirmed", "reason": "index + 1 is off by one"},
            {"id": "c2", "verdict": "confirmed", "reason": "/ is true division"},
            prompt_tokens=500,
            completion_tokens=60,
        ),
    )
    code, report, err = run_json(
        capsys, "--diff", SAMPLE, "--repo-root", str(EXAMPLES), *model_args(model_server)
    )
    assert code == 0, err
    llm = [f for f in report["findings"] if f["source"] == "llm"]
    assert [(f["path"], f["line"], f["end_line"], f["side"], f["severity"]) for f in llm] == [
        ("shop/cart.py", 24, 24, "RIGHT", "high"),
        ("shop/cart.py", 29, 29, "RIGHT", "medium"),
    ]
    assert llm[0]["suggestion"] == "                del self.items[index]"
    reasons = sorted(d["reason"] for d in report["dropped"])
    assert reasons == ["duplicate", "quote matches no line of the diff (possible hallucination)"]
    summary = report["summary"]
    assert summary["chunks"] == 1 and summary["llm_calls"] == 2 and summary["failed_chunks"] == 0
    assert (summary["depth"], summary["passes"]) == ("lite", ["review"])
    assert summary["verification"]["confirmed"] == 2
    assert (summary["prompt_tokens"], summary["completion_tokens"]) == (1700, 360)
    # gpt-4.1-mini in litellm's bundled price map: $0.40 / $1.60 per million tokens
    assert summary["cost_usd"] == pytest.approx(1700 * 0.4e-6 + 360 * 1.6e-6)
    assert summary["models"] == [MODEL]
    assert summary["files_reviewed"] == 2


def test_prompt_carries_context_and_redacts_secrets(
    capsys: pytest.CaptureFixture[str], model_server: FakeModelServer
) -> None:
    code, _, _ = run_json(
        capsys, "--diff", SAMPLE, "--repo-root", str(EXAMPLES), *model_args(model_server)
    )
    assert code == 0
    [request] = model_server.requests
    prompt = request.prompt_text
    assert "AKIAZ7Q4R2M8K1VXW3PL" not in prompt
    assert "[REDACTED" in prompt
    assert "del self.items[index + 1]" in prompt
    assert "class Cart:" in prompt  # enclosing scope from the checkout
    assert request.headers["authorization"] == "Bearer sk-test-key-never-printed"
    assert request.body["messages"][0]["role"] == "system"


def test_retry_after_429_then_success(
    capsys: pytest.CaptureFixture[str], model_server: FakeModelServer
) -> None:
    # Retry-After 0 everywhere: the backoff's own waits are tested with a fake clock
    model_server.queue(error_reply(429, "0"), error_reply(500, "0"), findings_reply(OFF_BY_ONE))
    # --depth trivial: one review call and no verification, so every request is that call's
    code, report, _ = run_json(capsys, "--diff", SAMPLE, *model_args(model_server), *ONE_PASS)
    assert code == 0
    assert len(model_server.requests) == 3
    assert report["summary"]["failed_chunks"] == 0
    assert any(f["title"] == OFF_BY_ONE["title"] for f in report["findings"])


def test_fallback_model_answers_when_primary_fails(
    capsys: pytest.CaptureFixture[str], model_server: FakeModelServer, tmp_path: Path
) -> None:
    model_server.queue(*[error_reply(503, "0")] * 4, findings_reply(OFF_BY_ONE))
    fallback = ("--fallback-model", "openai/gpt-4.1")
    # --depth trivial: one review call and no verification, so every request is that call's
    code, report, _ = run_json(
        capsys, "--diff", SAMPLE, *model_args(model_server), *fallback, *ONE_PASS
    )
    assert code == 0
    assert [r.body["model"] for r in model_server.requests] == ["gpt-4.1-mini"] * 4 + ["gpt-4.1"]
    assert report["summary"]["models"] == [MODEL, "openai/gpt-4.1"]


def test_model_unreachable_exits_3_and_still_reports(
    capsys: pytest.CaptureFixture[str], model_server: FakeModelServer
) -> None:
    model_server.set_default(error_reply(500, "0"))  # no real backoff waits in a test
    code, report, err = run_json(capsys, "--diff", SAMPLE, *model_args(model_server))
    assert code == 3
    assert err.count("\n") == 1 and "HTTP 500" in err and "every model call failed" in err
    assert report["summary"]["failed_chunks"] == report["summary"]["chunks"] == 1
    assert any(f["source"] == "builtin" for f in report["findings"])  # nothing lost
    assert {s["reason"] for s in report["summary"]["files_skipped"]} == {
        "not reviewed: the model call failed"
    }
    assert "sk-test-key" not in err


def test_malformed_and_truncated_answers(
    capsys: pytest.CaptureFixture[str], model_server: FakeModelServer
) -> None:
    text = json.dumps({"findings": [OFF_BY_ONE, FLOAT_TOTAL]})
    truncated = text[: len(text) - 40]  # cut inside the second finding, trailing comma added
    model_server.queue(Reply(content="Sure!\n```json\n" + truncated.replace("}, {", "},, {")))
    code, report, _ = run_json(capsys, "--diff", SAMPLE, *model_args(model_server))
    assert code == 0
    assert [f["line"] for f in report["findings"] if f["source"] == "llm"] == [24]


def test_unreadable_answer_is_a_failed_chunk(
    capsys: pytest.CaptureFixture[str], model_server: FakeModelServer
) -> None:
    model_server.queue(Reply(content="I cannot review this."))
    code, report, _ = run_json(capsys, "--diff", SAMPLE, *model_args(model_server))
    assert code == 3
    assert report["summary"]["errors"] == [
        "answer not understood: the answer holds no findings list"
    ]


def test_fail_on_sets_exit_code(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--diff", SAMPLE, "--format", "json", "--fail-on", "critical"]) == 1
    assert (
        main(
            [
                "--diff",
                SAMPLE,
                "--format",
                "json",
                "--min-severity",
                "critical",
                "--fail-on",
                "high",
            ]
        )
        == 1
    )
    capsys.readouterr()


def test_output_file_and_markdown(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    target = tmp_path / "review.md"
    assert main(["--diff", SAMPLE, "--format", "markdown", "--output", str(target)]) == 0
    assert capsys.readouterr().out == ""
    assert "Unresolved merge-conflict marker" in target.read_text()


def test_text_report_on_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--diff", SAMPLE]) == 0
    out = capsys.readouterr().out
    assert "shop/settings.py" in out and "AKIAZ7Q4R2M8K1VXW3PL" not in out


def test_stdin_diff(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    import io
    import sys

    stdin = io.TextIOWrapper(io.BytesIO(Path(SAMPLE).read_bytes()))
    monkeypatch.setattr(sys, "stdin", stdin)
    code, report, _ = run_json(capsys, "--diff", "-")
    assert code == 0 and len(report["findings"]) == 2


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"hello, this is not a diff\n", "not a unified diff"),
        (bytes(range(256)) * 8, "not a unified diff"),
        (b"--- a/x\n+++ b/x\n@@ -1,5 +1,5 @@\n a\n-b\n", "truncated"),
    ],
)
def test_bad_input_exits_2_with_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "input.diff"
    path.write_bytes(content)
    assert main(["--diff", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1 and message in captured.err
    assert "Traceback" not in captured.err


def test_missing_file_and_empty_diff(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["--diff", str(tmp_path / "nope.diff")]) == 2
    assert "does not exist" in capsys.readouterr().err
    empty = tmp_path / "empty.diff"
    empty.write_text("")
    assert main(["--diff", str(empty)]) == 0
    assert "nothing to review" in capsys.readouterr().err


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main([]) == 2
    assert main(["--diff", SAMPLE, "--min-severity", "urgent"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 2 and "Traceback" not in err
    bad = tmp_path / ".ai-review.toml"
    bad.write_text('model = "x"\ncolour = "blue"\n')
    assert main(["--diff", SAMPLE, "--config", str(bad)]) == 2
    assert "unknown key 'colour'" in capsys.readouterr().err


def test_help_does_not_import_litellm() -> None:
    import subprocess
    import sys

    code = (
        "import sys; from reviewer.cli import build_parser; build_parser().format_help(); "
        "print('litellm' in sys.modules)"
    )
    root = Path(__file__).resolve().parent.parent
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=root
    )
    assert result.stdout.strip() == "False"


def test_missing_api_key_is_a_usage_error_before_any_call(
    capsys: pytest.CaptureFixture[str],
    model_server: FakeModelServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("AI_REVIEW_API_KEY")
    assert main(["--diff", SAMPLE, *model_args(model_server)]) == 2
    err = capsys.readouterr().err
    assert err == (
        "ai-review: error: no API key for openai/gpt-4.1-mini: set OPENAI_API_KEY "
        "(or AI_REVIEW_API_KEY), e.g. as a masked CI secret\n"
    )
    assert model_server.requests == []
    monkeypatch.setenv("OPENAI_API_KEY", "sk-provider-key")
    assert main(["--diff", SAMPLE, "--format", "json", *model_args(model_server)]) == 0
    assert model_server.requests[0].headers["authorization"] == "Bearer sk-provider-key"


def test_version_and_help_return_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr().out == "ai-review 0.1.0\n"
    assert main(["--help"]) == 0
    assert "--fail-on" in capsys.readouterr().out


def test_a_refused_api_key_is_a_configuration_error(
    capsys: pytest.CaptureFixture[str], model_server: FakeModelServer
) -> None:
    model_server.set_default(error_reply(401))
    code, report, err = run_json(capsys, "--diff", SAMPLE, *model_args(model_server))
    assert code == 2
    assert err.count("\n") == 1 and "refused the API key" in err
    assert "HTTP 401 from 127.0.0.1:" in err and "scripted 401" in err  # the gateway's own words
    assert report["summary"]["failed_chunks"] == 1  # the review is still reported
    assert len(model_server.requests) == 1  # a 401 is not retried
