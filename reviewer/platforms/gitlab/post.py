"""Post a review on a GitLab merge request: one diff discussion per new finding, one summary.

Findings already posted (their hidden fingerprint is in one of the tool's notes) are not
posted again. A finding GitLab has no line for, or whose position it refuses (400), is listed
in the summary instead; the others still post. The summary note is found again by its hidden
marker and edited in place.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from reviewer.model import Finding, ReviewResult
from reviewer.platforms.base import Change, Published
from reviewer.platforms.common import (
    comment_body,
    fingerprints_in,
    is_summary,
    placement_problem,
    restamp_summary,
    reviewed_head,
    say,
    summary_marker,
    with_not_posted,
)
from reviewer.platforms.gitlab.acceptance import acceptance
from reviewer.platforms.gitlab.api import GitLabAPI, MergeRequest, Note, PositionRefused
from reviewer.platforms.gitlab.position import DiffRefs, position_for, suggestion_block
from reviewer.report.common import one_line
from reviewer.report.markdown import to_markdown

PAUSE_S = 0.05  # between discussion posts: GitLab rate-limits bursts of notes
NOTHING_NEW = "No new changes to review since the last review"


@dataclass(frozen=True)
class Fetched:
    """What fetch learned that publish needs."""

    mr: MergeRequest
    username: str
    since: str | None  # the head of the last review, when only later changes were reviewed
    nothing_new: bool  # ... and nothing in the merge request's diff changed since then


@dataclass(frozen=True)
class Summary:
    """The tool's summary note on the merge request."""

    note_id: int
    body: str
    head: str | None


@dataclass(frozen=True)
class Discussion:
    finding: Finding
    body: str
    position: dict[str, Any]


def last_summary(notes: Iterable[Note], username: str) -> Summary | None:
    """The tool's own summary note: a marker in someone else's note is not trusted."""
    for note in own_notes(notes, username):
        if is_summary(note.body):
            return Summary(note.id, note.body, reviewed_head(note.body))
    return None


def own_notes(notes: Iterable[Note], username: str) -> list[Note]:
    return [note for note in notes if note.author == username and not note.system]


def publish(
    api: GitLabAPI, fetched: Fetched, change: Change, result: ReviewResult, *, dry_run: bool
) -> Published:
    every_note = api.notes()
    notes = own_notes(every_note, fetched.username)
    planned, no_line, already = plan_discussions(result, change, fetched.mr.refs, notes)
    summary = last_summary(notes, fetched.username)
    earlier = acceptance(
        api,
        every_note,
        fetched.username,
        fetched.mr.refs.head_sha,
        reviewed_before=summary is not None,
    )
    if dry_run:
        say(*dry_run_report(planned, no_line, already, summary, fetched))
        return Published(not_posted=tuple(no_line), already_posted=already, acceptance=earlier)
    posted, refused = post_discussions(api, planned)
    not_posted = [*no_line, *refused]
    body = summary_body(result, fetched, summary, not_posted, already)
    note_id = _write_summary(api, summary, body)
    published = Published(
        posted=tuple(posted),
        not_posted=tuple(not_posted),
        already_posted=already,
        summary_url=f"{fetched.mr.web_url}#note_{note_id}",
        acceptance=earlier,
    )
    say(*posted_report(published))
    return published


def _write_summary(api: GitLabAPI, summary: Summary | None, body: str) -> int:
    if summary is None:
        return api.create_note(body)
    api.update_note(summary.note_id, body)
    return summary.note_id


def plan_discussions(
    result: ReviewResult, change: Change, refs: DiffRefs, notes: Iterable[Note]
) -> tuple[list[Discussion], list[tuple[Finding, str]], int]:
    """(discussions to post, findings with no line on GitLab's diff, how many were posted
    on an earlier run)."""
    seen = fingerprints_in(note.body for note in notes)
    files = {file.path: file for file in change.review_input.diff.files}
    planned: list[Discussion] = []
    no_line: list[tuple[Finding, str]] = []
    already = 0
    for finding in result.findings:
        if finding.fingerprint in seen:
            already += 1
            continue
        seen.add(finding.fingerprint)
        file = files.get(finding.path)
        problem = placement_problem(finding, file)
        position = position_for(finding, file, refs) if file and not problem else None
        if position is None:
            no_line.append((finding, problem or "no such line in GitLab's diff"))
            continue
        body = comment_body(finding, suggestion_block(finding))
        planned.append(Discussion(finding, body, position))
    return planned, no_line, already


def post_discussions(
    api: GitLabAPI, planned: list[Discussion]
) -> tuple[list[Finding], list[tuple[Finding, str]]]:
    """Post each discussion, paced; a refused position moves its finding to the summary."""
    posted: list[Finding] = []
    refused: list[tuple[Finding, str]] = []
    for index, discussion in enumerate(planned):
        if index:
            time.sleep(PAUSE_S)
        try:
            api.create_discussion(discussion.body, discussion.position)
        except PositionRefused as exc:
            refused.append((discussion.finding, str(exc)))
        else:
            posted.append(discussion.finding)
    return posted, refused


def summary_body(
    result: ReviewResult,
    fetched: Fetched,
    summary: Summary | None,
    not_posted: list[tuple[Finding, str]],
    already: int,
) -> str:
    head = fetched.mr.refs.head_sha
    if fetched.nothing_new and summary is not None and fetched.since is not None:
        note = (
            f"{NOTHING_NEW} (`{fetched.since[:7]}`): nothing was sent to the model; "
            "the review below still stands."
        )
        return restamp_summary(summary.body, head, note)
    notes = []
    if fetched.since:
        notes.append(
            f"Incremental review: only the changes since `{fetched.since[:7]}`; "
            "earlier findings stay in their threads."
        )
    if already:
        notes.append(f"{already} finding(s) were already posted by an earlier run.")
    shown = with_not_posted(result, not_posted, " ".join(notes))
    return to_markdown(shown, marker=summary_marker(head), head_sha=head)


def dry_run_report(
    planned: list[Discussion],
    no_line: list[tuple[Finding, str]],
    already: int,
    summary: Summary | None,
    fetched: Fetched,
) -> list[str]:
    lines = [f"dry run: nothing posted to {fetched.mr.web_url}"]
    lines.append(f"would post {len(planned)} diff discussion(s):")
    lines += [
        f"  {_where(d.finding)} at {_lines(d.position)}: {_title(d.finding)}" for d in planned
    ]
    lines += [f"  {_where(f)}: {_title(f)} ({reason})" for f, reason in no_line]
    if already:
        lines.append(f"{already} finding(s) already posted by an earlier run")
    action = f"edit the summary note {summary.note_id}" if summary else "create the summary note"
    lines.append(f"would {action}")
    return lines


def posted_report(published: Published) -> list[str]:
    line = f"posted {len(published.posted)} diff discussion(s)"
    if published.not_posted:
        line += f", {len(published.not_posted)} listed in the summary instead"
    if published.already_posted:
        line += f", {published.already_posted} already posted earlier"
    return [f"{line}; summary: {published.summary_url}"]


def _where(finding: Finding) -> str:
    span = f"-{finding.end_line}" if finding.end_line > finding.line else ""
    side = " (old file)" if finding.side == "LEFT" else ""
    return f"{finding.path}:{finding.line}{span}{side}"


def _lines(position: dict[str, Any]) -> str:
    numbers = [f"{key} {position[key]}" for key in ("old_line", "new_line") if key in position]
    return ", ".join(numbers) + (" (range)" if "line_range" in position else "")


def _title(finding: Finding) -> str:
    """Model text on a terminal: one line, no control characters."""
    text = "".join(ch for ch in one_line(finding.title) if ch.isprintable())
    return f"[{finding.severity}] {text[:120]}"
