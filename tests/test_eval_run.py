"""`ai-review eval` end to end: the scripted HTTP model answers the reviews and the judge."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from reviewer.cli import main
from tests.eval_fixtures import JUDGE, MODEL, serve, write_cases
from tests.fakes.model_server import FakeModelServer, error_reply

ONE_PASS = 'depth = "trivial"\n'  # the answers below are worked out for one review pass


def single_pass(tmp_path: Path) -> str:
    """A config for the tests whose right answers assume one pass (the default is auto)."""
    path = tmp_path / "one-pass.toml"
    path.write_text(ONE_PASS)
    return str(path)


def run_eval(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["eval", *args])
    out, err = capsys.readouterr()
    return code, out, err


def report(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    code, out, err = run_eval(capsys, *args, "--format", "json")
    assert code == 0, err
    data: dict[str, Any] = json.loads(out)
    return data


@pytest.fixture
def model(model_server: FakeModelServer, monkeypatch: pytest.MonkeyPatch) -> FakeModelServer:
    monkeypatch.setenv("AI_REVIEW_API_KEY", "sk-test")
    return serve(model_server)


def test_figures_on_cases_whose_answers_are_known(
    model: FakeModelServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cases = write_cases(tmp_path / "cases")
    data = report(capsys, str(cases), "--model", MODEL, "--api-base", model.base_url,
                  "--judge", JUDGE, "--config", single_pass(tmp_path))  # fmt: skip
    figures = data["variants"]["default"]
    assert {k: figures[k] for k in ("cases", "tp", "fp", "fn")} == {
        "cases": 4, "tp": 3, "fp": 5, "fn": 1,
    }  # fmt: skip
    assert figures["precision"] == 0.375  # 3 / 8
    assert figures["recall"] == 0.75  # 3 / 4
    assert figures["f1"] == 0.5  # 2·3 / (2·3 + 1 + 5)
    assert figures["f0_5"] == 0.417  # 1.25·3 / (1.25·3 + 0.25·1 + 5)
    assert figures["clean_false_alarms"] == 1
    assert figures["negatives_hit"] == 1
    assert figures["findings_per_case"] == 2.0
    assert figures["cost_usd_total"] > 0
    by_case = {c["id"]: c for c in data["cases"]}
    assert [pair[0] for pair in by_case["bug"]["tp"]] == ["g1"]
    assert by_case["bug"]["fn"] == ["g2"] and len(by_case["bug"]["fp"]) == 2
    assert len(by_case["twice"]["tp"]) == 1 and len(by_case["twice"]["fp"]) == 1
    # the judge is asked once per gated comment: bug g1, negative g1 and n1, twice g1
    assert data["judge"] == {"model": JUDGE, "calls": 4, "cost_usd": data["judge"]["cost_usd"],
                             "failed": 0}  # fmt: skip
    judged = [r for r in model.requests if r.body["model"] == JUDGE.split("/")[1]]
    assert len(judged) == 4


def test_location_judge_matches_the_nearest_finding_whatever_it_says(
    model: FakeModelServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cases = write_cases(tmp_path / "cases")
    data = report(capsys, str(cases), "--model", MODEL, "--api-base", model.base_url,
                  "--config", single_pass(tmp_path))  # fmt: skip
    figures = data["variants"]["default"]
    # "bug" g1 now takes the finding on its own line; "negative" g1 the one a line away
    assert (figures["tp"], figures["fp"], figures["fn"]) == (3, 5, 1)
    assert data["judge"]["model"] == "location" and data["judge"]["calls"] == 0
    assert all(r.body["model"] == "gpt-4.1-mini" for r in model.requests)


def test_match_lines_narrows_the_gate(
    model: FakeModelServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cases = write_cases(tmp_path / "cases")
    data = report(capsys, str(cases), "--model", MODEL, "--api-base", model.base_url,
                  "--match-lines", "0")  # fmt: skip
    # the "negative" case's golden comment is on line 9, its finding on line 8
    assert data["variants"]["default"]["tp"] == 2


def test_record_then_replay_gives_the_same_figures_without_a_request(
    model: FakeModelServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cases = write_cases(tmp_path / "cases")
    recording = tmp_path / "recording"
    args = [str(cases), "--model", MODEL, "--api-base", model.base_url, "--judge", JUDGE,
            "--config", single_pass(tmp_path)]  # fmt: skip
    recorded = report(capsys, *args, "--record", str(recording))
    sent = len(model.requests)
    assert sent == 8  # four reviews, four judge calls
    replayed = report(capsys, *args, "--replay", str(recording))
    assert len(model.requests) == sent
    assert replayed == recorded


def test_a_request_missing_from_the_recording_names_the_case(
    model: FakeModelServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cases = write_cases(tmp_path / "cases")
    recording = tmp_path / "recording"
    args = [str(cases), "--model", MODEL, "--api-base", model.base_url]
    report(capsys, *args, "--record", str(recording))
    (tmp_path / "cases" / "twice.diff").write_text(
        (tmp_path / "cases" / "twice.diff").read_text().replace("step 3", "step three")
    )
    code, out, err = run_eval(capsys, *args, "--replay", str(recording))
    assert code == 2 and out == ""
    assert err.startswith("ai-review: error: case 'twice' (line 4, variant default): --replay")
    assert "record again with --record" in err and err.count("\n") == 1


def test_variants_side_by_side_with_the_difference_to_the_baseline(
    model: FakeModelServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cases = write_cases(tmp_path / "cases")
    (tmp_path / "all.toml").write_text(f'model = "{MODEL}"\n{ONE_PASS}')
    (tmp_path / "few.toml").write_text(f'model = "{MODEL}"\nmax_comments = 1\n{ONE_PASS}')
    args = [str(cases), "--api-base", model.base_url, "--judge", JUDGE,
            "--variant", f"all={tmp_path / 'all.toml'}",
            "--variant", f"few={tmp_path / 'few.toml'}"]  # fmt: skip
    data = report(capsys, *args)
    assert list(data["variants"]) == ["all", "few"]
    few = data["variants"]["few"]
    # one comment per case, the first by line: "bug" keeps its hit, "clean" its false alarm,
    # "negative" the known-wrong comment (its golden one is missed), "twice" one hit
    assert (few["tp"], few["fp"], few["fn"], few["negatives_hit"]) == (2, 2, 2, 1)
    assert few["precision"] == 0.5 and few["findings_per_case"] == 1.0
    code, out, _ = run_eval(capsys, *args, "--format", "markdown")
    assert code == 0
    assert "| | all (baseline) | few |" in out
    assert "| precision | 0.375 | 0.500 (+0.125) |" in out
    assert "| false positives | 5 | 2 (-3) |" in out
    assert f"judge: {JUDGE}, 7 calls" in out  # 4 for "all", 3 for "few"


def test_text_report_is_a_table_with_the_judge_named(
    model: FakeModelServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cases = write_cases(tmp_path / "cases")
    output = tmp_path / "report.txt"
    code, out, _ = run_eval(capsys, str(cases), "--model", MODEL, "--api-base", model.base_url,
                            "--config", single_pass(tmp_path), "--output", str(output))  # fmt: skip
    text = output.read_text()
    assert code == 0 and out == ""
    assert "default (baseline)" in text and "precision" in text and "0.375" in text
    assert "judge: location only; location gate: same path, within 3 lines" in text


def test_failed_reviews_are_reported_and_all_failed_exits_3(
    model_server: FakeModelServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AI_REVIEW_API_KEY", "sk-test")
    (tmp_path / "c.toml").write_text("max_retries = 0\n")
    model_server.set_default(error_reply(500))
    cases = write_cases(tmp_path / "cases")
    code, out, err = run_eval(capsys, str(cases), "--model", MODEL, "--api-base",
                              model_server.base_url, "--config", str(tmp_path / "c.toml"),
                              "--format", "json")  # fmt: skip
    assert code == 3
    assert json.loads(out)["variants"]["default"]["incomplete_cases"] == 4
    assert "4 of 4 reviews are incomplete" in err


def test_a_failing_judge_is_counted_not_fatal(
    model_server: FakeModelServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AI_REVIEW_API_KEY", "sk-test")
    serve(model_server)
    scripted = model_server.state.responder
    assert scripted is not None

    def judge_down(body: dict[str, Any]) -> Any:
        return error_reply(401) if body["model"] == "gpt-4.1" else scripted(body)

    model_server.respond_with(judge_down)
    cases = write_cases(tmp_path / "cases")
    data = report(capsys, str(cases), "--model", MODEL, "--api-base", model_server.base_url,
                  "--judge", JUDGE)  # fmt: skip
    assert data["judge"]["failed"] == data["judge"]["calls"] == 4
    assert data["variants"]["default"]["tp"] == 0


def test_without_a_model_the_evaluation_says_what_to_set(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cases = write_cases(tmp_path / "cases")
    code, _, err = run_eval(capsys, str(cases))
    assert code == 2
    assert err == (
        "ai-review: error: case 'bug' (line 1, variant default): no model: set --model, "
        "AI_REVIEW_MODEL or `model` in the config\n"
    )


def test_a_renamed_variant_replays_without_inventing_a_latency(
    model: FakeModelServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cases = write_cases(tmp_path / "cases")
    (tmp_path / "v.toml").write_text(f'model = "{MODEL}"\n')
    recording = tmp_path / "recording"
    args = [str(cases), "--api-base", model.base_url]
    recorded = report(capsys, *args, "--variant", f"a={tmp_path / 'v.toml'}",
                      "--record", str(recording))  # fmt: skip
    replayed = report(capsys, *args, "--variant", f"b={tmp_path / 'v.toml'}",
                      "--replay", str(recording))  # fmt: skip
    assert recorded["variants"]["a"]["latency_s_median"] is not None
    figures = replayed["variants"]["b"]
    assert figures["latency_s_median"] is None and figures["latency_s_p90"] is None
    assert figures["tp"] == recorded["variants"]["a"]["tp"]
    assert all(case["latency_s"] is None for case in replayed["cases"])


def test_golden_comments_without_location_need_a_model_judge(
    model: FakeModelServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cases = tmp_path / "cases.jsonl"
    diff = (write_cases(tmp_path / "c").parent / "bug.diff").read_text()
    golden = [{"comment": "Division by zero when the list is empty"}]
    cases.write_text(json.dumps({"id": "m", "diff": diff, "golden": golden}) + "\n")
    args = [str(cases), "--model", MODEL, "--api-base", model.base_url, "--format", "json"]
    code, out, err = run_eval(capsys, *args)
    assert code == 0 and json.loads(out)["variants"]["default"]["tp"] == 0
    assert "1 golden comments have no location, and --judge location cannot match them" in err
    code, out, err = run_eval(capsys, *args, "--judge", JUDGE)
    assert json.loads(out)["variants"]["default"]["tp"] == 1 and err == ""


def test_verified_and_full_variants_record_then_replay_with_pass_models_and_tools(
    model: FakeModelServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The verifier, a pass with a model of its own and a tool conversation are recorded
    like any answer, so a replay gives the same figures and sends nothing."""
    cases = write_cases(tmp_path / "cases")
    (tmp_path / "base.toml").write_text(f'model = "{MODEL}"\n{ONE_PASS}')
    (tmp_path / "verified.toml").write_text(f'model = "{MODEL}"\ndepth = "lite"\n')
    (tmp_path / "full.toml").write_text(
        f'model = "{MODEL}"\ndepth = "full"\npasses = ["correctness", "security"]\n'
        'tools = true\n[pass_models]\nsecurity = "openai/gpt-4o-mini"\n'
    )
    recording = tmp_path / "recording"
    variants = [f"--variant={name}={tmp_path / name}.toml" for name in ("base", "verified", "full")]
    args = [str(cases), "--api-base", model.base_url, "--judge", JUDGE, *variants]
    recorded = report(capsys, *args, "--record", str(recording))
    figures = {name: (v["tp"], v["fp"], v["fn"]) for name, v in recorded["variants"].items()}
    # The verifier rejects a naming nit and the clean case's false alarm; it costs no hit.
    assert figures == {"base": (3, 5, 1), "verified": (3, 3, 1), "full": (3, 3, 1)}
    assert recorded["variants"]["verified"]["clean_false_alarms"] == 0
    sent = model.requests
    security = [r for r in sent if "**security** pass" in r.system]
    assert {r.body["model"] for r in security} == {"gpt-4o-mini"}  # its own model
    assert sum(bool(r.tool_results) for r in security) == 4  # one tool turn per case
    assert sum("You are the verifier" in r.system for r in sent) == 8  # lite and full, 4 each
    count = len(sent)
    replayed = report(capsys, *args, "--replay", str(recording))
    assert len(model.requests) == count  # not one request
    assert replayed == recorded


def test_an_evaluation_reaches_the_gateway_as_a_ci_run_does(
    model: FakeModelServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cases = write_cases(tmp_path / "cases")
    (tmp_path / "v.toml").write_text(f'model = "{MODEL}"\ngateway_metadata = "litellm"\n')
    report(capsys, str(cases), "--api-base", model.base_url, "--variant", f"v={tmp_path}/v.toml")
    tags = {r.headers.get("x-litellm-tags") for r in model.requests}
    assert tags == {"ai-review,repository:local,number:-,arm:-,pass:review"}  # as run.py sends
