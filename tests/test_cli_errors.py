"""What a user sees when the model side fails: exit codes and the one stderr line, in every
output format, through `main(argv)` against the HTTP model fake."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import pytest

from reviewer.cli import build_parser, main
from tests.conftest import EXAMPLES
from tests.fakes.model_server import FakeModelServer, Reply, error_reply, findings_reply

SAMPLE = str(EXAMPLES / "sample.diff")  # its built-in findings: a critical AWS key, a high
MODEL = "openai/gpt-4.1-mini"
FOUND = {
    "path": "shop/cart.py",
    "line": 24,
    "quote": "del self.items[index + 1]",
    "severity": "high",
    "category": "bug",
    "title": "remove() deletes the item after the matching one",
    "body": "b",
}


@pytest.fixture(autouse=True)
def api_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AI_REVIEW_API_KEY", "sk-test-key-never-printed")


def down() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}/v1"


def config(tmp_path: Path, **values: Any) -> str:
    path = tmp_path / "review.toml"
    path.write_text("".join(f"{k} = {json.dumps(v)}\n" for k, v in values.items()))
    return str(path)


@pytest.mark.parametrize("fmt", ["text", "json", "markdown", "sarif", "codequality"])
def test_endpoint_down_exits_3_with_one_line_and_a_report_in_every_format(
    fmt: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    base, output = down(), tmp_path / "report"
    cfg = config(tmp_path, max_retries=0)
    args = ["--diff", SAMPLE, "--model", MODEL, "--api-base", base, "--config", cfg]
    code = main([*args, "--format", fmt, "--output", str(output)])
    err = capsys.readouterr().err
    assert code == 3
    assert err.count("\n") == 1 and err.startswith("ai-review: error: ")
    host = base.removeprefix("http://").removesuffix("/v1")
    assert f"cannot connect to {host}: connection refused" in err
    assert "HTTP 500" not in err and "InternalServerError" not in err
    assert "sk-test-key" not in err
    assert "AWS" in output.read_text()  # what was done is still reported


def test_a_gate_finding_exits_1_even_when_every_chunk_failed(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    cfg = config(tmp_path, max_retries=0)
    code = main(["--diff", SAMPLE, "--model", MODEL, "--api-base", down(), "--config", cfg,
                 "--format", "codequality", "--fail-on", "critical"])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 1  # the leaked key blocks the merge, outage or not
    assert "connection refused" in err  # and the outage is still told


def test_a_gateway_400_on_every_model_is_a_configuration_error(
    capsys: pytest.CaptureFixture[str], model_server: FakeModelServer
) -> None:
    model_server.set_default(error_reply(400, message="No connected db."))
    code = main(["--diff", SAMPLE, "--model", MODEL, "--fallback-model", "openai/gpt-4.1",
                 "--api-base", model_server.base_url, "--format", "json"])  # fmt: skip
    out, err = capsys.readouterr()
    assert code == 2
    assert err.count("\n") == 1 and "No connected db." in err and "model name" in err
    assert json.loads(out)["summary"]["failed_chunks"] == 1
    assert len(model_server.requests) == 2  # each model once: a 400 is not retried


def test_retries_and_fallback_answers_are_counted_in_the_report(
    capsys: pytest.CaptureFixture[str], model_server: FakeModelServer
) -> None:
    model_server.queue(*[error_reply(503, "0")] * 4, findings_reply(FOUND))
    # --depth trivial: one review call, no verification, so the figures are this call's
    code = main(["--diff", SAMPLE, "--model", MODEL, "--fallback-model", "openai/gpt-4.1",
                 "--api-base", model_server.base_url, "--format", "json",
                 "--depth", "trivial"])  # fmt: skip
    out, err = capsys.readouterr()
    summary = json.loads(out)["summary"]
    assert code == 0 and err == ""
    assert (summary["llm_calls"], summary["retries"], summary["fallback_calls"]) == (5, 4, 1)
    assert len(model_server.requests) == summary["llm_calls"]


def test_a_slow_drip_ends_at_timeout_s(
    capsys: pytest.CaptureFixture[str], model_server: FakeModelServer, tmp_path: Path
) -> None:
    model_server.set_default(findings_reply(FOUND, drip_s=0.05))
    cfg = config(tmp_path, timeout_s=0.3, max_retries=0)
    code = main(["--diff", SAMPLE, "--model", MODEL, "--api-base", model_server.base_url,
                 "--config", cfg, "--format", "json"])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 3 and "timed out after 0.3 s" in err


def two_files(tmp_path: Path) -> str:
    """A diff of two new files, each too big to share a 500-token chunk with the other."""
    parts = []
    for name in ("one.py", "two.py"):
        lines = [
            f"+value_{i} = compute_something_long({i}, 'argument number {i}')" for i in range(60)
        ]
        parts.append(f"--- /dev/null\n+++ b/{name}\n@@ -0,0 +1,60 @@\n" + "\n".join(lines))
    path = tmp_path / "two.diff"
    path.write_text("\n".join(parts) + "\n")
    return str(path)


def test_one_failed_chunk_of_several_warns_and_exits_0(
    capsys: pytest.CaptureFixture[str], model_server: FakeModelServer, tmp_path: Path
) -> None:
    def answer(body: dict[str, Any]) -> Reply:
        user = body["messages"][1]["content"]
        return Reply(reset=True) if "two.py" in user else findings_reply()

    model_server.respond_with(answer)
    cfg = config(tmp_path, max_retries=0, chunk_tokens=500)
    code = main(["--diff", two_files(tmp_path), "--model", MODEL, "--api-base",
                 model_server.base_url, "--config", cfg, "--format", "json"])  # fmt: skip
    out, err = capsys.readouterr()
    summary = json.loads(out)["summary"]
    assert 0 < summary["failed_chunks"] < summary["chunks"]
    assert code == 0
    assert err.startswith("ai-review: warning: ") and "reset" in err and err.count("\n") == 1


def test_an_empty_diff_still_writes_the_report(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    empty, output = tmp_path / "empty.diff", tmp_path / "gl-code-quality.json"
    empty.write_text("")
    assert main(["--diff", str(empty), "--format", "codequality", "--output", str(output)]) == 0
    assert json.loads(output.read_text()) == []
    assert "nothing to review" in capsys.readouterr().err


def test_help_describes_every_flag_and_ends_with_environment_and_exit_codes(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["--help"]) == 0
    text = capsys.readouterr().out
    undescribed = [a.option_strings for a in build_parser()._actions if not a.help]
    assert undescribed == []
    tail = text[text.index("environment variables:") :]
    assert "AI_REVIEW_API_KEY" in tail and "GITHUB_TOKEN" in tail and "CI_SERVER_URL" in tail
    assert "exit codes:" in tail and all(f"\n  {code}  " in tail for code in "0123")


def test_a_fully_cached_rerun_never_imports_litellm(
    capsys: pytest.CaptureFixture[str], model_server: FakeModelServer, tmp_path: Path
) -> None:
    import subprocess
    import sys

    args = ["--diff", SAMPLE, "--model", MODEL, "--api-base", model_server.base_url,
            "--cache-dir", str(tmp_path / "cache"), "--format", "json"]  # fmt: skip
    assert main(args) == 0  # fills the cache
    capsys.readouterr()
    code = (
        "import sys; from reviewer.cli import main; "
        f"code = main({args!r}); print(code, 'litellm' in sys.modules, file=sys.stderr)"
    )
    root = Path(__file__).resolve().parent.parent
    env = {"AI_REVIEW_API_KEY": "sk-test", "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=root, env=env, check=True
    )
    assert done.stderr.strip().splitlines()[-1] == "0 False"
    assert json.loads(done.stdout)["summary"]["cache_hits"] == 1
    assert len(model_server.requests) == 1


def test_the_command_ends_at_once_after_litellm_with_its_output_flushed(tmp_path: Path) -> None:
    import subprocess
    import sys

    # A stand-in module: the fast exit only looks at whether litellm was loaded.
    code = (
        "import sys, types; sys.modules['litellm'] = types.ModuleType('litellm'); "
        "from reviewer.cli import console; "
        f"sys.argv = ['ai-review', '--diff', {SAMPLE!r}, '--format', 'json', '--fail-on', 'high']; "
        "console()"
    )
    root = Path(__file__).resolve().parent.parent
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=root, check=False
    )
    assert done.returncode == 1  # the gate's exit code survives the fast exit
    assert len(json.loads(done.stdout)["findings"]) == 2  # and the whole report is out
    plain = "import sys; from reviewer.cli import console; sys.argv = ['ai-review']; console()"
    done = subprocess.run(
        [sys.executable, "-c", plain], capture_output=True, text=True, cwd=root, check=False
    )
    assert done.returncode == 2 and done.stderr.startswith("ai-review: error: say what")
