"""Where a GitHub review runs: an Actions job (its variables and event JSON) or the flags.

GitHub Actions sets GITHUB_REPOSITORY, GITHUB_EVENT_NAME and GITHUB_EVENT_PATH (the event as
JSON: `pull_request.number` on pull_request and pull_request_target events), GITHUB_API_URL
(GitHub Enterprise Server: https://HOST/api/v3) and the files a step writes its summary and
outputs to. The token comes in as GITHUB_TOKEN. Nothing here talks to the network.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reviewer.errors import UsageError
from reviewer.platforms.common import checkout_head

DEFAULT_API_URL = "https://api.github.com"
PULL_EVENTS = ("pull_request", "pull_request_target")
NO_CREDENTIALS_MESSAGE = (
    "GITHUB_TOKEN is not set: in a workflow pass `GITHUB_TOKEN: ${{ github.token }}` in the "
    "step's env (the ai-review action does), elsewhere export a token that can write pull requests"
)
_REPO = re.compile(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+")


@dataclass(frozen=True)
class GitHubTarget:
    """The pull request to review, the API and the token (never shown in a repr)."""

    api_url: str
    repo: str
    number: int
    token: str = field(repr=False)
    event_name: str | None = None  # None outside GitHub Actions
    step_summary: Path | None = None  # GITHUB_STEP_SUMMARY: markdown appended for the job page
    output: Path | None = None  # GITHUB_OUTPUT: `name=value` lines, the step's outputs
    # AI_REVIEW_BOT_LOGIN: who the token writes as, when GitHub cannot say (see README)
    bot_login: str | None = None

    @property
    def in_actions(self) -> bool:
        return self.event_name is not None

    @property
    def identity(self) -> str:
        """Stable across reruns of the same pull request: it chooses the routing arm."""
        return f"github:{self.repo}#{self.number}"


def detect(repo: str | None, number: int | None, env: Mapping[str, str]) -> GitHubTarget:
    """Flags first, then the Actions job's variables; a usage error names what is missing."""
    in_actions = env.get("GITHUB_ACTIONS") == "true"
    event_name = (env.get("GITHUB_EVENT_NAME") or "unknown") if in_actions else None
    event = _event(env.get("GITHUB_EVENT_PATH"))
    repo = repo or env.get("GITHUB_REPOSITORY") or _nested(event, "repository", "full_name")
    if not repo:
        raise UsageError("which repository? Outside GitHub Actions pass --repo OWNER/NAME --pr N")
    if not _REPO.fullmatch(repo):
        raise UsageError(f"repository {repo!r} is not of the form OWNER/NAME")
    number = number if number is not None else _pull_number(event, event_name)
    token = env.get("GITHUB_TOKEN", "").strip()
    if not token:
        raise UsageError(NO_CREDENTIALS_MESSAGE)
    return GitHubTarget(
        api_url=_api_url(env),
        repo=repo,
        number=number,
        token=token,
        event_name=event_name,
        step_summary=_path(env, "GITHUB_STEP_SUMMARY"),
        output=_path(env, "GITHUB_OUTPUT"),
        bot_login=env.get("AI_REVIEW_BOT_LOGIN") or None,
    )


def refuse_fork_checkout(env: Mapping[str, str], root: Path | None) -> None:
    """Under `pull_request_target` the job holds the repository's secrets. A checkout of
    anything but the base commit (the fork's head, or `refs/pull/N/merge`, which merges it)
    holds the change's files: ai-review refuses to run next to them."""
    if env.get("GITHUB_EVENT_NAME") != "pull_request_target" or root is None:
        return
    checked_out = checkout_head(root)
    if checked_out in base_shas(env):
        return
    pull = _event(env.get("GITHUB_EVENT_PATH")).get("pull_request")
    what = "the fork's head" if checked_out == _nested(pull, "head", "sha") else "a commit"
    raise UsageError(
        f"pull_request_target with {what} checked out"
        f"{' that is not the base commit' if what == 'a commit' else ''}: ai-review will not "
        "run next to the change's files with secrets in reach; check out the base branch "
        "(actions/checkout's default) or use the pull_request event"
    )


def base_shas(env: Mapping[str, str]) -> frozenset[str]:
    """The base commit as the job names it: the event's `pull_request.base.sha`, and under
    pull_request_target GITHUB_SHA (the base branch's last commit, what checkout takes)."""
    pull = _event(env.get("GITHUB_EVENT_PATH")).get("pull_request")
    shas = {_nested(pull, "base", "sha")}
    if env.get("GITHUB_EVENT_NAME") == "pull_request_target":
        shas.add(env.get("GITHUB_SHA"))
    return frozenset(sha for sha in shas if isinstance(sha, str) and sha)


def _event(path: str | None) -> dict[str, Any]:
    if not path:
        return {}
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise UsageError(f"GITHUB_EVENT_PATH={path} cannot be read: {exc.strerror}") from exc
    except ValueError as exc:
        raise UsageError(f"GITHUB_EVENT_PATH={path} does not hold JSON: {exc}") from exc
    return data if isinstance(data, dict) else {}


def _pull_number(event: dict[str, Any], event_name: str | None) -> int:
    """pull_request(_target) events carry `pull_request.number`; a comment on a pull request
    carries `issue.number` with `issue.pull_request` set."""
    number = _nested(event, "pull_request", "number")
    issue = event.get("issue")
    if number is None and isinstance(issue, dict) and issue.get("pull_request"):
        number = issue.get("number")
    if isinstance(number, int) and not isinstance(number, bool) and number > 0:
        return number
    if event_name is not None:
        raise UsageError(
            f"this job runs on a {event_name!r} event, which has no pull request: run ai-review "
            f"on {' or '.join(PULL_EVENTS)} events, or pass --pr N"
        )
    raise UsageError("which pull request? Outside GitHub Actions pass --repo OWNER/NAME --pr N")


def _nested(data: Any, *keys: str) -> Any:
    for key in keys:
        data = data.get(key) if isinstance(data, dict) else None
    return data


def _api_url(env: Mapping[str, str]) -> str:
    url = (env.get("GITHUB_API_URL") or DEFAULT_API_URL).strip().rstrip("/")
    if not url.startswith(("https://", "http://")):
        raise UsageError(f"GITHUB_API_URL={url!r} is not an http(s) URL")
    return url


def _path(env: Mapping[str, str], name: str) -> Path | None:
    value = env.get(name, "").strip()
    return Path(value) if value else None
