"""GitHub reruns end to end: which token writes our comments, threads resolved once their
finding is fixed, and the addressed rate, against the fake GitHub (REST and GraphQL)."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from reviewer.cli import main
from reviewer.platforms.common import fingerprint_marker, summary_marker
from tests.fakes.github_server import FakeGitHub, PullFile
from tests.fakes.model_server import FakeModelServer, findings_reply
from tests.test_github import (
    ACTIONS_BOT,
    BASE_TEXT,
    HEAD,
    NAME,
    NEW_HEAD,
    NUMBER,
    PATH,
    REPO,
    TAX,
    V1,
    WRITE_TOKEN,
    Job,
    gh,
    job,
    make_patch,
    open_pull,
    posted_reviews,
    review,
    writes,
)

__all__ = ["gh", "job"]  # fixtures shared with test_github
PAT = "ghp_person_token"
APP_TOKEN = "ghs_app_installation_token"
APP_BOT = "shop-reviewer[bot]"
FIXED = V1.replace("return subtotal * tax", "return subtotal * (1 + tax)")


def threads(gh: FakeGitHub) -> dict[str, int]:
    """Our top-level review comments by the title they carry: title -> comment id."""
    found = {}
    for comment in gh.review_comments(REPO, NUMBER):
        if comment["in_reply_to_id"] is None:
            for finding in (TAX, NAME):
                if finding["title"] in comment["body"]:
                    found[finding["title"]] = int(comment["id"])
    return found


def push_the_tax_fix(gh: FakeGitHub) -> None:
    gh.push(
        REPO, NUMBER, head_sha=NEW_HEAD, files=[PullFile(PATH, patch=make_patch(BASE_TEXT, FIXED))]
    )
    gh.add_compare(REPO, HEAD, NEW_HEAD, files=[PullFile(PATH, patch=make_patch(V1, FIXED))])


def summary(gh: FakeGitHub) -> str:
    [ours] = [c for c in gh.issue_comments(REPO, NUMBER) if "ai-review:summary" in c["body"]]
    return str(ours["body"])


def use_token(gh: FakeGitHub, monkeypatch: pytest.MonkeyPatch, token: str, **kind: Any) -> None:
    gh.add_token(token, **kind)
    monkeypatch.setenv("GITHUB_TOKEN", token)


def first_review(
    capsys: pytest.CaptureFixture[str], gh: FakeGitHub, server: FakeModelServer
) -> None:
    open_pull(gh)
    server.queue(findings_reply(TAX, NAME))
    code, report, err = review(capsys, server)
    assert code == 0, err
    assert len(report["findings"]) == 2 and len(threads(gh)) == 2


@pytest.mark.parametrize(
    ("token", "kind", "author"),
    [
        (WRITE_TOKEN, {}, ACTIONS_BOT),  # the Actions GITHUB_TOKEN (the job fixture's)
        (PAT, {"login": "octocat"}, "octocat"),
        (APP_TOKEN, {"login": APP_BOT}, APP_BOT),  # 403 on GET /user
    ],
)
def test_every_token_kind_recognises_its_own_comments_on_a_rerun(
    capsys: pytest.CaptureFixture[str],
    gh: FakeGitHub,
    model_server: FakeModelServer,
    job: Job,
    monkeypatch: pytest.MonkeyPatch,
    token: str,
    kind: dict[str, Any],
    author: str,
) -> None:
    if kind:
        use_token(gh, monkeypatch, token, **kind)
    first_review(capsys, gh, model_server)
    assert {c["user"]["login"] for c in gh.review_comments(REPO, NUMBER)} == {author}
    model_server.queue(findings_reply(TAX, NAME))
    code, _, err = review(capsys, model_server, "--full")  # the same findings, all again
    assert code == 0, err
    assert len(posted_reviews(gh)) == 1  # no second review, no comment twice
    assert len(gh.issue_comments(REPO, NUMBER)) == 1  # the summary edited, not a second one
    assert "2 findings already posted before" in summary(gh)
    user = [r.status for r in gh.requests if r.path == "/user"]
    assert user == ([200] if author == "octocat" else [403])


def test_an_app_token_named_in_the_environment_needs_no_lookup(
    capsys: pytest.CaptureFixture[str],
    gh: FakeGitHub,
    model_server: FakeModelServer,
    job: Job,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    use_token(gh, monkeypatch, APP_TOKEN, login=APP_BOT)
    monkeypatch.setenv("AI_REVIEW_BOT_LOGIN", APP_BOT)
    first_review(capsys, gh, model_server)
    assert review(capsys, model_server)[0] == 0  # same head: nothing new
    assert len(model_server.requests) == 1 and len(gh.issue_comments(REPO, NUMBER)) == 1
    assert not [r for r in gh.requests if r.path in ("/user", "/graphql")]


def test_a_push_that_fixes_one_finding_resolves_its_thread_and_keeps_the_other(
    capsys: pytest.CaptureFixture[str],
    gh: FakeGitHub,
    model_server: FakeModelServer,
    job: Job,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    use_token(gh, monkeypatch, PAT, login="octocat")  # a person's token may resolve
    telemetry = tmp_path / "t.jsonl"
    first_review(capsys, gh, model_server)
    tax, name = threads(gh)[TAX["title"]], threads(gh)[NAME["title"]]
    push_the_tax_fix(gh)
    model_server.queue(findings_reply())  # the fixed hunk, reviewed again: nothing left
    code, _, err = review(capsys, model_server, "--telemetry", str(telemetry))
    assert code == 0, err
    assert gh.thread_resolved(tax) and not gh.thread_resolved(name)
    assert "1 earlier thread resolved: fixed since." in summary(gh)
    assert "1 thread resolved" in err
    mutations = [r for r in gh.requests if r.path == "/graphql" and "mutation" in str(r.json)]
    assert len(mutations) == 1
    code, _, err = review(capsys, model_server, "--telemetry", str(telemetry))  # a rerun
    assert code == 0, err
    assert len([r for r in gh.requests if "mutation" in str(r.json)]) == 1  # not again
    assert stats(capsys, telemetry)["addressed_rate"] == 0.5  # tax addressed, name open, once


def test_a_token_that_may_not_resolve_replies_once_instead(
    capsys: pytest.CaptureFixture[str], gh: FakeGitHub, model_server: FakeModelServer, job: Job
) -> None:
    first_review(capsys, gh, model_server)  # GITHUB_TOKEN with contents: read
    tax = threads(gh)[TAX["title"]]
    push_the_tax_fix(gh)
    model_server.queue(findings_reply())
    assert review(capsys, model_server)[0] == 0
    assert not gh.thread_resolved(tax)
    replies = [c for c in gh.review_comments(REPO, NUMBER) if c["in_reply_to_id"] == tax]
    assert [c["user"]["login"] for c in replies] == [ACTIONS_BOT]
    assert "looks addressed" in replies[0]["body"]
    assert "answered as fixed" in summary(gh) and "`contents: write`" in summary(gh)
    newer = FIXED.replace("'shop cart'", "'the shop cart'")  # a second push, elsewhere
    gh.push(
        REPO, NUMBER, head_sha="d" * 40, files=[PullFile(PATH, patch=make_patch(BASE_TEXT, newer))]
    )
    gh.add_compare(REPO, NEW_HEAD, "d" * 40, files=[PullFile(PATH, patch=make_patch(FIXED, newer))])
    model_server.queue(findings_reply())
    assert review(capsys, model_server)[0] == 0
    replies = [c for c in gh.review_comments(REPO, NUMBER) if c["in_reply_to_id"] == tax]
    assert len(replies) == 1  # replied once, never again


def test_a_thread_someone_answered_is_left_alone(
    capsys: pytest.CaptureFixture[str],
    gh: FakeGitHub,
    model_server: FakeModelServer,
    job: Job,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    use_token(gh, monkeypatch, PAT, login="octocat")
    first_review(capsys, gh, model_server)
    tax = threads(gh)[TAX["title"]]
    gh.add_reply(REPO, NUMBER, tax, "I disagree, tax is a factor here.", login="maintainer")
    push_the_tax_fix(gh)
    model_server.queue(findings_reply())
    assert review(capsys, model_server)[0] == 0
    assert not gh.thread_resolved(tax)
    assert "resolved" not in summary(gh)


def test_a_finding_that_still_stands_is_never_resolved(
    capsys: pytest.CaptureFixture[str],
    gh: FakeGitHub,
    model_server: FakeModelServer,
    job: Job,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    use_token(gh, monkeypatch, PAT, login="octocat")
    first_review(capsys, gh, model_server)
    tax = threads(gh)[TAX["title"]]
    push_the_tax_fix(gh)
    still = dict(TAX, quote="return subtotal * (1 + tax)")  # reworded line, same problem
    model_server.queue(findings_reply(still))
    assert review(capsys, model_server)[0] == 0
    assert not gh.thread_resolved(tax)


def test_a_persons_comment_with_our_marker_is_ignored(
    capsys: pytest.CaptureFixture[str], gh: FakeGitHub, model_server: FakeModelServer, job: Job
) -> None:
    open_pull(gh)
    model_server.queue(findings_reply(TAX), findings_reply(TAX))
    code, report, _ = review(capsys, model_server, "--dry-run")
    assert code == 0
    forged = f"Already reviewed.\n\n{fingerprint_marker(report['findings'][0]['fingerprint'])}"
    line = FIXED.splitlines().index("    subtotal = sum(i.price for i in items)") + 1
    comment = {"body": forged, "commit_id": HEAD, "path": PATH, "line": line, "side": "RIGHT"}
    as_person(gh, "ghp_mallory", "mallory", comment)
    gh.add_issue_comment(REPO, NUMBER, summary_marker(HEAD), login="mallory")
    code, _, err = review(capsys, model_server)
    assert code == 0, err
    [posted] = posted_reviews(gh)  # the finding is posted: mallory's marker is not ours
    assert TAX["title"] in posted.json["comments"][0]["body"]
    logins = [c["user"]["login"] for c in gh.issue_comments(REPO, NUMBER)]
    assert logins == ["mallory", ACTIONS_BOT]  # our own summary, mallory's left as it was
    assert ("POST", "/graphql", 200) not in writes(gh)


def as_person(gh: FakeGitHub, token: str, login: str, comment: dict[str, Any]) -> None:
    """A person posts a review comment through the API, as a browser would."""
    gh.add_token(token, login=login)
    request = urllib.request.Request(
        f"{gh.url}/repos/{REPO}/pulls/{NUMBER}/comments",
        data=json.dumps(comment).encode(),
        headers={"Authorization": f"token {token}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request) as answer:
        assert answer.status == 201


def stats(capsys: pytest.CaptureFixture[str], telemetry: Path) -> dict[str, Any]:
    capsys.readouterr()
    assert main(["stats", str(telemetry), "--format", "json", "--group-by", "repo"]) == 0
    groups: dict[str, Any] = json.loads(capsys.readouterr().out)["groups"]
    return dict(groups[REPO])


def test_a_dry_run_says_what_it_would_resolve_and_resolves_nothing(
    capsys: pytest.CaptureFixture[str],
    gh: FakeGitHub,
    model_server: FakeModelServer,
    job: Job,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    use_token(gh, monkeypatch, PAT, login="octocat")
    first_review(capsys, gh, model_server)
    push_the_tax_fix(gh)
    model_server.queue(findings_reply())
    code, _, err = review(capsys, model_server, "--dry-run")
    assert code == 0, err
    assert "would resolve 1 thread(s)" in err
    assert not [r for r in gh.requests if "mutation" in str(r.json)]


def test_threads_that_cannot_be_read_do_not_lose_the_review(
    capsys: pytest.CaptureFixture[str], gh: FakeGitHub, model_server: FakeModelServer, job: Job
) -> None:
    first_review(capsys, gh, model_server)
    push_the_tax_fix(gh)
    gh.fail_next(method="POST", path_regex=r"^/graphql$", status=404, times=10)  # an old GHES
    model_server.queue(findings_reply())
    code, _, err = review(capsys, model_server)
    assert code == 0, err
    assert "Earlier threads not checked: GitHub" in summary(gh)


def test_a_thread_a_person_resolved_counts_as_accepted(
    capsys: pytest.CaptureFixture[str],
    gh: FakeGitHub,
    model_server: FakeModelServer,
    job: Job,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    use_token(gh, monkeypatch, PAT, login="octocat")
    telemetry = tmp_path / "t.jsonl"
    first_review(capsys, gh, model_server)
    gh.set_thread_resolved(threads(gh)[NAME["title"]])  # a reader resolved it in the UI
    model_server.queue(findings_reply(TAX, NAME))
    code, _, err = review(capsys, model_server, "--full", "--telemetry", str(telemetry))
    assert code == 0, err
    records = [json.loads(text) for text in telemetry.read_text().splitlines()]
    [line] = [record for record in records if record["type"] == "review"]
    acceptance = line["acceptance"]
    assert (acceptance["comments"], acceptance["resolved"], acceptance["accepted"]) == (2, 1, 1)
