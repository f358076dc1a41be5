"""The exit code of a finished review, and the one stderr line that explains a 2 or a 3.

The gate comes first: a finding at `fail_on` exits 1 even when every model call failed (a
leaked key found by the built-in checks must block the merge, outage or not). A review whose
every chunk failed exits 2 when every model refused the request as set up (a key, a model
name, a gateway that answers 400/404), else 3; either way one line says what failed and
what to check, whatever the report's format or destination.
"""

from __future__ import annotations

from dataclasses import dataclass

from reviewer.model import CallRecord, DropCode, ReviewResult, severity_rank

KEY_REFUSED = (
    "ai-review: error: the model refused the API key (HTTP 401/403): check AI_REVIEW_API_KEY "
    "or the provider's key variable, and that the key may use this model ({error})"
)
MISCONFIGURED = (
    "ai-review: error: every model refused the request as configured: {error}. Check the "
    "model name (a gateway may need a provider prefix, e.g. openai/NAME), api_base and the key"
)
UNREACHABLE = (
    "ai-review: error: the review could not be completed, every model call failed: {error}. "
    "Check that the model endpoint is up and reachable from this job"
)
PARTIAL = "ai-review: warning: {count} of {of} chunks were not reviewed: {error}"
MAX_ERROR_CHARS = 400


@dataclass(frozen=True)
class Outcome:
    """The exit code and the stderr line to print first ("" for none)."""

    code: int
    line: str = ""


def outcome(result: ReviewResult, fail_on: str | None) -> Outcome:
    summary = result.summary
    failed = [call for call in result.calls if call.outcome == "failed"]
    gate = 1 if _gate(result, fail_on) else 0
    if not summary.chunks or summary.failed_chunks < summary.chunks:
        if not (summary.failed_chunks and failed):
            return Outcome(gate)
        return Outcome(gate, _line(PARTIAL, failed, count=summary.failed_chunks, of=summary.chunks))
    if failed and all(call.key_refused for call in failed):
        return Outcome(gate or 2, _line(KEY_REFUSED, failed))  # exit 3 would read as an outage
    if failed and all(call.misconfigured for call in failed):
        return Outcome(gate or 2, _line(MISCONFIGURED, failed))
    return Outcome(gate or 3, _line(UNREACHABLE, failed))


def _gate(result: ReviewResult, fail_on: str | None) -> bool:
    if fail_on is None:
        return False
    threshold = severity_rank(fail_on)
    # A finding left out of the inline comments by --max-comments still remains.
    capped = [d.severity for d in result.dropped if d.code == DropCode.OVER_MAX_COMMENTS]
    severities = [f.severity for f in result.findings] + capped
    return any(severity_rank(severity) <= threshold for severity in severities)


def _line(template: str, failed: list[CallRecord], **figures: int) -> str:
    """The template with the first failed call's error (the others are in the report)."""
    error = next((call.error for call in failed if call.error), "no answer")
    error = " ".join(error.split())
    if len(error) > MAX_ERROR_CHARS:
        error = error[: MAX_ERROR_CHARS - 1] + "…"
    return template.format(error=error.rstrip("."), **figures)
