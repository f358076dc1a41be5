"""The words a platform run writes: the summary comment's body (one wording for every
platform), the dry-run report and the line that says what was posted. Pure functions."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Any

from reviewer.model import DropCode, Dropped, Finding, ReviewResult
from reviewer.platforms.common import is_summary, summary_marker
from reviewer.platforms.plan import Placed
from reviewer.report.common import one_line
from reviewer.report.markdown import to_markdown
from reviewer.sanitize import sanitize_markdown

_RERUN_TAG = "<!-- ai-review:rerun -->"


def summary_body(
    result: ReviewResult,
    head_sha: str | None,
    not_posted: Iterable[Dropped],
    notes: Sequence[str],
) -> str:
    """The summary comment: the report with what could not go inline, and the run's notes."""
    shown = with_not_posted(result, not_posted, notes)
    return to_markdown(shown, marker=summary_marker(head_sha), head_sha=head_sha)


def posting_notes(
    scope_notes: Sequence[str],
    already: int,
    resolved: int = 0,
    refused: int = 0,
    *,
    replied: int = 0,
    capped: int = 0,
) -> tuple[str, ...]:
    """What the summary says about this run's posting, besides the findings."""
    notes = list(scope_notes)
    if already:
        notes.append(f"{_count(already, 'finding')} already posted before.")
    if resolved:
        notes.append(f"{_count(resolved, 'earlier thread')} resolved: fixed since.")
    if replied:
        notes.append(
            f"{_count(replied, 'earlier thread')} answered as fixed: the token may not "
            "resolve threads (on GitHub Actions, `contents: write` allows it)."
        )
    if capped:
        notes.append(f"{_count(capped, 'finding')} over max_comments: listed below, not inline.")
    if refused:
        notes.append(f"{_count(refused, 'comment')} refused by the platform (listed below).")
    return tuple(notes)


def capped(result: ReviewResult) -> int:
    """How many findings the review kept out of the inline comments by `max_comments`."""
    return sum(d.code == DropCode.OVER_MAX_COMMENTS for d in result.dropped)


def with_not_posted(
    result: ReviewResult, not_posted: Iterable[Dropped], notes: Sequence[str] = ()
) -> ReviewResult:
    """The result as the summary comment shows it: findings that could not go inline are also
    listed with the reason (to_markdown's "Not posted inline"), and `notes` join the notes."""
    summary = replace(result.summary, notes=result.summary.notes + tuple(notes))
    return replace(result, dropped=result.dropped + tuple(not_posted), summary=summary)


def restamp_summary(body: str, head_sha: str, note: str) -> str:
    """An earlier summary carried over to a run that found nothing new to review: its marker
    now names `head_sha`, and one note line (replacing an earlier one) says why. The earlier
    findings and figures stay as they were."""
    lines: list[str] = []
    for line in body.splitlines():
        if _RERUN_TAG in line and lines and not lines[-1]:
            lines.pop()  # the blank line that was inserted with it
        if not is_summary(line) and _RERUN_TAG not in line:
            lines.append(line)
    heading = next((i + 1 for i, line in enumerate(lines) if line.startswith("## ")), 0)
    stamp = f"**{sanitize_markdown(note)}** {_RERUN_TAG}"
    lines[heading:heading] = ["", stamp] if heading else [stamp, ""]
    return "\n".join([summary_marker(head_sha), *lines]).strip("\n") + "\n"


def dry_run_report(
    new: Sequence[Placed[Any]],
    unplaced: Sequence[Dropped],
    already: int,
    *,
    summary_exists: bool,
) -> list[str]:
    """What a dry run would have done, one line each, for the job log."""
    action = "update" if summary_exists else "create"
    lines = [f"dry run: would post {_count(len(new), 'inline comment')} and {action} the summary"]
    lines += [f"  {where(p.finding)} at {p.where}: {title(p.finding)}" for p in new]
    lines += [f"  {d.path}:{d.line}: not inline ({one_line(d.detail)})" for d in unplaced]
    if already:
        lines.append(f"  {_count(already, 'finding')} already posted by an earlier run")
    return lines


def posted_report(
    posted: int, not_posted: int, already: int, resolved: int, url: str | None
) -> str:
    line = f"posted {_count(posted, 'inline comment')}"
    if not_posted:
        line += f", {not_posted} listed in the summary instead"
    if already:
        line += f", {already} already posted earlier"
    if resolved:
        line += f", {_count(resolved, 'thread')} resolved"
    return f"{line}; summary: {url}"


def where(finding: Finding) -> str:
    span = f"-{finding.end_line}" if finding.end_line > finding.line else ""
    side = " (old file)" if finding.side == "LEFT" else ""
    return f"{finding.path}:{finding.line}{span}{side}"


def title(finding: Finding) -> str:
    """Model text on a terminal: one line, no control characters."""
    text = "".join(ch for ch in one_line(finding.title) if ch.isprintable())
    return f"[{finding.severity}] {text[:120]}"


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"
