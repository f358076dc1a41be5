"""The GitLab REST API through python-gitlab: the only module that imports it.

Every call goes through `_translated`, which turns python-gitlab's and requests' exceptions
into ours once, with the status and GitLab's message only: never a token, never a traceback.
Rate limits (429, honouring Retry-After) and transient errors (5xx, timeouts) are retried by
python-gitlab itself.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, cast

import gitlab
import requests
from gitlab.exceptions import (
    GitlabAuthenticationError,
    GitlabError,
    GitlabGetError,
    GitlabHttpError,
)

from reviewer import __version__
from reviewer.context import decode_file
from reviewer.errors import PlatformError, ReviewError, UsageError
from reviewer.platforms.common import read_until_found
from reviewer.platforms.gitlab.env import GitLabTarget
from reviewer.platforms.gitlab.position import DiffRefs

MAX_RETRIES = 6  # python-gitlab waits 0.1 s * 2**n between transient retries: ~6 s in all
TIMEOUT_S = 60.0
PER_PAGE = 100
_RETRY: dict[str, Any] = {"max_retries": MAX_RETRIES}


class PositionRefused(PlatformError):
    """GitLab answered 400 to a diff discussion: it does not accept the position."""


@dataclass(frozen=True)
class MergeRequest:
    project_path: str
    title: str
    description: str
    refs: DiffRefs  # the diff version reviewed: its head_sha is the reviewed commit
    web_url: str


@dataclass(frozen=True)
class Note:
    id: int
    body: str
    author: str
    system: bool
    discussion_id: str = ""
    resolved: bool = False  # its thread is resolved (set on every note of a resolved thread)
    position_head: str | None = None  # a diff note: the head_sha of the diff version it is on
    position_path: str = ""  # a diff note: the file it is on (new path)


@dataclass(frozen=True)
class Award:
    name: str  # the emoji's name: "thumbsup", "thumbsdown", ...
    author: str


def connect(target: GitLabTarget) -> GitLabAPI:
    """The API over one HTTP session, for the whole run: close() it when done. Nothing is
    sent until the first call."""
    client = gitlab.Gitlab(
        target.server_url,
        private_token=target.token,
        timeout=TIMEOUT_S,
        retry_transient_errors=True,
        user_agent=f"ai-review/{__version__}",
    )
    return GitLabAPI(client, target)


class GitLabAPI:
    """The calls a review makes on one merge request, returning our own values."""

    def __init__(self, client: gitlab.Gitlab, target: GitLabTarget) -> None:
        self._client = client
        self._target = target
        project = client.projects.get(target.project, lazy=True)
        self._project = project
        self._mr = project.mergerequests.get(target.mr_iid, lazy=True)
        self._mr_path = f"/projects/{project.encoded_id}/merge_requests/{target.mr_iid}"
        self._merge_request: MergeRequest | None = None  # read once: the config needs it too

    @property
    def target(self) -> GitLabTarget:
        return self._target

    def close(self) -> None:
        """Close the HTTP session. Closing twice is fine."""
        self._client.session.close()

    def merge_request(self) -> MergeRequest:
        if self._merge_request is None:
            self._merge_request = self._read_merge_request()
        return self._merge_request

    def _read_merge_request(self) -> MergeRequest:
        with self._translated("reading the merge request", missing=UsageError):
            project = self._client.projects.get(self._target.project, **_RETRY)
            mr = project.mergerequests.get(self._target.mr_iid, **_RETRY)
        refs = mr.attributes.get("diff_refs") or {}
        if not (refs.get("base_sha") and refs.get("head_sha")):
            raise PlatformError(
                f"merge request !{self._target.mr_iid} has no diff yet (GitLab is still "
                "preparing it): run the job again in a minute"
            )
        return MergeRequest(
            project_path=str(project.path_with_namespace),
            title=str(mr.title or ""),
            description=str(mr.description or ""),
            refs=DiffRefs(
                refs["base_sha"], refs.get("start_sha") or refs["base_sha"], refs["head_sha"]
            ),
            web_url=str(mr.web_url),
        )

    def diffs(self) -> tuple[list[dict[str, Any]], bool]:
        """The merge request's file diffs, and whether GitLab left some out (overflow).
        /diffs is paginated (GitLab 15.7+); older servers answer 404 and have /changes."""
        with self._translated("reading the merge request diffs"):
            try:
                pages = self._client.http_list(
                    f"{self._mr_path}/diffs", iterator=True, per_page=PER_PAGE, **_RETRY
                )
                return list(pages), False
            except GitlabHttpError as exc:
                if exc.response_code != 404:
                    raise
            changes = cast(dict[str, Any], self._mr.changes(**_RETRY))
        return list(changes.get("changes") or []), bool(changes.get("overflow"))

    def compare(self, old: str, new: str) -> list[dict[str, Any]] | None:
        """The file diffs between two commits; None when GitLab cannot give them whole
        (a commit gone after a force push, a timeout): the caller then reviews everything."""
        with self._translated("comparing commits"):
            try:
                found = self._project.repository_compare(old, new, **_RETRY)
            except GitlabGetError:
                return None
        result = cast(dict[str, Any], found)
        return None if result.get("compare_timeout") else list(result.get("diffs") or [])

    def username(self) -> str:
        """Who the token acts as: only that user's notes are the tool's own."""
        with self._translated("reading the token's user"):
            user = cast(dict[str, Any], self._client.http_get("/user", **_RETRY))
        return str(user["username"])

    def notes(self) -> list[Note]:
        """Every note of every discussion, oldest first (summary notes included)."""
        with self._translated("reading the merge request discussions"):
            found = self._mr.discussions.list(iterator=True, per_page=PER_PAGE, **_RETRY)
            return [
                _note(note, str(item.id)) for item in found for note in item.attributes["notes"]
            ]

    def awards(self, note_id: int) -> list[Award]:
        """The emoji awarded to a note of the merge request; none when the note is gone."""
        with self._translated("reading a note's award emoji"):
            note = self._mr.notes.get(note_id, lazy=True)
            try:
                found = note.awardemojis.list(iterator=True, per_page=PER_PAGE, **_RETRY)
                return [_award(award.attributes) for award in found]
            except GitlabError as exc:
                if exc.response_code == 404:
                    return []
                raise

    def read_file(self, path: str, ref: str) -> str | None:
        """A file's text at `ref`; None when it is missing there, binary or too big."""
        with self._translated(f"reading {path}"):
            try:
                data = self._project.files.raw(file_path=path, ref=ref, **_RETRY)
            except GitlabGetError as exc:
                if exc.response_code == 404:
                    return None
                raise
        return decode_file(bytes(data))

    def create_discussion(self, body: str, position: dict[str, Any]) -> None:
        with self._translated("posting a diff discussion", refused=PositionRefused):
            self._mr.discussions.create({"body": body, "position": position}, **_RETRY)

    def create_note(self, body: str) -> int:
        with self._translated("posting the summary note"):
            note = self._mr.notes.create({"body": body}, **_RETRY)
        return int(note.id)

    def resolve_discussion(self, discussion_id: str) -> None:
        with self._translated("resolving a discussion"):
            self._mr.discussions.update(discussion_id, {"resolved": True}, **_RETRY)

    def update_note(self, note_id: int, body: str) -> None:
        with self._translated("editing the summary note"):
            self._mr.notes.update(note_id, {"body": body}, **_RETRY)

    @contextmanager
    def _translated(
        self,
        action: str,
        *,
        refused: type[ReviewError] = PlatformError,
        missing: type[ReviewError] = PlatformError,
    ) -> Iterator[None]:
        """Library errors become ours: 400 `refused`, 404 `missing`, 401/403 the token's fault."""
        try:
            yield
        except GitlabAuthenticationError as exc:
            raise UsageError(
                f"GitLab rejected the token ({_status(exc)}) while {action}: "
                f"check {self._target.token_variable}"
            ) from exc
        except GitlabError as exc:
            raise self._error(exc, action, {400: refused, 404: missing}) from exc
        except requests.RequestException as exc:
            raise PlatformError(
                f"cannot reach GitLab at {self._target.server_url} while {action}: "
                f"{type(exc).__name__}"
            ) from exc

    def _error(
        self, exc: GitlabError, action: str, kinds: dict[int, type[ReviewError]]
    ) -> ReviewError:
        where = f"{self._target.project}!{self._target.mr_iid}"
        if exc.response_code == 403:
            return UsageError(
                f"GitLab refused {action} on {where} ({_status(exc)}): the token in "
                f"{self._target.token_variable} needs the api scope and the Reporter role or more"
            )
        if exc.response_code == 404 and kinds[404] is UsageError:
            return UsageError(
                f"GitLab does not find {where} ({_status(exc)}): check the project, the merge "
                f"request IID and that the token in {self._target.token_variable} can see them"
            )
        if exc.response_code == 400:
            return kinds[400](f"GitLab refused {action} ({_status(exc)})")
        return PlatformError(f"GitLab failed {action} on {where} ({_status(exc)})")


def _status(exc: GitlabError) -> str:
    message = exc.error_message
    text = message.decode("utf-8", "replace") if isinstance(message, bytes) else str(message)
    text = " ".join(text.split())[:300]
    code = str(exc.response_code or "")
    return text if text.startswith(code) else f"{code} {text}".strip()


def _note(raw: dict[str, Any], discussion_id: str) -> Note:
    author = raw.get("author") or {}
    position = raw.get("position") or {}
    return Note(
        id=int(raw["id"]),
        body=str(raw.get("body") or ""),
        author=str(author.get("username") or ""),
        system=bool(raw.get("system")),
        discussion_id=discussion_id,
        resolved=bool(raw.get("resolved")),
        position_head=str(position["head_sha"]) if position.get("head_sha") else None,
        position_path=str(position.get("new_path") or position.get("old_path") or ""),
    )


def _award(raw: dict[str, Any]) -> Award:
    user = raw.get("user") or {}
    return Award(name=str(raw.get("name") or ""), author=str(user.get("username") or ""))


def read_at_base(
    api: GitLabAPI, paths: Sequence[str], base: str | None = None
) -> tuple[str, dict[str, str | None]]:
    """The merge request's base commit (`base` when the job names it) and these files' text
    there (None: absent), read until one exists: the repository's trusted config, as the
    target branch had it before the change."""
    base = base or api.merge_request().refs.base_sha
    return base, read_until_found(api.read_file, paths, base)
