"""GitLab merge requests (`ai-review --gitlab`): fetch the change, post the review.

Fetching reads the merge request, its diffs and the tool's own notes. A summary note from an
earlier run names the head it reviewed; unless `--full`, only the hunks changed since then are
reviewed (the compare API, then `restrict_to`), and a rerun on the same head reviews nothing.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from reviewer.config import Config
from reviewer.context import ContextSource, LocalCheckout, RemoteFiles
from reviewer.diff import Diff, FileDiff, FileStatus, parse_file_patch
from reviewer.model import ReviewInput, ReviewResult, Skipped
from reviewer.platforms.base import Change, Published
from reviewer.platforms.common import checkout_head, restrict_to
from reviewer.platforms.gitlab.api import GitLabAPI, connect
from reviewer.platforms.gitlab.env import GitLabTarget, detect
from reviewer.platforms.gitlab.post import Fetched, Summary, last_summary, publish


def from_environment(
    args: argparse.Namespace, config: Config, root: Path | None, env: Mapping[str, str]
) -> GitLabMergeRequest:
    target = detect(args.project, args.mr, env)
    return GitLabMergeRequest(target, connect(target), config, root)


class GitLabMergeRequest:
    """The Platform for one merge request. What fetch learned is kept for publish."""

    def __init__(
        self, target: GitLabTarget, api: GitLabAPI, config: Config, root: Path | None
    ) -> None:
        self.target = target
        self.config = config
        self.root = root
        self._api = api
        self._fetched: Fetched | None = None

    def fetch(self, *, full: bool) -> Change:
        api = self._api
        mr = api.merge_request()
        diff, unavailable = merge_request_diff(*api.diffs())
        username = api.username()
        summary = last_summary(api.notes(), username)
        last = self._last_head(summary, full)
        since, diff = _since_last_review(api, diff, last, mr.refs.head_sha)
        nothing_new = since is not None and not diff.files
        self._fetched = Fetched(mr, username, since, nothing_new)
        request = ReviewInput(diff, mr.title, mr.description, () if nothing_new else unavailable)
        return Change(
            review_input=request,
            source=self._context(mr.refs.head_sha),
            repo=mr.project_path,
            number=self.target.mr_iid,
            head_sha=mr.refs.head_sha,
            identity=f"gitlab:{mr.project_path}!{self.target.mr_iid}",
        )

    def _last_head(self, summary: Summary | None, full: bool) -> str | None:
        """The head of the last review, when only later changes are to be reviewed. A
        --fail-on gate must see every finding, so it always reviews the whole change."""
        if full or self.config.fail_on or summary is None:
            return None
        return summary.head

    def publish(self, change: Change, result: ReviewResult, *, dry_run: bool) -> Published:
        if self._fetched is None:
            raise RuntimeError("publish() needs fetch() first")
        return publish(self._api, self._fetched, change, result, dry_run=dry_run)

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
            skipped.append(Skipped(file.path, reason))
        elif file.hunks:
            files.append(file)
    if overflow:
        skipped.append(
            Skipped("(more files)", "not reviewed: GitLab returned only part of the changes")
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


def _since_last_review(
    api: GitLabAPI, diff: Diff, last: str | None, head: str
) -> tuple[str | None, Diff]:
    """(the last reviewed head, the part of `diff` changed since it), or (None, all of it)
    when there is no earlier review or GitLab cannot compare."""
    if last is None:
        return None, diff
    if last == head:
        return last, Diff(())
    compared = api.compare(last, head)
    if compared is None:
        return None, diff
    mine = {file.path: file for file in diff.files}
    changed = [_file_diff(item) for item in compared]
    # A file whose compare diff is too large to show counts as changed throughout.
    whole = [mine.get(f.path, f) if not f.hunks else f for f in changed]
    return last, restrict_to(diff, Diff(tuple(whole)))
