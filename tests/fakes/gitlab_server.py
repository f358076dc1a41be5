"""A fake GitLab REST API v4 on 127.0.0.1 that enforces GitLab's posting rules.

The product is tested with the real python-gitlab client over HTTP against this server, so
the fake answers like GitLab does, including the errors review bots usually trip over
(see /work/shared/platform-rules.md, GitLab section).

Line numbering and ``line_code`` (what :func:`parse_diff_lines` computes):

* Inside a hunk ``@@ -A,x +B,y @@`` two running counters start at ``old = A`` and
  ``new = B`` (so a new file, ``@@ -0,0 +1,n @@``, starts with ``old = 0``).
* Every diff line records both counters *as they are before the line is consumed*; then an
  added line advances ``new`` only, a removed line advances ``old`` only, a context line
  advances both. ``\\ No newline at end of file`` lines are skipped and advance nothing.
* A position names a line by ``(old_line, new_line)``: added ``(None, new)``, removed
  ``(old, None)``, context ``(old, new)``. It must match one line exactly.
* ``line_code = sha1(path).hexdigest() + "_" + str(old) + "_" + str(new)`` with the two
  running counters, for every kind of line (an added line uses the old-side counter at that
  point, a removed line the new-side counter at that point). ``path`` is the diff's
  ``new_path`` (``old_path`` when ``new_path`` is empty), like GitLab's ``file_path``.
* ``line_range`` endpoints: ``type`` is ``"new"`` for an added line and ``"old"`` otherwise;
  ``old_line`` / ``new_line`` when given (not null) must follow the position rule above.

Tracking after a push: a diff discussion keeps mapping when its line (same kind and text) is
found at the same numbers in the new diff, or exactly once elsewhere in that file's new diff;
its notes' ``position`` then moves to the new ``diff_refs``. Otherwise the position is left
as it was and the discussion is flagged outdated (see ``FakeGitLab.outdated_discussion_ids``).
"""

from __future__ import annotations

import contextlib
import hashlib
import http
import json
import re
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, ClassVar, Literal
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

from tests.fakes.base import POLL_S

JSONDict = dict[str, Any]
LineKind = Literal["added", "removed", "context"]
TokenKind = Literal["write", "job", "invalid", "none"]
Access = Literal["read", "write", "user"]

BOT_USERNAME = "ai-review-bot"
MAX_NOTE_CHARS = 1_000_000
RATE_LIMIT = 2000
DEFAULT_PER_PAGE = 20
MAX_PER_PAGE = 100
LINE_CODE_ERROR = (
    '400 Bad request - Note {:line_code=>["can\'t be blank", "must be a valid line code"]}'
)
POSITION_ERROR = '400 Bad request - Note {:position=>["is invalid"]}'
TOO_LONG_ERROR = '400 Bad request - Note {:note=>["is too long (maximum is 1000000 characters)"]}'
BLANK_ERROR = '400 Bad request - Note {:note=>["can\'t be blank"]}'

_HUNK_RE = re.compile(r"^@@ -(\d+)(?:,\d+)? \+(\d+)(?:,\d+)? @@")
_FORM_KEY_RE = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")
_EPOCH = datetime(2024, 1, 1, tzinfo=UTC)
_PROJECT = r"/api/v4/projects/(?P<project>[^/]+)"
_MR = _PROJECT + r"/merge_requests/(?P<iid>\d+)"
_DISCUSSION = _MR + r"/discussions/(?P<discussion>[0-9a-f]{40})"
_NOTE = _MR + r"/notes/(?P<note>\d+)"


# --------------------------------------------------------------------------- public data


@dataclass
class MRDiff:
    """One file of a merge request diff; ``diff`` holds hunks only (no ---/+++ lines)."""

    old_path: str
    new_path: str
    diff: str = ""
    new_file: bool = False
    renamed_file: bool = False
    deleted_file: bool = False
    too_large: bool = False
    collapsed: bool = False
    generated_file: bool = False
    a_mode: str | None = None
    b_mode: str | None = None

    def __post_init__(self) -> None:
        if self.diff and not self.diff.startswith("@@"):
            raise ValueError(f"{self.new_path}: diff must start with a hunk header '@@'")

    @property
    def visible_diff(self) -> str:
        """The diff text the API shows: empty when too large or collapsed."""
        return "" if self.too_large or self.collapsed else self.diff

    @property
    def file_path(self) -> str:
        """The path GitLab hashes into line codes."""
        return self.new_path or self.old_path

    def to_api(self) -> JSONDict:
        """The per-file dict GitLab returns from /diffs, /changes and /compare."""
        return {
            "old_path": self.old_path,
            "new_path": self.new_path,
            "a_mode": self.a_mode or ("0" if self.new_file else "100644"),
            "b_mode": self.b_mode or ("0" if self.deleted_file else "100644"),
            "new_file": self.new_file,
            "renamed_file": self.renamed_file,
            "deleted_file": self.deleted_file,
            "diff": self.visible_diff,
            "too_large": self.too_large,
            "collapsed": self.collapsed,
            "generated_file": self.generated_file,
        }


@dataclass(frozen=True)
class DiffLine:
    """One hunk line with GitLab's running counters (see the module docstring)."""

    kind: LineKind
    old: int
    new: int
    text: str

    @property
    def old_line(self) -> int | None:
        """The ``old_line`` a position must give for this line (None for added lines)."""
        return None if self.kind == "added" else self.old

    @property
    def new_line(self) -> int | None:
        """The ``new_line`` a position must give for this line (None for removed lines)."""
        return None if self.kind == "removed" else self.new

    @property
    def range_type(self) -> str:
        """The ``type`` of a line_range endpoint on this line."""
        return "new" if self.kind == "added" else "old"

    def line_code(self, path: str) -> str:
        """GitLab's line code for this line of ``path``."""
        return line_code(path, self.old, self.new)


@dataclass
class RecordedRequest:
    """One request as the fake saw it; the token itself is never stored."""

    method: str
    path: str
    query: dict[str, str]
    json_or_form: Any
    authorized: bool
    status: int = 0
    token_kind: TokenKind = "none"
    connection: int = 0  # which TCP connection it came over, numbered from 1


@dataclass
class MRVersion:
    """One diff version of a merge request (an entry of /versions)."""

    id: int
    base_sha: str
    start_sha: str
    head_sha: str
    diffs: list[MRDiff]
    created_at: str

    def find_diff(self, old_path: Any, new_path: Any) -> MRDiff | None:
        """The file diff named by exactly this old_path and new_path."""
        for diff in self.diffs:
            if diff.old_path == old_path and diff.new_path == new_path:
                return diff
        return None

    def refs(self) -> tuple[str, str, str]:
        """(base_sha, start_sha, head_sha)."""
        return self.base_sha, self.start_sha, self.head_sha


@dataclass
class FakeMergeRequest:
    """Server-side state of one merge request."""

    project_id: int
    iid: int
    id: int
    title: str
    description: str
    author: str
    source_branch: str
    target_branch: str
    source_project_id: int
    overflow: bool = False
    diffs_enabled: bool = True
    versions: list[MRVersion] = field(default_factory=list)
    discussions: list[JSONDict] = field(default_factory=list)
    outdated: set[str] = field(default_factory=set)
    awards: dict[int, list[JSONDict]] = field(default_factory=dict)

    @property
    def current(self) -> MRVersion:
        """The latest version."""
        return self.versions[-1]

    def version_for(self, base: Any, start: Any, head: Any) -> MRVersion | None:
        """The version whose SHAs are exactly (base, start, head)."""
        for version in reversed(self.versions):
            if version.refs() == (base, start, head):
                return version
        return None

    def all_notes(self) -> list[JSONDict]:
        """Every note of every discussion, oldest first."""
        notes = [note for d in self.discussions for note in d["notes"]]
        return sorted(notes, key=lambda note: int(note["id"]))


@dataclass
class _Project:
    id: int
    path_with_namespace: str
    default_branch: str


@dataclass
class _Fault:
    method: str | None
    path_regex: re.Pattern[str]
    status: int
    headers: dict[str, str]
    times: int
    body: Any


@dataclass
class _Incoming:
    method: str
    target: str
    headers: dict[str, str]
    body: bytes
    connection: int = 0


@dataclass
class _Request:
    method: str
    path: str
    query: dict[str, str]
    params: JSONDict
    token_kind: TokenKind
    username: str | None
    base_url: str
    match: dict[str, str] = field(default_factory=dict)


@dataclass
class _Response:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class _Route:
    method: str
    pattern: re.Pattern[str]
    access: Access
    handler: Callable[[_Request], _Response]


class _ApiError(Exception):
    def __init__(self, status: int, payload: JSONDict) -> None:
        super().__init__(status, payload)
        self.status = status
        self.payload = payload


# --------------------------------------------------------------------------- diff helpers


def line_code(path: str, old: int, new: int) -> str:
    """``sha1(path)`` hex + ``_old_new`` with GitLab's running counters."""
    return f"{hashlib.sha1(path.encode()).hexdigest()}_{old}_{new}"


def _kind(text: str) -> LineKind:
    if text.startswith("+"):
        return "added"
    if text.startswith("-"):
        return "removed"
    return "context"


def parse_diff_lines(diff: str) -> list[DiffLine]:
    """All commentable lines of a hunks-only diff, with GitLab's running counters."""
    lines: list[DiffLine] = []
    old = new = 0
    in_hunk = False
    raw_lines = diff.split("\n")
    if raw_lines and raw_lines[-1] == "":
        raw_lines.pop()
    for text in raw_lines:
        header = _HUNK_RE.match(text)
        if header:
            old, new, in_hunk = int(header[1]), int(header[2]), True
            continue
        if not in_hunk or text.startswith("\\"):
            continue
        kind = _kind(text)
        lines.append(DiffLine(kind, old, new, text[1:]))
        if kind != "added":
            old += 1
        if kind != "removed":
            new += 1
    return lines


def _find_line(lines: list[DiffLine], old_line: int | None, new_line: int | None) -> int | None:
    for index, line in enumerate(lines):
        if (line.old_line, line.new_line) == (old_line, new_line):
            return index
    return None


def _trace_line(line: DiffLine, candidates: list[DiffLine]) -> DiffLine | None:
    if line in candidates:
        return line
    same = [c for c in candidates if c.kind == line.kind and c.text == line.text]
    return same[0] if len(same) == 1 else None


# --------------------------------------------------------------------------- request helpers


def _bad(message: str) -> _ApiError:
    return _ApiError(400, {"message": message})


def _not_found(what: str = "Not found") -> _ApiError:
    return _ApiError(404, {"message": f"404 {what}"})


def _status_message(status: int) -> str:
    try:
        return f"{status} {http.HTTPStatus(status).phrase}"
    except ValueError:
        return str(status)


def _form_key_parts(key: str) -> list[str]:
    match = _FORM_KEY_RE.match(key)
    if not match:
        return [key]
    return [match[1], *re.findall(r"\[([^\[\]]*)\]", match[2])]


def nest_form(pairs: list[tuple[str, str]]) -> JSONDict:
    """Turn ``position[line_range][start][line_code]=x`` style pairs into nested dicts."""
    out: JSONDict = {}
    for key, value in pairs:
        parts = _form_key_parts(key)
        node = out
        for part in parts[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise _ApiError(400, {"error": f"{key} is invalid"})
            node = child
        if parts[-1] == "" and len(parts) > 1:
            raise _ApiError(400, {"error": f"{key}: arrays are not supported by the fake"})
        node[parts[-1]] = value
    return out


def _parse_body(headers: dict[str, str], body: bytes) -> Any:
    if not body:
        return None
    content_type = headers.get("content-type", "").split(";")[0].strip().lower()
    text = body.decode("utf-8", errors="replace")
    if content_type == "application/x-www-form-urlencoded":
        return nest_form(parse_qsl(text, keep_blank_values=True))
    try:
        return json.loads(text)
    except ValueError as err:
        raise _ApiError(400, {"error": "The request body is not valid JSON"}) from err


def _as_line(value: Any) -> int | None:
    if value is None or value in ("", "null"):
        return None
    if isinstance(value, bool):
        raise _bad(LINE_CODE_ERROR)
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    raise _bad(LINE_CODE_ERROR)


def _as_bool(value: Any, name: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise _ApiError(400, {"error": f"{name} is missing" if value is None else f"{name} is invalid"})


def _note_body(params: JSONDict) -> str:
    body = params.get("body")
    if body is None:
        raise _ApiError(400, {"error": "body is missing"})
    if not isinstance(body, str):
        raise _ApiError(400, {"error": "body is invalid"})
    if not body.strip():
        raise _bad(BLANK_ERROR)
    if len(body) > MAX_NOTE_CHARS:
        raise _bad(TOO_LONG_ERROR)
    return body


def _int_query(query: dict[str, str], name: str, default: int) -> int:
    value = query.get(name, "")
    if value == "":
        return default
    if not value.isdigit():
        raise _ApiError(400, {"error": f"{name} is invalid"})
    return int(value)


def _link_header(req: _Request, page: int, per_page: int, total_pages: int) -> str:
    def url(number: int) -> str:
        query = {**req.query, "page": str(number), "per_page": str(per_page)}
        return f"{req.base_url}{req.path}?{urlencode(query)}"

    links = []
    if page > 1:
        links.append(f'<{url(page - 1)}>; rel="prev"')
    if page < total_pages:
        links.append(f'<{url(page + 1)}>; rel="next"')
    links.append(f'<{url(1)}>; rel="first"')
    links.append(f'<{url(total_pages)}>; rel="last"')
    return ", ".join(links)


def _paginate(req: _Request, items: list[Any]) -> _Response:
    """Offset pagination like GitLab: per_page default 20, at most 100."""
    per_page = min(max(_int_query(req.query, "per_page", DEFAULT_PER_PAGE), 1), MAX_PER_PAGE)
    page = max(_int_query(req.query, "page", 1), 1)
    total_pages = max(1, -(-len(items) // per_page))
    headers = {
        "X-Page": str(page),
        "X-Per-Page": str(per_page),
        "X-Total": str(len(items)),
        "X-Total-Pages": str(total_pages),
        "X-Next-Page": str(page + 1) if page < total_pages else "",
        "X-Prev-Page": str(page - 1) if page > 1 else "",
        "Link": _link_header(req, page, per_page, total_pages),
    }
    return _Response(200, items[(page - 1) * per_page : page * per_page], headers)


def _copy(value: Any) -> Any:
    return json.loads(json.dumps(value))


# --------------------------------------------------------------------------- position rules


def _validated_line_range(raw: Any, lines: list[DiffLine], path: str) -> JSONDict | None:
    if raw is None or raw in ("", {}):
        return None
    if not isinstance(raw, dict):
        raise _bad(LINE_CODE_ERROR)
    start_index, start = _range_endpoint(raw.get("start"), lines, path)
    end_index, end = _range_endpoint(raw.get("end"), lines, path)
    if start_index > end_index:
        raise _bad(LINE_CODE_ERROR)
    return {"start": start, "end": end}


def _range_endpoint(raw: Any, lines: list[DiffLine], path: str) -> tuple[int, JSONDict]:
    if not isinstance(raw, dict):
        raise _bad(LINE_CODE_ERROR)
    codes = [line.line_code(path) for line in lines]
    if raw.get("line_code") not in codes:
        raise _bad(LINE_CODE_ERROR)
    index = codes.index(raw["line_code"])
    line = lines[index]
    old_line, new_line = _as_line(raw.get("old_line")), _as_line(raw.get("new_line"))
    if raw.get("type") != line.range_type:
        raise _bad(LINE_CODE_ERROR)
    if old_line not in (None, line.old_line) or new_line not in (None, line.new_line):
        raise _bad(LINE_CODE_ERROR)
    return index, _range_json(line, path)


def _range_json(line: DiffLine, path: str) -> JSONDict:
    return {
        "line_code": line.line_code(path),
        "type": line.range_type,
        "old_line": line.old_line,
        "new_line": line.new_line,
    }


def validate_position(mr: FakeMergeRequest, raw: Any) -> tuple[JSONDict, MRVersion]:
    """Apply GitLab's rules to a discussion ``position``; return it normalised + its version."""
    if not isinstance(raw, dict) or raw.get("position_type") != "text":
        raise _bad(POSITION_ERROR)
    version = mr.version_for(raw.get("base_sha"), raw.get("start_sha"), raw.get("head_sha"))
    if version is None:
        raise _bad(POSITION_ERROR)
    diff = version.find_diff(raw.get("old_path"), raw.get("new_path"))
    if diff is None:
        raise _bad(LINE_CODE_ERROR)
    lines = parse_diff_lines(diff.visible_diff)
    old_line, new_line = _as_line(raw.get("old_line")), _as_line(raw.get("new_line"))
    if _find_line(lines, old_line, new_line) is None:
        raise _bad(LINE_CODE_ERROR)
    line_range = _validated_line_range(raw.get("line_range"), lines, diff.file_path)
    position = _position_json(version, diff, old_line, new_line, line_range)
    return position, version


def _position_json(
    version: MRVersion,
    diff: MRDiff,
    old_line: int | None,
    new_line: int | None,
    line_range: JSONDict | None,
) -> JSONDict:
    return {
        "base_sha": version.base_sha,
        "start_sha": version.start_sha,
        "head_sha": version.head_sha,
        "old_path": diff.old_path,
        "new_path": diff.new_path,
        "position_type": "text",
        "old_line": old_line,
        "new_line": new_line,
        "line_range": line_range,
    }


def trace_position(position: JSONDict, source: MRVersion, target: MRVersion) -> JSONDict | None:
    """Map a stored position onto ``target``; None when it no longer maps (outdated)."""
    old_diff = source.find_diff(position["old_path"], position["new_path"])
    new_diff = target.find_diff(position["old_path"], position["new_path"])
    if old_diff is None or new_diff is None:
        return None
    old_lines = parse_diff_lines(old_diff.visible_diff)
    new_lines = parse_diff_lines(new_diff.visible_diff)
    index = _find_line(old_lines, position["old_line"], position["new_line"])
    anchor = None if index is None else _trace_line(old_lines[index], new_lines)
    if anchor is None:
        return None
    line_range = _trace_range(position["line_range"], old_lines, new_lines, new_diff.file_path)
    if position["line_range"] is not None and line_range is None:
        return None
    return _position_json(target, new_diff, anchor.old_line, anchor.new_line, line_range)


def _trace_range(
    line_range: JSONDict | None, old_lines: list[DiffLine], new_lines: list[DiffLine], path: str
) -> JSONDict | None:
    if line_range is None:
        return None
    by_code = {line.line_code(path): line for line in old_lines}
    traced = []
    for key in ("start", "end"):
        old = by_code.get(line_range[key]["line_code"])
        new = None if old is None else _trace_line(old, new_lines)
        if new is None:
            return None
        traced.append(_range_json(new, path))
    return {"start": traced[0], "end": traced[1]}


# --------------------------------------------------------------------------- HTTP plumbing


class _Handler(BaseHTTPRequestHandler):
    fake: ClassVar[FakeGitLab]
    # Keep-alive, as GitLab does: a client that keeps one session keeps one connection.
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # else each answer on a kept connection waits ~40 ms

    def setup(self) -> None:
        super().setup()
        self.number = self.fake._opened(self.connection)

    def finish(self) -> None:
        self.fake._closed(self.connection)
        super().finish()

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {key.lower(): value for key, value in self.headers.items()}
        status, out_headers, payload = self.fake._respond(
            _Incoming(self.command, self.path, headers, body, self.number)
        )
        self.send_response(status)
        for key, value in out_headers.items():
            self.send_header(key, value)
        self.end_headers()
        if payload:
            self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_DELETE = _serve

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output quiet."""


# --------------------------------------------------------------------------- the fake


class FakeGitLab:
    """Fake GitLab API v4 server; use ``with FakeGitLab() as gl:`` and point clients at gl.url."""

    def __init__(self, bot_username: str = BOT_USERNAME) -> None:
        self.bot_username = bot_username
        self.requests: list[RecordedRequest] = []
        self.server_errors: list[str] = []
        self._lock = threading.RLock()
        self._tokens: dict[str, str] = {}
        self._job_tokens: set[str] = set()
        self._projects: dict[int, _Project] = {}
        self._mrs: dict[tuple[int, int], FakeMergeRequest] = {}
        self._files: dict[tuple[int, str], dict[str, str]] = {}
        self._compares: dict[tuple[int, str, str], list[MRDiff]] = {}
        self._faults: list[_Fault] = []
        self._user_ids: dict[str, int] = {bot_username: 1}
        self._counter = 0
        self._connections = 0
        self._open: set[socket.socket] = set()  # kept alive, maybe by a client that leaked it
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._routes = self._build_routes()

    # ----------------------------------------------------------------- lifecycle

    def __enter__(self) -> FakeGitLab:
        handler = type("FakeGitLabHandler", (_Handler,), {"fake": self})
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        server.daemon_threads = False
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": POLL_S}, daemon=True
        )
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Stop serving and release the socket and threads."""
        if self._server is not None:
            self._server.shutdown()
            with self._lock:
                for connection in self._open:  # else server_close waits on their threads
                    with contextlib.suppress(OSError):
                        connection.shutdown(socket.SHUT_RDWR)
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    @property
    def url(self) -> str:
        """Base URL (CI_SERVER_URL); python-gitlab appends /api/v4."""
        if self._server is None:
            raise RuntimeError("FakeGitLab is not running; use it as a context manager")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    # ----------------------------------------------------------------- setup helpers

    def add_token(self, token: str, username: str | None = None) -> None:
        """Accept ``token`` (PRIVATE-TOKEN or Bearer) with api scope, acting as ``username``."""
        with self._lock:
            self._tokens[token] = username or self.bot_username

    def add_job_token(self, token: str) -> None:
        """Accept ``token`` as a CI_JOB_TOKEN (JOB-TOKEN header): read-only here."""
        with self._lock:
            self._job_tokens.add(token)

    def add_project(
        self, project_id: int, path_with_namespace: str, default_branch: str = "main"
    ) -> None:
        """Register a project (add_merge_request does it for you)."""
        with self._lock:
            known = self._projects.get(project_id)
            if known is not None and known.path_with_namespace != path_with_namespace:
                raise ValueError(f"project {project_id} is {known.path_with_namespace}")
            if known is None:
                self._projects[project_id] = _Project(
                    project_id, path_with_namespace, default_branch
                )

    def add_merge_request(
        self,
        project_id: int,
        path_with_namespace: str,
        iid: int,
        *,
        title: str = "Test merge request",
        description: str = "",
        base_sha: str = "b" * 40,
        start_sha: str = "s" * 40,
        head_sha: str = "h" * 40,
        diffs: list[MRDiff] | None = None,
        author: str = "developer",
        source_branch: str = "feature",
        target_branch: str = "main",
        source_project_id: int | None = None,
        overflow: bool = False,
    ) -> FakeMergeRequest:
        """Create an open merge request with one diff version."""
        with self._lock:
            self.add_project(project_id, path_with_namespace, target_branch)
            mr = FakeMergeRequest(
                project_id=project_id,
                iid=iid,
                id=self._next_id(),
                title=title,
                description=description,
                author=author,
                source_branch=source_branch,
                target_branch=target_branch,
                source_project_id=source_project_id or project_id,
                overflow=overflow,
            )
            self._add_version(mr, base_sha, start_sha, head_sha, diffs or [])
            self._mrs[(project_id, iid)] = mr
            return mr

    def set_files(self, project_id: int, ref: str, files: dict[str, str]) -> None:
        """Serve ``files`` (path -> text) from /repository/files/:path/raw?ref=``ref``."""
        with self._lock:
            self._files.setdefault((project_id, ref), {}).update(files)

    def set_compare(self, project_id: int, from_sha: str, to_sha: str, diffs: list[MRDiff]) -> None:
        """Serve ``diffs`` from /repository/compare?from=``from_sha``&to=``to_sha``."""
        with self._lock:
            self._compares[(project_id, from_sha, to_sha)] = list(diffs)

    def push(
        self,
        project_id: int,
        iid: int,
        *,
        head_sha: str,
        diffs: list[MRDiff],
        base_sha: str | None = None,
        start_sha: str | None = None,
    ) -> None:
        """New MR version: diff_refs change, positions are traced or flagged outdated."""
        with self._lock:
            mr = self._mr_by_key(project_id, iid)
            previous = mr.current
            version = self._add_version(
                mr, base_sha or previous.base_sha, start_sha or previous.start_sha, head_sha, diffs
            )
            for discussion in mr.discussions:
                self._retrace(mr, discussion, version)
            body = f"added 1 commit\n\n<ul><li>{head_sha[:8]} - push</li></ul>"
            self._add_individual_note(mr, mr.author, body, system=True)

    def fail_next(
        self,
        method: str | None = None,
        path_regex: str = ".*",
        status: int = 500,
        headers: dict[str, str] | None = None,
        times: int = 1,
        body: Any = None,
    ) -> None:
        """Answer the next ``times`` matching requests with ``status`` before any handling.

        ``path_regex`` is searched in the raw request path (``/api/v4/...``, percent-encoded
        as sent, no query string).
        """
        with self._lock:
            self._faults.append(
                _Fault(
                    method.upper() if method else None,
                    re.compile(path_regex),
                    status,
                    dict(headers or {}),
                    times,
                    body if body is not None else {"message": _status_message(status)},
                )
            )

    def disable_diffs_endpoint(self, project_id: int, iid: int) -> None:
        """Make /diffs answer 404 like GitLab < 15.7 (clients must use /changes)."""
        with self._lock:
            self._mr_by_key(project_id, iid).diffs_enabled = False

    def add_reply(
        self, project_id: int, iid: int, discussion_id: str, body: str, username: str = "reviewer"
    ) -> JSONDict:
        """Add a human reply to a discussion; returns the note."""
        with self._lock:
            mr = self._mr_by_key(project_id, iid)
            discussion = self._discussion_by_id(mr, discussion_id)
            return dict(_copy(self._add_reply_note(mr, discussion, username, body)))

    def add_award(
        self, project_id: int, iid: int, note_id: int, name: str, username: str = "reviewer"
    ) -> JSONDict:
        """Award an emoji (``thumbsup`` / ``thumbsdown``) to a note; returns the award."""
        with self._lock:
            mr = self._mr_by_key(project_id, iid)
            self._note_by_id(mr, note_id)
            award = {
                "id": self._next_id(),
                "name": name,
                "user": self._user(username),
                "created_at": self._now(),
                "updated_at": self._now(),
                "awardable_id": note_id,
                "awardable_type": "Note",
            }
            mr.awards.setdefault(note_id, []).append(award)
            return dict(_copy(award))

    # ----------------------------------------------------------------- inspection helpers

    def discussions(
        self, project_id: int, iid: int, include_individual: bool = False
    ) -> list[JSONDict]:
        """Threads as the API returns them (diff notes carry notes[i]["position"]).

        Individual notes (summary notes, system notes) are left out unless asked for.
        """
        with self._lock:
            found = self._mr_by_key(project_id, iid).discussions
            keep = [d for d in found if include_individual or not d["individual_note"]]
            return list(_copy(keep))

    def notes(self, project_id: int, iid: int) -> list[JSONDict]:
        """Every note (summary, diff, reply, system), oldest first."""
        with self._lock:
            return list(_copy(self._mr_by_key(project_id, iid).all_notes()))

    def outdated_discussion_ids(self, project_id: int, iid: int) -> set[str]:
        """Ids of discussions whose position no longer maps onto the latest version."""
        with self._lock:
            return set(self._mr_by_key(project_id, iid).outdated)

    def merge_request(self, project_id: int, iid: int) -> FakeMergeRequest:
        """The live server-side state (mutate under care; prefer the helpers)."""
        with self._lock:
            return self._mr_by_key(project_id, iid)

    # ----------------------------------------------------------------- internals: state

    def _next_id(self) -> int:
        self._counter += 1
        return 1000 + self._counter

    def _now(self) -> str:
        self._counter += 1
        stamp = _EPOCH + timedelta(seconds=self._counter)
        return stamp.strftime("%Y-%m-%dT%H:%M:%S.000Z")

    def _user(self, username: str) -> JSONDict:
        user_id = self._user_ids.setdefault(username, len(self._user_ids) + 1)
        return {"id": user_id, "username": username, "name": username, "state": "active"}

    def _add_version(
        self, mr: FakeMergeRequest, base: str, start: str, head: str, diffs: list[MRDiff]
    ) -> MRVersion:
        version = MRVersion(self._next_id(), base, start, head, list(diffs), self._now())
        mr.versions.append(version)
        return version

    def _mr_by_key(self, project_id: int, iid: int) -> FakeMergeRequest:
        mr = self._mrs.get((project_id, iid))
        if mr is None:
            raise KeyError(f"no merge request !{iid} in project {project_id}")
        return mr

    def _discussion_by_id(self, mr: FakeMergeRequest, discussion_id: str) -> JSONDict:
        for discussion in mr.discussions:
            if discussion["id"] == discussion_id:
                return discussion
        raise _not_found()

    def _note_by_id(self, mr: FakeMergeRequest, note_id: int) -> tuple[JSONDict, JSONDict]:
        for discussion in mr.discussions:
            for note in discussion["notes"]:
                if note["id"] == note_id:
                    return discussion, note
        raise _not_found("Note Not Found")

    def _new_note(
        self,
        mr: FakeMergeRequest,
        username: str,
        body: str,
        note_type: str | None,
        position: JSONDict | None = None,
        system: bool = False,
    ) -> JSONDict:
        now = self._now()
        note: JSONDict = {
            "id": self._next_id(),
            "type": note_type,
            "body": body,
            "attachment": None,
            "author": self._user(username),
            "created_at": now,
            "updated_at": now,
            "system": system,
            "noteable_id": mr.id,
            "noteable_type": "MergeRequest",
            "noteable_iid": mr.iid,
            "project_id": mr.project_id,
            "resolvable": note_type in ("DiffNote", "DiscussionNote"),
            "confidential": False,
            "internal": False,
        }
        if note["resolvable"]:
            note.update(resolved=False, resolved_by=None, resolved_at=None)
        if position is not None:
            note["position"] = _copy(position)
        return note

    def _new_discussion(self, notes: list[JSONDict], individual: bool) -> JSONDict:
        digest = hashlib.sha1(f"discussion-{self._next_id()}".encode()).hexdigest()
        return {"id": digest, "individual_note": individual, "notes": notes}

    def _add_individual_note(
        self, mr: FakeMergeRequest, username: str, body: str, system: bool = False
    ) -> JSONDict:
        note = self._new_note(mr, username, body, None, system=system)
        mr.discussions.append(self._new_discussion([note], individual=True))
        return note

    def _add_reply_note(
        self, mr: FakeMergeRequest, discussion: JSONDict, username: str, body: str
    ) -> JSONDict:
        first = discussion["notes"][0]
        note_type = "DiffNote" if first.get("type") == "DiffNote" else "DiscussionNote"
        note = self._new_note(mr, username, body, note_type, first.get("position"))
        discussion["individual_note"] = False
        discussion["notes"].append(note)
        return note

    def _retrace(self, mr: FakeMergeRequest, discussion: JSONDict, target: MRVersion) -> None:
        position = discussion["notes"][0].get("position")
        if position is None or discussion["id"] in mr.outdated:
            return
        source = mr.version_for(position["base_sha"], position["start_sha"], position["head_sha"])
        traced = None if source is None else trace_position(position, source, target)
        if traced is None:
            mr.outdated.add(discussion["id"])
            return
        for note in discussion["notes"]:
            if "position" in note:
                note["position"] = _copy(traced)

    # ----------------------------------------------------------------- internals: HTTP

    def _opened(self, connection: socket.socket) -> int:
        with self._lock:
            self._connections += 1
            self._open.add(connection)
            return self._connections

    def _closed(self, connection: socket.socket) -> None:
        with self._lock:
            self._open.discard(connection)

    def _respond(self, incoming: _Incoming) -> tuple[int, dict[str, str], bytes]:
        with self._lock:
            try:
                response = self._dispatch(incoming)
            except _ApiError as err:
                response = _Response(err.status, err.payload)
            except Exception as err:
                self.server_errors.append(repr(err))
                response = _Response(500, {"message": f"500 Internal Server Error ({err!r})"})
            if self.requests:
                self.requests[-1].status = response.status
            return self._encode(response)

    def _encode(self, response: _Response) -> tuple[int, dict[str, str], bytes]:
        headers = {
            "RateLimit-Limit": str(RATE_LIMIT),
            "RateLimit-Remaining": str(max(0, RATE_LIMIT - len(self.requests))),
            "RateLimit-Observed": str(min(RATE_LIMIT, len(self.requests))),
        }
        if response.body is None:
            payload = b""
        elif isinstance(response.body, str):
            payload = response.body.encode()
            headers["Content-Type"] = "text/plain; charset=utf-8"
        else:
            payload = json.dumps(response.body).encode()
            headers["Content-Type"] = "application/json"
        headers["Content-Length"] = str(len(payload))
        headers.update(response.headers)
        return response.status, headers, payload

    def _token_kind(self, headers: dict[str, str]) -> tuple[TokenKind, str | None]:
        token = headers.get("private-token")
        bearer = headers.get("authorization", "")
        if token is None and bearer.lower().startswith("bearer "):
            token = bearer[len("bearer ") :].strip()
        if token is not None:
            username = self._tokens.get(token)
            return ("write", username) if username else ("invalid", None)
        job = headers.get("job-token")
        if job is not None:
            return ("job", None) if job in self._job_tokens else ("invalid", None)
        return "none", None

    def _dispatch(self, incoming: _Incoming) -> _Response:
        split = urlsplit(incoming.target)
        query_pairs = parse_qsl(split.query, keep_blank_values=True)
        token_kind, username = self._token_kind(incoming.headers)
        record = RecordedRequest(
            incoming.method,
            split.path,
            dict(query_pairs),
            None,
            token_kind in ("write", "job"),
            token_kind=token_kind,
            connection=incoming.connection,
        )
        self.requests.append(record)
        body = _parse_body(incoming.headers, incoming.body)
        record.json_or_form = body
        fault = self._take_fault(incoming.method, split.path)
        if fault is not None:
            return _Response(fault.status, fault.body, dict(fault.headers))
        if body is not None and not isinstance(body, dict):
            raise _ApiError(400, {"error": "The request body must be an object"})
        host = incoming.headers.get("host")
        req = _Request(
            method=incoming.method,
            path=split.path,
            query=dict(query_pairs),
            params={**nest_form(query_pairs), **(body or {})},
            token_kind=token_kind,
            username=username,
            base_url=f"http://{host}" if host else self.url,
        )
        return self._route(req)

    def _take_fault(self, method: str, path: str) -> _Fault | None:
        for fault in self._faults:
            if fault.method not in (None, method) or not fault.path_regex.search(path):
                continue
            fault.times -= 1
            if fault.times <= 0:
                self._faults.remove(fault)
            return fault
        return None

    def _route(self, req: _Request) -> _Response:
        path_matched = False
        for route in self._routes:
            match = route.pattern.fullmatch(req.path)
            if match is None:
                continue
            path_matched = True
            if route.method != req.method:
                continue
            req.match = {k: v for k, v in match.groupdict().items() if v is not None}
            self._authorize(route.access, req)
            return route.handler(req)
        if path_matched:
            raise _ApiError(405, {"message": "405 Method Not Allowed"})
        raise _not_found("Not Found")

    @staticmethod
    def _authorize(access: Access, req: _Request) -> None:
        if req.token_kind in ("none", "invalid"):
            raise _ApiError(401, {"message": "401 Unauthorized"})
        if access == "user" and req.token_kind != "write":
            raise _ApiError(401, {"message": "401 Unauthorized"})
        if access == "write" and req.token_kind != "write":
            raise _ApiError(403, {"message": "403 Forbidden"})

    def _build_routes(self) -> list[_Route]:
        table: list[tuple[str, str, Access, Callable[[_Request], _Response]]] = [
            ("GET", r"/api/v4/user", "user", self._get_user),
            ("GET", _PROJECT, "read", self._get_project),
            ("GET", _PROJECT + r"/repository/files/(?P<file>[^/]+)/raw", "read", self._raw),
            ("GET", _PROJECT + r"/repository/compare", "read", self._compare),
            ("GET", _MR, "read", self._get_mr),
            ("GET", _MR + r"/diffs", "read", self._get_diffs),
            ("GET", _MR + r"/changes", "read", self._get_changes),
            ("GET", _MR + r"/versions", "read", self._get_versions),
            ("GET", _MR + r"/versions/(?P<version>\d+)", "read", self._get_version),
            ("GET", _MR + r"/discussions", "read", self._list_discussions),
            ("POST", _MR + r"/discussions", "write", self._post_discussion),
            ("GET", _DISCUSSION, "read", self._get_discussion),
            ("PUT", _DISCUSSION, "write", self._put_discussion),
            ("POST", _DISCUSSION + r"/notes", "write", self._post_reply),
            ("GET", _MR + r"/notes", "read", self._list_notes),
            ("POST", _MR + r"/notes", "write", self._post_note),
            ("GET", _NOTE, "read", self._get_note),
            ("PUT", _NOTE, "write", self._put_note),
            ("DELETE", _NOTE, "write", self._delete_note),
            ("GET", _NOTE + r"/award_emoji", "read", self._list_awards),
        ]
        return [_Route(m, re.compile(p), a, h) for m, p, a, h in table]

    # ----------------------------------------------------------------- resolvers

    def _project(self, req: _Request) -> _Project:
        ident = unquote(req.match["project"])
        for project in self._projects.values():
            if ident in (str(project.id), project.path_with_namespace):
                return project
        raise _not_found("Project Not Found")

    def _mr(self, req: _Request) -> FakeMergeRequest:
        project = self._project(req)
        mr = self._mrs.get((project.id, int(req.match["iid"])))
        if mr is None:
            raise _not_found()
        return mr

    def _mr_json(self, mr: FakeMergeRequest, base_url: str) -> JSONDict:
        version = mr.current
        path = self._projects[mr.project_id].path_with_namespace
        return {
            "id": mr.id,
            "iid": mr.iid,
            "project_id": mr.project_id,
            "title": mr.title,
            "description": mr.description,
            "state": "opened",
            "draft": False,
            "work_in_progress": False,
            "sha": version.head_sha,
            "diff_refs": {
                "base_sha": version.base_sha,
                "start_sha": version.start_sha,
                "head_sha": version.head_sha,
            },
            "source_branch": mr.source_branch,
            "target_branch": mr.target_branch,
            "source_project_id": mr.source_project_id,
            "target_project_id": mr.project_id,
            "web_url": f"{base_url}/{path}/-/merge_requests/{mr.iid}",
            "author": self._user(mr.author),
            "labels": [],
            "changes_count": str(len(version.diffs)),
        }

    # ----------------------------------------------------------------- handlers: reading

    def _get_user(self, req: _Request) -> _Response:
        username = req.username or self.bot_username
        user = self._user(username)
        return _Response(200, {**user, "web_url": f"{req.base_url}/{username}", "bot": True})

    def _get_project(self, req: _Request) -> _Response:
        project = self._project(req)
        return _Response(
            200,
            {
                "id": project.id,
                "path_with_namespace": project.path_with_namespace,
                "name": project.path_with_namespace.rsplit("/", 1)[-1],
                "web_url": f"{req.base_url}/{project.path_with_namespace}",
                "default_branch": project.default_branch,
            },
        )

    def _raw(self, req: _Request) -> _Response:
        project = self._project(req)
        ref = req.query.get("ref") or project.default_branch
        text = self._files.get((project.id, ref), {}).get(unquote(req.match["file"]))
        if text is None:
            raise _not_found("File Not Found")
        return _Response(200, text)

    def _compare(self, req: _Request) -> _Response:
        project = self._project(req)
        source, target = req.query.get("from", ""), req.query.get("to", "")
        diffs = self._compares.get((project.id, source, target))
        if diffs is None:
            raise _not_found("Commit Not Found")
        return _Response(
            200,
            {
                "commit": None,
                "commits": [],
                "diffs": [d.to_api() for d in diffs],
                "compare_timeout": False,
                "compare_same_ref": source == target,
                "web_url": f"{req.base_url}/{project.path_with_namespace}/-/compare",
            },
        )

    def _get_mr(self, req: _Request) -> _Response:
        return _Response(200, self._mr_json(self._mr(req), req.base_url))

    def _get_diffs(self, req: _Request) -> _Response:
        mr = self._mr(req)
        if not mr.diffs_enabled:
            raise _not_found("Not Found")
        return _paginate(req, [d.to_api() for d in mr.current.diffs])

    def _get_changes(self, req: _Request) -> _Response:
        mr = self._mr(req)
        changes = [d.to_api() for d in mr.current.diffs]
        return _Response(
            200, {**self._mr_json(mr, req.base_url), "changes": changes, "overflow": mr.overflow}
        )

    def _version_json(self, mr: FakeMergeRequest, version: MRVersion) -> JSONDict:
        return {
            "id": version.id,
            "head_commit_sha": version.head_sha,
            "base_commit_sha": version.base_sha,
            "start_commit_sha": version.start_sha,
            "created_at": version.created_at,
            "merge_request_id": mr.id,
            "state": "collected",
            "real_size": str(len(version.diffs)),
        }

    def _get_versions(self, req: _Request) -> _Response:
        mr = self._mr(req)
        return _paginate(req, [self._version_json(mr, v) for v in reversed(mr.versions)])

    def _get_version(self, req: _Request) -> _Response:
        mr = self._mr(req)
        for version in mr.versions:
            if version.id == int(req.match["version"]):
                diffs = [d.to_api() for d in version.diffs]
                return _Response(
                    200, {**self._version_json(mr, version), "commits": [], "diffs": diffs}
                )
        raise _not_found()

    def _list_discussions(self, req: _Request) -> _Response:
        return _paginate(req, self._mr(req).discussions)

    def _get_discussion(self, req: _Request) -> _Response:
        return _Response(200, self._discussion_by_id(self._mr(req), req.match["discussion"]))

    def _list_notes(self, req: _Request) -> _Response:
        notes = self._mr(req).all_notes()
        order_by = req.query.get("order_by", "created_at")
        if order_by not in ("created_at", "updated_at"):
            raise _ApiError(400, {"error": "order_by does not have a valid value"})
        notes.sort(key=lambda note: (note[order_by], note["id"]))
        if req.query.get("sort", "desc") == "desc":
            notes.reverse()
        return _paginate(req, notes)

    def _get_note(self, req: _Request) -> _Response:
        return _Response(200, self._note_by_id(self._mr(req), int(req.match["note"]))[1])

    def _list_awards(self, req: _Request) -> _Response:
        mr = self._mr(req)
        note_id = int(req.match["note"])
        self._note_by_id(mr, note_id)
        return _paginate(req, mr.awards.get(note_id, []))

    # ----------------------------------------------------------------- handlers: writing

    def _post_discussion(self, req: _Request) -> _Response:
        mr = self._mr(req)
        body = _note_body(req.params)
        username = req.username or self.bot_username
        raw_position = req.params.get("position")
        if raw_position is None:
            note = self._new_note(mr, username, body, "DiscussionNote")
            discussion = self._new_discussion([note], individual=False)
            mr.discussions.append(discussion)
            return _Response(201, discussion)
        position, version = validate_position(mr, raw_position)
        note = self._new_note(mr, username, body, "DiffNote", position)
        discussion = self._new_discussion([note], individual=False)
        mr.discussions.append(discussion)
        if version is not mr.current:
            self._retrace(mr, discussion, mr.current)
        return _Response(201, discussion)

    def _put_discussion(self, req: _Request) -> _Response:
        mr = self._mr(req)
        discussion = self._discussion_by_id(mr, req.match["discussion"])
        resolved = _as_bool(req.params.get("resolved"), "resolved")
        resolver = self._user(req.username or self.bot_username) if resolved else None
        for note in discussion["notes"]:
            if note.get("resolvable"):
                note.update(
                    resolved=resolved,
                    resolved_by=resolver,
                    resolved_at=self._now() if resolved else None,
                )
        return _Response(200, discussion)

    def _post_reply(self, req: _Request) -> _Response:
        mr = self._mr(req)
        discussion = self._discussion_by_id(mr, req.match["discussion"])
        body = _note_body(req.params)
        username = req.username or self.bot_username
        return _Response(201, self._add_reply_note(mr, discussion, username, body))

    def _post_note(self, req: _Request) -> _Response:
        mr = self._mr(req)
        body = _note_body(req.params)
        note = self._add_individual_note(mr, req.username or self.bot_username, body)
        return _Response(201, note)

    def _own_note(self, req: _Request) -> tuple[FakeMergeRequest, JSONDict, JSONDict]:
        mr = self._mr(req)
        discussion, note = self._note_by_id(mr, int(req.match["note"]))
        if note["system"] or note["author"]["username"] != req.username:
            raise _ApiError(403, {"message": "403 Forbidden"})
        return mr, discussion, note

    def _put_note(self, req: _Request) -> _Response:
        _, _, note = self._own_note(req)
        note["body"] = _note_body(req.params)
        note["updated_at"] = self._now()
        return _Response(200, note)

    def _delete_note(self, req: _Request) -> _Response:
        mr, discussion, note = self._own_note(req)
        discussion["notes"].remove(note)
        if not discussion["notes"]:
            mr.discussions.remove(discussion)
        return _Response(204)
