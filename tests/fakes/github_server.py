"""A fake GitHub REST API served over HTTP on 127.0.0.1, for tests.

The product talks to it with the real PyGithub client (``base_url=gh.url``), so the fake
enforces the rules the real API enforces (see shared/platform-rules.md, GitHub section):
review comments must sit on lines of the diff, one bad comment fails the whole review with
422, one pending review per user, read-only tokens get 403, bodies are capped at 65,536
characters, lists are paginated with ``Link`` headers, the raw diff answers 406 when too large.

Usage::

    with FakeGitHub() as gh:
        gh.add_token("ghs_write")
        gh.add_pull("octo/demo", 7, head_sha="a" * 40, base_sha="b" * 40, files=[...])
        ...  # run the code under test against gh.url
        assert gh.reviews("octo/demo", 7)

Simplifications, on purpose:
- a push does not relocate earlier comments: a comment keeps its line when that line (same
  side, same number, same text) is still commentable in the new diff, else it becomes
  outdated (``line: null``, ``original_line`` kept);
- ``commit_id`` of a review may be any sha that was ever the head of the pull request;
- every object id (reviews, comments, reactions) comes from one counter, so ids never collide;
- Link headers use ``/repositories/{id}/...`` URLs like the real API; the fake maps them back,
  and records and matches every request under its ``/repos/{owner}/{repo}/...`` path.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import math
import re
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from types import TracebackType
from typing import Any

from tests.fakes import github_graphql
from tests.fakes.base import FakeHTTPServer

BOT_LOGIN = "ai-review[bot]"
"""Login of the user behind tokens added without an explicit login."""

MAX_BODY_CHARS = 65536
MAX_PULL_FILES = 3000
MAX_COMPARE_FILES = 300
MAX_DIFF_FILES = 300
MAX_DIFF_LINES = 20000
MAX_DIFF_BYTES = 1024 * 1024
MAX_CONTENT_BYTES = 1024 * 1024
RATE_LIMIT = 5000
DEFAULT_PER_PAGE = 30
MAX_PER_PAGE = 100

DOCS_URL = "https://docs.github.com/rest"
WEB_URL = "https://github.com"
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)

FILE_STATUSES = frozenset(
    {"added", "removed", "modified", "renamed", "copied", "changed", "unchanged"}
)
REVIEW_EVENTS = {
    "COMMENT": "COMMENTED",
    "APPROVE": "APPROVED",
    "REQUEST_CHANGES": "CHANGES_REQUESTED",
}
SIDES = frozenset({"LEFT", "RIGHT"})
WRITE_METHODS = frozenset({"POST", "PATCH", "PUT", "DELETE"})

# Messages the real API answers with (reviews endpoint: strings in "errors").
ERR_PATH_INVALID = "Pull request review thread path is invalid"
ERR_LINE_NOT_IN_DIFF = "Pull request review thread line must be part of the diff"
ERR_START_PRECEDE = "Pull request review thread start line must precede the end line"
ERR_START_SAME_HUNK = (
    "Pull request review thread start line must be part of the same hunk as the line"
)
ERR_HUNK_BLANK = "Pull request review thread diff hunk can't be blank"
ERR_BODY_TOO_LONG = f"Body is too long (maximum is {MAX_BODY_CHARS} characters)"
ERR_ONE_PENDING = "User can only have one pending review per pull request"
ERR_COMMIT_NOT_IN_PULL = "The commitOID is not part of the pull request"
ERR_BODY_REQUIRED = "Body is required when using REQUEST_CHANGES or COMMENT without comments"

# The same thread errors, as the single-comment endpoint words them (objects in "errors").
_COMMENT_ERROR_FIELDS = {
    ERR_PATH_INVALID: ("pull_request_review_thread.path", "could not be resolved"),
    ERR_LINE_NOT_IN_DIFF: ("pull_request_review_thread.line", "could not be resolved"),
    ERR_START_PRECEDE: ("pull_request_review_thread.start_line", "must precede the end line"),
    ERR_START_SAME_HUNK: (
        "pull_request_review_thread.start_line",
        "must be part of the same hunk as the line",
    ),
    ERR_HUNK_BLANK: ("pull_request_review_thread.diff_hunk", "can't be blank"),
    ERR_BODY_TOO_LONG: ("body", f"is too long (maximum is {MAX_BODY_CHARS} characters)"),
}

JsonDict = dict[str, Any]


# --------------------------------------------------------------------------- patches


_HUNK_RE = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


@dataclass(frozen=True)
class DiffLine:
    """One added, removed or context line of a patch.

    ``position`` is the legacy review-comment position: the line's index in the patch,
    the first hunk header being 0. ``old``/``new`` are the line numbers in the old and new
    file (None on the side where the line does not exist).
    """

    position: int
    hunk: int
    kind: str
    old: int | None
    new: int | None


@dataclass(frozen=True)
class ParsedPatch:
    """A file's patch split into hunks, with the lines a review comment may target."""

    text_lines: tuple[str, ...]
    lines: tuple[DiffLine, ...]
    hunk_starts: tuple[int, ...]

    @property
    def additions(self) -> int:
        """Number of added lines."""
        return sum(1 for line in self.lines if line.kind == "+")

    @property
    def deletions(self) -> int:
        """Number of removed lines."""
        return sum(1 for line in self.lines if line.kind == "-")

    def find(self, side: str, number: int) -> DiffLine | None:
        """The commentable line numbered ``number`` on ``side`` (RIGHT: new file, LEFT: old)."""
        for line in self.lines:
            if side == "RIGHT" and line.kind in "+ " and line.new == number:
                return line
            if side == "LEFT" and line.kind in "- " and line.old == number:
                return line
        return None

    def at_position(self, position: int) -> DiffLine | None:
        """The commentable line at a legacy ``position``, if any."""
        for line in self.lines:
            if line.position == position:
                return line
        return None

    def diff_hunk(self, line: DiffLine) -> str:
        """The patch text from the line's hunk header down to the line, as GitHub returns."""
        start = self.hunk_starts[line.hunk]
        return "\n".join(self.text_lines[start : line.position + 1])


def parse_patch(patch: str) -> ParsedPatch:
    """Parse a files-API patch (hunks only, no ---/+++ headers). Raises ValueError if bad."""
    text_lines = patch.split("\n")
    if text_lines and text_lines[-1] == "":
        text_lines.pop()
    lines: list[DiffLine] = []
    starts: list[int] = []
    old = new = 0
    for position, text in enumerate(text_lines):
        header = _HUNK_RE.match(text)
        if header:
            starts.append(position)
            old, new = int(header[1]), int(header[3])
            continue
        if not starts:
            raise ValueError(f"patch must start with a hunk header, got {text!r}")
        if text.startswith("\\"):
            continue  # "\ No newline at end of file" is not a line
        kind = text[:1] or " "
        hunk = len(starts) - 1
        if kind == "+":
            lines.append(DiffLine(position, hunk, "+", None, new))
            new += 1
        elif kind == "-":
            lines.append(DiffLine(position, hunk, "-", old, None))
            old += 1
        elif kind == " ":
            lines.append(DiffLine(position, hunk, " ", old, new))
            old, new = old + 1, new + 1
        else:
            raise ValueError(f"unexpected patch line {text!r}")
    return ParsedPatch(tuple(text_lines), tuple(lines), tuple(starts))


# --------------------------------------------------------------------------- public records


@dataclass
class PullFile:
    """One changed file of a pull request or comparison, as the files API reports it.

    ``patch=None`` means GitHub sends no patch (binary file, or diff too large): such a file
    cannot take review comments. ``additions``/``deletions`` default to the patch's counts.
    """

    filename: str
    status: str = "modified"
    patch: str | None = None
    previous_filename: str | None = None
    additions: int | None = None
    deletions: int | None = None

    def __post_init__(self) -> None:
        if self.status not in FILE_STATUSES:
            raise ValueError(f"unknown file status {self.status!r}")
        if self.patch is not None:
            parsed = parse_patch(self.patch)
            if self.additions is None:
                self.additions = parsed.additions
            if self.deletions is None:
                self.deletions = parsed.deletions


@dataclass
class FakePull:
    """A pull request held by the fake. ``head_shas`` lists every head it had, oldest first."""

    repo: str
    number: int
    id: int
    head_sha: str
    base_sha: str
    title: str
    body: str
    files: list[PullFile]
    head_repo: str
    head_ref: str
    base_ref: str
    author: str
    state: str = "open"
    head_shas: list[str] = field(default_factory=list)
    files_at: dict[str, list[PullFile]] = field(default_factory=dict)

    @property
    def is_fork(self) -> bool:
        """True when the head branch lives in another repository."""
        return self.head_repo != self.repo


@dataclass(frozen=True)
class RecordedRequest:
    """One request the fake received (the token itself is never kept).

    ``path`` is as sent (still percent-encoded, no query string), except that
    ``/repositories/{id}/...`` is rewritten to ``/repos/{owner}/{repo}/...``; ``query`` keeps
    the last value of each parameter; ``status`` is what the fake answered.
    """

    method: str
    path: str
    query: dict[str, str]
    json: Any
    authorized: bool
    status: int
    accept: str


# --------------------------------------------------------------------------- internal state


@dataclass
class _Token:
    login: str
    write: bool
    contents_write: bool = False  # may resolve review threads (see github_graphql)


@dataclass
class _Compare:
    files: list[PullFile]
    ahead_by: int
    behind_by: int
    status: str


@dataclass
class _Repo:
    full_name: str
    id: int
    default_branch: str
    pulls: dict[int, FakePull] = field(default_factory=dict)
    contents: dict[str, dict[str, bytes]] = field(default_factory=dict)
    compares: dict[tuple[str, str], _Compare] = field(default_factory=dict)
    commits: set[str] = field(default_factory=set)


@dataclass
class _Review:
    id: int
    repo: str
    number: int
    login: str
    body: str
    event: str | None
    state: str
    commit_id: str
    seq: int
    comment_ids: list[int] = field(default_factory=list)


@dataclass
class _ReviewComment:
    id: int
    repo: str
    number: int
    review_id: int
    login: str
    body: str
    path: str
    side: str
    line: int | None
    start_line: int | None
    start_side: str | None
    original_line: int
    original_start_line: int | None
    position: int | None
    original_position: int
    diff_hunk: str
    commit_id: str
    original_commit_id: str
    in_reply_to_id: int | None
    seq: int
    updated_seq: int


@dataclass
class _IssueComment:
    id: int
    repo: str
    number: int
    login: str
    body: str
    seq: int
    updated_seq: int


@dataclass
class _Reaction:
    id: int
    content: str
    login: str
    seq: int


@dataclass
class _Fault:
    method: str | None
    path_regex: re.Pattern[str]
    status: int
    headers: dict[str, str]
    body: Any
    times: int


@dataclass(frozen=True)
class _Anchor:
    """Where a validated review comment sits."""

    path: str
    side: str
    line: int
    start_line: int | None
    start_side: str | None
    position: int
    diff_hunk: str


@dataclass
class _Response:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    text: str | None = None

    def encode(self) -> tuple[bytes, str]:
        """The payload bytes and their content type."""
        if self.text is not None:
            return self.text.encode(), "text/plain; charset=utf-8"
        if self.body is None:
            return b"", "application/json; charset=utf-8"
        return json.dumps(self.body).encode(), "application/json; charset=utf-8"


@dataclass
class _Request:
    method: str
    path: str
    query: dict[str, str]
    body: Any
    accept: str
    login: str
    can_write: bool
    can_resolve: bool = False


class _ApiError(Exception):
    """Raised by handlers to answer with an error response."""

    def __init__(self, response: _Response) -> None:
        super().__init__(response.status)
        self.response = response


class _ThreadError(Exception):
    """A review comment that GitHub would refuse; the message is the API's wording."""


def _error(status: int, message: str, **extra: Any) -> _ApiError:
    body: JsonDict = {"message": message, **extra}
    body.setdefault("documentation_url", DOCS_URL)
    body["status"] = str(status)
    return _ApiError(_Response(status, body))


def _not_found() -> _ApiError:
    return _error(404, "Not Found")


def _invalid(detail: str) -> _ApiError:
    return _error(422, f"Invalid request.\n\n{detail}")


def _unprocessable(*errors: str) -> _ApiError:
    return _error(422, "Unprocessable Entity", errors=list(errors))


def _validation_failed(resource: str, field_name: str, message: str) -> _ApiError:
    detail = {"resource": resource, "code": "custom", "field": field_name, "message": message}
    return _error(422, "Validation Failed", errors=[detail])


def _timestamp(seq: int) -> str:
    return (EPOCH + timedelta(seconds=seq)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _node_id(kind: str, ident: int) -> str:
    return base64.b64encode(f"{kind}:{ident}".encode()).decode().rstrip("=")


def _stable_id(text: str) -> int:
    return int(hashlib.sha1(text.encode()).hexdigest()[:7], 16)


def _blob_sha(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def _as_object(body: Any) -> JsonDict:
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise _invalid("Body should be a JSON object.")
    return body


def _optional_str(data: JsonDict, key: str) -> str | None:
    value = data.get(key)
    if value is not None and not isinstance(value, str):
        raise _invalid(f'"{key}" is not a string.')
    return value


def _optional_int(data: JsonDict, key: str) -> int | None:
    value = data.get(key)
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
        raise _invalid(f'"{key}" is not an integer.')
    return value


def _required_str(data: JsonDict, key: str) -> str:
    value = _optional_str(data, key)
    if value is None:
        raise _invalid(f'"{key}" wasn\'t supplied.')
    return value


def _side(data: JsonDict, key: str, default: str) -> str:
    value = _optional_str(data, key) or default
    if value not in SIDES:
        raise _invalid(f'"{key}" must be LEFT or RIGHT.')
    return value


def _commentable(files: Iterable[PullFile]) -> dict[str, ParsedPatch]:
    return {f.filename: parse_patch(f.patch) for f in files if f.patch is not None}


def _anchor(raw: Any, patches: Mapping[str, ParsedPatch]) -> tuple[_Anchor, str]:
    """Validate one review comment against the diff; return its anchor and body."""
    data = _as_object(raw)
    path = _required_str(data, "path")
    body = _required_str(data, "body")
    line = _optional_int(data, "line")
    position = _optional_int(data, "position")
    patch = patches.get(path)
    if patch is None:
        raise _ThreadError(ERR_PATH_INVALID)
    if len(body) > MAX_BODY_CHARS:
        raise _ThreadError(ERR_BODY_TOO_LONG)
    if line is not None:
        return _anchor_by_line(data, path, line, patch), body
    if position is not None:
        return _anchor_by_position(path, position, patch), body
    raise _ThreadError(ERR_HUNK_BLANK)


def _anchor_by_line(data: JsonDict, path: str, line: int, patch: ParsedPatch) -> _Anchor:
    side = _side(data, "side", "RIGHT")
    end = patch.find(side, line)
    if end is None:
        raise _ThreadError(ERR_LINE_NOT_IN_DIFF)
    start_line = _optional_int(data, "start_line")
    if start_line is None:
        return _Anchor(path, side, line, None, None, end.position, patch.diff_hunk(end))
    start_side = _side(data, "start_side", side)
    if start_side == side and start_line >= line:
        raise _ThreadError(ERR_START_PRECEDE)
    start = patch.find(start_side, start_line)
    if start is None or start.hunk != end.hunk:
        raise _ThreadError(ERR_START_SAME_HUNK)
    if start.position >= end.position:
        raise _ThreadError(ERR_START_PRECEDE)
    return _Anchor(path, side, line, start_line, start_side, end.position, patch.diff_hunk(end))


def _anchor_by_position(path: str, position: int, patch: ParsedPatch) -> _Anchor:
    target = patch.at_position(position)
    if target is None:
        raise _ThreadError(ERR_HUNK_BLANK)
    side = "LEFT" if target.kind == "-" else "RIGHT"
    number = target.old if side == "LEFT" else target.new
    assert number is not None
    return _Anchor(path, side, number, None, None, position, patch.diff_hunk(target))


def _still_commentable(comment: _ReviewComment, patches: Mapping[str, ParsedPatch]) -> bool:
    patch = patches.get(comment.path)
    found = None if patch is None else patch.find(comment.side, comment.original_line)
    if patch is None or found is None:
        return False
    # GitHub outdates a comment whose line a later commit changed, even at the same number.
    hunk = comment.diff_hunk.splitlines()
    if hunk and patch.text_lines[found.position][1:] != hunk[-1][1:]:
        return False
    if comment.original_start_line is None:
        return True
    start_side = comment.start_side or comment.side
    return patch.find(start_side, comment.original_start_line) is not None


def _unified_diff(files: Sequence[PullFile]) -> str:
    """The text ``Accept: application/vnd.github.diff`` returns for these files."""
    return "".join(_file_diff(f) for f in files)


def _file_diff(f: PullFile) -> str:
    old_name = f.previous_filename or f.filename
    a_path, b_path = f"a/{old_name}", f"b/{f.filename}"
    out = [f"diff --git {a_path} {b_path}"]
    short = hashlib.sha1(f.filename.encode()).hexdigest()[:7]
    if f.status == "added":
        out += ["new file mode 100644", f"index 0000000..{short}"]
        a_path = "/dev/null"
    elif f.status == "removed":
        out += ["deleted file mode 100644", f"index {short}..0000000"]
        b_path = "/dev/null"
    elif f.status == "renamed":
        out += ["similarity index 90%", f"rename from {old_name}", f"rename to {f.filename}"]
    else:
        out.append(f"index {short}..{short[::-1]} 100644")
    if f.patch is not None:
        out += [f"--- {a_path}", f"+++ {b_path}", f.patch.rstrip("\n")]
    elif f.status != "renamed":
        out.append(f"Binary files {a_path} and {b_path} differ")
    return "\n".join(out) + "\n"


def _parse_page_args(query: Mapping[str, str]) -> tuple[int, int]:
    def number(key: str, default: int) -> int:
        try:
            return int(query.get(key, default))
        except ValueError:
            return default

    per_page = min(max(number("per_page", DEFAULT_PER_PAGE), 1), MAX_PER_PAGE)
    return per_page, max(number("page", 1), 1)


# --------------------------------------------------------------------------- HTTP plumbing


class _Server(FakeHTTPServer):
    def __init__(self, fake: FakeGitHub) -> None:
        self.fake = fake
        super().__init__(_Handler)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"
    timeout = 10

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_PATCH(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output quiet."""

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        server = self.server
        assert isinstance(server, _Server)
        response = server.fake._respond(
            self.command,
            self.path,
            self.headers.get("Authorization"),
            self.headers.get("Accept") or "",
            raw,
        )
        payload, content_type = response.encode()
        self.send_response(response.status)
        headers = {"Content-Type": content_type, "Content-Length": str(len(payload))}
        headers.update(response.headers)
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)


_Route = tuple[str, re.Pattern[str], Callable[[_Request, dict[str, str]], _Response]]

_REPO = r"/repos/(?P<owner>[^/]+)/(?P<name>[^/]+)"
_PULL = _REPO + r"/pulls/(?P<number>\d+)"
_ISSUE = _REPO + r"/issues/(?P<number>\d+)"
_REPOSITORIES_RE = re.compile(r"^/repositories/(\d+)(/.*)?$")


# --------------------------------------------------------------------------- the fake


class FakeGitHub:
    """A fake GitHub REST API on 127.0.0.1 (random port); use as a context manager."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._ids = itertools.count(100001)
        self._seq = itertools.count(1)
        self._tokens: dict[str, _Token] = {}
        self._repos: dict[str, _Repo] = {}
        self._reviews: dict[int, _Review] = {}
        self._review_comments: dict[int, _ReviewComment] = {}
        self._issue_comments: dict[int, _IssueComment] = {}
        self._reactions: dict[int, list[_Reaction]] = {}
        self._resolved_threads: set[int] = set()  # root review comment ids
        self._faults: list[_Fault] = []
        self._requests: list[RecordedRequest] = []
        self._used = 0
        self._reset_at = int(time.time()) + 3600
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._routes = self._build_routes()

    # ----------------------------------------------------------------- lifecycle

    def start(self) -> FakeGitHub:
        """Start serving in a background thread."""
        if self._server is None:
            self._server = _Server(self)
            self._server.start()
        return self

    def stop(self) -> None:
        """Stop serving, close the socket and join the threads."""
        if self._server is None:
            return
        self._server.stop()
        self._server = None

    def __enter__(self) -> FakeGitHub:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:PORT`` (PyGithub ``base_url``, GITHUB_API_URL)."""
        if self._server is None:
            raise RuntimeError("FakeGitHub is not started")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    # ----------------------------------------------------------------- seeding

    def add_token(
        self,
        token: str,
        *,
        write: bool = True,
        login: str = BOT_LOGIN,
        contents_write: bool | None = None,
    ) -> None:
        """Accept ``token`` ("token X" or "Bearer X"); ``write=False`` is a fork's read-only one.

        A login ending in ``[bot]`` is an app's token (an App installation token, or
        ``github-actions[bot]`` for the Actions GITHUB_TOKEN): ``GET /user`` answers it 403.
        ``contents_write``: whether it may resolve review threads; by default a person with
        write access may, an app's token may not (a review job grants ``contents: read``)."""
        if contents_write is None:
            contents_write = write and not login.endswith("[bot]")
        with self._lock:
            self._tokens[token] = _Token(login=login, write=write, contents_write=contents_write)

    def set_thread_resolved(self, comment_id: int, resolved: bool = True) -> None:
        """A person resolves (or reopens) the review thread that ``comment_id`` started."""
        with self._lock:
            if resolved:
                self._resolved_threads.add(comment_id)
            else:
                self._resolved_threads.discard(comment_id)

    def thread_resolved(self, comment_id: int) -> bool:
        with self._lock:
            return comment_id in self._resolved_threads

    def add_repo(self, full_name: str, *, default_branch: str = "main") -> None:
        """Create a repository (add_pull and friends create theirs on demand)."""
        with self._lock:
            self._repo(full_name, default_branch=default_branch)

    def add_pull(
        self,
        repo: str,
        number: int,
        *,
        head_sha: str,
        base_sha: str,
        title: str = "",
        body: str = "",
        files: Sequence[PullFile] = (),
        head_repo: str | None = None,
        head_ref: str = "feature",
        base_ref: str = "main",
        author: str = "octocat",
    ) -> FakePull:
        """Open pull request ``number``; a ``head_repo`` other than ``repo`` makes it a fork.

        Also registers the comparison ``base_sha...head_sha`` with the same files.
        """
        with self._lock:
            store = self._repo(repo)
            self._repo(head_repo or repo)
            pull = FakePull(
                repo=repo,
                number=number,
                id=next(self._ids),
                head_sha=head_sha,
                base_sha=base_sha,
                title=title,
                body=body,
                files=list(files),
                head_repo=head_repo or repo,
                head_ref=head_ref,
                base_ref=base_ref,
                author=author,
            )
            store.pulls[number] = pull
            self._set_head(store, pull, head_sha, list(files))
            store.commits.add(base_sha)
            return pull

    def push(
        self,
        repo: str,
        number: int,
        *,
        head_sha: str,
        files: Sequence[PullFile],
        base_sha: str | None = None,
    ) -> None:
        """Simulate new commits: new head sha and file list; outdate comments that no longer map."""
        with self._lock:
            store = self._repo(repo)
            pull = self._pull_of(repo, number)
            if base_sha is not None:
                pull.base_sha = base_sha
                store.commits.add(base_sha)
            self._set_head(store, pull, head_sha, list(files))
            self._remap_comments(pull)

    def set_contents(self, repo: str, ref: str, files: Mapping[str, str | bytes]) -> None:
        """Make ``GET /repos/{repo}/contents/{path}?ref={ref}`` serve these files (merged)."""
        with self._lock:
            store = self._repo(repo)
            tree = store.contents.setdefault(ref, {})
            for path, text in files.items():
                tree[path] = text.encode() if isinstance(text, str) else text
            store.commits.add(ref)

    def add_compare(
        self,
        repo: str,
        base: str,
        head: str,
        *,
        files: Sequence[PullFile],
        ahead_by: int = 1,
        behind_by: int = 0,
        status: str = "ahead",
    ) -> None:
        """Serve ``GET /repos/{repo}/compare/{base}...{head}`` with these files."""
        with self._lock:
            store = self._repo(repo)
            store.compares[(base, head)] = _Compare(list(files), ahead_by, behind_by, status)
            store.commits.update((base, head))

    def fail_next(
        self,
        *,
        method: str | None = None,
        path_regex: str = ".*",
        status: int = 500,
        headers: Mapping[str, str] | None = None,
        body: Any = None,
        times: int = 1,
    ) -> None:
        """Answer the next ``times`` matching requests with this error, before anything else.

        ``path_regex`` is searched in the ``/repos/{owner}/{repo}/...`` path (no query).
        ``body`` may be a dict (sent as JSON) or a str (sent as text); by default a message
        like GitHub's for that status.
        """
        with self._lock:
            self._faults.append(
                _Fault(
                    method=method.upper() if method else None,
                    path_regex=re.compile(path_regex),
                    status=status,
                    headers=dict(headers or {}),
                    body=body if body is not None else _default_fault_body(status),
                    times=times,
                )
            )

    def add_issue_comment(
        self, repo: str, number: int, body: str, *, login: str = BOT_LOGIN
    ) -> JsonDict:
        """Seed a comment on the pull request's conversation (e.g. an earlier summary)."""
        with self._lock:
            self._pull_of(repo, number)
            return self._render_issue_comment(self._new_issue_comment(repo, number, login, body))

    def add_reaction(
        self, repo: str, comment_id: int, content: str, *, login: str = "octocat"
    ) -> int:
        """Add a reaction ("+1", "-1", "laugh", ...) to a review or issue comment; its id."""
        with self._lock:
            if comment_id not in self._review_comments and comment_id not in self._issue_comments:
                raise KeyError(f"no comment {comment_id} in {repo}")
            reaction = _Reaction(next(self._ids), content, login, next(self._seq))
            self._reactions.setdefault(comment_id, []).append(reaction)
            return reaction.id

    def add_reply(
        self, repo: str, number: int, in_reply_to_id: int, body: str, *, login: str = "octocat"
    ) -> JsonDict:
        """A person replies to a review comment (stored with ``in_reply_to_id``).

        Like GitHub, the reply comes with its own COMMENTED review by ``login``.
        """
        with self._lock:
            pull = self._pull_of(repo, number)
            return self._render_review_comment(self._reply(pull, in_reply_to_id, body, login))

    # ----------------------------------------------------------------- inspection

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received so far, in order."""
        with self._lock:
            return list(self._requests)

    def clear_requests(self) -> None:
        """Forget the recorded requests."""
        with self._lock:
            self._requests.clear()

    def pull(self, repo: str, number: int) -> FakePull:
        """The stored pull request."""
        with self._lock:
            return self._pull_of(repo, number)

    def reviews(self, repo: str, number: int) -> list[JsonDict]:
        """Stored reviews (API shape plus ``event`` and ``comments``), oldest first."""
        with self._lock:
            out = []
            for review in self._reviews_of(repo, number):
                rendered = self._render_review(review)
                rendered["event"] = review.event
                rendered["comments"] = [
                    self._render_review_comment(self._review_comments[cid])
                    for cid in review.comment_ids
                ]
                out.append(rendered)
            return out

    def review_comments(self, repo: str, number: int) -> list[JsonDict]:
        """All inline review comments (replies and pending ones too), oldest first."""
        with self._lock:
            return [self._render_review_comment(c) for c in self._comments_of(repo, number)]

    def issue_comments(self, repo: str, number: int) -> list[JsonDict]:
        """Conversation comments of the pull request, oldest first."""
        with self._lock:
            return [
                self._render_issue_comment(c)
                for c in self._issue_comments.values()
                if c.repo == repo and c.number == number
            ]

    # ----------------------------------------------------------------- request entry point

    def _respond(
        self, method: str, raw_path: str, authorization: str | None, accept: str, raw: bytes
    ) -> _Response:
        """Handle one HTTP request (called from the server threads)."""
        split = urllib.parse.urlsplit(raw_path)
        query = dict(urllib.parse.parse_qsl(split.query, keep_blank_values=True))
        with self._lock:
            path = self._canonical_path(split.path)
            token = self._token(authorization)
            body, bad_json = _decode_json(raw)
            response = self._dispatch(method, path, query, body, bad_json, accept, token)
            self._used += 1
            response.headers = {**self._rate_headers(), **response.headers}
            self._requests.append(
                RecordedRequest(
                    method=method,
                    path=path,
                    query=query,
                    json=body,
                    authorized=token is not None,
                    status=response.status,
                    accept=accept,
                )
            )
            return response

    def _dispatch(
        self,
        method: str,
        path: str,
        query: dict[str, str],
        body: Any,
        bad_json: bool,
        accept: str,
        token: _Token | None,
    ) -> _Response:
        fault = self._take_fault(method, path)
        if fault is not None:
            return fault
        try:
            if token is None:
                raise _error(401, "Bad credentials")
            handler, params = self._route(method, path)
            if method in WRITE_METHODS and not token.write and path != "/graphql":
                raise _error(403, "Resource not accessible by integration")
            if bad_json:
                raise _error(400, "Problems parsing JSON")
            request = _Request(
                method, path, query, body, accept, token.login, token.write, token.contents_write
            )
            return handler(request, params)
        except _ApiError as failure:
            return failure.response

    def _take_fault(self, method: str, path: str) -> _Response | None:
        for fault in self._faults:
            if fault.method not in (None, method) or not fault.path_regex.search(path):
                continue
            fault.times -= 1
            if fault.times <= 0:
                self._faults.remove(fault)
            if isinstance(fault.body, str):
                return _Response(fault.status, headers=dict(fault.headers), text=fault.body)
            return _Response(fault.status, fault.body, dict(fault.headers))
        return None

    def _token(self, authorization: str | None) -> _Token | None:
        if not authorization:
            return None
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() not in ("token", "bearer"):
            return None
        return self._tokens.get(value.strip())

    def _canonical_path(self, path: str) -> str:
        match = _REPOSITORIES_RE.match(path)
        if match is None:
            return path
        for repo in self._repos.values():
            if repo.id == int(match[1]):
                return f"/repos/{repo.full_name}{match[2] or ''}"
        return path

    def _rate_headers(self) -> dict[str, str]:
        return {
            "x-ratelimit-limit": str(RATE_LIMIT),
            "x-ratelimit-remaining": str(max(RATE_LIMIT - self._used, 0)),
            "x-ratelimit-used": str(self._used),
            "x-ratelimit-reset": str(self._reset_at),
            "x-ratelimit-resource": "core",
            "x-github-api-version-selected": "2022-11-28",
        }

    def _route(
        self, method: str, path: str
    ) -> tuple[Callable[[_Request, dict[str, str]], _Response], dict[str, str]]:
        for route_method, pattern, handler in self._routes:
            match = pattern.fullmatch(path)
            if match and route_method == method:
                params = {k: urllib.parse.unquote(v) for k, v in match.groupdict().items()}
                return handler, params
        raise _not_found()

    def _build_routes(self) -> list[_Route]:
        table: list[tuple[str, str, Callable[[_Request, dict[str, str]], _Response]]] = [
            ("GET", r"/user", self._get_user),
            ("POST", r"/graphql", self._graphql),
            ("GET", r"/rate_limit", self._get_rate_limit),
            ("GET", _REPO, self._get_repo),
            ("GET", _REPO + r"/commits/(?P<sha>[^/]+)", self._get_commit),
            ("GET", _REPO + r"/compare/(?P<base>.+?)\.\.\.(?P<head>.+)", self._get_compare),
            ("GET", _REPO + r"/contents/(?P<path>.*)", self._get_contents),
            ("GET", _PULL, self._get_pull),
            ("GET", _PULL + r"/files", self._list_files),
            ("GET", _PULL + r"/commits", self._list_pull_commits),
            ("GET", _PULL + r"/reviews", self._list_reviews),
            ("POST", _PULL + r"/reviews", self._create_review),
            ("GET", _PULL + r"/reviews/(?P<review_id>\d+)", self._get_review),
            ("GET", _PULL + r"/comments", self._list_review_comments),
            ("POST", _PULL + r"/comments", self._create_review_comment),
            ("POST", _PULL + r"/comments/(?P<comment_id>\d+)/replies", self._create_reply),
            ("GET", _REPO + r"/pulls/comments/(?P<comment_id>\d+)", self._get_review_comment),
            ("PATCH", _REPO + r"/pulls/comments/(?P<comment_id>\d+)", self._edit_review_comment),
            (
                "DELETE",
                _REPO + r"/pulls/comments/(?P<comment_id>\d+)",
                self._delete_review_comment,
            ),
            ("GET", _REPO + r"/pulls/comments/(?P<comment_id>\d+)/reactions", self._reactions_of),
            ("GET", _ISSUE, self._get_issue),
            ("GET", _ISSUE + r"/comments", self._list_issue_comments),
            ("POST", _ISSUE + r"/comments", self._create_issue_comment),
            ("GET", _REPO + r"/issues/comments/(?P<comment_id>\d+)", self._get_issue_comment),
            ("PATCH", _REPO + r"/issues/comments/(?P<comment_id>\d+)", self._edit_issue_comment),
            (
                "DELETE",
                _REPO + r"/issues/comments/(?P<comment_id>\d+)",
                self._delete_issue_comment,
            ),
            ("GET", _REPO + r"/issues/comments/(?P<comment_id>\d+)/reactions", self._reactions_of),
        ]
        return [(method, re.compile(pattern), handler) for method, pattern, handler in table]

    # ----------------------------------------------------------------- lookups

    def _repo(self, full_name: str, *, default_branch: str = "main") -> _Repo:
        if full_name.count("/") != 1:
            raise ValueError(f"repository must be owner/name, got {full_name!r}")
        if full_name not in self._repos:
            self._repos[full_name] = _Repo(full_name, next(self._ids), default_branch)
        return self._repos[full_name]

    def _pull_of(self, repo: str, number: int) -> FakePull:
        store = self._repos.get(repo)
        if store is None or number not in store.pulls:
            raise KeyError(f"no pull request {repo}#{number}")
        return store.pulls[number]

    def _found_repo(self, params: Mapping[str, str]) -> _Repo:
        store = self._repos.get(f"{params['owner']}/{params['name']}")
        if store is None:
            raise _not_found()
        return store

    def _found_pull(self, params: Mapping[str, str]) -> FakePull:
        store = self._found_repo(params)
        pull = store.pulls.get(int(params["number"]))
        if pull is None:
            raise _not_found()
        return pull

    def _found_review_comment(self, params: Mapping[str, str]) -> _ReviewComment:
        comment = self._review_comments.get(int(params["comment_id"]))
        if comment is None or comment.repo != f"{params['owner']}/{params['name']}":
            raise _not_found()
        return comment

    def _found_issue_comment(self, params: Mapping[str, str]) -> _IssueComment:
        comment = self._issue_comments.get(int(params["comment_id"]))
        if comment is None or comment.repo != f"{params['owner']}/{params['name']}":
            raise _not_found()
        return comment

    def _reviews_of(self, repo: str, number: int) -> list[_Review]:
        return [r for r in self._reviews.values() if r.repo == repo and r.number == number]

    def _comments_of(self, repo: str, number: int) -> list[_ReviewComment]:
        return [c for c in self._review_comments.values() if c.repo == repo and c.number == number]

    def _visible_to(self, review_id: int, login: str) -> bool:
        review = self._reviews[review_id]
        return review.state != "PENDING" or review.login == login

    # ----------------------------------------------------------------- state changes

    def _set_head(self, store: _Repo, pull: FakePull, head_sha: str, files: list[PullFile]) -> None:
        for f in files:
            if f.patch is not None:
                parse_patch(f.patch)  # fail fast on malformed test data
        pull.head_sha = head_sha
        pull.files = files
        pull.files_at[head_sha] = files
        if head_sha not in pull.head_shas:
            pull.head_shas.append(head_sha)
        store.commits.add(head_sha)
        store.compares[(pull.base_sha, head_sha)] = _Compare(files, len(pull.head_shas), 0, "ahead")

    def _remap_comments(self, pull: FakePull) -> None:
        patches = _commentable(pull.files)
        for comment in self._comments_of(pull.repo, pull.number):
            if comment.line is None:
                continue
            if _still_commentable(comment, patches):
                comment.commit_id = pull.head_sha
                found = patches[comment.path].find(comment.side, comment.original_line)
                comment.position = found.position if found else None
            else:
                comment.line = comment.start_line = comment.position = None

    def _new_review(
        self, pull: FakePull, login: str, body: str, event: str | None, commit_id: str
    ) -> _Review:
        review = _Review(
            id=next(self._ids),
            repo=pull.repo,
            number=pull.number,
            login=login,
            body=body,
            event=event,
            state=REVIEW_EVENTS[event] if event else "PENDING",
            commit_id=commit_id,
            seq=next(self._seq),
        )
        self._reviews[review.id] = review
        return review

    def _new_comment(
        self, review: _Review, anchor: _Anchor, body: str, in_reply_to_id: int | None = None
    ) -> _ReviewComment:
        seq = next(self._seq)
        comment = _ReviewComment(
            id=next(self._ids),
            repo=review.repo,
            number=review.number,
            review_id=review.id,
            login=review.login,
            body=body,
            path=anchor.path,
            side=anchor.side,
            line=anchor.line,
            start_line=anchor.start_line,
            start_side=anchor.start_side,
            original_line=anchor.line,
            original_start_line=anchor.start_line,
            position=anchor.position,
            original_position=anchor.position,
            diff_hunk=anchor.diff_hunk,
            commit_id=review.commit_id,
            original_commit_id=review.commit_id,
            in_reply_to_id=in_reply_to_id,
            seq=seq,
            updated_seq=seq,
        )
        self._review_comments[comment.id] = comment
        review.comment_ids.append(comment.id)
        return comment

    def _reply(self, pull: FakePull, in_reply_to_id: int, body: str, login: str) -> _ReviewComment:
        parent = self._review_comments.get(in_reply_to_id)
        if parent is None or parent.repo != pull.repo or parent.number != pull.number:
            raise KeyError(f"no review comment {in_reply_to_id} on {pull.repo}#{pull.number}")
        root_id = parent.in_reply_to_id or parent.id
        review = self._new_review(pull, login, "", "COMMENT", parent.commit_id)
        anchor = _Anchor(
            parent.path,
            parent.side,
            parent.original_line,
            parent.original_start_line,
            parent.start_side,
            parent.original_position,
            parent.diff_hunk,
        )
        reply = self._new_comment(review, anchor, body, in_reply_to_id=root_id)
        reply.line, reply.position = parent.line, parent.position
        reply.start_line, reply.commit_id = parent.start_line, parent.commit_id
        return reply

    def _new_issue_comment(self, repo: str, number: int, login: str, body: str) -> _IssueComment:
        seq = next(self._seq)
        comment = _IssueComment(next(self._ids), repo, number, login, body, seq, seq)
        self._issue_comments[comment.id] = comment
        return comment

    # ----------------------------------------------------------------- rendering

    def _api(self, path: str) -> str:
        return f"{self.url}{path}"

    def _user(self, login: str) -> JsonDict:
        ident = _stable_id(login)
        return {
            "login": login,
            "id": ident,
            "node_id": _node_id("User", ident),
            "type": "Bot" if login.endswith("[bot]") else "User",
            "site_admin": False,
            "url": self._api(f"/users/{urllib.parse.quote(login)}"),
            "html_url": f"{WEB_URL}/{login}",
        }

    def _render_repo(self, full_name: str) -> JsonDict:
        store = self._repo(full_name)
        owner, name = full_name.split("/")
        base = self._api(f"/repos/{full_name}")
        return {
            "id": store.id,
            "node_id": _node_id("Repository", store.id),
            "name": name,
            "full_name": full_name,
            "owner": self._user(owner),
            "private": False,
            "fork": False,
            "default_branch": store.default_branch,
            "url": base,
            "html_url": f"{WEB_URL}/{full_name}",
            "pulls_url": base + "/pulls{/number}",
            "issues_url": base + "/issues{/number}",
            "contents_url": base + "/contents/{+path}",
            "compare_url": base + "/compare/{base}...{head}",
            "created_at": _timestamp(0),
            "updated_at": _timestamp(0),
        }

    def _render_file(self, repo: str, ref: str, f: PullFile) -> JsonDict:
        path = urllib.parse.quote(f.filename)
        data: JsonDict = {
            "sha": hashlib.sha1(f"{f.filename}\0{f.patch}".encode()).hexdigest(),
            "filename": f.filename,
            "status": f.status,
            "additions": f.additions or 0,
            "deletions": f.deletions or 0,
            "changes": (f.additions or 0) + (f.deletions or 0),
            "blob_url": f"{WEB_URL}/{repo}/blob/{ref}/{path}",
            "raw_url": f"{WEB_URL}/{repo}/raw/{ref}/{path}",
            "contents_url": self._api(f"/repos/{repo}/contents/{path}?ref={ref}"),
        }
        if f.patch is not None:
            data["patch"] = f.patch
        if f.previous_filename is not None:
            data["previous_filename"] = f.previous_filename
        return data

    def _render_commit(self, repo: str, sha: str) -> JsonDict:
        return {
            "sha": sha,
            "node_id": _node_id("Commit", _stable_id(sha)),
            "url": self._api(f"/repos/{repo}/commits/{sha}"),
            "html_url": f"{WEB_URL}/{repo}/commit/{sha}",
            "commit": {
                "message": f"commit {sha[:7]}",
                "url": self._api(f"/repos/{repo}/git/commits/{sha}"),
                "author": {"name": "octocat", "email": "o@example.com", "date": _timestamp(0)},
                "committer": {"name": "octocat", "email": "o@example.com", "date": _timestamp(0)},
                "tree": {"sha": _blob_sha(sha.encode()), "url": self._api(f"/repos/{repo}/git")},
            },
            "author": self._user("octocat"),
            "committer": self._user("octocat"),
            "parents": [],
            "files": [],
            "stats": {"additions": 0, "deletions": 0, "total": 0},
        }

    def _render_branch(self, pull: FakePull, repo: str, ref: str, sha: str) -> JsonDict:
        owner = repo.split("/", maxsplit=1)[0]
        return {
            "label": f"{owner}:{ref}",
            "ref": ref,
            "sha": sha,
            "user": self._user(owner),
            "repo": {**self._render_repo(repo), "fork": repo != pull.repo},
        }

    def _render_pull(self, pull: FakePull) -> JsonDict:
        base = self._api(f"/repos/{pull.repo}/pulls/{pull.number}")
        issue = self._api(f"/repos/{pull.repo}/issues/{pull.number}")
        html = f"{WEB_URL}/{pull.repo}/pull/{pull.number}"
        return {
            "id": pull.id,
            "node_id": _node_id("PullRequest", pull.id),
            "number": pull.number,
            "state": pull.state,
            "locked": False,
            "draft": False,
            "title": pull.title,
            "body": pull.body,
            "user": self._user(pull.author),
            "url": base,
            "html_url": html,
            "diff_url": f"{html}.diff",
            "patch_url": f"{html}.patch",
            "issue_url": issue,
            "commits_url": f"{base}/commits",
            "review_comments_url": f"{base}/comments",
            "review_comment_url": self._api(f"/repos/{pull.repo}/pulls/comments{{/number}}"),
            "comments_url": f"{issue}/comments",
            "statuses_url": self._api(f"/repos/{pull.repo}/statuses/{pull.head_sha}"),
            "head": self._render_branch(pull, pull.head_repo, pull.head_ref, pull.head_sha),
            "base": self._render_branch(pull, pull.repo, pull.base_ref, pull.base_sha),
            "author_association": "CONTRIBUTOR",
            "merged": False,
            "mergeable": None,
            "maintainer_can_modify": False,
            "comments": len(self.issue_comments(pull.repo, pull.number)),
            "review_comments": len(self._comments_of(pull.repo, pull.number)),
            "commits": len(pull.head_shas),
            "additions": sum(f.additions or 0 for f in pull.files),
            "deletions": sum(f.deletions or 0 for f in pull.files),
            "changed_files": len(pull.files),
            "created_at": _timestamp(0),
            "updated_at": _timestamp(0),
            "closed_at": None,
            "merged_at": None,
        }

    def _render_review(self, review: _Review) -> JsonDict:
        pull_url = self._api(f"/repos/{review.repo}/pulls/{review.number}")
        html = f"{WEB_URL}/{review.repo}/pull/{review.number}#pullrequestreview-{review.id}"
        data: JsonDict = {
            "id": review.id,
            "node_id": _node_id("PullRequestReview", review.id),
            "user": self._user(review.login),
            "body": review.body,
            "state": review.state,
            "commit_id": review.commit_id,
            "html_url": html,
            "pull_request_url": pull_url,
            "author_association": "NONE",
            "_links": {"html": {"href": html}, "pull_request": {"href": pull_url}},
        }
        if review.state != "PENDING":
            data["submitted_at"] = _timestamp(review.seq)
        return data

    def _render_reactions_summary(self, repo: str, kind: str, comment_id: int) -> JsonDict:
        reactions = self._reactions.get(comment_id, [])
        summary: JsonDict = {
            "url": self._api(f"/repos/{repo}/{kind}/comments/{comment_id}/reactions"),
            "total_count": len(reactions),
        }
        for content in ("+1", "-1", "laugh", "hooray", "confused", "heart", "rocket", "eyes"):
            summary[content] = sum(1 for r in reactions if r.content == content)
        return summary

    def _render_review_comment(self, c: _ReviewComment) -> JsonDict:
        url = self._api(f"/repos/{c.repo}/pulls/comments/{c.id}")
        pull_url = self._api(f"/repos/{c.repo}/pulls/{c.number}")
        html = f"{WEB_URL}/{c.repo}/pull/{c.number}#discussion_r{c.id}"
        return {
            "id": c.id,
            "node_id": _node_id("PullRequestReviewComment", c.id),
            "url": url,
            "pull_request_review_id": c.review_id,
            "diff_hunk": c.diff_hunk,
            "path": c.path,
            "position": c.position,
            "original_position": c.original_position,
            "commit_id": c.commit_id,
            "original_commit_id": c.original_commit_id,
            "in_reply_to_id": c.in_reply_to_id,
            "user": self._user(c.login),
            "body": c.body,
            "created_at": _timestamp(c.seq),
            "updated_at": _timestamp(c.updated_seq),
            "html_url": html,
            "pull_request_url": pull_url,
            "author_association": "NONE",
            "_links": {
                "self": {"href": url},
                "html": {"href": html},
                "pull_request": {"href": pull_url},
            },
            "start_line": c.start_line,
            "original_start_line": c.original_start_line,
            "start_side": c.start_side,
            "line": c.line,
            "original_line": c.original_line,
            "side": c.side,
            "subject_type": "line",
            "reactions": self._render_reactions_summary(c.repo, "pulls", c.id),
        }

    def _render_issue_comment(self, c: _IssueComment) -> JsonDict:
        return {
            "id": c.id,
            "node_id": _node_id("IssueComment", c.id),
            "url": self._api(f"/repos/{c.repo}/issues/comments/{c.id}"),
            "html_url": f"{WEB_URL}/{c.repo}/pull/{c.number}#issuecomment-{c.id}",
            "issue_url": self._api(f"/repos/{c.repo}/issues/{c.number}"),
            "body": c.body,
            "user": self._user(c.login),
            "created_at": _timestamp(c.seq),
            "updated_at": _timestamp(c.updated_seq),
            "author_association": "NONE",
            "reactions": self._render_reactions_summary(c.repo, "issues", c.id),
        }

    def _render_issue(self, pull: FakePull) -> JsonDict:
        rendered = self._render_pull(pull)
        keep = (
            "id",
            "number",
            "state",
            "locked",
            "title",
            "body",
            "user",
            "html_url",
            "comments",
            "author_association",
            "created_at",
            "updated_at",
            "closed_at",
        )
        issue: JsonDict = {key: rendered[key] for key in keep}
        issue.update(
            node_id=_node_id("Issue", pull.id),
            url=rendered["issue_url"],
            comments_url=rendered["comments_url"],
            repository_url=self._api(f"/repos/{pull.repo}"),
            labels=[],
            assignees=[],
            pull_request={
                "url": rendered["url"],
                "html_url": rendered["html_url"],
                "diff_url": rendered["diff_url"],
                "patch_url": rendered["patch_url"],
            },
        )
        return issue

    def _paginate(
        self, request: _Request, items: Sequence[Any], cap: int | None = None
    ) -> _Response:
        """One page of ``items`` with GitHub's Link header."""
        if cap is not None:
            items = items[:cap]
        per_page, page = _parse_page_args(request.query)
        last = max(math.ceil(len(items) / per_page), 1)
        chunk = list(items[(page - 1) * per_page : page * per_page])
        links = []
        if page > 1:
            links.append((min(page - 1, last), "prev"))
        if page < last:
            links += [(page + 1, "next"), (last, "last")]
        if page > 1:
            links.append((1, "first"))
        headers = {}
        if links:
            headers["Link"] = ", ".join(
                f'<{self._page_url(request, n)}>; rel="{rel}"' for n, rel in links
            )
        return _Response(200, chunk, headers)

    def _page_url(self, request: _Request, page: int) -> str:
        query = {**request.query, "page": str(page)}
        path = request.path
        match = re.match(r"^/repos/([^/]+/[^/]+)(/.*)?$", path)
        if match and match[1] in self._repos:
            path = f"/repositories/{self._repos[match[1]].id}{match[2] or ''}"
        return self._api(f"{path}?{urllib.parse.urlencode(query)}")

    # ----------------------------------------------------------------- handlers: misc

    def _get_user(self, request: _Request, params: dict[str, str]) -> _Response:
        if request.login.endswith("[bot]"):
            raise _error(403, "Resource not accessible by integration")
        return _Response(200, self._user(request.login))

    def _graphql(self, request: _Request, params: dict[str, str]) -> _Response:
        caller = github_graphql.Caller(request.login, request.can_write, request.can_resolve)
        found = github_graphql.answer(
            request.body, caller, self._review_comments.values, self._resolved_threads
        )
        return _Response(200, found)

    def _get_rate_limit(self, request: _Request, params: dict[str, str]) -> _Response:
        core = {
            "limit": RATE_LIMIT,
            "remaining": max(RATE_LIMIT - self._used - 1, 0),
            "used": self._used + 1,
            "reset": self._reset_at,
        }
        return _Response(200, {"resources": {"core": core}, "rate": core})

    def _get_repo(self, request: _Request, params: dict[str, str]) -> _Response:
        return _Response(200, self._render_repo(self._found_repo(params).full_name))

    def _get_commit(self, request: _Request, params: dict[str, str]) -> _Response:
        store = self._found_repo(params)
        if params["sha"] not in store.commits:
            raise _error(422, f"No commit found for SHA: {params['sha']}")
        return _Response(200, self._render_commit(store.full_name, params["sha"]))

    def _get_compare(self, request: _Request, params: dict[str, str]) -> _Response:
        store = self._found_repo(params)
        compare = store.compares.get((params["base"], params["head"]))
        if compare is None:
            raise _not_found()
        repo, head = store.full_name, params["head"]
        spec = f"{params['base']}...{head}"
        commits = [_blob_sha(f"{spec}#{i}".encode()) for i in range(compare.ahead_by - 1)]
        commits += [head] if compare.ahead_by else []
        return _Response(
            200,
            {
                "url": self._api(f"/repos/{repo}/compare/{spec}"),
                "html_url": f"{WEB_URL}/{repo}/compare/{spec}",
                "permalink_url": f"{WEB_URL}/{repo}/compare/{spec}",
                "diff_url": f"{WEB_URL}/{repo}/compare/{spec}.diff",
                "patch_url": f"{WEB_URL}/{repo}/compare/{spec}.patch",
                "base_commit": self._render_commit(repo, params["base"]),
                "merge_base_commit": self._render_commit(repo, params["base"]),
                "status": compare.status,
                "ahead_by": compare.ahead_by,
                "behind_by": compare.behind_by,
                "total_commits": compare.ahead_by,
                "commits": [self._render_commit(repo, sha) for sha in commits],
                "files": [
                    self._render_file(repo, head, f) for f in compare.files[:MAX_COMPARE_FILES]
                ],
            },
        )

    def _get_contents(self, request: _Request, params: dict[str, str]) -> _Response:
        store = self._found_repo(params)
        ref = request.query.get("ref") or store.default_branch
        tree = store.contents.get(ref, {})
        path = params["path"].strip("/")
        if path in tree:
            return _Response(200, self._render_content(store.full_name, ref, path, tree[path]))
        prefix = f"{path}/" if path else ""
        children = sorted({p[len(prefix) :].split("/")[0] for p in tree if p.startswith(prefix)})
        if not children:
            raise _not_found()
        entries = [self._render_entry(store.full_name, ref, prefix + c, tree) for c in children]
        return _Response(200, entries)

    def _render_entry(self, repo: str, ref: str, path: str, tree: Mapping[str, bytes]) -> JsonDict:
        if path in tree:
            entry = self._render_content(repo, ref, path, tree[path])
            for key in ("content", "encoding"):
                entry.pop(key)
            return entry
        return {
            "type": "dir",
            "name": path.rsplit("/", 1)[-1],
            "path": path,
            "sha": _blob_sha(path.encode()),
            "size": 0,
            "url": self._api(f"/repos/{repo}/contents/{urllib.parse.quote(path)}?ref={ref}"),
        }

    def _render_content(self, repo: str, ref: str, path: str, data: bytes) -> JsonDict:
        quoted = urllib.parse.quote(path)
        too_big = len(data) > MAX_CONTENT_BYTES
        encoded = base64.b64encode(data).decode()
        wrapped = "\n".join(encoded[i : i + 60] for i in range(0, len(encoded), 60))
        return {
            "type": "file",
            "encoding": "none" if too_big else "base64",
            "content": "" if too_big else wrapped + "\n",
            "name": path.rsplit("/", 1)[-1],
            "path": path,
            "sha": _blob_sha(data),
            "size": len(data),
            "url": self._api(f"/repos/{repo}/contents/{quoted}?ref={ref}"),
            "html_url": f"{WEB_URL}/{repo}/blob/{ref}/{quoted}",
            "git_url": self._api(f"/repos/{repo}/git/blobs/{_blob_sha(data)}"),
            "download_url": f"https://raw.githubusercontent.com/{repo}/{ref}/{quoted}",
        }

    # ----------------------------------------------------------------- handlers: pulls

    def _get_pull(self, request: _Request, params: dict[str, str]) -> _Response:
        pull = self._found_pull(params)
        if "diff" in request.accept and "vnd.github" in request.accept:
            return self._pull_diff(pull)
        return _Response(200, self._render_pull(pull))

    def _pull_diff(self, pull: FakePull) -> _Response:
        too_large = [{"resource": "PullRequest", "field": "diff", "code": "too_large"}]
        docs = "https://docs.github.com/rest/pulls/pulls#get-a-pull-request"
        hint = " Consider using 'List pull requests files' API or locally cloning the repository."
        if len(pull.files) > MAX_DIFF_FILES:
            message = f"Sorry, the diff exceeded the maximum number of files ({MAX_DIFF_FILES})."
            raise _error(406, message + hint, errors=too_large, documentation_url=docs)
        text = _unified_diff(pull.files)
        if text.count("\n") > MAX_DIFF_LINES or len(text.encode()) > MAX_DIFF_BYTES:
            message = f"Sorry, the diff exceeded the maximum number of lines ({MAX_DIFF_LINES})."
            raise _error(406, message + hint, errors=too_large, documentation_url=docs)
        return _Response(200, text=text)

    def _list_files(self, request: _Request, params: dict[str, str]) -> _Response:
        pull = self._found_pull(params)
        files = [self._render_file(pull.repo, pull.head_sha, f) for f in pull.files]
        return self._paginate(request, files, cap=MAX_PULL_FILES)

    def _list_pull_commits(self, request: _Request, params: dict[str, str]) -> _Response:
        pull = self._found_pull(params)
        commits = [self._render_commit(pull.repo, sha) for sha in pull.head_shas]
        return self._paginate(request, commits)

    def _list_reviews(self, request: _Request, params: dict[str, str]) -> _Response:
        pull = self._found_pull(params)
        reviews = [
            self._render_review(r)
            for r in self._reviews_of(pull.repo, pull.number)
            if self._visible_to(r.id, request.login)
        ]
        return self._paginate(request, reviews)

    def _get_review(self, request: _Request, params: dict[str, str]) -> _Response:
        pull = self._found_pull(params)
        review = self._reviews.get(int(params["review_id"]))
        if review is None or (review.repo, review.number) != (pull.repo, pull.number):
            raise _not_found()
        if not self._visible_to(review.id, request.login):
            raise _not_found()
        return _Response(200, self._render_review(review))

    def _pending_review_of(self, pull: FakePull, login: str) -> _Review | None:
        for review in self._reviews_of(pull.repo, pull.number):
            if review.login == login and review.state == "PENDING":
                return review
        return None

    def _create_review(self, request: _Request, params: dict[str, str]) -> _Response:
        pull = self._found_pull(params)
        data = _as_object(request.body)
        event = _optional_str(data, "event")
        if event is not None and event not in REVIEW_EVENTS:
            raise _invalid(f'"event" must be one of {", ".join(REVIEW_EVENTS)}.')
        body = _optional_str(data, "body") or ""
        commit_id = _optional_str(data, "commit_id") or pull.head_sha
        comments = data.get("comments") or []
        if not isinstance(comments, list):
            raise _invalid('"comments" is not an array.')
        if self._pending_review_of(pull, request.login) is not None:
            raise _unprocessable(ERR_ONE_PENDING)
        if commit_id not in pull.files_at:
            raise _unprocessable(ERR_COMMIT_NOT_IN_PULL)
        if len(body) > MAX_BODY_CHARS:
            raise _unprocessable(ERR_BODY_TOO_LONG)
        if event in ("COMMENT", "REQUEST_CHANGES") and not body and not comments:
            raise _unprocessable(ERR_BODY_REQUIRED)
        patches = _commentable(pull.files_at[commit_id])
        try:
            anchors = [_anchor(raw, patches) for raw in comments]
        except _ThreadError as bad:
            raise _unprocessable(str(bad)) from None
        review = self._new_review(pull, request.login, body, event, commit_id)
        for anchor, comment_body in anchors:
            self._new_comment(review, anchor, comment_body)
        return _Response(200, self._render_review(review))

    def _list_review_comments(self, request: _Request, params: dict[str, str]) -> _Response:
        pull = self._found_pull(params)
        comments = [
            self._render_review_comment(c)
            for c in self._comments_of(pull.repo, pull.number)
            if self._visible_to(c.review_id, request.login)
        ]
        return self._paginate(request, comments)

    def _create_review_comment(self, request: _Request, params: dict[str, str]) -> _Response:
        pull = self._found_pull(params)
        data = _as_object(request.body)
        in_reply_to = _optional_int(data, "in_reply_to")
        if in_reply_to is not None:
            return self._reply_response(pull, in_reply_to, data, request.login)
        commit_id = _required_str(data, "commit_id")
        if self._pending_review_of(pull, request.login) is not None:
            message = "user_id can only have one pending review per pull request"
            raise _validation_failed("PullRequestReview", "user_id", message)
        if commit_id not in pull.files_at:
            message = "commit_id is not part of the pull request"
            raise _validation_failed("PullRequestReviewComment", "commit_id", message)
        try:
            anchor, body = _anchor(data, _commentable(pull.files_at[commit_id]))
        except _ThreadError as bad:
            field_name, message = _COMMENT_ERROR_FIELDS[str(bad)]
            raise _validation_failed("PullRequestReviewComment", field_name, message) from None
        review = self._new_review(pull, request.login, "", "COMMENT", commit_id)
        comment = self._new_comment(review, anchor, body)
        return _Response(201, self._render_review_comment(comment))

    def _create_reply(self, request: _Request, params: dict[str, str]) -> _Response:
        pull = self._found_pull(params)
        data = _as_object(request.body)
        return self._reply_response(pull, int(params["comment_id"]), data, request.login)

    def _reply_response(
        self, pull: FakePull, in_reply_to: int, data: JsonDict, login: str
    ) -> _Response:
        body = _required_str(data, "body")
        if len(body) > MAX_BODY_CHARS:
            field_name, message = _COMMENT_ERROR_FIELDS[ERR_BODY_TOO_LONG]
            raise _validation_failed("PullRequestReviewComment", field_name, message)
        try:
            reply = self._reply(pull, in_reply_to, body, login)
        except KeyError:
            raise _not_found() from None
        return _Response(201, self._render_review_comment(reply))

    def _get_review_comment(self, request: _Request, params: dict[str, str]) -> _Response:
        comment = self._found_review_comment(params)
        return _Response(200, self._render_review_comment(comment))

    def _edit_review_comment(self, request: _Request, params: dict[str, str]) -> _Response:
        comment = self._found_review_comment(params)
        body = _required_str(_as_object(request.body), "body")
        if len(body) > MAX_BODY_CHARS:
            field_name, message = _COMMENT_ERROR_FIELDS[ERR_BODY_TOO_LONG]
            raise _validation_failed("PullRequestReviewComment", field_name, message)
        comment.body, comment.updated_seq = body, next(self._seq)
        return _Response(200, self._render_review_comment(comment))

    def _delete_review_comment(self, request: _Request, params: dict[str, str]) -> _Response:
        comment = self._found_review_comment(params)
        del self._review_comments[comment.id]
        self._reviews[comment.review_id].comment_ids.remove(comment.id)
        return _Response(204)

    def _reactions_of(self, request: _Request, params: dict[str, str]) -> _Response:
        comment_id = int(params["comment_id"])
        kind = "pulls" if "/pulls/" in request.path else "issues"
        if kind == "pulls":
            self._found_review_comment(params)
        else:
            self._found_issue_comment(params)
        reactions = [
            {
                "id": r.id,
                "node_id": _node_id("Reaction", r.id),
                "user": self._user(r.login),
                "content": r.content,
                "created_at": _timestamp(r.seq),
            }
            for r in self._reactions.get(comment_id, [])
        ]
        return self._paginate(request, reactions)

    # ----------------------------------------------------------------- handlers: issues

    def _get_issue(self, request: _Request, params: dict[str, str]) -> _Response:
        return _Response(200, self._render_issue(self._found_pull(params)))

    def _list_issue_comments(self, request: _Request, params: dict[str, str]) -> _Response:
        pull = self._found_pull(params)
        return self._paginate(request, self.issue_comments(pull.repo, pull.number))

    def _checked_issue_body(self, request: _Request) -> str:
        body = _required_str(_as_object(request.body), "body")
        if len(body) > MAX_BODY_CHARS:
            message = f"body is too long (maximum is {MAX_BODY_CHARS} characters)"
            raise _validation_failed("IssueComment", "body", message)
        return body

    def _create_issue_comment(self, request: _Request, params: dict[str, str]) -> _Response:
        pull = self._found_pull(params)
        body = self._checked_issue_body(request)
        comment = self._new_issue_comment(pull.repo, pull.number, request.login, body)
        return _Response(201, self._render_issue_comment(comment))

    def _get_issue_comment(self, request: _Request, params: dict[str, str]) -> _Response:
        return _Response(200, self._render_issue_comment(self._found_issue_comment(params)))

    def _edit_issue_comment(self, request: _Request, params: dict[str, str]) -> _Response:
        comment = self._found_issue_comment(params)
        comment.body = self._checked_issue_body(request)
        comment.updated_seq = next(self._seq)
        return _Response(200, self._render_issue_comment(comment))

    def _delete_issue_comment(self, request: _Request, params: dict[str, str]) -> _Response:
        comment = self._found_issue_comment(params)
        del self._issue_comments[comment.id]
        return _Response(204)


def _decode_json(raw: bytes) -> tuple[Any, bool]:
    """The request's JSON body (None when empty) and whether it failed to parse."""
    if not raw.strip():
        return None, False
    try:
        return json.loads(raw), False
    except ValueError:
        return None, True


def _default_fault_body(status: int) -> JsonDict:
    messages = {
        403: "You have exceeded a secondary rate limit. Please wait a few minutes before you "
        "try again.",
        429: "API rate limit exceeded.",
        500: "Server Error",
        502: "Server Error",
        503: "Service Unavailable",
    }
    return {
        "message": messages.get(status, "Error"),
        "documentation_url": DOCS_URL,
        "status": str(status),
    }
