"""Recordings on disk, the command line's own checks, and the committed example recording."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from pathlib import Path

import pytest

from reviewer.cli import main
from reviewer.errors import InputError, UsageError
from reviewer.evaluate.record import Recording, RecordingGateway, ReplayGateway, request_key
from reviewer.gateway import ModelReply, ToolOffer, price_per_token

ROOT = Path(__file__).resolve().parent.parent
REPLY = ModelReply("{}", "openai/m", 10, 2, 0, 0.001, 0.5, 0, False)


def test_an_answer_round_trips_and_keys_depend_on_model_and_messages(tmp_path: Path) -> None:
    recording = Recording(tmp_path / "rec")
    key = request_key(["openai/m"], "system", "user")
    recording.save(key, REPLY)
    assert recording.load(key) == REPLY
    assert key != request_key(["openai/other"], "system", "user")
    assert key != request_key(["openai/m"], "system", "user!")
    assert recording.load(request_key(["openai/m"], "s", "u")) is None


def test_a_tool_conversation_is_keyed_by_its_tools_and_plain_keys_are_unchanged() -> None:
    spec = {"type": "function", "function": {"name": "read_file"}}
    offer = ToolOffer((spec,), lambda name, arguments: "", 4)
    key = request_key(["openai/m"], "system", "user", offer)
    assert key != request_key(["openai/m"], "system", "user")
    assert key != request_key(["openai/m"], "system", "user", replace(offer, max_calls=2))
    assert key != request_key(["openai/m"], "system", "user", replace(offer, specs=()))
    # Without tools the key is what recordings made before tools used: they still replay.
    plain = json.dumps({"models": ["openai/m"], "system": "s", "user": "u"}, sort_keys=True)
    assert request_key(["openai/m"], "s", "u") == hashlib.sha256(plain.encode()).hexdigest()


def test_replay_counts_tokens_and_prices_without_a_model(tmp_path: Path) -> None:
    gateway = ReplayGateway(["openai/m"], Recording(tmp_path), "the review", len)
    assert gateway.count_tokens("four") == 4
    assert gateway.price() is None  # no such model in litellm's price map
    gateway.prepare()
    known = ReplayGateway(["openai/gpt-4.1-mini"], Recording(tmp_path), "the review", len)
    recording = RecordingGateway(known, Recording(tmp_path))
    assert known.price() == recording.price() == price_per_token("openai/gpt-4.1-mini")
    assert recording.price() is not None
    recording.prepare()
    with pytest.raises(UsageError, match="no recorded answer for the review"):
        gateway.complete("s", "u")


def test_broken_recordings_are_input_errors(tmp_path: Path) -> None:
    recording = Recording(tmp_path)
    (tmp_path / "answers").mkdir()
    (tmp_path / "answers" / "k.json").write_text("{not json")
    with pytest.raises(InputError, match=r"recorded answer .* cannot be read"):
        recording.load("k")
    (tmp_path / "latency.json").write_text("[")
    with pytest.raises(InputError, match=r"latency\.json cannot be read"):
        recording.latencies()
    (tmp_path / "latency.json").write_text("[]")
    assert recording.latencies() == {}


def test_a_recording_that_is_a_file_cannot_be_written(tmp_path: Path) -> None:
    (tmp_path / "rec").write_text("a file")
    recording = Recording(tmp_path / "rec")
    with pytest.raises(UsageError, match="cannot write to --record"):
        recording.save("k", REPLY)
    with pytest.raises(UsageError, match="cannot write to --record"):
        recording.save_latencies({})


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--match-lines", "-1"], "--match-lines must be 0 or more"),
        (["--replay", "nowhere"], "--replay nowhere is not a directory (made with --record)"),
        (["--variant", "baseline"], "--variant baseline: write it as NAME=CONFIG.toml"),
        (["--variant", "a=x.toml", "--variant", "a=y.toml"], "--variant names must be unique"),
        (["--variant", "a=missing.toml"], "variant a: config file missing.toml does not exist"),
        (["--record", "r", "--replay", "r"], "not allowed with argument"),
    ],
)
def test_bad_options_are_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, args: list[str], message: str
) -> None:
    cases = tmp_path / "cases.jsonl"
    cases.write_text('{"id": "a", "diff": ""}\n')
    assert main(["eval", str(cases), *args]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_an_unwritable_output_is_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AI_REVIEW_API_KEY", "sk-test")  # an empty diff: no call is made
    cases = tmp_path / "cases.jsonl"
    cases.write_text('{"id": "a", "diff": ""}\n')
    code = main(["eval", str(cases), "--model", "openai/m", "--output", str(tmp_path)])
    assert code == 2
    assert "cannot write --output" in capsys.readouterr().err


def test_the_readme_example_replays_offline_from_the_committed_recording(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """If this fails after a prompt changed, re-record: `python evals/scripted/record.py`."""
    monkeypatch.chdir(ROOT)
    code = main(["eval", "evals/cases.jsonl", "--variant", "all=evals/variants/all.toml",
                 "--variant", "medium=evals/variants/medium.toml",
                 "--variant", "verified=evals/variants/verified.toml", "--judge",
                 "openai/gpt-4.1-mini", "--replay", "evals/recordings/scripted",
                 "--format", "json"])  # fmt: skip
    out, err = capsys.readouterr()
    assert code == 0, f"{err}\nre-record with: python evals/scripted/record.py"
    data = json.loads(out)
    figures = {name: (v["tp"], v["fp"], v["fn"]) for name, v in data["variants"].items()}
    assert figures == {"all": (12, 10, 5), "medium": (11, 1, 6), "verified": (12, 1, 5)}
    assert all(v["negatives_hit"] == 1 for v in data["variants"].values())
    variants = data["variants"]
    assert variants["verified"]["cost_usd_total"] > variants["all"]["cost_usd_total"]
    assert data["judge"]["calls"] == 40
    readme = (ROOT / "README.md").read_text()
    assert "| true positives | 12 | 11 (-1) | 12 |" in readme  # the table shown is this run's
