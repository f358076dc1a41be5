from __future__ import annotations

import json
import re
from dataclasses import replace
from typing import Any

import pytest

from reviewer.model import DropCode, Dropped, Finding, ReviewResult, SkipCode, Skipped, Summary
from reviewer.report import FORMATS, render, summary_dict, to_json
from reviewer.report.codequality import to_codequality
from reviewer.report.markdown import to_markdown
from reviewer.report.sarif import to_sarif
from reviewer.report.text import lexer_for, to_text
from reviewer.sanitize import MAX_COMMENT_CHARS

BUG = Finding(
    path="src/app.py",
    line=42,
    end_line=44,
    side="RIGHT",
    severity="high",
    category="bug",
    title="Total ignores the quantity",
    body="`total` is computed with `+`; it should multiply.",
    suggestion="total = price * qty",
    confidence=0.8,
    source="llm",
    fingerprint="fp-bug",
    code="total = price + qty",
)
STYLE = replace(
    BUG,
    line=3,
    end_line=3,
    severity="medium",
    category="style",
    title="Unused import",
    body="",
    suggestion=None,
    confidence=0.5,
    source="builtin",
    fingerprint="fp-style",
    code="import os",
)
SECRET = replace(
    BUG,
    path="deploy/config.ts",
    line=7,
    end_line=7,
    severity="critical",
    category="security",
    title="Hard-coded token",
    body="Move it to a secret.",
    suggestion=None,
    fingerprint="fp-secret",
    code='const token = "abc";',
)
SUMMARY = Summary(
    models=("openai/gpt-4.1-mini", "anthropic/claude-haiku-4-5"),
    chunks=12,
    failed_chunks=1,
    llm_calls=13,
    prompt_tokens=18000,
    completion_tokens=2100,
    cached_tokens=4000,
    cost_usd=0.0123,
    latency_total_s=14.23456,
    latency_llm_s=12.9004,
    files_reviewed=9,
    files_skipped=(
        Skipped("package-lock.json", SkipCode.GENERATED),
        Skipped("big.py", SkipCode.OVER_BUDGET, "budget cap"),
    ),
    arm="frontier",
    cache_hits=3,
    errors=("chunk 4: model timed out",),
    notes=("Set AI_REVIEW_MODEL to enable the model pass.",),
)
DROPPED = Dropped(path="src/util.py", line=7, title="Possible None", code=DropCode.NOT_ON_DIFF)
RESULT = ReviewResult(findings=(BUG, STYLE, SECRET), dropped=(DROPPED,), summary=SUMMARY)
EMPTY = ReviewResult(findings=(), dropped=(), summary=Summary())
HOSTILE = replace(
    BUG,
    title="[bold]oops[/bold] @octocat",
    body="Ask @octocat. <img src=x onerror=alert(1)> ![x](http://evil/p.png) [/]",
    suggestion="x = '```'\n[/red]",
)


def unknown_cost(result: ReviewResult) -> ReviewResult:
    return replace(result, summary=replace(result.summary, cost_usd=None))


# --- json ---------------------------------------------------------------------------------


def test_json_report_has_the_contract_shape() -> None:
    report = json.loads(to_json(RESULT))
    assert report["findings"][1] == {
        "path": "src/app.py",
        "line": 42,
        "end_line": 44,
        "side": "RIGHT",
        "severity": "high",
        "category": "bug",
        "title": "Total ignores the quantity",
        "body": "`total` is computed with `+`; it should multiply.",
        "suggestion": "total = price * qty",
        "confidence": 0.8,
        "source": "llm",
        "fingerprint": "fp-bug",
    }
    # by severity, then path and line, whatever order the review produced them in
    assert [f["fingerprint"] for f in report["findings"]] == ["fp-secret", "fp-bug", "fp-style"]
    assert report["findings"][2]["suggestion"] is None
    assert report["dropped"] == [
        {
            "path": "src/util.py",
            "line": 7,
            "title": "Possible None",
            "reason": "not on a line the diff shows",
        }
    ]
    assert report["summary"] == {
        "models": ["openai/gpt-4.1-mini", "anthropic/claude-haiku-4-5"],
        "chunks": 12,
        "failed_chunks": 1,
        "llm_calls": 13,
        "prompt_tokens": 18000,
        "completion_tokens": 2100,
        "cached_tokens": 4000,
        "cost_usd": 0.0123,
        "latency_s": {"total": 14.235, "llm": 12.9},
        "files_reviewed": 9,
        "files_skipped": [
            {"path": "package-lock.json", "reason": "generated"},
            {"path": "big.py", "reason": "not reviewed: budget cap"},
        ],
        "arm": "frontier",
        "retries": 0,
        "fallback_calls": 0,
        "cache_hits": 3,
        "errors": ["chunk 4: model timed out"],
        "note": "Set AI_REVIEW_MODEL to enable the model pass.",
    }


def test_json_summary_leaves_out_what_is_not_known_and_keeps_unknown_cost_null() -> None:
    summary = summary_dict(Summary(cost_usd=None))
    assert summary["cost_usd"] is None
    assert summary["arm"] is None
    assert "cache_hits" not in summary
    assert "errors" not in summary
    assert "note" not in summary
    assert list(summary) == [
        "models",
        "chunks",
        "failed_chunks",
        "llm_calls",
        "prompt_tokens",
        "completion_tokens",
        "cached_tokens",
        "cost_usd",
        "latency_s",
        "files_reviewed",
        "files_skipped",
        "arm",
        "retries",
        "fallback_calls",
    ]
    assert (summary["retries"], summary["fallback_calls"]) == (0, 0)


def test_retries_and_fallback_answers_show_when_there_were_any() -> None:
    busy = replace(RESULT, summary=replace(RESULT.summary, retries=4, fallback_calls=1))
    report = json.loads(to_json(busy))["summary"]
    assert (report["retries"], report["fallback_calls"]) == (4, 1)
    text = to_text(busy, width=100, color=False)
    assert re.search(r"Retries +4", text) and re.search(r"Fallback answers +1", text)
    markdown = to_markdown(busy)
    assert "| Model calls | 13 (4 retries, 1 answered by a fallback model) |" in markdown
    once = replace(RESULT, summary=replace(RESULT.summary, retries=1))
    assert "| Model calls | 13 (1 retry) |" in to_markdown(once)


def test_json_is_indented_unicode_and_ends_with_a_newline() -> None:
    text = to_json(replace(EMPTY, findings=(replace(BUG, title="Überlauf"),)))
    assert text.endswith("}\n")
    assert "Überlauf" in text
    assert '\n  "findings": [' in text
    assert to_json(RESULT) == to_json(RESULT)


# --- markdown -----------------------------------------------------------------------------


def test_markdown_groups_findings_by_severity_most_severe_first() -> None:
    text = to_markdown(RESULT)
    assert text.startswith("## AI review\n\n3 findings: 1 critical, 1 high, 1 medium")
    critical = text.index("**[critical] Hard-coded token** — `deploy/config.ts:7`")
    high = text.index("**[high] Total ignores the quantity** — `src/app.py:42-44`")
    medium = text.index("**[medium] Unused import** — `src/app.py:3`")
    assert critical < high < medium
    assert "> `total` is computed with `+`; it should multiply." in text
    assert "```py\ntotal = price * qty\n```" in text


def test_markdown_lists_dropped_and_skipped_and_details() -> None:
    text = to_markdown(RESULT, head_sha="0123456789abcdef")
    dropped = "- `src/util.py:7` — Possible None (not on a line the diff shows)"
    assert f"### Not posted inline\n\n{dropped}" in text
    assert (
        "### Not reviewed\n\n- `package-lock.json` — generated\n"
        "- `big.py` — not reviewed: budget cap" in text
    )
    assert "| Model(s) | `openai/gpt-4.1-mini`, `anthropic/claude-haiku-4-5` |" in text
    assert "| Arm | `frontier` |" in text
    assert "| Chunks (failed) | 12 (1) |" in text
    assert "| Model calls | 13 |" in text
    assert "| Tokens in / out | 18,000 / 2,100 (4,000 cached) |" in text
    assert "| Cost (USD) | $0.0123 |" in text
    assert "| Latency total / model | 14.2 s / 12.9 s |" in text
    assert "| Cache hits | 3 |" in text
    assert "| Reviewed head | `0123456` |" in text
    assert "- chunk 4: model timed out" in text
    assert "**Note:** Set AI_REVIEW_MODEL to enable the model pass." in text
    assert "incomplete: 1 of 12 chunks failed" in text


def test_markdown_shows_unknown_cost_never_zero() -> None:
    text = to_markdown(unknown_cost(RESULT))
    assert "| Cost (USD) | unknown |" in text
    assert "$0" not in text


def test_markdown_without_findings() -> None:
    text = to_markdown(EMPTY)
    assert "No findings." in text
    assert "Not posted inline" not in text
    assert "Not reviewed" not in text
    assert "Cache hits" not in text
    assert "| Arm |" not in text
    assert "Reviewed head" not in text


def test_markdown_marker_comes_first() -> None:
    marker = "<!-- ai-review:summary -->"
    assert to_markdown(EMPTY, marker=marker).startswith(marker + "\n## AI review")


def test_markdown_neutralizes_model_text() -> None:
    text = to_markdown(replace(EMPTY, findings=(HOSTILE,)))
    assert "@octocat" not in text
    assert "@\u200boctocat" in text
    assert "<img" not in text
    assert "&lt;img src=x onerror=alert(1)&gt;" in text
    assert "http://evil/p.png" not in text
    # the suggestion stays code, in a fence its own backticks cannot close
    assert "````py\nx = '```'\n[/red]\n````" in text


def test_markdown_fits_in_one_comment_and_keeps_the_details() -> None:
    huge = tuple(
        replace(BUG, fingerprint=f"fp{n}", body="long line of text\n" * 300) for n in range(100)
    )
    text = to_markdown(replace(RESULT, findings=huge))
    assert len(text) <= MAX_COMMENT_CHARS
    assert "… (truncated)" in text
    assert "| Cost (USD) | $0.0123 |" in text


def test_markdown_caps_long_suggestions_and_error_lists() -> None:
    long = replace(BUG, suggestion="x = 1\n" * 2000)
    errors = tuple(f"chunk {n}: failed" for n in range(15))
    result = ReviewResult((long,), (), replace(SUMMARY, errors=errors))
    text = to_markdown(result)
    assert "Suggested change: too long to show here (2000 lines)." in text
    assert "- chunk 9: failed\n- … and 5 more" in text
    assert "chunk 10: failed" not in text


def test_markdown_left_side_findings_say_so() -> None:
    text = to_markdown(replace(EMPTY, findings=(replace(STYLE, side="LEFT"),)))
    assert "`src/app.py:3` (removed lines, old file numbering)" in text


# --- text ---------------------------------------------------------------------------------


def test_text_shows_findings_by_severity_with_code_and_summary() -> None:
    text = to_text(unknown_cost(RESULT), width=100, color=False)
    assert "\x1b[" not in text
    assert re.search(r"^Critical \(1\) ─+$", text, re.MULTILINE)
    assert re.search(r"^High \(1\) ─+$", text, re.MULTILINE)
    assert "deploy/config.ts:7" in text
    assert "HIGH [bug] Total ignores the quantity" in text
    assert "src/app.py:42-44" in text
    assert "42 total = price + qty" in text
    assert "total = price * qty" in text
    assert "`total` is computed with `+`; it should multiply." in text
    assert "src/util.py:7  Possible None  (not on a line the diff shows)" in text
    assert "package-lock.json  (generated)" in text
    assert re.search(r"Cost USD +unknown", text)
    assert re.search(r"Models +openai/gpt-4\.1-mini, anthropic/claude-haiku-4-5", text)
    assert re.search(r"Cache hits +3", text)
    assert "Note: Set AI_REVIEW_MODEL to enable the model pass." in text
    assert "Error: chunk 4: model timed out" in text
    # by severity (critical, high, medium), then path and line
    assert text.index("deploy/config.ts:7") < text.index("src/app.py:42-44")
    assert text.index("Total ignores the quantity") < text.index("Unused import")
    assert "Retries" not in text and "Fallback" not in text  # shown only when not zero


def test_text_prints_model_markup_literally() -> None:
    text = to_text(replace(EMPTY, findings=(HOSTILE,)), width=100, color=False)
    assert "[bold]oops[/bold] @octocat" in text
    assert "[/]" in text
    assert "[/red]" in text


def test_text_in_color_uses_ansi_codes() -> None:
    text = to_text(RESULT, width=80, color=True)
    assert "\x1b[" in text
    assert "Total ignores the quantity" in text


def test_text_finding_without_code_or_body() -> None:
    bare = replace(STYLE, code="", body="", path="Makefile")
    text = to_text(replace(EMPTY, findings=(bare,)), width=80, color=False)
    assert "MEDIUM [style] Unused import\n  Makefile:3\n\n" in text


def test_text_without_findings() -> None:
    text = to_text(EMPTY, width=60, color=False)
    assert "AI review: No findings." in text
    assert re.search(r"Cost USD +\$0\.0000", text)


def test_lexer_comes_from_the_file_name() -> None:
    assert lexer_for("src/app.py") == "python"
    assert lexer_for("web/x.ts") == "typescript"
    assert lexer_for("notes/README.unknown-ext") == "text"


# --- sarif --------------------------------------------------------------------------------


def test_sarif_is_2_1_0_with_levels_rules_and_fingerprints() -> None:
    sarif = json.loads(to_sarif(RESULT))
    assert sarif["version"] == "2.1.0"
    assert sarif["$schema"] == "https://json.schemastore.org/sarif-2.1.0.json"
    (run,) = sarif["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "ai-review"
    rule_ids = [rule["id"] for rule in driver["rules"]]
    assert rule_ids == ["bug", "security", "style"]
    levels = {r["partialFingerprints"]["aiReview/v1"]: r["level"] for r in run["results"]}
    assert levels == {"fp-bug": "error", "fp-style": "warning", "fp-secret": "error"}
    first = run["results"][0]
    assert first["ruleId"] == "bug"
    assert rule_ids[first["ruleIndex"]] == "bug"
    assert first["message"]["text"] == f"{BUG.title}\n\n{BUG.body}"
    assert first["locations"] == [
        {
            "physicalLocation": {
                "artifactLocation": {"uri": "src/app.py"},
                "region": {"startLine": 42, "endLine": 44},
            }
        }
    ]
    assert first["properties"] == {"severity": "high", "confidence": 0.8, "source": "llm"}


def test_sarif_low_is_a_note_and_left_side_is_marked() -> None:
    low_left = replace(STYLE, severity="low", side="LEFT", path="a dir/old.py")
    (result,) = json.loads(to_sarif(replace(EMPTY, findings=(low_left,))))["runs"][0]["results"]
    assert result["level"] == "note"
    assert result["message"]["text"] == "Unused import"
    assert result["properties"]["side"] == "LEFT"
    location = result["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "a%20dir/old.py"
    # old-file line 3 is not a new-file line: code scanning reads regions in the new file
    assert location["region"] == {"startLine": 1, "endLine": 1}
    on_context = replace(low_left, new_line=5)
    (result,) = json.loads(to_sarif(replace(EMPTY, findings=(on_context,))))["runs"][0]["results"]
    assert result["locations"][0]["physicalLocation"]["region"] == {"startLine": 5, "endLine": 5}


def test_sarif_without_findings_is_still_a_valid_run() -> None:
    (run,) = json.loads(to_sarif(EMPTY))["runs"]
    assert run["results"] == []
    assert run["tool"]["driver"]["rules"] == []


# --- codequality --------------------------------------------------------------------------

CODE_QUALITY_SEVERITIES = {"info", "minor", "major", "critical", "blocker"}
CODE_CLIMATE_CATEGORIES = {
    "Bug Risk",
    "Clarity",
    "Compatibility",
    "Complexity",
    "Duplication",
    "Performance",
    "Security",
    "Style",
}


def code_quality(result: ReviewResult) -> list[dict[str, Any]]:
    issues: list[dict[str, Any]] = json.loads(to_codequality(result))
    return issues


def test_codequality_entries_have_required_fields_and_allowed_values() -> None:
    issues = code_quality(RESULT)
    assert len(issues) == 3
    for issue in issues:
        assert {"description", "check_name", "fingerprint", "severity", "location"} <= set(issue)
        assert issue["severity"] in CODE_QUALITY_SEVERITIES
        assert set(issue["categories"]) <= CODE_CLIMATE_CATEGORIES
        assert isinstance(issue["location"]["lines"]["begin"], int)
    assert issues[0] == {
        "type": "issue",
        "description": "Total ignores the quantity",
        "check_name": "ai-review/bug",
        "fingerprint": "fp-bug",
        "severity": "major",
        "location": {"path": "src/app.py", "lines": {"begin": 42, "end": 44}},
        "categories": ["Bug Risk"],
    }
    severities = [issue["severity"] for issue in issues]
    assert severities == ["major", "minor", "critical"]


def test_codequality_fingerprints_are_unique() -> None:
    twins = (BUG, replace(BUG, line=50, end_line=50), replace(STYLE, fingerprint="fp-bug-2"))
    fingerprints = [issue["fingerprint"] for issue in code_quality(replace(EMPTY, findings=twins))]
    assert len(set(fingerprints)) == 3
    assert fingerprints[0] == "fp-bug"


def test_codequality_left_side_points_at_a_new_file_line() -> None:
    on_context = replace(STYLE, side="LEFT", line=10, end_line=12, new_line=11, severity="low")
    on_removed = replace(STYLE, side="LEFT", line=20, end_line=20, new_line=None)
    issues = code_quality(replace(EMPTY, findings=(on_context, on_removed)))
    assert issues[0]["location"]["lines"] == {"begin": 11, "end": 11}
    assert issues[0]["severity"] == "info"
    assert issues[1]["location"]["lines"] == {"begin": 1, "end": 1}
    assert "old line 20" in issues[1]["description"]


# --- dispatch -----------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_render_dispatches_every_format(fmt: str) -> None:
    output = render(RESULT, fmt, width=90)
    assert "Total ignores the quantity" in output
    assert output.endswith("\n")


def test_render_matches_the_format_functions() -> None:
    assert render(RESULT, "json") == to_json(RESULT)
    assert render(RESULT, "text", width=70, color=False) == to_text(RESULT, width=70, color=False)


def test_render_rejects_an_unknown_format() -> None:
    with pytest.raises(ValueError, match="unknown format 'xml'"):
        render(RESULT, "xml")


def test_text_report_passes_no_escape_sequence_or_workflow_command_to_the_log() -> None:
    hostile = replace(
        BUG,
        title="\x1b[31mred\x1b[0m ::error file=x::forged",
        body="\x1b]8;;http://evil\x1b\\link\x1b]8;;\x1b\\\n::add-mask::secret\n::stop-commands::t",
        suggestion="x = 1\x1b[2J",
        path="src/\x1b[1mapp.py",
    )
    result = replace(
        RESULT, findings=(hostile,), summary=replace(SUMMARY, notes=("\x1b[2J::error::n",))
    )
    for color in (False, True):
        text = to_text(result, width=100, color=color)
        assert "\x1b[2J" not in text and "\x1b]" not in text and "\x1b[31mred" not in text
        assert not re.search(r"^\s*::", text, re.MULTILINE)
        assert "::error" not in text and "::add-mask" not in text


def test_a_problem_several_passes_found_is_listed_once() -> None:
    # Three passes found one problem: the verifier rejected one copy, the other two were
    # duplicates of it; a reported finding's duplicate from another pass is not listed either.
    rejected = Dropped("a.py", 3, "Off by one", DropCode.VERIFIER_REJECTED, "the caller checks")
    again = Dropped("a.py", 3, "Off by one", DropCode.DUPLICATE)
    of_bug = Dropped(BUG.path, BUG.line, BUG.title, DropCode.DUPLICATE)
    other = Dropped("a.py", 9, "Another", DropCode.DUPLICATE)
    result = replace(RESULT, dropped=(again, rejected, again, of_bug, other))
    markdown = render(result, "markdown")
    assert markdown.count("Off by one") == 1 and "(verifier: the caller checks)" in markdown
    assert "Another" in markdown  # a duplicate of nothing shown stays listed
    text = render(result, "text", width=120)
    assert text.count("Off by one") == 1
    assert len(json.loads(render(result, "json"))["dropped"]) == 5  # the JSON keeps them all
