"""`ai-review --github`: review a pull request, post one review and one summary comment.

fetch: the pull request, its files (every page), the head reviewed last (from the summary
comment's marker), and the part to review (reviewer.platforms.scope decides).
publish: the shared pipeline through GitHubPort, then the job summary and the step outputs.
A read-only token (a fork's pull request) turns posting into the job summary and log
annotations, not a failed job.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

from reviewer.context import ContextSource, LocalCheckout, RemoteFiles
from reviewer.diff import Diff, FileDiff, FileStatus, parse_file_patch
from reviewer.model import DropCode, Dropped, ReviewInput, ReviewResult, SkipCode, Skipped
from reviewer.platforms import pipeline
from reviewer.platforms.base import Change, Published
from reviewer.platforms.common import checkout_head, reviewed_head
from reviewer.platforms.github.actions import (
    annotation,
    append_outputs,
    append_step_summary,
    workflow_command,
)
from reviewer.platforms.github.api import ChangedFile, Comment, GitHubAPI, ReadOnlyToken
from reviewer.platforms.github.env import GitHubTarget, detect
from reviewer.platforms.github.port import GitHubPort, our_summary
from reviewer.platforms.scope import incremental_scope
from reviewer.platforms.summary import posting_notes, summary_body

ACTIONS_BOT = "github-actions[bot]"  # who the Actions GITHUB_TOKEN writes as
MAX_COMPARE_FILES = 300  # the compare API lists no more: a bigger delta is reviewed whole
_STATUS: dict[str, FileStatus] = {
    "added": "added",
    "removed": "deleted",
    "renamed": "renamed",
    "copied": "copied",
}


def from_environment(
    repo: str | None,
    number: int | None,
    root: Path | None,
    environ: Mapping[str, str],
    api: GitHubAPI | None = None,  # the run's session, when it already opened one
) -> GitHubPlatform:
    target = api.target if api is not None else detect(repo, number, environ)
    return GitHubPlatform(target, api or GitHubAPI(target), root)


class GitHubPlatform:
    def __init__(
        self,
        target: GitHubTarget,
        api: GitHubAPI,
        root: Path | None,
    ) -> None:
        self._target = target
        self._api = api
        self._root = root

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
            limit = "GitHub lists at most 3,000 files per pull request"
            unavailable += (Skipped(more, SkipCode.UNAVAILABLE, limit),)
        summary = None if full else self._summary()
        last = reviewed_head(summary.body) if summary else None
        scope = incremental_scope(diff, unavailable, last, pull.head_sha, self._compare)
        return Change(
            ReviewInput(scope.diff, pull.title, pull.body, scope.unavailable),
            self._context(pull.head_sha),
            repo=self._target.repo,
            number=self._target.number,
            head_sha=pull.head_sha,
            identity=self._target.identity,
            since=scope.since,
            notes=scope.notes,
            whole=diff,
        )

    def _compare(self, base: str, head: str) -> Diff | None:
        """The files changed between two commits; those without a patch count as changed
        (a huge file), so that they are still listed as not reviewed."""
        changed = self._api.compare(base, head)
        if changed is None or len(changed) >= MAX_COMPARE_FILES:
            return None
        diff, no_patch = to_diff(changed)
        return Diff(diff.files + tuple(FileDiff(s.path, s.path, "modified") for s in no_patch))

    def _context(self, head: str) -> ContextSource:
        """The checkout only when it is the head commit: a pull_request job checks out a merge
        commit, a pull_request_target job the base branch. Else the API, at the head."""
        if self._root is not None and checkout_head(self._root) == head:
            return LocalCheckout(self._root)
        return RemoteFiles(self._api.read_file, head)

    def _summary(self) -> Comment | None:
        return our_summary(self._api.issue_comments(), self._ours)

    def _ours(self, comment: Comment) -> bool:
        """Written by the token's own identity, not merely by a bot: any app can forge a
        marker, and a person can paste one. The identity is AI_REVIEW_BOT_LOGIN when set,
        else what GitHub says (asked once, when a marker is first seen): `GET /user` for a
        personal token, GraphQL `viewer` for an app's token (`NAME[bot]`, which gets 403 on
        `GET /user`); in Actions, failing both, the Actions bot GITHUB_TOKEN writes as."""
        login = self._target.bot_login or self._api.login()
        if login is None:
            return self._target.in_actions and comment.author == ACTIONS_BOT
        return comment.author == login

    # ------------------------------------------------------------------ publish

    def publish(self, change: Change, result: ReviewResult, *, dry_run: bool) -> Published:
        port = GitHubPort(self._api, _head(change), self._ours, change.identity)
        try:
            outcome = pipeline.publish(port, change, result, dry_run=dry_run)
        except ReadOnlyToken as exc:
            outcome = self._read_only(port, change, result, exc)
        self._write_job_files(result, outcome.body)
        return outcome.published

    def _read_only(
        self, port: GitHubPort, change: Change, result: ReviewResult, exc: ReadOnlyToken
    ) -> pipeline.Outcome:
        """A token that may not write (a fork's pull request): the review goes to the job
        summary and the log, and the job stays green."""
        note = (
            f"could not post to the pull request: {exc}. The token is read-only, as on a pull "
            "request from a fork: the review is in the job summary and the log instead."
        )
        if self._target.in_actions:
            warning = workflow_command("warning", note, title="ai-review could not post")
            log = (warning, *(annotation(finding) for finding in result.findings))
        else:
            log = (f"{pipeline.LOG_PREFIX}warning: {note}",)
        plan = pipeline.plan_for(port, change, result)
        notes = posting_notes(change.notes, len(plan.already))
        body = summary_body(result, change.head_sha, plan.unplaced, notes)
        not_posted = tuple(Dropped.of(f, DropCode.READ_ONLY) for f in result.findings)
        published = Published(
            not_posted=not_posted,
            notes=(f"ai-review {note}",),
            acceptance=port.acceptance(),
            log=log,
        )
        return pipeline.Outcome(published, f"> **ai-review {note}**\n\n{body}")

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
            skipped.append(Skipped(file.path, SkipCode.UNAVAILABLE, _why_no_patch(file)))
    return Diff(tuple(diffs)), tuple(skipped)


def _why_no_patch(file: ChangedFile) -> str:
    if file.changes:
        return f"no diff from GitHub: too large ({file.changes} changed lines)"
    return "no diff from GitHub: a binary or empty file"


def _head(change: Change) -> str:
    assert change.head_sha is not None  # GitHubPlatform.fetch always sets it
    return change.head_sha
