"""Self-test of the fake GitHub server, driven through the real PyGithub client."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from typing import Any, cast

import pytest
from github import Auth, Github, GithubException
from github.PullRequest import ReviewComment

from tests.fakes.github_server import FakeGitHub, PullFile, parse_patch

REPO = "octo/demo"
HEAD = "a" * 40
BASE = "b" * 40
NEW_HEAD = "c" * 40
PATH = "src/app.py"

# Hunk 1: old 1-3, new 1-4.  Hunk 2: old 10-11, new 11-12.
PATCH = (
    "@@ -1,3 +1,4 @@\n"
    " import os\n"  # old 1, new 1   (position 1)
    "-x = 1\n"  # old 2            (position 2)
    "+x = 2\n"  # new 2            (position 3)
    "+y = 3\n"  # new 3            (position 4)
    " print(x)\n"  # old 3, new 4   (position 5)
    "@@ -10,2 +11,2 @@ def f():\n"  # (position 6)
    " a\n"  # old 10, new 11        (position 7)
    "-b\n"  # old 11                (position 8)
    "+c\n"  # new 12                (position 9)
    "\\ No newline at end of file\n"
)


def make_client(gh: FakeGitHub, token: str | None = "ghs_write") -> Github:
    """A real PyGithub client on the fake, without retries or throttling sleeps."""
    return Github(
        auth=Auth.Token(token) if token else None,
        base_url=gh.url,
        retry=None,
        seconds_between_requests=None,
        seconds_between_writes=None,
    )


@pytest.fixture
def gh() -> Iterator[FakeGitHub]:
    with FakeGitHub() as fake:
        fake.add_token("ghs_write")
        fake.add_token("ghs_read", write=False)
        fake.add_pull(
            REPO,
            7,
            head_sha=HEAD,
            base_sha=BASE,
            title="Add y",
            body="Adds y.",
            files=[PullFile(PATH, status="modified", patch=PATCH)],
        )
        yield fake


@pytest.fixture
def api(gh: FakeGitHub) -> Iterator[Github]:
    client = make_client(gh)
    yield client
    client.close()


def comment(line: int | None, side: str = "RIGHT", **extra: Any) -> ReviewComment:
    """A review comment on PATH; ``line=None`` leaves line and side out (legacy position)."""
    data: dict[str, Any] = {"path": PATH, "body": f"note on {side} {line}"}
    if line is not None:
        data.update(line=line, side=side)
    data.update(extra)
    return cast(ReviewComment, data)


def raw_get(gh: FakeGitHub, path: str, accept: str) -> tuple[int, str]:
    request = urllib.request.Request(
        gh.url + path, headers={"Authorization": "token ghs_write", "Accept": accept}
    )
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as failure:
        with failure:
            return failure.code, failure.read().decode()


def test_parse_patch_numbers_lines_on_both_sides() -> None:
    parsed = parse_patch(PATCH)
    assert parsed.additions == 3
    assert parsed.deletions == 2
    assert parsed.find("RIGHT", 4) is not None
    assert parsed.find("LEFT", 3) is not None
    assert parsed.find("LEFT", 12) is None
    assert parsed.find("RIGHT", 5) is None
    plus_c = parsed.find("RIGHT", 12)
    assert plus_c is not None
    assert plus_c.position == 9
    assert plus_c.hunk == 1
    assert parsed.diff_hunk(plus_c).splitlines()[0].startswith("@@ -10,2 +11,2 @@")


def test_reads_pull_and_pages_through_250_files(gh: FakeGitHub, api: Github) -> None:
    files = [
        PullFile(f"pkg/m{i:03}.py", patch="@@ -0,0 +1 @@\n+x\n", status="added") for i in range(250)
    ]
    gh.add_pull(REPO, 8, head_sha=HEAD, base_sha=BASE, files=files, head_repo="alice/demo")
    pr = api.get_repo(REPO).get_pull(8)
    assert pr.head.sha == HEAD
    assert pr.base.sha == BASE
    assert pr.head.repo.full_name == "alice/demo"
    assert pr.changed_files == 250
    names = [f.filename for f in pr.get_files()]
    assert names == [f.filename for f in files]
    pages = [r for r in gh.requests if r.path == f"/repos/{REPO}/pulls/8/files"]
    assert len(pages) == 9  # 30 per page by default
    assert [r.query.get("page", "1") for r in pages] == [str(n) for n in range(1, 10)]


def test_link_header_and_per_page_cap(gh: FakeGitHub) -> None:
    files = [PullFile(f"f{i}", patch="@@ -1 +1 @@\n-a\n+b\n") for i in range(3100)]
    gh.add_pull(REPO, 9, head_sha=HEAD, base_sha=BASE, files=files)
    with make_client(gh, "ghs_write") as client:
        headers, data = client.requester.requestJsonAndCheck(
            "GET", f"/repos/{REPO}/pulls/9/files", parameters={"per_page": 500, "page": 2}
        )
    assert len(data) == 100  # per_page is capped at 100
    links = {
        rel: urllib.parse.urlsplit(url)
        for url, rel in re.findall(r'<([^>]+)>; rel="(\w+)"', str(headers["link"]))
    }
    pages = {rel: urllib.parse.parse_qs(url.query)["page"] for rel, url in links.items()}
    assert pages == {"prev": ["1"], "next": ["3"], "last": ["30"], "first": ["1"]}  # cap 3000
    assert links["next"].path.startswith("/repositories/")  # like the real API


def test_review_with_valid_comments_is_stored(gh: FakeGitHub, api: Github) -> None:
    repo = api.get_repo(REPO)
    pr = repo.get_pull(7)
    review = pr.create_review(
        commit=repo.get_commit(HEAD),
        body="Summary",
        event="COMMENT",
        comments=[
            comment(3),
            comment(2, "LEFT"),
            comment(4, start_line=1, start_side="RIGHT"),
            comment(11, "LEFT", start_line=10),
            comment(None, position=9),
        ],
    )
    assert review.state == "COMMENTED"
    assert review.user.login == "ai-review[bot]"
    assert review.commit_id == HEAD
    [stored] = gh.reviews(REPO, 7)
    assert stored["event"] == "COMMENT"
    assert [c["line"] for c in stored["comments"]] == [3, 2, 4, 11, 12]
    listed = list(pr.get_review_comments())
    assert [c.original_line for c in listed] == [3, 2, 4, 11, 12]
    assert listed[2].raw_data["start_line"] == 1
    assert listed[1].raw_data["side"] == "LEFT"
    assert all(c.pull_request_review_id == review.id for c in listed)
    assert listed[0].diff_hunk.endswith("+y = 3")
    assert [r.id for r in pr.get_reviews()] == [review.id]


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (comment(8), "Pull request review thread line must be part of the diff"),
        (comment(2, "RIGHT"), None),  # a valid comment: the control case
        (comment(12, "LEFT"), "Pull request review thread line must be part of the diff"),
        (
            comment(3, start_line=3),
            "Pull request review thread start line must precede the end line",
        ),
        (
            comment(12, start_line=4),
            "Pull request review thread start line must be part of the same hunk as the line",
        ),
        (comment(2, path="docs/README.md"), "Pull request review thread path is invalid"),
        (comment(None, position=6), "Pull request review thread diff hunk can't be blank"),
        (comment(2, body="x" * 65537), "Body is too long (maximum is 65536 characters)"),
    ],
)
def test_one_bad_comment_fails_the_whole_review(
    gh: FakeGitHub, api: Github, bad: ReviewComment, message: str | None
) -> None:
    repo = api.get_repo(REPO)
    pr = repo.get_pull(7)
    comments = [comment(3), bad]
    if message is None:
        pr.create_review(commit=repo.get_commit(HEAD), event="COMMENT", comments=comments)
        assert len(gh.review_comments(REPO, 7)) == 2
        return
    with pytest.raises(GithubException) as failure:
        pr.create_review(commit=repo.get_commit(HEAD), event="COMMENT", comments=comments)
    assert failure.value.status == 422
    assert failure.value.data["errors"] == [message]
    assert gh.reviews(REPO, 7) == []
    assert gh.review_comments(REPO, 7) == []


def test_review_on_unknown_commit_is_refused(gh: FakeGitHub, api: Github) -> None:
    gh.set_contents(REPO, "d" * 40, {PATH: "x"})
    repo = api.get_repo(REPO)
    with pytest.raises(GithubException) as failure:
        repo.get_pull(7).create_review(commit=repo.get_commit("d" * 40), event="COMMENT", body="b")
    assert failure.value.status == 422
    assert failure.value.data["errors"] == ["The commitOID is not part of the pull request"]


def test_only_one_pending_review_per_user(gh: FakeGitHub, api: Github) -> None:
    pr = api.get_repo(REPO).get_pull(7)
    pending = pr.create_review(body="draft", comments=[comment(3)])
    assert pending.state == "PENDING"
    with pytest.raises(GithubException) as failure:
        pr.create_review(body="again", event="COMMENT")
    assert failure.value.status == 422
    assert failure.value.data["errors"] == [
        "User can only have one pending review per pull request"
    ]
    assert [r["state"] for r in gh.reviews(REPO, 7)] == ["PENDING"]


def test_read_only_token_gets_403(gh: FakeGitHub) -> None:
    with make_client(gh, "ghs_read") as client:
        pr = client.get_repo(REPO).get_pull(7)  # reads work
        assert pr.title == "Add y"
        with pytest.raises(GithubException) as failure:
            pr.create_issue_comment("hello")
        with pytest.raises(GithubException) as review_failure:
            pr.create_review(body="x", event="COMMENT")
    assert failure.value.status == 403
    assert failure.value.data["message"] == "Resource not accessible by integration"
    assert review_failure.value.status == 403
    assert gh.issue_comments(REPO, 7) == []


@pytest.mark.parametrize("token", [None, "ghs_unknown"])
def test_missing_or_unknown_token_gets_401(gh: FakeGitHub, token: str | None) -> None:
    with make_client(gh, token) as client, pytest.raises(GithubException) as failure:
        client.get_repo(REPO)
    assert failure.value.status == 401
    assert failure.value.data["message"] == "Bad credentials"
    assert gh.requests[-1].authorized is False


def test_create_and_edit_issue_comment(gh: FakeGitHub, api: Github) -> None:
    pr = api.get_repo(REPO).get_pull(7)
    created = pr.create_issue_comment("first")
    created.edit("second")
    assert pr.get_issue_comment(created.id).body == "second"
    assert [c.body for c in pr.get_issue_comments()] == ["second"]
    assert [c["body"] for c in gh.issue_comments(REPO, 7)] == ["second"]
    assert pr.as_issue().pull_request is not None
    with pytest.raises(GithubException) as failure:
        pr.create_issue_comment("x" * 65537)
    assert failure.value.status == 422


def test_fail_next_answers_once_then_normally(gh: FakeGitHub, api: Github) -> None:
    gh.fail_next(
        method="POST",
        path_regex=r"/reviews$",
        status=403,
        headers={"Retry-After": "0"},
        body={"message": "You have exceeded a secondary rate limit."},
    )
    repo = api.get_repo(REPO)
    pr = repo.get_pull(7)
    with pytest.raises(GithubException) as failure:
        pr.create_review(commit=repo.get_commit(HEAD), body="s", event="COMMENT")
    assert failure.value.status == 403
    assert failure.value.headers is not None
    assert failure.value.headers["retry-after"] == "0"
    review = pr.create_review(commit=repo.get_commit(HEAD), body="s", event="COMMENT")
    assert review.state == "COMMENTED"
    assert [r.status for r in gh.requests if r.method == "POST"] == [403, 200]


def test_rate_limit_headers_on_every_response(gh: FakeGitHub, api: Github) -> None:
    api.get_repo(REPO)
    remaining, limit = api.rate_limiting
    assert limit == 5000
    assert remaining < 5000


def test_push_outdates_comments_off_the_new_diff(gh: FakeGitHub, api: Github) -> None:
    repo = api.get_repo(REPO)
    repo.get_pull(7).create_review(
        commit=repo.get_commit(HEAD), event="COMMENT", comments=[comment(3), comment(12)]
    )
    first_hunk_only = PATCH.split("@@ -10", maxsplit=1)[0]
    gh.push(REPO, 7, head_sha=NEW_HEAD, files=[PullFile(PATH, patch=first_hunk_only)])
    kept, outdated = repo.get_pull(7).get_review_comments()
    assert (kept.raw_data["line"], kept.commit_id) == (3, NEW_HEAD)
    assert outdated.raw_data["line"] is None
    assert outdated.original_line == 12
    assert outdated.original_commit_id == HEAD
    # a review may still target the old head
    repo.get_pull(7).create_review(
        commit=repo.get_commit(HEAD), event="COMMENT", comments=[comment(12)]
    )


def test_diff_media_type_and_406_when_too_large(gh: FakeGitHub) -> None:
    status, text = raw_get(gh, f"/repos/{REPO}/pulls/7", "application/vnd.github.v3.diff")
    assert status == 200
    assert text.startswith(f"diff --git a/{PATH} b/{PATH}\n")
    assert f"--- a/{PATH}\n+++ b/{PATH}\n@@ -1,3 +1,4 @@" in text
    many = [PullFile(f"f{i}", patch="@@ -1 +1 @@\n-a\n+b\n") for i in range(301)]
    gh.add_pull(REPO, 10, head_sha=HEAD, base_sha=BASE, files=many)
    status, text = raw_get(gh, f"/repos/{REPO}/pulls/10", "application/vnd.github.diff")
    assert status == 406
    assert json.loads(text)["errors"][0]["code"] == "too_large"


def test_contents_compare_reactions_and_replies(gh: FakeGitHub, api: Github) -> None:
    gh.set_contents(REPO, HEAD, {PATH: "import os\nx = 2\n"})
    repo = api.get_repo(REPO)
    content = repo.get_contents(PATH, ref=HEAD)
    assert not isinstance(content, list)
    assert content.decoded_content == b"import os\nx = 2\n"
    with pytest.raises(GithubException) as missing:
        repo.get_contents("nope.py", ref=HEAD)
    assert missing.value.status == 404
    assert [f.filename for f in repo.compare(BASE, HEAD).files] == [PATH]

    pr = repo.get_pull(7)
    pr.create_review(commit=repo.get_commit(HEAD), event="COMMENT", comments=[comment(3)])
    [bot_comment] = pr.get_review_comments()
    gh.add_reaction(REPO, bot_comment.id, "-1")
    gh.add_reply(REPO, 7, bot_comment.id, "I disagree")
    assert [r.content for r in bot_comment.get_reactions()] == ["-1"]
    replies = [c for c in gh.review_comments(REPO, 7) if c["in_reply_to_id"] == bot_comment.id]
    assert [r["body"] for r in replies] == ["I disagree"]


def test_unknown_route_is_404_and_tokens_are_never_recorded(gh: FakeGitHub) -> None:
    status, text = raw_get(gh, "/nope", "application/json")
    assert status == 404
    assert json.loads(text)["message"] == "Not Found"
    assert "ghs_write" not in repr(gh.requests)
