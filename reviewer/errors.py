"""The one exception tree users see. Each error carries the exit code the CLI turns it into."""

from __future__ import annotations


class ReviewError(Exception):
    """Base of every error ai-review reports to the user; the message says what to do."""

    exit_code = 3


class UsageError(ReviewError):
    """Bad flags, configuration or input: the user can fix it (exit 2)."""

    exit_code = 2


class InputError(UsageError):
    """The diff (or another input file) cannot be read or is not what it should be."""


class ConfigError(UsageError):
    """The configuration file or environment holds an invalid value."""


class ModelError(ReviewError):
    """The model could not be reached or kept failing after retries and fallbacks (exit 3).

    It carries what the attempts cost, for telemetry: requests sent and the last model tried.
    """

    def __init__(
        self,
        message: str,
        *,
        model: str = "",
        attempts: int = 0,
        key_refused: bool = False,
        misconfigured: bool = False,
    ) -> None:
        super().__init__(message)
        self.model = model
        self.attempts = attempts
        self.key_refused = key_refused  # every model answered 401/403: a key problem
        # every model refused the request as set up (400/404, 401/403): a configuration error
        self.misconfigured = misconfigured or key_refused


class PlatformError(ReviewError):
    """GitHub or GitLab refused or failed a request after retries (exit 3)."""
