"""`ai-review --github` end to end: `main([...])` with the real PyGithub client against the
fake GitHub server and the real litellm client against the fake model, over real HTTP.
Assertions are on what the fake server recorded, request by request."""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from reviewer.cli import main
from reviewer.platforms.common import summary_marker
from tests.fakes.github_server import FakeGitHub, PullFile, RecordedRequest
from tests.fakes.model_server import FakeModelServer, findings_reply

REPO = "octo/shop"
NUMBER = 7
BASE_SHA = "b" * 40
HEAD = "a" * 40
NEW_HEAD = "c" * 40
WRITE_TOKEN = "ghs_write_token_never_printed"
ACTIONS_BOT = "github-actions[bot]"  # who the Actions GITHUB_TOKEN writes as
READ_TOKEN = "ghs_read_only"
MODEL = "openai/gpt-4.1-mini"
PATH = "src/cart.py"


def helpers(start: int, stop: int) -> str:
    return "".join(f"def helper_{i}(x):\n    return x + {i}\n\n\n" for i in range(start, stop))


HEADER = "import os\nimport sys\n\n\n"
NAME_OLD = "def name():\n    return 'cart'\n\n\n"
NAME_NEW = "def name():\n    return 'shop cart'\n\n\n"
BASE_TEXT = HEADER + "def total(items):\n    return sum(items)\n\n\n" + helpers(0, 4)
BASE_TEXT += NAME_OLD + helpers(4, 9)
TOTAL_V1 = "def total(items, tax):\n    subtotal = sum(i.price for i in items)\n"
TOTAL_V1 += "    return subtotal * tax\n\n\n"
V1 = HEADER + TOTAL_V1 + helpers(0, 4) + NAME_NEW + helpers(4, 9)
TOTAL_V2 = TOTAL_V1.replace("    return", "    assert tax >= 0\n    return")
V2 = HEADER + TOTAL_V2 + helpers(0, 4) + NAME_NEW + helpers(4, 9)
V2 += "def refund(order):\n    order.paid = 0\n"


def make_patch(old: str, new: str) -> str:
    """The hunks of a files-API `patch` (no ---/+++ lines), as git would make them."""
    lines = difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True))
    return "".join(list(lines)[2:])


def finding(quote: str, title: str, **extra: Any) -> dict[str, Any]:
    data = {
        "path": PATH,
        "line": None,
        "quote": quote,
        "severity": "medium",
        "category": "bug",
        "title": title,
        "body": f"Why: {title.lower()}.",
        "suggestion": None,
        "confidence": 0.8,
    }
    return data | extra


TAX = finding(
    "return subtotal * tax",
    "Tax multiplies the subtotal instead of adding it",
    severity="high",
    suggestion="    return subtotal * (1 + tax)",
)
SIGNATURE = finding(
    "def total(items, tax):",
    "Parameter without a type or default",
    line=5,
    end_line=6,
    severity="low",
    category="maintainability",
)
REMOVED = finding("return sum(items)", "Plain integers can no longer be summed")
REFUND = finding("order.paid = 0", "Refund forgets the payment provider", severity="high")
NAME = finding("return 'shop cart'", "The cart's name is hard-coded", severity="low")


@dataclass(frozen=True)
class Job:
    """The files an Actions step writes to, and the event it runs on."""

    step_summary: Path
    output: Path
    event: Path


@pytest.fixture
def gh() -> Iterator[FakeGitHub]:
    with FakeGitHub() as fake:
        fake.add_token(WRITE_TOKEN, login=ACTIONS_BOT)
        fake.add_token(READ_TOKEN, write=False, login=ACTIONS_BOT)
        yield fake


@pytest.fixture
def job(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, gh: FakeGitHub) -> Job:
    event = tmp_path / "event.json"
    pull = {"number": NUMBER, "head": {"sha": HEAD}, "base": {"sha": BASE_SHA}}
    event.write_text(json.dumps({"action": "opened", "number": NUMBER, "pull_request": pull}))
    created = Job(tmp_path / "step_summary.md", tmp_path / "github_output", event)
    env = {
        "GITHUB_ACTIONS": "true",
        "GITHUB_EVENT_NAME": "pull_request",
        "GITHUB_EVENT_PATH": str(event),
        "GITHUB_REPOSITORY": REPO,
        "GITHUB_API_URL": gh.url,
        "GITHUB_TOKEN": WRITE_TOKEN,
        "GITHUB_STEP_SUMMARY": str(created.step_summary),
        "GITHUB_OUTPUT": str(created.output),
        "AI_REVIEW_API_KEY": "sk-test-key-never-printed",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return created


def open_pull(gh: FakeGitHub, *files: PullFile, head_repo: str | None = None) -> None:
    files = files or (PullFile(PATH, patch=make_patch(BASE_TEXT, V1)),)
    gh.add_pull(
        REPO,
        NUMBER,
        head_sha=HEAD,
        base_sha=BASE_SHA,
        title="Tax in totals",
        body="Adds tax.",
        files=files,
        head_repo=head_repo,
    )


def review(
    capsys: pytest.CaptureFixture[str], server: FakeModelServer, *extra: str
) -> tuple[int, dict[str, Any], str]:
    args = ["--github", "--format", "json", "--model", MODEL, "--api-base", server.base_url]
    code = main([*args, *extra])
    out, err = capsys.readouterr()
    return code, json.loads(out) if out.strip() else {}, err


def context_reads(gh: FakeGitHub) -> list[RecordedRequest]:
    """Files read through the API for context; the config is read at the base commit."""
    reads = [r for r in gh.requests if "/contents/" in r.path]
    config = [r for r in reads if r.path.endswith(("/.ai-review.toml", "/pyproject.toml"))]
    assert {r.query["ref"] for r in config} <= {BASE_SHA}
    return [r for r in reads if r not in config]


def writes(gh: FakeGitHub) -> list[tuple[str, str, int]]:
    """Requests that change something: a GraphQL query is a POST that only reads."""
    return [(r.method, r.path, r.status) for r in gh.requests if r.method != "GET" and _writes(r)]


def _writes(request: RecordedRequest) -> bool:
    query = request.json.get("query", "") if isinstance(request.json, dict) else ""
    return request.path != "/graphql" or query.lstrip().startswith("mutation")


def posted_reviews(gh: FakeGitHub) -> list[RecordedRequest]:
    return [r for r in gh.requests if r.method == "POST" and r.path.endswith("/reviews")]


def summary_body(gh: FakeGitHub) -> str:
    [comment] = gh.issue_comments(REPO, NUMBER)
    return str(comment["body"])


PULL_PATH = f"/repos/{REPO}/pulls/{NUMBER}"
ISSUE_PATH = f"/repos/{REPO}/issues/{NUMBER}"


# --------------------------------------------------------------------------- first review


def test_first_review_posts_one_review_and_one_summary(
    capsys: pytest.CaptureFixture[str], gh: FakeGitHub, model_server: FakeModelServer, job: Job
) -> None:
    open_pull(
        gh,
        PullFile(PATH, patch=make_patch(BASE_TEXT, V1)),
        PullFile("assets/logo.png", status="added"),
    )
    model_server.queue(findings_reply(TAX, SIGNATURE, REMOVED))
    code, report, err = review(capsys, model_server)
    assert code == 0, err
    assert writes(gh) == [
        ("POST", f"{PULL_PATH}/reviews", 200),
        ("POST", f"{ISSUE_PATH}/comments", 201),
    ]
    [request] = posted_reviews(gh)
    assert request.json["event"] == "COMMENT"
    assert request.json["commit_id"] == HEAD
    comments = request.json["comments"]
    placed = [(c["line"], c["side"], c.get("start_line"), c.get("start_side")) for c in comments]
    assert placed == [(7, "RIGHT", None, None), (6, "LEFT", None, None), (6, "RIGHT", 5, "RIGHT")]
    assert "```suggestion\n    return subtotal * (1 + tax)\n```" in comments[0]["body"]
    assert "suggestion" not in comments[1]["body"]
    assert all("<!-- ai-review:fp=" in c["body"] for c in comments)
    [stored] = gh.reviews(REPO, NUMBER)
    assert stored["state"] == "COMMENTED" and len(stored["comments"]) == 3
    summary = summary_body(gh)
    assert summary.startswith(summary_marker(HEAD))
    assert "3 findings" in summary and "assets/logo.png" in summary
    assert "binary" in summary
    assert "Tax in totals" in model_server.requests[0].prompt_text
    assert "## AI review" in job.step_summary.read_text()
    outputs = job.output.read_text().splitlines()
    assert "findings=3" in outputs
    assert any(line.startswith("cost-usd=0.0") for line in outputs)
    assert report["summary"]["files_skipped"][0]["path"] == "assets/logo.png"


def test_rerun_on_the_same_head_posts_nothing_and_edits_the_summary(
    capsys: pytest.CaptureFixture[str], gh: FakeGitHub, model_server: FakeModelServer, job: Job
) -> None:
    open_pull(gh)
    model_server.queue(findings_reply(TAX))
    assert review(capsys, model_server)[0] == 0
    [first] = gh.issue_comments(REPO, NUMBER)
    gh.clear_requests()

    code, report, err = review(capsys, model_server)
    assert code == 0, err
    assert len(model_server.requests) == 1  # no model call: nothing new to review
    assert report["findings"] == []
    assert writes(gh) == [("PATCH", f"/repos/{REPO}/issues/comments/{first['id']}", 200)]
    body = summary_body(gh)
    assert body.startswith(summary_marker(HEAD))
    assert "No new commits since `aaaaaaa`" in body
    assert TAX["title"] in body and "1 finding: 1 high" in body  # the earlier findings stay
    assert len(gh.reviews(REPO, NUMBER)) == 1

    gh.clear_requests()
    assert review(capsys, model_server)[0] == 0
    assert writes(gh) == []  # the summary already says so: not even an edit


def test_with_a_fail_on_gate_every_run_reviews_everything(
    capsys: pytest.CaptureFixture[str], gh: FakeGitHub, model_server: FakeModelServer, job: Job
) -> None:
    open_pull(gh)
    model_server.queue(findings_reply(TAX), findings_reply(TAX))
    assert review(capsys, model_server, "--fail-on", "high")[0] == 1
    gh.clear_requests()
    code, report, err = review(capsys, model_server, "--fail-on", "high")
    assert code == 1, err  # the gate still sees the finding posted by the first run
    assert len(model_server.requests) == 2 and len(report["findings"]) == 1
    assert posted_reviews(gh) == []  # posted already: not again
    assert [m for m, _, _ in writes(gh)] == ["PATCH"]


def test_push_reviews_only_the_new_commits(
    capsys: pytest.CaptureFixture[str], gh: FakeGitHub, model_server: FakeModelServer, job: Job
) -> None:
    open_pull(gh)
    model_server.queue(findings_reply(TAX))
    assert review(capsys, model_server)[0] == 0
    gh.push(
        REPO, NUMBER, head_sha=NEW_HEAD, files=[PullFile(PATH, patch=make_patch(BASE_TEXT, V2))]
    )
    gh.add_compare(REPO, HEAD, NEW_HEAD, files=[PullFile(PATH, patch=make_patch(V1, V2))])
    gh.clear_requests()
    model_server.queue(findings_reply(TAX, REFUND))  # TAX again: it is posted already

    code, _, err = review(capsys, model_server)
    assert code == 0, err
    prompt = model_server.requests[1].prompt_text
    assert "assert tax >= 0" in prompt and "order.paid = 0" in prompt
    assert "shop cart" not in prompt  # a hunk of the pull request the new commits left alone
    [request] = posted_reviews(gh)
    assert request.json["commit_id"] == NEW_HEAD
    refund_line = V2.splitlines().index("    order.paid = 0") + 1
    assert [c["line"] for c in request.json["comments"]] == [refund_line]
    assert REFUND["title"] in request.json["comments"][0]["body"]
    assert [r.method for r in gh.requests if "/issues/" in r.path and r.method != "GET"] == [
        "PATCH"
    ]
    body = summary_body(gh)
    assert body.startswith(summary_marker(NEW_HEAD))
    assert "only the changes since `aaaaaaa`" in body and "1 finding already posted" in body


def test_commits_that_change_nothing_in_the_diff_need_no_review(
    capsys: pytest.CaptureFixture[str], gh: FakeGitHub, model_server: FakeModelServer, job: Job
) -> None:
    open_pull(gh)
    model_server.queue(findings_reply(TAX))
    assert review(capsys, model_server)[0] == 0
    files = gh.pull(REPO, NUMBER).files  # a merge of main that touched only main's own files
    gh.push(REPO, NUMBER, head_sha=NEW_HEAD, files=files)
    gh.add_compare(
        REPO, HEAD, NEW_HEAD, files=[PullFile("README.md", patch="@@ -1 +1 @@\n-a\n+b\n")]
    )
    gh.clear_requests()
    code, _, err = review(capsys, model_server, "--dry-run")
    assert code == 0, err
    assert "would post 0 inline comments and update the summary" in err
    assert writes(gh) == []
    code, _, err = review(capsys, model_server)
    assert code == 0, err
    assert len(model_server.requests) == 1
    assert [m for m, _, _ in writes(gh)] == ["PATCH"]
    body = summary_body(gh)
    assert body.startswith(summary_marker(NEW_HEAD))
    assert "The commits since `aaaaaaa` change nothing in the reviewed diff" in body


def test_force_push_reviews_the_whole_pull_request(
    capsys: pytest.CaptureFixture[str], gh: FakeGitHub, model_server: FakeModelServer, job: Job
) -> None:
    open_pull(gh)
    marker = summary_marker("d" * 40)
    earlier = gh.add_issue_comment(REPO, NUMBER, marker + "\n## AI review\n", login=ACTIONS_BOT)
    code, _, err = review(capsys, model_server)  # no compare for d...a: GitHub answers 404
    assert code == 0, err
    assert "shop cart" in model_server.requests[0].prompt_text
    assert writes(gh) == [("PATCH", f"/repos/{REPO}/issues/comments/{earlier['id']}", 200)]
    assert "cannot be compared: reviewed everything" in summary_body(gh)


def test_a_marker_in_someone_elses_comment_is_not_trusted(
    capsys: pytest.CaptureFixture[str], gh: FakeGitHub, model_server: FakeModelServer, job: Job
) -> None:
    open_pull(gh)
    forged = summary_marker(HEAD) + " looks reviewed to me"
    gh.add_issue_comment(REPO, NUMBER, forged, login="mallory")
    model_server.queue(findings_reply(TAX))
    code, _, err = review(capsys, model_server)
    assert code == 0, err
    assert len(model_server.requests) == 1
    assert gh.issue_comments(REPO, NUMBER)[0]["body"] == forged
    assert ("POST", f"{ISSUE_PATH}/comments", 201) in writes(gh)


def test_a_marker_in_another_apps_comment_is_not_trusted(
    capsys: pytest.CaptureFixture[str], gh: FakeGitHub, model_server: FakeModelServer, job: Job
) -> None:
    open_pull(gh)
    forged = summary_marker(HEAD) + " looks reviewed to me"
    gh.add_issue_comment(REPO, NUMBER, forged, login="other-app[bot]")
    model_server.queue(findings_reply(TAX))
    code, _, err = review(capsys, model_server)
    assert code == 0, err
    assert len(model_server.requests) == 1  # reviewed, not skipped as "reviewed before"
    theirs, ours = gh.issue_comments(REPO, NUMBER)
    assert theirs["body"] == forged  # never edited
    assert ours["user"]["login"] == ACTIONS_BOT and ours["body"].startswith(summary_marker(HEAD))
    assert len(gh.review_comments(REPO, NUMBER)) == 1
    assert [r.path for r in gh.requests].count("/user") == 1  # asked once who the token is


def test_a_personal_token_trusts_only_its_own_login(
    capsys: pytest.CaptureFixture[str],
    gh: FakeGitHub,
    model_server: FakeModelServer,
    job: Job,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    gh.add_token("ghp_person", login="octocat")
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_person")
    open_pull(gh)
    gh.add_issue_comment(REPO, NUMBER, summary_marker(HEAD), login=ACTIONS_BOT)
    model_server.queue(findings_reply(TAX), findings_reply(TAX))
    assert review(capsys, model_server)[0] == 0
    assert len(model_server.requests) == 1
    assert review(capsys, model_server)[0] == 0  # now octocat's summary names this head
    assert len(model_server.requests) == 1
    logins = [c["user"]["login"] for c in gh.issue_comments(REPO, NUMBER)]
    assert logins == [ACTIONS_BOT, "octocat"]


# --------------------------------------------------------------------------- placing comments


def test_a_finding_off_the_diff_goes_to_the_summary(
    capsys: pytest.CaptureFixture[str], gh: FakeGitHub, model_server: FakeModelServer, job: Job
) -> None:
    open_pull(gh)
    nowhere = finding("class Nowhere:", "A class the diff does not show", line=400)
    model_server.queue(findings_reply(TAX, nowhere))
    code, report, err = review(capsys, model_server)
    assert code == 0, err
    [request] = posted_reviews(gh)
    assert [c["line"] for c in request.json["comments"]] == [7]
    assert [d["reason"] for d in report["dropped"]] == [
        "quote matches no line of the diff (possible hallucination)"
    ]
    assert "Not posted inline" in summary_body(gh) and nowhere["title"] in summary_body(gh)


def test_a_refused_comment_is_taken_out_and_the_rest_posted(
    capsys: pytest.CaptureFixture[str], gh: FakeGitHub, model_server: FakeModelServer, job: Job
) -> None:
    open_pull(gh)
    refusal = {
        "message": "Unprocessable Entity",
        "errors": ["Pull request review thread line must be part of the diff"],
    }
    gh.fail_next(method="POST", path_regex=r"/reviews$", status=422, body=refusal, times=2)
    model_server.queue(findings_reply(TAX, REMOVED))
    code, _, err = review(capsys, model_server)
    assert code == 0, err
    attempts = [(len(r.json["comments"]), r.status) for r in posted_reviews(gh)]
    assert attempts == [(2, 422), (1, 422), (1, 200)]  # both, then each half
    [stored] = gh.reviews(REPO, NUMBER)
    assert [c["side"] for c in stored["comments"]] == ["LEFT"]
    summary = summary_body(gh)
    assert "Not posted inline" in summary
    assert "GitHub refused the comment (422 Unprocessable Entity" in summary
    assert TAX["title"] in summary
    assert "1 comment refused by the platform (listed below)." in summary


def test_findings_over_max_comments_are_counted_and_listed_in_the_summary(
    capsys: pytest.CaptureFixture[str], gh: FakeGitHub, model_server: FakeModelServer, job: Job
) -> None:
    open_pull(gh)
    model_server.queue(findings_reply(TAX, REMOVED))
    code, _, err = review(capsys, model_server, "--max-comments", "1")
    assert code == 0, err
    [request] = posted_reviews(gh)
    assert len(request.json["comments"]) == 1  # the cap holds inline...
    summary = summary_body(gh)
    assert "1 finding over max_comments: listed below, not inline." in summary
    not_inline = summary.split("Not posted inline", 1)[1]
    assert REMOVED["title"] in not_inline and "over max-comments" in not_inline  # ...not lost


def test_a_refusal_of_the_whole_review_is_not_split(
    capsys: pytest.CaptureFixture[str], gh: FakeGitHub, model_server: FakeModelServer, job: Job
) -> None:
    open_pull(gh)
    pending = {"message": "Unprocessable Entity", "errors": ["User can only have one pending "
               "review per pull request"]}  # fmt: skip
    gh.fail_next(method="POST", path_regex=r"/reviews$", status=422, body=pending)
    model_server.queue(findings_reply(TAX, REMOVED))
    code, _, err = review(capsys, model_server)
    assert code == 0, err
    assert [r.status for r in posted_reviews(gh)] == [422]
    assert summary_body(gh).count("GitHub refused the review holding it") == 2


def test_more_than_30_comments_go_out_in_several_reviews(
    capsys: pytest.CaptureFixture[str], gh: FakeGitHub, model_server: FakeModelServer, job: Job
) -> None:
    text = "".join(f"value_{i} = {i * 7}\n" for i in range(35))
    open_pull(gh, PullFile("src/values.py", status="added", patch=make_patch("", text)))
    many = [
        finding(f"value_{i} = {i * 7}", f"Magic number {i * 7} needs a name", path="src/values.py")
        for i in range(35)
    ]
    model_server.queue(findings_reply(*many))
    code, report, err = review(capsys, model_server, "--max-comments", "40")
    assert code == 0, err
    assert len(report["findings"]) == 35
    assert [len(r.json["comments"]) for r in posted_reviews(gh)] == [30, 5]


def test_model_text_is_posted_neutralized(
    capsys: pytest.CaptureFixture[str], gh: FakeGitHub, model_server: FakeModelServer, job: Job
) -> None:
    open_pull(gh)
    loud = dict(TAX, title="Ping @octocat now", body="cc @org/team <img src=x onerror=alert(1)>")
    model_server.queue(findings_reply(loud))
    code, _, err = review(capsys, model_server)
    assert code == 0, err
    [request] = posted_reviews(gh)
    for body in (request.json["comments"][0]["body"], summary_body(gh)):
        assert "@octocat" not in body and "@org/team" not in body
        assert "@\u200boctocat" in body and "@\u200borg/team" in body
        assert "<img" not in body


# --------------------------------------------------------------------------- files and context


def test_300_files_are_paged_through_and_all_reviewed_or_listed(
    capsys: pytest.CaptureFixture[str],
    gh: FakeGitHub,
    model_server: FakeModelServer,
    job: Job,
    tmp_path: Path,
) -> None:
    files = [
        PullFile(
            f"pkg/mod_{i:03}.py", status="added", patch=f"@@ -0,0 +1 @@\n+VALUE_{i:03} = {i}\n"
        )
        for i in range(298)
    ]
    files += [PullFile("img/a.png", status="added"), PullFile("data/big.json", additions=9000)]
    open_pull(gh, *files)
    (tmp_path / ".git").mkdir()  # the job checked out the head commit: context from disk
    (tmp_path / ".git" / "HEAD").write_text(HEAD + "\n")
    code, report, err = review(capsys, model_server)
    assert code == 0, err
    pages = [r.query.get("page", "1") for r in gh.requests if r.path == f"{PULL_PATH}/files"]
    assert pages == ["1", "2", "3"]
    assert not context_reads(gh)
    prompts = "\n".join(r.prompt_text for r in model_server.requests)
    assert all(f"pkg/mod_{i:03}.py" in prompts for i in range(298))
    assert report["summary"]["files_reviewed"] == 298
    skipped = {s["path"]: s["reason"] for s in report["summary"]["files_skipped"]}
    assert skipped == {
        "img/a.png": "no diff from GitHub: a binary or empty file",
        "data/big.json": "no diff from GitHub: too large (9000 changed lines)",
    }


def test_context_comes_from_the_api_at_the_head_unless_the_checkout_is_the_head(
    capsys: pytest.CaptureFixture[str],
    gh: FakeGitHub,
    model_server: FakeModelServer,
    job: Job,
    tmp_path: Path,
) -> None:
    open_pull(gh)
    gh.set_contents(REPO, HEAD, {PATH: V1, "REVIEW.md": "Money is Decimal, never float."})
    (tmp_path / ".git").mkdir()  # a pull_request job checks out the merge commit
    (tmp_path / ".git" / "HEAD").write_text("e" * 40 + "\n")
    (tmp_path / "REVIEW.md").write_text("Guidelines of the merge commit")
    code, _, err = review(capsys, model_server)
    assert code == 0, err
    prompt = model_server.requests[0].prompt_text
    assert "Money is Decimal, never float." in prompt
    assert "Guidelines of the merge commit" not in prompt
    reads = context_reads(gh)
    assert {r.query["ref"] for r in reads} == {HEAD}
    assert len({r.path for r in reads}) == len(reads)  # each file read once


# --------------------------------------------------------------------------- tokens and limits


def test_fork_with_a_read_only_token_writes_the_job_summary_instead(
    capsys: pytest.CaptureFixture[str],
    gh: FakeGitHub,
    model_server: FakeModelServer,
    job: Job,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    open_pull(gh, head_repo="alice/shop")
    monkeypatch.setenv("GITHUB_TOKEN", READ_TOKEN)
    model_server.queue(findings_reply(TAX))
    code, report, err = review(capsys, model_server)
    assert code == 0, err
    assert writes(gh) == [("POST", f"{PULL_PATH}/reviews", 403)]
    assert "Traceback" not in err
    lines = err.splitlines()
    assert any(
        line.startswith("::warning title=ai-review could not post::") and "read-only" in line
        for line in lines
    )
    title = "[high] Tax multiplies the subtotal instead of adding it"
    assert f"::warning file={PATH},line=7,endLine=7,title={title}::Why: tax" in err
    step = job.step_summary.read_text()
    assert "could not post to the pull request" in step and TAX["title"] in step
    assert "findings=1" in job.output.read_text().splitlines()
    assert len(report["findings"]) == 1

    model_server.queue(findings_reply(TAX))
    assert review(capsys, model_server, "--fail-on", "high")[0] == 1  # exit per findings


def test_bad_token_exits_2_with_one_line(
    capsys: pytest.CaptureFixture[str],
    gh: FakeGitHub,
    model_server: FakeModelServer,
    job: Job,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    open_pull(gh)
    monkeypatch.setenv("GITHUB_TOKEN", "ghs_unknown_secret")
    code, report, err = review(capsys, model_server)
    assert code == 2  # the user's to fix, as on GitLab
    assert report == {} and model_server.requests == []
    assert err.count("\n") == 1 and "check GITHUB_TOKEN" in err and "401" in err
    assert "ghs_unknown_secret" not in err


def test_a_token_that_cannot_read_the_pull_request_exits_2(
    capsys: pytest.CaptureFixture[str], gh: FakeGitHub, model_server: FakeModelServer, job: Job
) -> None:
    open_pull(gh)
    body = {"message": "Resource not accessible by integration"}
    gh.fail_next(method="GET", path_regex=rf"pulls/{NUMBER}/files$", status=403, body=body)
    code, report, err = review(capsys, model_server)
    assert code == 2
    assert report == {} and model_server.requests == []
    assert err.count("\n") == 1 and "contents: read and pull-requests: write" in err


def test_unknown_pull_request_exits_2(
    capsys: pytest.CaptureFixture[str], gh: FakeGitHub, model_server: FakeModelServer, job: Job
) -> None:
    open_pull(gh)
    code, _, err = review(capsys, model_server, "--pr", "99")
    assert code == 2
    assert err.count("\n") == 1 and "GitHub does not find octo/shop#99 (404 Not Found)" in err


def test_secondary_rate_limit_and_server_errors_are_retried(
    capsys: pytest.CaptureFixture[str], gh: FakeGitHub, model_server: FakeModelServer, job: Job
) -> None:
    open_pull(gh)
    gh.fail_next(method="GET", path_regex=rf"pulls/{NUMBER}$", status=502)
    gh.fail_next(
        method="POST",
        path_regex=r"/reviews$",
        status=403,
        headers={"Retry-After": "0"},
        body={"message": "You have exceeded a secondary rate limit. Please wait."},
    )
    model_server.queue(findings_reply(TAX))
    code, _, err = review(capsys, model_server)
    assert code == 0, err
    assert [r.status for r in gh.requests if r.path == PULL_PATH] == [502, 200]
    assert [r.status for r in posted_reviews(gh)] == [403, 200]
    assert len(gh.reviews(REPO, NUMBER)) == 1


def test_server_errors_that_outlast_the_retries_exit_3(
    capsys: pytest.CaptureFixture[str],
    gh: FakeGitHub,
    model_server: FakeModelServer,
    job: Job,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from reviewer.platforms.github import api as github_api

    monkeypatch.setattr(github_api, "RETRIES", 1)
    open_pull(gh)
    gh.fail_next(method="GET", path_regex=rf"pulls/{NUMBER}/files$", status=503, times=5)
    code, _, err = review(capsys, model_server)
    assert code == 3
    assert "GitHub kept failing while listing the pull request's files" in err


def test_dry_run_posts_nothing(
    capsys: pytest.CaptureFixture[str], gh: FakeGitHub, model_server: FakeModelServer, job: Job
) -> None:
    open_pull(gh)
    model_server.queue(findings_reply(TAX, SIGNATURE, REMOVED))
    code, report, err = review(capsys, model_server, "--dry-run")
    assert code == 0, err
    assert len(report["findings"]) == 3
    assert "dry run: would post 3 inline comments and create the summary" in err
    assert writes(gh) == []
    assert "3 findings" in job.step_summary.read_text()


def test_outside_actions_with_repo_and_pr(
    capsys: pytest.CaptureFixture[str],
    gh: FakeGitHub,
    model_server: FakeModelServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    open_pull(gh)
    monkeypatch.setenv("GITHUB_API_URL", gh.url)
    monkeypatch.setenv("GITHUB_TOKEN", WRITE_TOKEN)
    monkeypatch.setenv("AI_REVIEW_API_KEY", "sk-test")
    code, _, err = review(capsys, model_server, "--repo", REPO, "--pr", str(NUMBER))
    assert code == 0, err
    assert summary_body(gh).startswith(summary_marker(HEAD))
    assert [r.authorized for r in gh.requests] == [True] * len(gh.requests)


# --------------------------------------------------------------------------- acceptance


def review_with_telemetry(capsys: pytest.CaptureFixture[str], config: Path, telemetry: Path) -> int:
    code = main(
        ["--github", "--format", "json", "--config", str(config), "--telemetry", str(telemetry)]
    )
    capsys.readouterr()
    return code


def comment_id(gh: FakeGitHub, title: str) -> int:
    [found] = [c["id"] for c in gh.review_comments(REPO, NUMBER) if title in c["body"]]
    return int(found)


def test_a_rerun_records_what_became_of_the_earlier_comments(
    capsys: pytest.CaptureFixture[str],
    gh: FakeGitHub,
    model_server: FakeModelServer,
    job: Job,
    tmp_path: Path,
) -> None:
    config = tmp_path / "arms.toml"
    arm = f'name = "frontier"\nmodel = "{MODEL}"\napi_base = "{model_server.base_url}"\n'
    config.write_text("[[arms]]\n" + arm)
    telemetry = tmp_path / "telemetry.jsonl"
    open_pull(gh)
    model_server.queue(findings_reply(TAX, REMOVED, NAME))
    assert review_with_telemetry(capsys, config, telemetry) == 0
    tax, removed, name = (comment_id(gh, f["title"]) for f in (TAX, REMOVED, NAME))
    v3 = HEADER + TOTAL_V1 + helpers(0, 4) + NAME_OLD + helpers(4, 9)  # the name change undone
    gh.push(
        REPO, NUMBER, head_sha=NEW_HEAD, files=[PullFile(PATH, patch=make_patch(BASE_TEXT, v3))]
    )
    gh.add_compare(REPO, HEAD, NEW_HEAD, files=[PullFile(PATH, patch=make_patch(V1, v3))])
    gh.add_reaction(REPO, tax, "+1")
    gh.add_reply(REPO, NUMBER, tax, "Good catch, fixing it.")
    gh.add_reaction(REPO, removed, "-1")
    gh.add_reaction(REPO, removed, "laugh")
    gh.add_reply(REPO, NUMBER, removed, "Noted.", login=ACTIONS_BOT)  # the tool's own: no signal
    gh.add_reaction(REPO, name, "eyes")
    gh.clear_requests()

    assert review_with_telemetry(capsys, config, telemetry) == 0
    lines = [json.loads(line) for line in telemetry.read_text().splitlines()]
    first, second = (line for line in lines if line["type"] == "review")
    assert first["acceptance"] is None  # a first review has no earlier comments
    assert second["arm"] == "frontier"
    assert second["acceptance"] == {
        "comments": 3,
        "resolved": 0,  # needs GitHub's GraphQL API
        "outdated": 1,  # NAME: its lines are no longer in the diff
        "thumbs_up": 1,
        "thumbs_down": 1,
        "replied": 1,
        "accepted": 2,  # TAX (👍) and NAME (outdated); REMOVED has a 👎
        "signalled": 3,
        "rate": 0.6667,
    }
    paths = [r.path for r in gh.requests if r.method == "GET"]
    assert paths.count(f"{PULL_PATH}/comments") == 1  # listed once, for fingerprints and fates
    assert not [path for path in paths if "/pulls/comments/" in path]  # reactions: in the list

    assert main(["stats", str(telemetry), "--format", "json"]) == 0
    groups = json.loads(capsys.readouterr().out)["groups"]
    assert groups["frontier"]["reviews"] == 2
    assert groups["frontier"]["acceptance_rate"] == 0.6667


def test_the_session_is_closed_once_whatever_happens(
    capsys: pytest.CaptureFixture[str],
    gh: FakeGitHub,
    model_server: FakeModelServer,
    job: Job,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from reviewer.platforms.github import api as github_api

    closed: list[github_api.GitHubAPI] = []
    close = github_api.GitHubAPI.close

    def counted(api: github_api.GitHubAPI) -> None:
        closed.append(api)
        close(api)

    monkeypatch.setattr(github_api.GitHubAPI, "close", counted)
    monkeypatch.setattr(github_api, "RETRIES", 0)
    open_pull(gh)
    assert review(capsys, model_server, "--pr", "99")[0] == 2  # fetch fails
    assert len(closed) == 1
    model_server.queue(findings_reply(TAX), findings_reply(TAX))
    gh.fail_next(method="POST", path_regex=r"/issues/\d+/comments$", status=500)
    assert review(capsys, model_server)[0] == 3  # the summary cannot be posted
    assert len(closed) == 2
    assert review(capsys, model_server)[0] == 0
    assert len(closed) == 3 and len(set(map(id, closed))) == 3
