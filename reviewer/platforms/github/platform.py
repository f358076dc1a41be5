"""`ai-review --github`: review a pull request, post one review and one summary comment.

fetch: the pull request, its files (every page), the head reviewed last (from the summary
comment's marker), and the part to review: all of it, or what changed since that head.
publish: the inline comments in reviews of at most 30, never a comment twice, then the summary
comment edited in place, the job summary and the step outputs. A read-only token (a fork's
pull request) turns posting into the job summary and log annotations, not a failed job.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from reviewer.config import Config
from reviewer.context import ContextSource, LocalCheckout, RemoteFiles
from reviewer.diff import Diff, FileDiff, FileStatus, parse_file_patch
from reviewer.model import Finding, ReviewInput, ReviewResult, Skipped
from reviewer.platforms.base import Change, Published
from reviewer.platforms.common import (
    checkout_head,
    fingerprints_in,
    is_summary,
    restamp_summary,
    restrict_to,
    reviewed_head,
    say,
    summary_marker,
    with_not_posted,
)
from reviewer.platforms.github.acceptance import earlier_acceptance
from reviewer.platforms.github.actions import (
    annotation,
    append_outputs,
    append_step_summary,
    workflow_command,
)
from reviewer.platforms.github.api import ChangedFile, Comment, GitHubAPI, ReadOnlyToken
from reviewer.platforms.github.env import GitHubTarget, detect
from reviewer.platforms.github.post import ReviewPlan, plan_review, post_bounded
from reviewer.report.markdown import to_markdown

ACTIONS_BOT = "github-actions[bot]"  # who the Actions GITHUB_TOKEN writes as
MAX_COMPARE_FILES = 300  # the compare API lists no more: a bigger delta is reviewed whole
_STATUS: dict[str, FileStatus] = {
    "added": "added",
    "removed": "deleted",
    "renamed": "renamed",
    "copied": "copied",
}


def from_environment(
    args: argparse.Namespace, config: Config, root: Path | None, environ: Mapping[str, str]
) -> GitHubPlatform:
    target = detect(args.repo, args.pr, environ)
    # A --fail-on gate must see every finding: then each run reviews the whole pull request
    # (the cache keeps unchanged parts free), and only the posting skips what stands already.
    gate = config.fail_on is not None
    return GitHubPlatform(target, GitHubAPI(target), root, review_all=gate)


@dataclass(frozen=True)
class _Scope:
    diff: Diff
    unavailable: tuple[Skipped, ...]
    since: str | None = None
    notes: tuple[str, ...] = ()


class GitHubPlatform:
    def __init__(
        self, target: GitHubTarget, api: GitHubAPI, root: Path | None, *, review_all: bool = False
    ) -> None:
        self._target = target
        self._api = api
        self._root = root
        self._review_all = review_all

    def close(self) -> None:
        """The HTTP session: the run closes it whatever happened (the review reads files
        through it between fetch and publish)."""
        self._api.close()

    # ------------------------------------------------------------------ fetch

    def fetch(self, *, full: bool) -> Change:
        pull = self._api.pull()
        files = self._api.files()
        diff, unavailable = to_diff(files)
        if pull.changed_files > len(files):
            more = f"({pull.changed_files - len(files)} more files)"
            unavailable += (Skipped(more, "GitHub lists at most 3,000 files per pull request"),)
        summary = None if full or self._review_all else self._summary()
        last = reviewed_head(summary.body) if summary else None
        scope = self._scope(diff, unavailable, last, pull.head_sha)
        return Change(
            ReviewInput(scope.diff, pull.title, pull.body, scope.unavailable),
            self._context(pull.head_sha),
            repo=self._target.repo,
            number=self._target.number,
            head_sha=pull.head_sha,
            identity=self._target.identity,
            since=scope.since,
            notes=scope.notes,
        )

    def _scope(
        self, diff: Diff, unavailable: tuple[Skipped, ...], last: str | None, head: str
    ) -> _Scope:
        if last is None:
            return _Scope(diff, unavailable)
        if last == head:
            note = f"No new commits since `{last[:7]}`, reviewed before: nothing new to review."
            return _Scope(Diff(()), (), since=last, notes=(note,))
        changed = self._api.compare(last, head)
        if changed is None or len(changed) >= MAX_COMPARE_FILES:
            note = f"The changes since `{last[:7]}` cannot be compared: reviewed everything."
            return _Scope(diff, unavailable, notes=(note,))
        paths = {file.path for file in changed}
        scoped = restrict_to(diff, to_diff(changed)[0])
        if not scoped.files:
            note = f"The commits since `{last[:7]}` change nothing in the pull request's diff."
        else:
            note = f"Incremental: only the changes since `{last[:7]}` (--full reviews all)."
        left_out = tuple(s for s in unavailable if s.path in paths)
        return _Scope(scoped, left_out, since=last, notes=(note,))

    def _context(self, head: str) -> ContextSource:
        """The checkout only when it is the head commit: a pull_request job checks out a merge
        commit, a pull_request_target job the base branch. Else the API, at the head."""
        if self._root is not None and checkout_head(self._root) == head:
            return LocalCheckout(self._root)
        return RemoteFiles(self._api.read_file, head)

    def _summary(self) -> Comment | None:
        """Our summary comment. A marker in someone else's comment is ignored: it could
        otherwise make the tool skip what it never reviewed."""
        found = (c for c in self._api.issue_comments() if is_summary(c.body) and self._ours(c))
        return next(found, None)

    def _ours(self, comment: Comment) -> bool:
        """Written by the token's own identity, not merely by a bot: any app can forge a
        marker. That is the login GitHub says owns the token (asked once, when a marker is
        first seen); an installation token cannot ask, and in Actions it is GITHUB_TOKEN,
        which writes as the Actions bot."""
        login = self._api.login()
        if login is None:
            return self._target.in_actions and comment.author == ACTIONS_BOT
        return comment.author == login

    # ------------------------------------------------------------------ publish

    def publish(self, change: Change, result: ReviewResult, *, dry_run: bool) -> Published:
        published, markdown = self._publish(change, result, dry_run=dry_run)
        self._write_job_files(result, markdown)
        return published

    def _publish(
        self, change: Change, result: ReviewResult, *, dry_run: bool
    ) -> tuple[Published, str]:
        comments = self._api.review_comments()
        ours = [c for c in comments if fingerprints_in([c.body]) and self._ours(c)]
        standing = fingerprints_in(c.body for c in ours)
        plan = plan_review(result.findings, change.review_input.diff, standing)
        summary = self._summary()
        if dry_run:
            published, markdown = self._dry_run(change, result, plan, summary)
        else:
            try:
                published, markdown = self._post(change, result, plan, summary)
            except ReadOnlyToken as exc:
                published, markdown = self._read_only(change, result, plan, exc)
        # After posting: reading reactions, where they cost requests, never holds the review up.
        acceptance = earlier_acceptance(comments, ours, self._api.reactions)
        return replace(published, acceptance=acceptance), markdown

    def _post(
        self, change: Change, result: ReviewResult, plan: ReviewPlan, summary: Comment | None
    ) -> tuple[Published, str]:
        head = _head(change)
        if summary is not None and _nothing_new(change):
            body = restamp_summary(summary.body, head, " ".join(change.notes))
            return Published(summary_url=self._put_summary(summary, body)), body
        review_body = f"AI review of `{head[:7]}`; the summary comment has the details."
        posted, refused = post_bounded(
            plan.comments,
            lambda batch: self._api.create_review(head, review_body, [c.payload for c in batch]),
        )
        not_posted = plan.off_diff + tuple((c.finding, why) for c, why in refused)
        body = _summary_markdown(change, result, not_posted, plan.already_posted)
        published = Published(
            posted=tuple(c.finding for c in posted),
            not_posted=not_posted,
            already_posted=len(plan.already_posted),
            summary_url=self._put_summary(summary, body),
            notes=change.notes,
        )
        return published, body

    def _put_summary(self, summary: Comment | None, body: str) -> str:
        if summary is None:
            return self._api.create_comment(body)
        if summary.body == body:
            return summary.url
        return self._api.edit_comment(summary.id, body)

    def _dry_run(
        self, change: Change, result: ReviewResult, plan: ReviewPlan, summary: Comment | None
    ) -> tuple[Published, str]:
        if summary is not None and _nothing_new(change):
            body = restamp_summary(summary.body, _head(change), " ".join(change.notes))
            comments = 0
        else:
            body = _summary_markdown(change, result, plan.off_diff, plan.already_posted)
            comments = len(plan.comments)
        plural = "" if comments == 1 else "s"
        action = "create" if summary is None else "update"
        say(f"dry run: would post {comments} inline comment{plural} and {action} the summary")
        published = Published(
            not_posted=plan.off_diff, already_posted=len(plan.already_posted), notes=("dry run",)
        )
        return published, body

    def _read_only(
        self, change: Change, result: ReviewResult, plan: ReviewPlan, exc: ReadOnlyToken
    ) -> tuple[Published, str]:
        note = (
            f"could not post to the pull request: {exc}. The token is read-only, as on a pull "
            "request from a fork: the review is in the job summary and the log instead."
        )
        if self._target.in_actions:
            warning = workflow_command("warning", note, title="ai-review could not post")
            say(warning, *(annotation(finding) for finding in result.findings), prefix="")
        else:
            say(f"warning: {note}")
        body = _summary_markdown(change, result, plan.off_diff, plan.already_posted)
        not_posted = tuple((f, "not posted: read-only token") for f in result.findings)
        published = Published(not_posted=not_posted, notes=(f"ai-review {note}",))
        return published, f"> **ai-review {note}**\n\n{body}"

    def _write_job_files(self, result: ReviewResult, markdown: str) -> None:
        if self._target.step_summary is not None:
            append_step_summary(self._target.step_summary, markdown)
        if self._target.output is not None:
            cost = result.summary.cost_usd
            outputs = {
                "findings": str(len(result.findings)),
                "cost-usd": "" if cost is None else f"{cost:.6f}",
            }
            append_outputs(self._target.output, outputs)


def to_diff(files: Iterable[ChangedFile]) -> tuple[Diff, tuple[Skipped, ...]]:
    """Files with a patch become the diff; the others are listed as not reviewed, except a
    pure rename (nothing changed inside, nothing to review)."""
    diffs: list[FileDiff] = []
    skipped: list[Skipped] = []
    for file in files:
        status = _STATUS.get(file.status, "modified")
        if file.patch is not None:
            diffs.append(parse_file_patch(file.patch, file.path, file.previous_path, status))
        elif status == "renamed" and file.changes == 0:
            diffs.append(FileDiff(file.path, file.previous_path or file.path, status))
        else:
            skipped.append(Skipped(file.path, _why_no_patch(file)))
    return Diff(tuple(diffs)), tuple(skipped)


def _why_no_patch(file: ChangedFile) -> str:
    if file.changes:
        return f"no diff from GitHub: too large ({file.changes} changed lines)"
    return "no diff from GitHub: a binary or empty file"


def _summary_markdown(
    change: Change,
    result: ReviewResult,
    not_posted: Iterable[tuple[Finding, str]],
    already_posted: tuple[Finding, ...],
) -> str:
    notes = list(change.notes)
    if already_posted:
        count = len(already_posted)
        notes.append(f"{count} finding{'' if count == 1 else 's'} already posted before.")
    shown = with_not_posted(result, not_posted, " ".join(notes))
    return to_markdown(shown, marker=summary_marker(change.head_sha), head_sha=change.head_sha)


def _nothing_new(change: Change) -> bool:
    request = change.review_input
    return change.since is not None and not request.diff.files and not request.unavailable


def _head(change: Change) -> str:
    assert change.head_sha is not None  # GitHubPlatform.fetch always sets it
    return change.head_sha
