"""The words for why a finding was dropped or a file skipped: the values carry codes, and
every reporter (text, JSON, markdown, the platforms' summary) words them here, the same way."""

from __future__ import annotations

from reviewer.model import DropCode, Dropped, SkipCode, Skipped

# "{detail}" is replaced by the entry's detail; a code without it appends ": detail" if any.
DROP_WORDS: dict[DropCode, str] = {
    DropCode.DUPLICATE: "duplicate",
    DropCode.BELOW_MIN_SEVERITY: "below min-severity",
    DropCode.OVER_MAX_COMMENTS: "over max-comments",
    DropCode.FILE_NOT_IN_DIFF: "file not in the reviewed diff",
    DropCode.NOT_ON_DIFF: "not on a line the diff shows",
    DropCode.QUOTE_NOT_FOUND: "quote matches no line of the diff (possible hallucination)",
    DropCode.INVALID: "invalid finding",
    DropCode.VERIFIER_REJECTED: "verifier",
    DropCode.CANNOT_GO_INLINE: "cannot go inline",
    DropCode.REFUSED: "{detail}",
    DropCode.READ_ONLY: "not posted: read-only token",
}
SKIP_WORDS: dict[SkipCode, str] = {
    SkipCode.BINARY: "binary",
    SkipCode.DELETED: "deleted",
    SkipCode.EXCLUDED: "excluded by config",
    SkipCode.NOT_INCLUDED: "not in include",
    SkipCode.LOCK_FILE: "lock file",
    SkipCode.GENERATED: "generated",
    SkipCode.VENDORED: "vendored",
    SkipCode.MINIFIED: "minified",
    SkipCode.EMPTY_NEW_FILE: "empty new file",
    SkipCode.MODE_CHANGE: "mode change only",
    SkipCode.UNCHANGED_COPY: "{detail} without changes",
    SkipCode.NO_CONTENT_CHANGE: "no content change",
    SkipCode.OVER_BUDGET: "not reviewed: {detail}",
    SkipCode.PARTLY_OVER_BUDGET: "partly not reviewed: {detail}",
    SkipCode.MODEL_FAILED: "not reviewed: the model call failed",
    SkipCode.UNAVAILABLE: "{detail}",
}


def dropped_reason(dropped: Dropped) -> str:
    """Why a finding is not inline, in words (the JSON report's `reason`)."""
    return _words(DROP_WORDS[dropped.code], dropped.detail)


def skipped_reason(skipped: Skipped) -> str:
    """Why a file was not reviewed, in words (`files_skipped[].reason`)."""
    return _words(SKIP_WORDS[skipped.code], skipped.detail)


def _words(template: str, detail: str) -> str:
    if "{detail}" in template:
        return template.replace("{detail}", detail)
    return f"{template}: {detail}" if detail else template
