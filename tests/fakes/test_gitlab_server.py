"""Self-test of the fake GitLab server, driven by the real python-gitlab client."""

from __future__ import annotations

import hashlib
import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import gitlab
import pytest

from tests.fakes.gitlab_server import (
    LINE_CODE_ERROR,
    DiffLine,
    FakeGitLab,
    MRDiff,
    line_code,
    parse_diff_lines,
)

WRITE = "glpat-write"
JOB = "job-tok"
BASE, START, HEAD = "b" * 40, "s" * 40, "h" * 40
MR_PATH = "/projects/42/merge_requests/5"

# a.py: 1 context, 1 removed, 2 added, 2 context.
#   line       kind     counters(old,new)  position(old_line,new_line)
#   " line1"   context  (1,1)              (1,1)
#   "-line2"   removed  (2,2)              (2,None)
#   "+line2b"  added    (3,2)              (None,2)
#   "+line2c"  added    (3,3)              (None,3)
#   " line3"   context  (3,4)              (3,4)
#   " line4"   context  (4,5)              (4,5)
A_DIFF = "@@ -1,4 +1,5 @@\n line1\n-line2\n+line2b\n+line2c\n line3\n line4\n"
NEW_FILE_DIFF = "@@ -0,0 +1,2 @@\n+hello\n+world\n"


def _diffs() -> list[MRDiff]:
    return [
        MRDiff(old_path="a.py", new_path="a.py", diff=A_DIFF),
        MRDiff(old_path="new.py", new_path="new.py", diff=NEW_FILE_DIFF, new_file=True),
    ]


@pytest.fixture
def fake() -> Iterator[FakeGitLab]:
    with FakeGitLab() as gl:
        gl.add_token(WRITE)
        gl.add_job_token(JOB)
        gl.add_merge_request(
            project_id=42,
            path_with_namespace="group/demo",
            iid=5,
            title="t",
            description="d",
            base_sha=BASE,
            start_sha=START,
            head_sha=HEAD,
            diffs=_diffs(),
        )
        yield gl
        assert gl.server_errors == []


@pytest.fixture
def client(fake: FakeGitLab) -> Iterator[gitlab.Gitlab]:
    with gitlab.Gitlab(fake.url, private_token=WRITE, retry_transient_errors=False) as gl:
        yield gl


def _mr(client: gitlab.Gitlab) -> Any:
    return client.projects.get("group/demo", lazy=True).mergerequests.get(5)


def _position(**lines: Any) -> dict[str, Any]:
    position: dict[str, Any] = {
        "position_type": "text",
        "base_sha": BASE,
        "start_sha": START,
        "head_sha": HEAD,
        "old_path": "a.py",
        "new_path": "a.py",
    }
    position.update(lines)
    return position


def _notes(discussion: Any) -> list[dict[str, Any]]:
    """``discussion.notes`` is a manager in python-gitlab; the data is in ``attributes``."""
    notes: list[dict[str, Any]] = discussion.attributes["notes"]
    return notes


def _code(old: int, new: int, path: str = "a.py") -> str:
    return hashlib.sha1(path.encode()).hexdigest() + f"_{old}_{new}"


def _raw_request(
    fake: FakeGitLab,
    method: str,
    path: str,
    headers: dict[str, str],
    data: bytes | None = None,
) -> tuple[int, dict[str, str], Any]:
    request = urllib.request.Request(
        f"{fake.url}/api/v4{path}", data=data, method=method, headers=headers
    )
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, dict(response.headers), json.loads(response.read())
    except urllib.error.HTTPError as err:
        with err:
            return err.code, dict(err.headers), json.loads(err.read())


# ----------------------------------------------------------------------------- diff parsing


def test_parse_diff_lines_uses_running_counters() -> None:
    lines = parse_diff_lines(A_DIFF)
    assert [(x.kind, x.old, x.new) for x in lines] == [
        ("context", 1, 1),
        ("removed", 2, 2),
        ("added", 3, 2),
        ("added", 3, 3),
        ("context", 3, 4),
        ("context", 4, 5),
    ]
    assert [(x.old_line, x.new_line) for x in lines][1:3] == [(2, None), (None, 2)]
    new_file = parse_diff_lines(NEW_FILE_DIFF)
    assert new_file[0] == DiffLine("added", 0, 1, "hello")
    assert new_file[0].line_code("new.py") == line_code("new.py", 0, 1) == _code(0, 1, "new.py")


def test_no_newline_marker_is_skipped() -> None:
    lines = parse_diff_lines("@@ -1 +1 @@\n-a\n\\ No newline at end of file\n+b\n")
    assert [(x.kind, x.old, x.new) for x in lines] == [("removed", 1, 1), ("added", 2, 1)]


# ----------------------------------------------------------------------------- reading


def test_project_and_mr_by_path_and_id(client: gitlab.Gitlab, fake: FakeGitLab) -> None:
    project = client.projects.get("group/demo")
    assert project.id == 42
    assert fake.requests[-1].path == "/api/v4/projects/group%2Fdemo"
    mr = client.projects.get(42, lazy=True).mergerequests.get(5)
    assert mr.diff_refs == {"base_sha": BASE, "start_sha": START, "head_sha": HEAD}
    assert mr.sha == HEAD
    assert mr.state == "opened"


def test_diffs_paginate_45_files(fake: FakeGitLab, client: gitlab.Gitlab) -> None:
    many = [
        MRDiff(old_path=f"f{i}.py", new_path=f"f{i}.py", diff="@@ -1 +1 @@\n-a\n+b\n")
        for i in range(45)
    ]
    fake.add_merge_request(project_id=42, path_with_namespace="group/demo", iid=6, diffs=many)
    path = "/projects/group%2Fdemo/merge_requests/6/diffs"
    seen = list(client.http_list(path, iterator=True))
    assert [d["new_path"] for d in seen] == [f"f{i}.py" for i in range(45)]
    pages = [r for r in fake.requests if r.path.endswith("/6/diffs")]
    assert len(pages) == 3
    assert seen[0]["diff"] == "@@ -1 +1 @@\n-a\n+b\n"
    assert seen[0]["generated_file"] is False
    assert len(client.http_list(path, get_all=True, per_page=100)) == 45


def test_pagination_headers(fake: FakeGitLab) -> None:
    for i in range(45):
        fake.add_reply(42, 5, _seed_discussion(fake), f"reply {i}")
    status, headers, body = _raw_request(
        fake, "GET", f"{MR_PATH}/notes?per_page=40&page=2", {"PRIVATE-TOKEN": WRITE}
    )
    assert status == 200
    assert len(body) == 46 - 40  # the seed note plus 45 replies
    assert headers["X-Total"] == "46"
    assert headers["X-Total-Pages"] == "2"
    assert headers["X-Next-Page"] == ""
    assert 'rel="first"' in headers["Link"] and 'rel="next"' not in headers["Link"]
    assert headers["Link"].startswith(f"<{fake.url}/api/v4{MR_PATH}/notes?")
    assert "RateLimit-Remaining" in headers


def _seed_discussion(fake: FakeGitLab) -> str:
    found = fake.discussions(42, 5)
    if found:
        return str(found[0]["id"])
    with gitlab.Gitlab(fake.url, private_token=WRITE) as client:
        seed = {"body": "seed", "position": _position(new_line=2)}
        created = _mr(client).discussions.create(seed)
    return str(created.id)


def test_mr_diffs_manager_is_versions(client: gitlab.Gitlab, fake: FakeGitLab) -> None:
    """python-gitlab's ``mr.diffs`` lists /versions, not /diffs."""
    versions = _mr(client).diffs.list(get_all=True)
    assert [v.head_commit_sha for v in versions] == [HEAD]
    assert fake.requests[-1].path.endswith("/versions")


def test_changes_fallback_when_diffs_disabled(client: gitlab.Gitlab, fake: FakeGitLab) -> None:
    fake.disable_diffs_endpoint(42, 5)
    with pytest.raises(gitlab.exceptions.GitlabHttpError) as err:
        client.http_list(f"{MR_PATH}/diffs", get_all=True)
    assert err.value.response_code == 404
    changes = _mr(client).changes()
    assert [c["new_path"] for c in changes["changes"]] == ["a.py", "new.py"]
    assert changes["overflow"] is False


def test_raw_file_and_compare(client: gitlab.Gitlab, fake: FakeGitLab) -> None:
    fake.set_files(42, HEAD, {"src/a.py": "print('hi')\n"})
    fake.set_compare(42, BASE, HEAD, _diffs())
    project = client.projects.get(42, lazy=True)
    assert project.files.raw(file_path="src/a.py", ref=HEAD) == b"print('hi')\n"
    assert fake.requests[-1].path.endswith("/repository/files/src%2Fa.py/raw")
    with pytest.raises(gitlab.exceptions.GitlabGetError) as err:
        project.files.raw(file_path="src/missing.py", ref=HEAD)
    assert err.value.response_code == 404
    compare = project.repository_compare(BASE, HEAD)
    assert isinstance(compare, dict)
    assert compare["commits"] == []
    assert compare["diffs"][0]["diff"] == A_DIFF


def test_auth_user_and_bearer(fake: FakeGitLab) -> None:
    with gitlab.Gitlab(fake.url, private_token=WRITE) as client:
        client.auth()
        assert client.user is not None
        assert client.user.username == "ai-review-bot"
    with gitlab.Gitlab(fake.url, oauth_token=WRITE) as client:
        assert client.projects.get(42).path_with_namespace == "group/demo"


# ----------------------------------------------------------------------------- auth errors


def test_no_token_and_unknown_token_are_401(fake: FakeGitLab) -> None:
    clients = [
        gitlab.Gitlab(fake.url),
        gitlab.Gitlab(fake.url, private_token="nope"),
        gitlab.Gitlab(fake.url, job_token="nope"),
    ]
    for each in clients:
        with each as client:
            with pytest.raises(gitlab.exceptions.GitlabAuthenticationError) as err:
                client.projects.get(42)
            assert err.value.response_code == 401
    assert not any(r.authorized for r in fake.requests)


def test_job_token_reads_but_cannot_post(fake: FakeGitLab) -> None:
    with gitlab.Gitlab(fake.url, job_token=JOB) as client:
        mr = _mr(client)
        assert mr.title == "t"
        with pytest.raises(gitlab.exceptions.GitlabCreateError) as err:
            mr.notes.create({"body": "summary"})
        assert err.value.response_code == 403
        with pytest.raises(gitlab.exceptions.GitlabCreateError) as err:
            mr.discussions.create({"body": "x", "position": _position(new_line=2)})
        assert err.value.response_code == 403
    assert fake.notes(42, 5) == []
    assert fake.requests[-1].token_kind == "job"


def test_token_is_never_recorded(client: gitlab.Gitlab, fake: FakeGitLab) -> None:
    _mr(client).notes.create({"body": "hello"})
    assert WRITE not in repr(fake.requests)
    assert all(r.authorized for r in fake.requests)


def test_unknown_route_is_404(fake: FakeGitLab) -> None:
    status, _, body = _raw_request(fake, "GET", "/nope", {"PRIVATE-TOKEN": WRITE})
    assert (status, body) == (404, {"message": "404 Not Found"})


# ----------------------------------------------------------------------------- positions


def test_added_removed_and_context_lines(client: gitlab.Gitlab, fake: FakeGitLab) -> None:
    discussions = _mr(client).discussions
    added = discussions.create({"body": "added", "position": _position(new_line=2)})
    removed = discussions.create({"body": "removed", "position": _position(old_line=2)})
    context = discussions.create({"body": "ctx", "position": _position(old_line=3, new_line=4)})
    assert _notes(added)[0]["position"]["new_line"] == 2
    assert _notes(added)[0]["position"]["old_line"] is None
    assert _notes(removed)[0]["type"] == "DiffNote"
    assert context.individual_note is False
    assert len(context.id) == 40
    sent = fake.requests[-1].json_or_form
    assert sent["position"] == _position(old_line=3, new_line=4)  # python-gitlab sends JSON
    stored = fake.discussions(42, 5)
    assert [d["notes"][0]["body"] for d in stored] == ["added", "removed", "ctx"]
    assert stored[0]["notes"][0]["author"]["username"] == "ai-review-bot"
    assert stored[0]["notes"][0]["resolvable"] is True


@pytest.mark.parametrize(
    "lines",
    [
        {"new_line": 4},  # context line given new_line only
        {"old_line": 3},  # context line given old_line only
        {"old_line": 3, "new_line": 2},  # added line given old_line too
        {"new_line": 99},  # outside every hunk
        {"old_line": 2, "new_line": 2},  # removed line given new_line too
    ],
)
def test_lines_that_do_not_match_are_400(client: gitlab.Gitlab, lines: dict[str, int]) -> None:
    with pytest.raises(gitlab.exceptions.GitlabCreateError) as err:
        _mr(client).discussions.create({"body": "x", "position": _position(**lines)})
    assert err.value.response_code == 400
    assert "line_code" in str(err.value.error_message)
    assert err.value.error_message == LINE_CODE_ERROR


def test_new_file_never_takes_old_line(client: gitlab.Gitlab) -> None:
    paths = {"old_path": "new.py", "new_path": "new.py"}
    discussions = _mr(client).discussions
    discussions.create({"body": "ok", "position": _position(new_line=1, **paths)})
    with pytest.raises(gitlab.exceptions.GitlabCreateError) as err:
        discussions.create({"body": "x", "position": _position(old_line=0, new_line=1, **paths)})
    assert err.value.response_code == 400


def test_unknown_path_and_wrong_sha_are_400(client: gitlab.Gitlab) -> None:
    discussions = _mr(client).discussions
    with pytest.raises(gitlab.exceptions.GitlabCreateError) as err:
        discussions.create({"body": "x", "position": _position(head_sha="f" * 40, new_line=2)})
    assert err.value.response_code == 400
    bad_path = _position(old_path="b.py", new_path="b.py", new_line=2)
    with pytest.raises(gitlab.exceptions.GitlabCreateError) as err:
        discussions.create({"body": "x", "position": bad_path})
    assert err.value.response_code == 400
    assert "line_code" in str(err.value.error_message)


def _line_range(start: dict[str, Any], end: dict[str, Any]) -> dict[str, Any]:
    return {"start": start, "end": end}


def test_multi_line_range(client: gitlab.Gitlab, fake: FakeGitLab) -> None:
    start = {"line_code": _code(3, 2), "type": "new", "old_line": None, "new_line": 2}
    end = {"line_code": _code(3, 4), "type": "old", "old_line": 3, "new_line": 4}
    position = _position(old_line=3, new_line=4, line_range=_line_range(start, end))
    created = _mr(client).discussions.create({"body": "range", "position": position})
    assert _notes(created)[0]["position"]["line_range"] == _line_range(start, end)
    stored = fake.discussions(42, 5)[0]["notes"][0]["position"]
    assert stored["line_range"]["start"]["line_code"] == _code(3, 2)


@pytest.mark.parametrize(
    ("start", "end"),
    [
        # end before start
        ({"line_code": _code(3, 4), "type": "old"}, {"line_code": _code(3, 2), "type": "new"}),
        # added line: line_code built with old_line=None instead of the running counter
        ({"line_code": _code(0, 2), "type": "new"}, {"line_code": _code(3, 4), "type": "old"}),
        # wrong type for an added line
        ({"line_code": _code(3, 2), "type": "old"}, {"line_code": _code(3, 4), "type": "old"}),
    ],
)
def test_bad_line_range_is_400(
    client: gitlab.Gitlab, start: dict[str, Any], end: dict[str, Any]
) -> None:
    position = _position(old_line=3, new_line=4, line_range=_line_range(start, end))
    with pytest.raises(gitlab.exceptions.GitlabCreateError) as err:
        _mr(client).discussions.create({"body": "x", "position": position})
    assert err.value.response_code == 400
    assert "line_code" in str(err.value.error_message)


def test_form_encoded_position(fake: FakeGitLab) -> None:
    form = {
        "body": "form",
        "position[position_type]": "text",
        "position[base_sha]": BASE,
        "position[start_sha]": START,
        "position[head_sha]": HEAD,
        "position[old_path]": "a.py",
        "position[new_path]": "a.py",
        "position[new_line]": "3",
        "position[line_range][start][line_code]": _code(3, 2),
        "position[line_range][start][type]": "new",
        "position[line_range][start][new_line]": "2",
        "position[line_range][end][line_code]": _code(3, 3),
        "position[line_range][end][type]": "new",
        "position[line_range][end][new_line]": "3",
    }
    status, _, body = _raw_request(
        fake,
        "POST",
        f"{MR_PATH}/discussions",
        {"PRIVATE-TOKEN": WRITE, "Content-Type": "application/x-www-form-urlencoded"},
        urlencode(form).encode(),
    )
    assert status == 201, body
    assert body["notes"][0]["position"]["new_line"] == 3
    assert fake.requests[-1].json_or_form["position"]["line_range"]["end"]["type"] == "new"


def test_earlier_version_refs_are_accepted(client: gitlab.Gitlab, fake: FakeGitLab) -> None:
    fake.push(42, 5, head_sha="n" * 40, diffs=_diffs())
    created = _mr(client).discussions.create({"body": "old", "position": _position(new_line=2)})
    assert _notes(created)[0]["position"]["head_sha"] == "n" * 40  # traced to the latest version


# ----------------------------------------------------------------------------- notes


def test_create_and_edit_summary_note(client: gitlab.Gitlab, fake: FakeGitLab) -> None:
    mr = _mr(client)
    note = mr.notes.create({"body": "summary v1"})
    note.body = "summary v2"
    note.save()
    assert fake.requests[-1].method == "PUT"
    assert [n["body"] for n in fake.notes(42, 5)] == ["summary v2"]
    assert fake.discussions(42, 5) == []
    assert len(fake.discussions(42, 5, include_individual=True)) == 1
    assert mr.notes.get(note.id).body == "summary v2"


def test_note_rules(client: gitlab.Gitlab, fake: FakeGitLab) -> None:
    mr = _mr(client)
    with pytest.raises(gitlab.exceptions.GitlabCreateError) as err:
        mr.notes.create({"body": "x" * 1_000_001})
    assert err.value.response_code == 400
    discussion_id = _seed_discussion(fake)
    human = fake.add_reply(42, 5, discussion_id, "I disagree")
    with pytest.raises(gitlab.exceptions.GitlabUpdateError) as update_err:
        mr.notes.update(human["id"], {"body": "hijack"})
    assert update_err.value.response_code == 403


def test_notes_list_is_newest_first(client: gitlab.Gitlab) -> None:
    mr = _mr(client)
    for body in ("one", "two", "three"):
        mr.notes.create({"body": body})
    assert [n.body for n in mr.notes.list(get_all=True)] == ["three", "two", "one"]
    assert [n.body for n in mr.notes.list(get_all=True, sort="asc")] == ["one", "two", "three"]


def test_replies_awards_and_resolve(client: gitlab.Gitlab, fake: FakeGitLab) -> None:
    mr = _mr(client)
    created = mr.discussions.create({"body": "finding", "position": _position(new_line=2)})
    note_id = _notes(created)[0]["id"]
    fake.add_reply(42, 5, created.id, "fixed, thanks")
    fake.add_award(42, 5, note_id, "thumbsup")
    awards = mr.notes.get(note_id, lazy=True).awardemojis.list(get_all=True)
    assert [(a.name, a.user["username"]) for a in awards] == [("thumbsup", "reviewer")]
    discussion = mr.discussions.get(created.id)
    assert [n["body"] for n in _notes(discussion)] == ["finding", "fixed, thanks"]
    discussion.notes.create({"body": "bot reply"})
    discussion.resolved = True
    discussion.save()
    notes = fake.discussions(42, 5)[0]["notes"]
    assert [n["resolved"] for n in notes] == [True, True, True]


# ----------------------------------------------------------------------------- push, faults


def test_push_marks_unmappable_discussions_outdated(
    client: gitlab.Gitlab, fake: FakeGitLab
) -> None:
    mr = _mr(client)
    kept = mr.discussions.create({"body": "kept", "position": _position(old_line=4, new_line=5)})
    gone = mr.discussions.create({"body": "gone", "position": _position(new_line=2)})
    new_diff = "@@ -1,4 +1,5 @@\n+top\n line1\n-line2\n+line2x\n line3\n line4\n"
    pushed = [MRDiff(old_path="a.py", new_path="a.py", diff=new_diff)]
    fake.push(42, 5, head_sha="n" * 40, diffs=pushed)
    assert fake.outdated_discussion_ids(42, 5) == {gone.id}
    by_id = {d["id"]: d["notes"][0]["position"] for d in fake.discussions(42, 5)}
    assert by_id[kept.id]["head_sha"] == "n" * 40
    assert (by_id[kept.id]["old_line"], by_id[kept.id]["new_line"]) == (4, 5)
    assert by_id[gone.id]["head_sha"] == HEAD
    refreshed = _mr(client)
    assert refreshed.diff_refs["head_sha"] == "n" * 40
    versions = refreshed.diffs.list(get_all=True)
    assert [v.head_commit_sha for v in versions] == ["n" * 40, HEAD]
    assert any(n["system"] for n in fake.notes(42, 5))


def test_429_is_retried_by_python_gitlab(client: gitlab.Gitlab, fake: FakeGitLab) -> None:
    fake.fail_next(
        method="POST", path_regex=r"/discussions$", status=429, headers={"Retry-After": "0"}
    )
    _mr(client).discussions.create({"body": "after 429", "position": _position(new_line=2)})
    posts = [r.status for r in fake.requests if r.method == "POST"]
    assert posts == [429, 201]
    assert len(fake.discussions(42, 5)) == 1


def test_injected_500_is_not_retried_without_transient_retries(
    client: gitlab.Gitlab, fake: FakeGitLab
) -> None:
    fake.fail_next(method="POST", path_regex=r"/notes$", status=502, times=1)
    mr = _mr(client)
    with pytest.raises(gitlab.exceptions.GitlabCreateError) as err:
        mr.notes.create({"body": "x"})
    assert err.value.response_code == 502
    mr.notes.create({"body": "x"})
    assert [r.status for r in fake.requests if r.method == "POST"] == [502, 201]
