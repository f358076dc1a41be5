"""The PyGithub adapter against the fake GitHub server: our values out, our errors out."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from reviewer.errors import PlatformError, UsageError
from reviewer.platforms.github.api import GitHubAPI, ReadOnlyToken
from reviewer.platforms.github.env import GitHubTarget
from reviewer.platforms.github.post import ReviewRefused
from tests.fakes.github_server import FakeGitHub, PullFile

REPO = "octo/shop"
HEAD = "a" * 40


@pytest.fixture
def gh() -> Iterator[FakeGitHub]:
    with FakeGitHub() as fake:
        fake.add_token("ghs_w")
        fake.add_token("ghs_r", write=False)
        fake.add_token("ghp_person", login="octocat")
        patch = "@@ -1 +1,2 @@\n a\n+b\n"
        fake.add_pull(
            REPO, 7, head_sha=HEAD, base_sha="b" * 40, files=[PullFile("a.py", patch=patch)]
        )
        yield fake


def connect(gh: FakeGitHub, token: str = "ghs_w", number: int = 7) -> GitHubAPI:
    return GitHubAPI(GitHubTarget(gh.url, REPO, number, token))


def test_contents_are_text_files_only(gh: FakeGitHub) -> None:
    gh.set_contents(
        REPO,
        HEAD,
        {"a.py": "a\nb\n", "img.png": b"\x89PNG\0\0", "pkg/mod.py": "x", "big": "x" * 2_000_001},
    )
    api = connect(gh)
    try:
        assert api.read_file("a.py", HEAD) == "a\nb\n"
        assert api.read_file("img.png", HEAD) is None  # binary
        assert api.read_file("pkg", HEAD) is None  # a directory
        assert api.read_file("missing.py", HEAD) is None
        assert api.read_file("big", HEAD) is None  # GitHub sends no content past 1 MB
    finally:
        api.close()
    assert {r.query["ref"] for r in gh.requests if "/contents/" in r.path} == {HEAD}


def test_login_of_a_person_and_of_an_app(gh: FakeGitHub) -> None:
    person, app = connect(gh, "ghp_person"), connect(gh)
    try:
        assert person.login() == "octocat"
        assert app.login() == "ai-review[bot]"  # 403 on GET /user: GraphQL's viewer says
        assert app.login() == "ai-review[bot]"  # asked once
    finally:
        person.close()
        app.close()
    assert [r.status for r in gh.requests if r.path == "/user"] == [200, 403]
    assert [r.path for r in gh.requests].count("/graphql") == 1


def test_login_of_an_app_where_graphql_does_not_answer(gh: FakeGitHub) -> None:
    app = connect(gh)
    gh.fail_next(method="POST", path_regex=r"^/graphql$", status=404, body={"message": "nope"})
    try:
        assert app.login() is None  # the platform then falls back (see test_github)
    finally:
        app.close()


@pytest.mark.parametrize(
    ("status", "headers", "body", "kind", "message"),
    [
        (401, {}, {"message": "Bad credentials"}, UsageError,
         r"GitHub refused the token \(401 Bad credentials\) .*check GITHUB_TOKEN"),
        (403, {}, {"message": "Resource not accessible by integration"}, UsageError,
         "needs contents: read and pull-requests: write"),
        (403, {"x-ratelimit-remaining": "0"}, {"message": "Forbidden"}, PlatformError,
         "rate limit stopped"),
        (429, {}, {"message": "API rate limit exceeded."}, PlatformError, "rate limit stopped"),
        (410, {}, {"message": "Gone"}, PlatformError,
         "GitHub failed listing the pull request's files"),
    ],
)  # fmt: skip
def test_read_errors_are_translated(
    gh: FakeGitHub,
    status: int,
    headers: dict[str, str],
    body: dict[str, str],
    kind: type[Exception],
    message: str,
) -> None:
    gh.fail_next(method="GET", path_regex=r"/files$", status=status, headers=headers, body=body)
    api = connect(gh)
    try:
        with pytest.raises(kind, match=message) as failure:
            api.files()
    finally:
        api.close()
    assert type(failure.value) is kind  # a read is never a read-only token
    assert "ghs_w" not in str(failure.value)


def test_write_errors_are_translated(gh: FakeGitHub) -> None:
    reader, writer = connect(gh, "ghs_r"), connect(gh)
    comment: dict[str, str | int] = {"path": "a.py", "body": "x", "line": 2, "side": "RIGHT"}
    try:
        with pytest.raises(ReadOnlyToken, match="403 Resource not accessible by integration"):
            reader.create_comment("summary")
        with pytest.raises(ReviewRefused) as refused:
            writer.create_review(HEAD, "b", [dict(comment, line=9)])
        assert refused.value.per_comment
        with pytest.raises(ReviewRefused) as whole:
            writer.create_review("d" * 40, "b", [comment])
        assert not whole.value.per_comment  # the commit, not a comment: splitting cannot help
    finally:
        reader.close()
        writer.close()


def test_unreachable_server(gh: FakeGitHub, monkeypatch: pytest.MonkeyPatch) -> None:
    from reviewer.platforms.github import api as github_api

    monkeypatch.setattr(github_api, "RETRIES", 0)  # connection errors back off for real
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    api = GitHubAPI(GitHubTarget(f"http://127.0.0.1:{port}", REPO, 7, "ghs_w"))
    try:
        with pytest.raises(PlatformError, match=r"cannot reach GitHub at http://127\.0\.0\.1"):
            api.pull()
    finally:
        api.close()


def test_review_comments_are_read_as_listed(gh: FakeGitHub) -> None:
    api = connect(gh)
    comment: dict[str, str | int] = {"path": "a.py", "body": "x", "line": 2, "side": "RIGHT"}
    try:
        api.create_review(HEAD, "b", [comment, dict(comment, line=1, body="y")])
        first, second = (c["id"] for c in gh.review_comments(REPO, 7))
        gh.add_reaction(REPO, first, "+1")
        gh.add_reaction(REPO, first, "-1", login="hubot")
        gh.add_reply(REPO, 7, first, "why?")
        # line 1 keeps its text "a" (the second comment stands), line 2 is gone (outdated)
        gh.push(REPO, 7, head_sha="c" * 40, files=[PullFile("a.py", patch="@@ -1 +1 @@\n-z\n+a\n")])
        listed = api.review_comments()
        assert [(c.id, c.reply_to, c.outdated, c.reactions) for c in listed] == [
            (first, None, True, frozenset({"+1", "-1"})),
            (second, None, False, frozenset()),
            (listed[2].id, first, True, frozenset()),
        ]
        # An older server: no reaction counts, and GitHub leaves out `in_reply_to_id` on
        # comments that are not replies. Neither may cost a request per comment.
        bare = [
            {k: v for k, v in c.items() if k != "reactions" and (k, v) != ("in_reply_to_id", None)}
            for c in gh.review_comments(REPO, 7)
        ]
        gh.fail_next(method="GET", path_regex=r"/pulls/7/comments$", status=200, body=bare)
        gh.clear_requests()
        listed = api.review_comments()
        assert [(c.reply_to, c.reactions) for c in listed] == [
            (None, None),
            (None, None),
            (first, None),
        ]
        assert api.reactions(first) == frozenset({"+1", "-1"})
        assert api.reactions(second) == frozenset()
        assert [r.path for r in gh.requests] == [
            f"/repos/{REPO}/pulls/7/comments",
            f"/repos/{REPO}/pulls/comments/{first}/reactions",
            f"/repos/{REPO}/pulls/comments/{second}/reactions",
        ]
    finally:
        api.close()
        api.close()  # closing twice is fine
