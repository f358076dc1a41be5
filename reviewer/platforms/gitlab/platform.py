"""GitLab merge requests (`ai-review --gitlab`): fetch the change, post the review.

Fetching reads the merge request, its diffs and the tool's own notes. A summary note from an
earlier run names the head it reviewed; reviewer.platforms.scope decides what to review
again, with GitLab's compare API. Publishing is the shared pipeline through GitLabPort.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from reviewer.context import ContextSource, LocalCheckout, RemoteFiles
from reviewer.diff import Diff, FileDiff, FileStatus, parse_file_patch
from reviewer.model import ReviewInput, ReviewResult, SkipCode, Skipped
from reviewer.platforms import pipeline
from reviewer.platforms.base import Change, Published
from reviewer.platforms.common import checkout_head
from reviewer.platforms.gitlab.api import GitLabAPI, MergeRequest, connect
from reviewer.platforms.gitlab.env import GitLabTarget, detect
from reviewer.platforms.gitlab.post import GitLabPort, last_summary
from reviewer.platforms.scope import incremental_scope


def from_environment(
    project: str | None,
    mr_iid: int | None,
    root: Path | None,
    env: Mapping[str, str],
    api: GitLabAPI | None = None,  # the run's session, when it already opened one
) -> GitLabMergeRequest:
    target = api.target if api is not None else detect(project, mr_iid, env)
    return GitLabMergeRequest(target, api or connect(target), root)


class GitLabMergeRequest:
    """The Platform for one merge request. What fetch learned is kept for publish."""

    def __init__(
        self,
        target: GitLabTarget,
        api: GitLabAPI,
        root: Path | None,
    ) -> None:
        self.target = target
        self.root = root
        self._api = api
        self._mr: MergeRequest | None = None

    def fetch(self, *, full: bool) -> Change:
        api = self._api
        mr = self._mr = api.merge_request()
        diff, unavailable = merge_request_diff(*api.diffs())
        summary = None if full else last_summary(api.notes(), api.username())
        last = summary.head if summary else None
        scope = incremental_scope(
            diff, unavailable, last, mr.refs.head_sha, lambda a, b: self._compare(diff, a, b)
        )
        return Change(
            review_input=ReviewInput(scope.diff, mr.title, mr.description, scope.unavailable),
            source=self._context(mr.refs.head_sha),
            repo=mr.project_path,
            number=self.target.mr_iid,
            head_sha=mr.refs.head_sha,
            identity=f"gitlab:{mr.project_path}!{self.target.mr_iid}",
            since=scope.since,
            notes=scope.notes,
            whole=diff,
        )

    def _compare(self, diff: Diff, old: str, new: str) -> Diff | None:
        compared = self._api.compare(old, new)
        if compared is None:
            return None
        mine = {file.path: file for file in diff.files}
        changed = [_file_diff(item) for item in compared]
        # A file whose compare diff is too large to show counts as changed throughout.
        return Diff(tuple(mine.get(f.path, f) if not f.hunks else f for f in changed))

    def publish(self, change: Change, result: ReviewResult, *, dry_run: bool) -> Published:
        if self._mr is None:
            raise RuntimeError("publish() needs fetch() first")
        port = GitLabPort(self._api, self._mr, self._api.username(), change.identity)
        return pipeline.publish(port, change, result, dry_run=dry_run).published

    def close(self) -> None:
        """The HTTP session: the run closes it whatever happened (the review reads files
        through it between fetch and publish)."""
        self._api.close()

    def _context(self, head_sha: str) -> ContextSource:
        """The CI checkout when it holds the merge request's head, else the files API."""
        if self.root is not None:
            checked_out = checkout_head(self.root) or self.target.commit_sha
            if checked_out == head_sha:
                return LocalCheckout(self.root)
        return RemoteFiles(self._api.read_file, head_sha)


def merge_request_diff(
    items: Iterable[dict[str, Any]], overflow: bool
) -> tuple[Diff, tuple[Skipped, ...]]:
    """GitLab's per-file diffs as our Diff, and the files it sent without a usable patch."""
    files: list[FileDiff] = []
    skipped: list[Skipped] = []
    for item in items:
        file = _file_diff(item)
        reason = _unavailable(item, file)
        if reason:
            skipped.append(Skipped(file.path, SkipCode.UNAVAILABLE, reason))
        elif file.hunks:
            files.append(file)
    if overflow:
        skipped.append(
            Skipped(
                "(more files)",
                SkipCode.UNAVAILABLE,
                "not reviewed: GitLab returned only part of the changes",
            )
        )
    return Diff(tuple(files)), tuple(skipped)


def _file_diff(item: dict[str, Any]) -> FileDiff:
    old_path = str(item.get("old_path") or item.get("new_path") or "")
    path = str(item.get("new_path") or old_path)
    return parse_file_patch(str(item.get("diff") or ""), path, old_path, _file_status(item))


def _file_status(item: dict[str, Any]) -> FileStatus:
    if item.get("new_file"):
        return "added"
    if item.get("deleted_file"):
        return "deleted"
    return "renamed" if item.get("renamed_file") else "modified"


def _unavailable(item: dict[str, Any], file: FileDiff) -> str:
    if item.get("too_large"):
        return "not reviewed: GitLab marks the diff too large"
    if item.get("collapsed"):
        return "not reviewed: GitLab collapsed the diff (over its size limits)"
    if not file.hunks and not item.get("renamed_file"):  # a pure rename changes no line
        return "not reviewed: no text diff (binary file, empty file or mode change)"
    return ""
