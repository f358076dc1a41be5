"""`ai-review --gitlab` end to end: the real python-gitlab client over HTTP against FakeGitLab,
the real litellm client against the fake model, through `main([...])`."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from reviewer.cli import main
from reviewer.platforms.gitlab.env import detect
from tests.fakes.gitlab_server import (
    LINE_CODE_ERROR,
    FakeGitLab,
    MRDiff,
    RecordedRequest,
    line_code,
)
from tests.fakes.model_server import FakeModelServer, findings_reply

TOKEN = "glpat-write-secret-1234"
HUMAN_TOKEN = "glpat-reviewer-5678"
BASE, START, HEAD, HEAD2 = "ba5e" * 10, "57a7" * 10, "a1" * 20, "b2" * 20
PROJECT, IID, PATH = 42, 5, "src/app.py"
MODEL = "openai/gpt-4.1-mini"
MR_PATH = f"/api/v4/projects/{PROJECT}/merge_requests/{IID}"

# Hunk 1: ctx(1,1) ctx(2,2) del(3,3) del(4,3) add(5,3) add(5,4) add(5,5) ctx(5,6) ctx(6,7) ctx(7,8)
HUNK1 = (
    "@@ -1,7 +1,8 @@\n import os\n import sys\n-def price(qty):\n-    return qty * 1.1\n"
    "+def price(qty, rate):\n+    total = qty * rate\n+    return total\n \n def keep():\n"
    "     pass\n"
)
# Hunk 2: ctx(40,41) del(41,42) add(42,42) add(42,43) ctx(42,44)
HUNK2 = (
    "@@ -40,3 +41,4 @@\n def helper():\n-    return None\n+    value = compute()\n"
    "+    return value\n # end\n"
)
# Pushed later, far below: ctx(80,81) add(81,82) ctx(81,83)
HUNK3 = "@@ -80,2 +81,3 @@\n def tail():\n+    cleanup_everything()\n     return 0\n"

ON_ADDED: dict[str, Any] = {
    "path": PATH,
    "line": 4,
    "quote": "total = qty * rate",
    "severity": "high",
    "category": "bug",
    "title": "Rate parameter lacks validation",
    "body": "A negative rate gives a negative total.",
    "suggestion": "    total = qty * abs(rate)",
    "confidence": 0.9,
}
ON_REMOVED: dict[str, Any] = {
    "path": PATH,
    "line": 4,
    "quote": "return qty * 1.1",
    "severity": "medium",
    "category": "maintainability",
    "title": "Old markup behaviour dropped silently",
    "body": "Callers relied on the built-in 10% markup.",
    "suggestion": None,
    "confidence": 0.7,
}
ON_CONTEXT: dict[str, Any] = {
    "path": PATH,
    "line": 7,
    "quote": "def keep():",
    "severity": "low",
    "category": "style",
    "title": "Unused helper kept around",
    "body": "Nothing calls keep().",
    "suggestion": None,
    "confidence": 0.6,
}
ON_RANGE: dict[str, Any] = {
    "path": PATH,
    "line": 42,
    "end_line": 44,
    "quote": "value = compute()",
    "severity": "medium",
    "category": "performance",
    "title": "compute() runs on every call",
    "body": "Cache the value.",
    "suggestion": "    value = CACHED\n    return value\n# end",
    "confidence": 0.8,
}
ON_PUSHED: dict[str, Any] = {
    "path": PATH,
    "line": 82,
    "quote": "cleanup_everything()",
    "severity": "high",
    "category": "bug",
    "title": "Cleanup deletes shared state",
    "body": "It removes other users' files too.",
    "suggestion": None,
    "confidence": 0.8,
}


def _diffs(*hunks: str, **flags: Any) -> list[MRDiff]:
    return [MRDiff(old_path=PATH, new_path=PATH, diff="".join(hunks), **flags)]


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGitLab]:
    with FakeGitLab() as gitlab:
        gitlab.add_token(TOKEN)
        gitlab.add_merge_request(
            PROJECT,
            "group/demo",
            IID,
            title="Price with a rate",
            base_sha=BASE,
            start_sha=START,
            head_sha=HEAD,
            diffs=_diffs(HUNK1, HUNK2),
        )
        gitlab.set_files(PROJECT, HEAD, {PATH: "import os\n"})
        for name, value in {
            "GITLAB_CI": "true",
            "CI_SERVER_URL": gitlab.url,
            "CI_PROJECT_ID": str(PROJECT),
            "CI_MERGE_REQUEST_IID": str(IID),
            "AI_REVIEW_GITLAB_TOKEN": TOKEN,
            "AI_REVIEW_API_KEY": "sk-test",
        }.items():
            monkeypatch.setenv(name, value)
        yield gitlab
        assert gitlab.server_errors == []


def run(
    capsys: pytest.CaptureFixture[str], server: FakeModelServer | None, *args: str
) -> tuple[int, dict[str, Any], str]:
    model = ["--model", MODEL, "--api-base", server.base_url] if server else []
    code = main(["--gitlab", "--format", "json", *model, *args])
    out, err = capsys.readouterr()
    return code, json.loads(out) if out.strip() else {}, err


def posts(fake: FakeGitLab, suffix: str = "/discussions") -> list[Any]:
    return [r for r in fake.requests if r.method == "POST" and r.path == MR_PATH + suffix]


def positions_by_title(fake: FakeGitLab) -> dict[str, dict[str, Any]]:
    found = {}
    for request in posts(fake):
        title = request.json_or_form["body"].split("\n")[0].split(":** ", 1)[1]
        found[title] = request.json_or_form["position"]
    return found


def position(**lines: Any) -> dict[str, Any]:
    return {
        "position_type": "text",
        "base_sha": BASE,
        "start_sha": START,
        "head_sha": HEAD,
        "old_path": PATH,
        "new_path": PATH,
        **lines,
    }


def summary_notes(fake: FakeGitLab) -> list[str]:
    return [n["body"] for n in fake.notes(PROJECT, IID) if "ai-review:summary" in n["body"]]


def first_review(
    capsys: pytest.CaptureFixture[str], fake: FakeGitLab, server: FakeModelServer
) -> None:
    server.queue(findings_reply(ON_ADDED, ON_REMOVED, ON_CONTEXT, ON_RANGE))
    code, _, err = run(capsys, server)
    assert code == 0, err


def context_reads(fake: FakeGitLab) -> list[RecordedRequest]:
    """Files read through the API for context; the config is read at the base commit."""
    reads = [r for r in fake.requests if "/repository/files/" in r.path]
    config = [r for r in reads if r.path.endswith(("/.ai-review.toml/raw", "/pyproject.toml/raw"))]
    assert {r.query.get("ref") for r in config} <= {BASE}
    return [r for r in reads if r not in config]


def test_first_review_posts_every_kind_of_line(
    capsys: pytest.CaptureFixture[str], fake: FakeGitLab, model_server: FakeModelServer
) -> None:
    model_server.queue(findings_reply(ON_ADDED, ON_REMOVED, ON_CONTEXT, ON_RANGE))
    code, report, err = run(capsys, model_server)
    assert code == 0, err
    assert [r.status for r in posts(fake)] == [201] * 4
    assert positions_by_title(fake) == {
        ON_ADDED["title"]: position(new_line=4),
        ON_REMOVED["title"]: position(old_line=4),
        ON_CONTEXT["title"]: position(old_line=6, new_line=7),
        ON_RANGE["title"]: position(
            old_line=42,
            new_line=44,
            line_range={
                "start": {
                    "line_code": line_code(PATH, 42, 42),
                    "type": "new",
                    "old_line": None,
                    "new_line": 42,
                },
                "end": {
                    "line_code": line_code(PATH, 42, 44),
                    "type": "old",
                    "old_line": 42,
                    "new_line": 44,
                },
            },
        ),
    }
    bodies = {r.json_or_form["body"] for r in posts(fake)}
    assert any("```suggestion:-0+0\n    total = qty * abs(rate)\n```" in b for b in bodies)
    assert any("```suggestion:-2+0\n    value = CACHED\n" in b for b in bodies)
    assert all("<!-- ai-review:fp=" in b for b in bodies)
    [summary] = summary_notes(fake)
    assert summary.startswith(f"<!-- ai-review:summary head={HEAD} -->")
    assert "### High (1)" in summary and "| Model(s) |" in summary and "`a1a1a1a`" in summary
    assert len(report["findings"]) == 4
    # no checkout: repository context came from the files API at the head commit
    assert any(r.path.endswith("/repository/files/src%2Fapp.py/raw") for r in fake.requests)
    assert "posted 4 inline comments" in err and TOKEN not in err


def test_one_session_serves_the_whole_run(
    capsys: pytest.CaptureFixture[str], fake: FakeGitLab, model_server: FakeModelServer
) -> None:
    fake.set_files(PROJECT, HEAD, {PATH: "import os\n", "REVIEW.md": "Rates are never negative."})
    first_review(capsys, fake, model_server)
    reads = [r.path for r in context_reads(fake)]
    assert len(reads) == 2  # the changed file for context, the guideline file
    assert "Rates are never negative." in model_server.requests[0].prompt_text
    assert {r.connection for r in fake.requests} == {1}  # fetch, every read, publish


def test_rerun_on_the_same_head_posts_nothing_and_calls_no_model(
    capsys: pytest.CaptureFixture[str], fake: FakeGitLab, model_server: FakeModelServer
) -> None:
    first_review(capsys, fake, model_server)
    calls, discussions = len(model_server.requests), len(posts(fake))
    code, report, err = run(capsys, model_server)
    assert code == 0, err
    assert len(model_server.requests) == calls
    assert len(posts(fake)) == discussions
    assert len(posts(fake, "/notes")) == 1
    [put] = [r for r in fake.requests if r.method == "PUT"]
    assert put.status == 200
    [summary] = summary_notes(fake)
    assert "No new commits since `a1a1a1a`, reviewed before: nothing new to review" in summary
    assert ON_ADDED["title"] in summary  # the earlier review still shows
    assert report["findings"] == []
    code, _, _ = run(capsys, model_server)  # a third run does not stack the status line
    assert summary_notes(fake)[0].count("No new commits") == 1


def test_full_rerun_does_not_post_the_same_finding_twice(
    capsys: pytest.CaptureFixture[str], fake: FakeGitLab, model_server: FakeModelServer
) -> None:
    first_review(capsys, fake, model_server)
    model_server.queue(findings_reply(ON_ADDED, ON_REMOVED, ON_CONTEXT, ON_RANGE))
    code, _, err = run(capsys, model_server, "--full")
    assert code == 0
    assert len(posts(fake)) == 4
    assert "4 already posted earlier" in err
    assert "4 findings already posted before" in summary_notes(fake)[0]


def test_incremental_push_reviews_only_new_hunks(
    capsys: pytest.CaptureFixture[str], fake: FakeGitLab, model_server: FakeModelServer
) -> None:
    first_review(capsys, fake, model_server)
    fake.push(PROJECT, IID, head_sha=HEAD2, diffs=_diffs(HUNK1, HUNK2, HUNK3))
    fake.set_compare(PROJECT, HEAD, HEAD2, _diffs(HUNK3))
    fake.set_files(PROJECT, HEAD2, {PATH: "import os\n"})
    model_server.queue(findings_reply(ON_PUSHED, ON_ADDED))
    code, report, err = run(capsys, model_server)
    assert code == 0, err
    prompt = model_server.requests[-1].prompt_text
    assert "cleanup_everything()" in prompt
    assert "total = qty * rate" not in prompt and "value = compute()" not in prompt
    new = posts(fake)[4:]
    assert [(r.status, r.json_or_form["position"]) for r in new] == [
        (201, {**position(new_line=82), "head_sha": HEAD2})
    ]
    assert [f["title"] for f in report["findings"]] == [ON_PUSHED["title"]]
    [summary] = summary_notes(fake)
    assert summary.startswith(f"<!-- ai-review:summary head={HEAD2} -->")
    assert "Incremental review: only the changes since `a1a1a1a`" in summary


def test_compare_failure_reviews_the_whole_merge_request(
    capsys: pytest.CaptureFixture[str], fake: FakeGitLab, model_server: FakeModelServer
) -> None:
    first_review(capsys, fake, model_server)
    fake.push(PROJECT, IID, head_sha=HEAD2, diffs=_diffs(HUNK1, HUNK2, HUNK3))  # no compare set
    code, _, _ = run(capsys, model_server)
    assert code == 0
    prompt = model_server.requests[-1].prompt_text
    assert "cleanup_everything()" in prompt and "total = qty * rate" in prompt


def test_marker_in_someone_elses_note_is_not_trusted(
    capsys: pytest.CaptureFixture[str], fake: FakeGitLab, model_server: FakeModelServer
) -> None:
    seed = fake.discussions(PROJECT, IID)  # none yet: start a thread as a human would
    assert seed == []
    with_marker = f"<!-- ai-review:summary head={HEAD} --> looks reviewed"
    fake.merge_request(PROJECT, IID).discussions.append(
        {
            "id": "d" * 40,
            "individual_note": True,
            "notes": [
                {"id": 1, "body": with_marker, "author": {"username": "mallory"}, "system": False}
            ],
        }
    )
    model_server.queue(findings_reply(ON_ADDED))
    code, _, _ = run(capsys, model_server)
    assert code == 0
    assert len(model_server.requests) == 1 and len(posts(fake)) == 1
    assert len(posts(fake, "/notes")) == 1  # our own summary, not an edit of mallory's note


def test_refused_position_goes_to_the_summary(
    capsys: pytest.CaptureFixture[str], fake: FakeGitLab, model_server: FakeModelServer
) -> None:
    fake.fail_next("POST", r"/discussions$", 400, body={"message": LINE_CODE_ERROR})
    first_review(capsys, fake, model_server)
    statuses = [r.status for r in posts(fake)]
    assert statuses == [400, 201, 201, 201]
    refused = posts(fake)[0].json_or_form["body"].split("\n")[0].split(":** ", 1)[1]
    [summary] = summary_notes(fake)
    assert "### Not posted inline" in summary
    not_inline = summary.split("### Not posted inline", 1)[1]
    assert refused in not_inline and "GitLab refused posting a diff discussion" in not_inline
    assert len(fake.discussions(PROJECT, IID)) == 3
    assert "1 comment refused by the platform (listed below)." in summary


def test_findings_over_max_comments_are_counted_and_listed_in_the_summary(
    capsys: pytest.CaptureFixture[str], fake: FakeGitLab, model_server: FakeModelServer
) -> None:
    model_server.queue(findings_reply(ON_ADDED, ON_REMOVED, ON_CONTEXT, ON_RANGE))
    code, _, err = run(capsys, model_server, "--max-comments", "3")
    assert code == 0, err
    assert len(fake.discussions(PROJECT, IID)) == 3  # the cap holds inline...
    [summary] = summary_notes(fake)
    assert "1 finding over max_comments: listed below, not inline." in summary
    not_inline = summary.split("### Not posted inline", 1)[1]
    assert "over max-comments" in not_inline  # ...and the fourth is not lost


def test_only_job_token_is_a_clear_usage_error(
    capsys: pytest.CaptureFixture[str], fake: FakeGitLab, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AI_REVIEW_GITLAB_TOKEN")
    monkeypatch.setenv("CI_JOB_TOKEN", "job-token-value")
    code, _, err = run(capsys, None)
    assert code == 2
    assert err.count("\n") == 1 and "CI_JOB_TOKEN" in err and "AI_REVIEW_GITLAB_TOKEN" in err
    assert "job-token-value" not in err
    assert fake.requests == []


def test_bad_token_is_one_line_without_the_token(
    capsys: pytest.CaptureFixture[str], fake: FakeGitLab, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AI_REVIEW_GITLAB_TOKEN", "glpat-wrong-secret-9876")
    code, out, err = run(capsys, None)
    assert code == 2
    assert err.count("\n") == 1 and "401" in err and "check AI_REVIEW_GITLAB_TOKEN" in err
    assert "glpat-wrong-secret-9876" not in err + json.dumps(out)
    assert "Traceback" not in err
    assert posts(fake) == []


def test_missing_merge_request_and_outside_ci(
    capsys: pytest.CaptureFixture[str], fake: FakeGitLab, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, _, err = run(capsys, None, "--project", "group/demo", "--mr", "99")
    assert code == 2 and "group/demo!99" in err and err.count("\n") == 1
    monkeypatch.delenv("CI_PROJECT_ID")
    code, _, err = run(capsys, None)
    assert code == 2 and "--project ID_OR_PATH --mr IID" in err
    monkeypatch.delenv("CI_MERGE_REQUEST_IID")
    code, _, err = run(capsys, None, "--project", "group/demo")
    assert code == 2 and "merge_request_event" in err


def test_project_path_and_mr_flags_from_a_laptop(
    capsys: pytest.CaptureFixture[str], fake: FakeGitLab, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("GITLAB_CI", "CI_PROJECT_ID", "CI_MERGE_REQUEST_IID"):
        monkeypatch.delenv(name)
    code, report, err = run(capsys, None, "--project", "group/demo", "--mr", str(IID))
    assert code == 0, err
    assert report["summary"]["files_reviewed"] == 1
    assert any(r.path == "/api/v4/projects/group%2Fdemo" for r in fake.requests)


def test_rate_limit_and_server_errors_are_retried(
    capsys: pytest.CaptureFixture[str], fake: FakeGitLab, model_server: FakeModelServer
) -> None:
    fake.fail_next("POST", r"/discussions$", 429, headers={"Retry-After": "0"})
    fake.fail_next("GET", r"/merge_requests/5$", 502, headers={"Retry-After": "0"})
    first_review(capsys, fake, model_server)
    assert [r.status for r in posts(fake)] == [429, 201, 201, 201, 201]
    gets = [r.status for r in fake.requests if r.path == MR_PATH and r.method == "GET"]
    assert gets == [502, 200]
    assert len(fake.discussions(PROJECT, IID)) == 4


def test_server_down_after_retries_exits_3_and_still_reports(
    capsys: pytest.CaptureFixture[str], fake: FakeGitLab, model_server: FakeModelServer
) -> None:
    fake.fail_next("POST", r"/notes$", 500, headers={"Retry-After": "0"}, times=20)
    model_server.queue(findings_reply(ON_ADDED))
    code, report, err = run(capsys, model_server)
    assert code == 3
    assert "GitLab failed posting the summary note" in err and "500" in err
    assert [f["title"] for f in report["findings"]] == [ON_ADDED["title"]]


def test_changes_endpoint_when_diffs_is_missing(
    capsys: pytest.CaptureFixture[str], fake: FakeGitLab, model_server: FakeModelServer
) -> None:
    fake.disable_diffs_endpoint(PROJECT, IID)
    first_review(capsys, fake, model_server)
    assert any(r.path == MR_PATH + "/changes" for r in fake.requests)
    assert [r.status for r in posts(fake)] == [201] * 4


def test_diffs_are_read_across_pages(capsys: pytest.CaptureFixture[str], fake: FakeGitLab) -> None:
    many = [MRDiff(f"f{i}.py", f"f{i}.py", "@@ -1 +1 @@\n-a\n+b\n") for i in range(130)]
    fake.add_merge_request(PROJECT, "group/demo", 6, base_sha=BASE, head_sha=HEAD, diffs=many)
    code, report, err = run(capsys, None, "--mr", "6")
    assert code == 0, err
    assert report["summary"]["files_reviewed"] == 130
    pages = [r for r in fake.requests if r.path.endswith("/6/diffs")]
    assert len(pages) == 2


def test_too_large_and_binary_diffs_are_listed_as_not_reviewed(
    capsys: pytest.CaptureFixture[str], fake: FakeGitLab, model_server: FakeModelServer
) -> None:
    diffs = [
        *_diffs(HUNK1),
        MRDiff("big.sql", "big.sql", "@@ -1 +1 @@\n-a\n+b\n", too_large=True),
        MRDiff("gen.js", "gen.js", "@@ -1 +1 @@\n-a\n+b\n", collapsed=True),
        MRDiff("logo.png", "logo.png", ""),
        MRDiff("old_name.py", "new_name.py", "", renamed_file=True),  # nothing to review
    ]
    fake.push(PROJECT, IID, head_sha=HEAD, diffs=diffs)
    code, report, _ = run(capsys, None)
    assert code == 0
    skipped = {s["path"]: s["reason"] for s in report["summary"]["files_skipped"]}
    assert skipped == {
        "big.sql": "not reviewed: GitLab marks the diff too large",
        "gen.js": "not reviewed: GitLab collapsed the diff (over its size limits)",
        "logo.png": "not reviewed: no text diff (binary file, empty file or mode change)",
    }
    not_reviewed = summary_notes(fake)[0].split("### Not reviewed", 1)[1]
    assert "`big.sql`" in not_reviewed and "too large" in not_reviewed


def test_mentions_and_html_are_neutralized(
    capsys: pytest.CaptureFixture[str], fake: FakeGitLab, model_server: FakeModelServer
) -> None:
    hostile = dict(
        ON_ADDED,
        title="Ping @all now",
        body="@group/team and @admin: <img src=x onerror=alert(1)> <script>x()</script>",
    )
    model_server.queue(findings_reply(hostile))
    code, _, _ = run(capsys, model_server)
    assert code == 0
    [post] = posts(fake)
    body = post.json_or_form["body"]
    assert "@all" not in body and "@group" not in body and "@admin" not in body
    assert "<img" not in body and "<script" not in body and "&lt;img" in body
    summary = summary_notes(fake)[0]
    assert "@all" not in summary and "<img" not in summary


def test_dry_run_posts_nothing_and_says_what_it_would_post(
    capsys: pytest.CaptureFixture[str], fake: FakeGitLab, model_server: FakeModelServer
) -> None:
    model_server.queue(findings_reply(ON_ADDED, ON_RANGE))
    code, report, err = run(capsys, model_server, "--dry-run")
    assert code == 0
    assert len(report["findings"]) == 2 and len(model_server.requests) == 1
    assert [r for r in fake.requests if r.method != "GET"] == []
    assert "would post 2 inline comments" in err
    assert f"{PATH}:4 at new_line 4: [high] {ON_ADDED['title']}" in err
    assert f"{PATH}:42-44 at old_line 42, new_line 44 (range)" in err
    assert "and create the summary" in err


def test_checkout_at_the_head_commit_is_the_context(
    capsys: pytest.CaptureFixture[str], fake: FakeGitLab, tmp_path: Path
) -> None:
    checkout = tmp_path / "checkout"
    (checkout / ".git").mkdir(parents=True)
    (checkout / ".git" / "HEAD").write_text(HEAD + "\n")
    code, _, err = run(capsys, None, "--repo-root", str(checkout))
    assert code == 0, err
    assert not context_reads(fake)


def test_fail_on_gate_always_reviews_everything(
    capsys: pytest.CaptureFixture[str], fake: FakeGitLab, model_server: FakeModelServer
) -> None:
    first_review(capsys, fake, model_server)
    model_server.queue(findings_reply(ON_ADDED))
    code, _, _ = run(capsys, model_server, "--fail-on", "high")
    assert code == 1  # the finding is still there on a rerun of the same commit
    assert len(model_server.requests) == 2 and len(posts(fake)) == 4


def test_code_quality_report_has_gitlab_fields(
    capsys: pytest.CaptureFixture[str], fake: FakeGitLab, model_server: FakeModelServer
) -> None:
    model_server.queue(findings_reply(ON_ADDED, ON_REMOVED, ON_CONTEXT, ON_RANGE))
    out = Path("gl-code-quality-report.json")
    code = main(
        [
            "--gitlab",
            *("--model", MODEL, "--api-base", model_server.base_url),
            *("--format", "codequality", "--output", str(out)),
        ]
    )
    capsys.readouterr()
    assert code == 0
    issues = json.loads(out.read_text())
    assert len(issues) == 4
    for issue in issues:
        assert isinstance(issue["description"], str) and issue["description"]
        assert isinstance(issue["check_name"], str) and issue["check_name"]
        assert issue["severity"] in {"info", "minor", "major", "critical", "blocker"}
        assert issue["location"]["path"] == PATH
        begin = issue["location"]["lines"]["begin"]
        assert isinstance(begin, int) and not isinstance(begin, bool) and begin >= 1
    assert len({issue["fingerprint"] for issue in issues}) == 4


def test_changes_fallback_lists_overflow_and_binary_files(
    capsys: pytest.CaptureFixture[str], fake: FakeGitLab
) -> None:
    binary = MRDiff("img.png", "img.png", "")
    fake.push(PROJECT, IID, head_sha=HEAD, diffs=[*_diffs(HUNK1), binary])
    fake.disable_diffs_endpoint(PROJECT, IID)
    fake.merge_request(PROJECT, IID).overflow = True
    code, report, _ = run(capsys, None)
    assert code == 0
    reasons = {s["path"]: s["reason"] for s in report["summary"]["files_skipped"]}
    assert reasons["(more files)"] == "not reviewed: GitLab returned only part of the changes"
    assert "binary" in reasons["img.png"]
    assert report["summary"]["files_reviewed"] == 1


def test_incremental_with_a_too_large_compare_diff_reviews_that_file_whole(
    capsys: pytest.CaptureFixture[str], fake: FakeGitLab, model_server: FakeModelServer
) -> None:
    first_review(capsys, fake, model_server)
    fake.push(PROJECT, IID, head_sha=HEAD2, diffs=_diffs(HUNK1, HUNK2, HUNK3))
    fake.set_compare(PROJECT, HEAD, HEAD2, _diffs(HUNK3, too_large=True))
    code, _, _ = run(capsys, model_server)
    assert code == 0
    prompt = model_server.requests[-1].prompt_text
    assert "cleanup_everything()" in prompt and "total = qty * rate" in prompt
    assert "Incremental review" in summary_notes(fake)[0]


def test_token_without_permission_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], fake: FakeGitLab
) -> None:
    fake.fail_next("POST", r"/notes$", 403)
    code, _, err = run(capsys, None)
    assert code == 2
    assert "403" in err and "api scope" in err and err.count("\n") == 1


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"CI_MERGE_REQUEST_IID": "abc"}, "is not a merge request number"),
        ({"CI_SERVER_URL": "gitlab.example.com"}, "is not an http(s) URL"),
        ({"AI_REVIEW_GITLAB_TOKEN": ""}, "no GitLab token: set AI_REVIEW_GITLAB_TOKEN"),
    ],
)
def test_bad_environment_is_one_clear_line(
    capsys: pytest.CaptureFixture[str],
    fake: FakeGitLab,
    monkeypatch: pytest.MonkeyPatch,
    env: dict[str, str],
    message: str,
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    code, _, err = run(capsys, None)
    assert code == 2 and message in err and err.count("\n") == 1
    assert fake.requests == []


def test_target_from_flags_and_token_fallback() -> None:
    env = {"GITLAB_TOKEN": " glpat-x ", "CI_PROJECT_ID": "7", "CI_MERGE_REQUEST_IID": "3"}
    target = detect("group/other", 9, env)
    assert (target.server_url, target.project, target.mr_iid) == (
        "https://gitlab.com",
        "group/other",
        9,
    )
    assert (target.token, target.token_variable) == ("glpat-x", "GITLAB_TOKEN")
    assert "glpat-x" not in repr(target)
    assert detect(None, None, env).project == "7"


def resolve(fake: FakeGitLab, discussion_id: str) -> None:
    """Resolve a thread as a person does in the web page: PUT .../discussions/:id."""
    request = urllib.request.Request(
        f"{fake.url}{MR_PATH}/discussions/{discussion_id}?resolved=true",
        method="PUT",
        headers={"PRIVATE-TOKEN": HUMAN_TOKEN},
    )
    with urllib.request.urlopen(request) as answer:
        assert answer.status == 200


def threads_by_title(fake: FakeGitLab) -> dict[str, dict[str, Any]]:
    found = {}
    for discussion in fake.discussions(PROJECT, IID):
        title = discussion["notes"][0]["body"].split("\n")[0].split(":** ", 1)[1]
        found[title] = discussion
    return found


def test_rerun_records_what_became_of_the_earlier_discussions(
    capsys: pytest.CaptureFixture[str],
    fake: FakeGitLab,
    model_server: FakeModelServer,
    tmp_path: Path,
) -> None:
    telemetry = tmp_path / "telemetry.jsonl"
    model_server.queue(findings_reply(ON_ADDED, ON_REMOVED, ON_CONTEXT, ON_RANGE))
    code, _, err = run(capsys, model_server, "--telemetry", str(telemetry))
    assert code == 0, err
    threads = threads_by_title(fake)
    added, removed = threads[ON_ADDED["title"]], threads[ON_REMOVED["title"]]
    context, ranged = threads[ON_CONTEXT["title"]], threads[ON_RANGE["title"]]
    # The line ON_ADDED is on changes: GitLab can no longer trace it, the thread is outdated.
    fixed = HUNK1.replace("+    total = qty * rate\n", "+    total = qty * abs(rate)\n")
    fake.push(PROJECT, IID, head_sha=HEAD2, diffs=_diffs(fixed, HUNK2))
    fake.set_files(PROJECT, HEAD2, {PATH: "import os\n"})
    assert fake.outdated_discussion_ids(PROJECT, IID) == {added["id"]}
    fake.add_award(PROJECT, IID, added["notes"][0]["id"], "thumbsdown")  # 👎 overrides
    fake.add_token(HUMAN_TOKEN, "reviewer")
    resolve(fake, removed["id"])
    fake.add_award(PROJECT, IID, context["notes"][0]["id"], "thumbsup")
    fake.add_reply(PROJECT, IID, context["id"], "Good catch, fixed.")
    # The tool's own reply and award are no signal.
    fake.add_reply(PROJECT, IID, ranged["id"], "still there", username="ai-review-bot")
    fake.add_award(PROJECT, IID, ranged["notes"][0]["id"], "thumbsup", "ai-review-bot")
    model_server.queue(findings_reply())
    code, _, err = run(capsys, model_server, "--telemetry", str(telemetry))
    assert code == 0, err
    first, second = [
        line
        for line in map(json.loads, telemetry.read_text().splitlines())
        if line["type"] == "review"
    ]
    assert first["acceptance"] is None  # nothing to accept on a first review
    assert second["acceptance"] == {
        "comments": 4,
        "resolved": 1,
        "outdated": 1,
        "thumbs_up": 1,
        "thumbs_down": 1,
        "replied": 1,
        "accepted": 2,  # resolved ON_REMOVED, 👍 ON_CONTEXT; ON_ADDED has a 👎
        "signalled": 3,  # ON_RANGE had no reaction from anyone else
        "rate": 0.6667,
    }
    awards = [r for r in fake.requests if r.path.endswith("/award_emoji")]
    assert len(awards) == 4 and all(r.method == "GET" for r in awards)
    assert main(["stats", str(telemetry), "--format", "json"]) == 0
    groups = json.loads(capsys.readouterr().out)["groups"]
    assert groups["(none)"]["acceptance_rate"] == 0.6667


def test_dry_run_rerun_also_reads_the_acceptance_and_posts_nothing(
    capsys: pytest.CaptureFixture[str],
    fake: FakeGitLab,
    model_server: FakeModelServer,
    tmp_path: Path,
) -> None:
    first_review(capsys, fake, model_server)
    before = len([r for r in fake.requests if r.method != "GET"])
    telemetry = tmp_path / "t.jsonl"
    code, _, err = run(capsys, model_server, "--dry-run", "--telemetry", str(telemetry))
    assert code == 0, err
    assert len([r for r in fake.requests if r.method != "GET"]) == before
    [line] = [json.loads(text) for text in telemetry.read_text().splitlines()]
    assert line["acceptance"]["comments"] == 4 and line["acceptance"]["rate"] is None
