"""Which environment variables are another service's credentials: no `env:` value in the
config (a gateway header, an MCP server's environment) may name one of them."""

from __future__ import annotations

# Credentials the tool or the CI runner holds for another service than the model gateway.
PLATFORM_CREDENTIALS = frozenset(
    {"GITHUB_TOKEN", "GH_TOKEN", "GITLAB_TOKEN", "AI_REVIEW_GITLAB_TOKEN", "CI_JOB_TOKEN"}
)
_CREDENTIAL_PREFIXES = ("GITHUB_", "ACTIONS_", "RUNNER_", "CI_", "GITLAB_")


def is_platform_credential(name: str) -> bool:
    """A variable the job holds as another service's credential (GitHub/GitLab tokens, the
    runner's ACTIONS_*/CI_* tokens)."""
    upper = name.upper()
    return upper in PLATFORM_CREDENTIALS or upper.startswith(_CREDENTIAL_PREFIXES)
