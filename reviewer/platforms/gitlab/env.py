"""Where a GitLab review runs: the CI job's variables, or the flags outside CI.

GitLab CI sets CI_SERVER_URL, CI_PROJECT_ID and, in merge request pipelines,
CI_MERGE_REQUEST_IID. The token is ours to ask for: CI_JOB_TOKEN cannot write notes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from reviewer.errors import UsageError

DEFAULT_SERVER_URL = "https://gitlab.com"
TOKEN_VARIABLES = ("AI_REVIEW_GITLAB_TOKEN", "GITLAB_TOKEN")
ONLY_JOB_CREDENTIAL = (
    "only CI_JOB_TOKEN is available, and it cannot post merge request notes: create a project "
    "access token (role Reporter, scope api) and store it as the masked CI/CD variable "
    "AI_REVIEW_GITLAB_TOKEN"
)
NO_CREDENTIAL = (
    "no GitLab token: set AI_REVIEW_GITLAB_TOKEN (or GITLAB_TOKEN) to a project access token "
    "with the api scope"
)


@dataclass(frozen=True)
class GitLabTarget:
    """The merge request to review, the server and the token (never shown in a repr)."""

    server_url: str
    project: str
    mr_iid: int
    token: str = field(repr=False)
    token_variable: str = TOKEN_VARIABLES[0]
    commit_sha: str | None = None  # CI_COMMIT_SHA: the commit the CI job checked out


def detect(project: str | None, mr_iid: int | None, env: Mapping[str, str]) -> GitLabTarget:
    """Flags first, then the CI job's variables; a usage error names what is missing."""
    project = project or env.get("CI_PROJECT_ID") or None
    if project is None:
        raise UsageError(
            "which merge request? Outside GitLab CI pass --project ID_OR_PATH --mr IID"
        )
    iid = mr_iid if mr_iid is not None else _iid_from(env)
    token_variable, token = _token(env)
    return GitLabTarget(
        server_url=_server_url(env),
        project=project,
        mr_iid=iid,
        token=token,
        token_variable=token_variable,
        commit_sha=env.get("CI_COMMIT_SHA") or None,
    )


def _iid_from(env: Mapping[str, str]) -> int:
    value = env.get("CI_MERGE_REQUEST_IID", "").strip()
    if not value:
        raise UsageError(
            "CI_MERGE_REQUEST_IID is not set: run the job in merge request pipelines only "
            '(rules: - if: $CI_PIPELINE_SOURCE == "merge_request_event"), or pass --mr IID'
        )
    if not value.isdigit():
        raise UsageError(f"CI_MERGE_REQUEST_IID={value!r} is not a merge request number")
    return int(value)


def _token(env: Mapping[str, str]) -> tuple[str, str]:
    for name in TOKEN_VARIABLES:
        if env.get(name, "").strip():
            return name, env[name].strip()
    raise UsageError(ONLY_JOB_CREDENTIAL if env.get("CI_JOB_TOKEN") else NO_CREDENTIAL)


def _server_url(env: Mapping[str, str]) -> str:
    url = (env.get("CI_SERVER_URL") or DEFAULT_SERVER_URL).strip().rstrip("/")
    if not url.startswith(("https://", "http://")):
        raise UsageError(f"CI_SERVER_URL={url!r} is not an http(s) URL")
    return url
