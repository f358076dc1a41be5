"""The GitHub REST API through PyGithub: the only module that imports it.

Every call goes through `_translated`, which turns PyGithub's and requests' exceptions into
ours once, with the status and GitHub's message only: never a token, never a traceback.
PyGithub's GithubRetry retries 5xx answers and rate-limited 403/429 answers, honouring
Retry-After (a secondary limit without it waits a minute); the client's own throttling sleeps
are off, since a review makes a handful of writes. Objects are lazy: a request is made only
when data is read, so listing, posting and editing cost one request each.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any, cast

import requests
from github import Auth, Github, GithubException, GithubRetry, UnknownObjectException
from github.Commit import Commit
from github.File import File
from github.GithubObject import GithubObject
from github.NamedUser import NamedUser
from github.Organization import Organization
from github.PullRequest import PullRequest, ReviewComment
from github.PullRequestComment import PullRequestComment

from reviewer import __version__
from reviewer.context import decode_file
from reviewer.errors import PlatformError, ReviewError, UsageError
from reviewer.platforms.common import read_until_found
from reviewer.platforms.github.env import GitHubTarget
from reviewer.platforms.github.graphql import (
    RESOLVE_MUTATION,
    THREADS_QUERY,
    ReviewThread,
    forbidden,
    parse_threads,
    viewer_login,
)
from reviewer.platforms.github.post import ReviewRefused

PER_PAGE = 100
TIMEOUT_S = 30
RETRIES = 5  # on 5xx: waits 0, 2, 4, 8 s; on rate limits: Retry-After, else a minute
# PyGithub, on import, logs every retried request at INFO through a stderr handler of its
# own: let its records take the standard route, warnings and errors only.
_LOGGER = logging.getLogger("github")
for _handler in [h for h in _LOGGER.handlers if type(h) is logging.StreamHandler]:
    _LOGGER.removeHandler(_handler)
_LOGGER.setLevel(logging.WARNING)
# 422 answers about the review as a whole: posting fewer comments cannot help.
_WHOLE_REVIEW_ERRORS = ("pending review", "commitoid", "commit_id", "not part of the pull")


class ReadOnlyToken(PlatformError):
    """GitHub refused a write with 403: the token may read but not write (a fork's pull
    request gets a read-only GITHUB_TOKEN)."""


@dataclass(frozen=True)
class PullInfo:
    head_sha: str
    base_sha: str
    title: str
    body: str
    changed_files: int


@dataclass(frozen=True)
class ChangedFile:
    """One file of the files or compare API; `patch` is None when GitHub sends none."""

    path: str
    status: str
    patch: str | None
    previous_path: str | None
    changes: int


@dataclass(frozen=True)
class Comment:
    """An issue comment or a review comment, as far as the review needs it."""

    id: int
    body: str
    author: str
    bot: bool  # written by an app (github-actions[bot], ...), not a person
    url: str = ""
    # Review comments only: the comment a reply answers, whether a later commit changed the
    # lines it was on (GitHub then sets `line` to null), and the kinds of reaction it has
    # (`+1`, `-1`, ...; None when the list did not say).
    reply_to: int | None = None
    outdated: bool = False
    reactions: frozenset[str] | None = None


class GitHubAPI:
    """The calls a review makes on one pull request, returning our own values."""

    def __init__(self, target: GitHubTarget) -> None:
        self._target = target
        self._client = Github(
            auth=Auth.Token(target.token),
            base_url=target.api_url,
            timeout=TIMEOUT_S,
            user_agent=f"ai-review/{__version__}",
            per_page=PER_PAGE,
            retry=GithubRetry(total=RETRIES, backoff_factor=1.0),
            seconds_between_requests=None,
            seconds_between_writes=None,
            lazy=True,
        )
        self._repo = self._client.get_repo(target.repo)
        self._pull: PullRequest = self._repo.get_pull(target.number)
        self._login: str | None = None

    @property
    def target(self) -> GitHubTarget:
        return self._target

    def close(self) -> None:
        """Close the HTTP session (PyGithub keeps it open otherwise). Closing twice is fine."""
        self._client.close()

    def pull(self) -> PullInfo:
        with self._translated("reading the pull request", missing=UsageError):
            pr = self._pull
            return PullInfo(
                pr.head.sha, pr.base.sha, pr.title or "", pr.body or "", pr.changed_files
            )

    def files(self) -> list[ChangedFile]:
        """The pull request's files, every page (GitHub lists at most 3,000)."""
        with self._translated("listing the pull request's files"):
            return [_changed(file) for file in self._pull.get_files()]

    def compare(self, base: str, head: str) -> list[ChangedFile] | None:
        """The files changed from `base` to `head`; None when GitHub cannot compare them
        (a commit gone after a force-push): the caller then reviews everything."""
        with self._translated("comparing commits"):
            try:
                return [_changed(file) for file in self._repo.compare(base, head).files]
            except GithubException as exc:
                if exc.status in (404, 422):
                    return None
                raise

    def issue_comments(self) -> list[Comment]:
        with self._translated("reading the pull request's comments"):
            return [
                _comment(c.id, c.body, c.user, c.html_url) for c in self._pull.get_issue_comments()
            ]

    def review_comments(self) -> list[Comment]:
        with self._translated("reading the pull request's review comments"):
            return [_review_comment(c) for c in self._pull.get_review_comments()]

    def reactions(self, comment_id: int) -> frozenset[str]:
        """The kinds of reaction on a review comment, from its first 100 (one request)."""
        with self._translated("reading a review comment's reactions"):
            listed = self._pull.get_review_comment(comment_id).get_reactions().get_page(0)
            return frozenset(reaction.content for reaction in listed)

    def login(self) -> str | None:
        """Who the token writes as. `GET /user` answers for a person's token; an app's token
        (an App installation token, the Actions GITHUB_TOKEN) gets 403 there, and GraphQL's
        `viewer` names its bot (`NAME[bot]`). None when neither says."""
        if self._login is None:
            with self._translated("reading the token's user"):
                try:
                    self._login = self._client.get_user().login
                except GithubException as exc:
                    if exc.status not in (403, 404):
                        raise
                    self._login = self._viewer()
        return self._login or None

    def _viewer(self) -> str:
        try:
            _, data = self._client.requester.graphql_query("query { viewer { login } }", {})
        except GithubException:
            return ""  # no GraphQL for this token or server: the caller falls back
        return viewer_login(data)

    def review_threads(self) -> list[ReviewThread]:
        """The newest MAX_THREADS review threads of the pull request, with their comments."""
        owner, name = self._target.repo.split("/", 1)
        variables = {"owner": owner, "name": name, "number": self._target.number}
        with self._translated("reading the review threads"):
            _, data = self._client.requester.graphql_query(THREADS_QUERY, variables)
        return parse_threads(data)

    def resolve_thread(self, thread_id: str) -> bool:
        """Resolve a review thread; False when GitHub forbids it for this token (an app's
        token needs `contents: write`, not only `pull-requests: write`)."""
        with self._translated("resolving a review thread", write=True):
            try:
                self._client.requester.graphql_query(RESOLVE_MUTATION, {"id": thread_id})
            except GithubException as exc:
                if exc.status == 400 and forbidden(exc.data):
                    return False
                raise
        return True

    def reply(self, comment_id: int, body: str) -> None:
        with self._translated("replying in a review thread", write=True):
            self._pull.create_review_comment_reply(comment_id, body)

    def read_file(self, path: str, ref: str) -> str | None:
        """A file's text at `ref`; None when it is missing, not a file, binary or too big."""
        with self._translated(f"reading {path}"):
            try:
                found = self._repo.get_contents(path, ref=ref)
            except UnknownObjectException:
                return None
            if isinstance(found, list) or found.type != "file" or found.encoding != "base64":
                return None
            data = found.decoded_content
        return decode_file(data)

    def create_review(
        self, head_sha: str, body: str, comments: Sequence[Mapping[str, str | int]]
    ) -> None:
        """One review, always `event: COMMENT` (a review without an event stays PENDING)."""
        with self._translated("posting the review", write=True):
            self._pull.create_review(
                commit=self._commit(head_sha),
                body=body,
                event="COMMENT",
                comments=[cast(ReviewComment, dict(comment)) for comment in comments],
            )

    def create_comment(self, body: str) -> str:
        with self._translated("posting the summary comment", write=True):
            return self._pull.create_issue_comment(body).html_url

    def edit_comment(self, comment_id: int, body: str) -> str:
        with self._translated("editing the summary comment", write=True):
            comment = self._pull.get_issue_comment(comment_id)
            comment.edit(body)
            return comment.html_url

    def _commit(self, sha: str) -> Commit:
        return self._repo.get_commit(sha)  # lazy: only its sha is used

    @contextmanager
    def _translated(
        self, action: str, *, write: bool = False, missing: type[ReviewError] = PlatformError
    ) -> Iterator[None]:
        try:
            yield
        except GithubException as exc:
            raise self._error(exc, action, write=write, missing=missing) from exc
        except requests.exceptions.RetryError as exc:
            raise PlatformError(
                f"GitHub kept failing while {action}, even after {RETRIES} retries "
                "(server errors or rate limits): try again later"
            ) from exc
        except requests.RequestException as exc:
            raise PlatformError(
                f"cannot reach GitHub at {self._target.api_url} while {action}: "
                f"{type(exc).__name__}"
            ) from exc

    def _error(
        self, exc: GithubException, action: str, *, write: bool, missing: type[ReviewError]
    ) -> ReviewError:
        where = f"{self._target.repo}#{self._target.number}"
        status = _status(exc)
        if exc.status in (401, 403, 429):
            return _refused(exc, status, f"{action} on {where}", write=write)
        if exc.status == 404 and missing is UsageError:
            return UsageError(
                f"GitHub does not find {where} ({status}): check the repository, the pull "
                "request number and that the token can see them"
            )
        if exc.status == 422 and write:
            per_comment = not any(s in status.lower() for s in _WHOLE_REVIEW_ERRORS)
            return ReviewRefused(status, per_comment=per_comment)
        return PlatformError(f"GitHub failed {action} on {where} ({status})")


def _refused(exc: GithubException, status: str, action: str, *, write: bool) -> ReviewError:
    """401: the token itself, as GitLab's; 403: what the token may do (a read needs these
    permissions; a write refused is a read-only token, as a fork's); or a rate limit that
    outlasted the retries (429, or a 403 that says so)."""
    if exc.status == 401:
        return UsageError(
            f"GitHub refused the token ({status}) while {action}: check GITHUB_TOKEN "
            "(a token that is unset, expired or revoked answers 401)"
        )
    if exc.status == 429 or _rate_limited(exc, status):
        return PlatformError(f"GitHub's rate limit stopped {action} ({status})")
    if write:
        return ReadOnlyToken(f"GitHub refused {action} ({status})")
    return UsageError(
        f"GitHub refused {action} ({status}): the token needs contents: read and "
        "pull-requests: write"
    )


def _rate_limited(exc: GithubException, status: str) -> bool:
    """A 403 from a rate limit (that outlasted the retries), not from the token's rights."""
    headers = {key.lower(): value for key, value in (exc.headers or {}).items()}
    out_of_quota = headers.get("x-ratelimit-remaining") == "0"
    return "retry-after" in headers or out_of_quota or "rate limit" in status.lower()


def _status(exc: GithubException) -> str:
    """`422 Unprocessable Entity: why`: the status and GitHub's own words, on one line."""
    data: Any = exc.data
    message = str(data.get("message") or "") if isinstance(data, dict) else str(data or "")
    errors = data.get("errors") if isinstance(data, dict) else None
    details = [
        str(e.get("message") or e.get("code") or "") if isinstance(e, dict) else str(e)
        for e in (errors if isinstance(errors, list) else [])
    ]
    text = ": ".join(part for part in (message, "; ".join(d for d in details if d)) if part)
    return f"{exc.status} {' '.join(text.split())[:300]}".strip()


def _changed(file: File) -> ChangedFile:
    return ChangedFile(
        path=file.filename,
        status=file.status,
        patch=file.patch or None,
        previous_path=file.previous_filename or None,
        changes=file.changes or 0,
    )


def _comment(
    ident: int, body: str | None, user: NamedUser | Organization | None, url: str = ""
) -> Comment:
    login = user.login if user is not None else ""
    bot = user is not None and user.type == "Bot"
    return Comment(ident, body or "", login, bot, url)


def _review_comment(comment: PullRequestComment) -> Comment:
    data = _as_listed(comment)
    rollup = data.get("reactions")
    reply_to = data.get("in_reply_to_id")
    return replace(
        _comment(comment.id, comment.body, comment.user),
        reply_to=reply_to if isinstance(reply_to, int) else None,
        outdated="line" in data and data["line"] is None,
        reactions=_reaction_kinds(rollup) if isinstance(rollup, dict) else None,
    )


def _as_listed(item: GithubObject) -> dict[str, Any]:
    """The item's JSON as the list answered it. Reading a key the answer left out through
    PyGithub's properties fetches the item again, one request each: GitHub leaves out
    `in_reply_to_id` on every comment that is not a reply. So: the plain GithubObject's
    `raw_data`, which never completes an item (the subclass's does)."""
    listed: dict[str, Any] = GithubObject.raw_data.__get__(item)
    return listed


def _reaction_kinds(rollup: dict[str, Any]) -> frozenset[str]:
    """The rollup GitHub lists with each comment: {"+1": 2, "-1": 0, ..., "total_count": 2}."""
    return frozenset(
        kind for kind, count in rollup.items() if kind not in ("url", "total_count") and count
    )


def read_at_base(api: GitHubAPI, paths: Sequence[str]) -> tuple[str, dict[str, str | None]]:
    """The pull request's base commit and these files' text there (None: absent), read
    until one exists: the repository's trusted config, as the target branch had it before
    the change. The pull request is read once per session: fetch() reuses it."""
    base = api.pull().base_sha
    return base, read_until_found(api.read_file, paths, base)
