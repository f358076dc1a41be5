"""One review asked for over MCP: the CLI's config resolution, gateway and cache, the same
engine, and the JSON report as a value. Nothing here imports the MCP SDK.

A review can be cancelled from another thread: the gateway then refuses every call not yet
sent (a call already in flight ends on its own timeout), so a cancelled review stops paying.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from reviewer import run
from reviewer.context import ContextSource, LocalCheckout, NoContext
from reviewer.diff import parse_diff
from reviewer.engine import Progress, ReviewInput, review
from reviewer.errors import ModelError, UsageError
from reviewer.gateway import LiteLLMGateway, ModelReply, ToolOffer
from reviewer.git_change import git_diff
from reviewer.model import ReviewResult
from reviewer.platforms.base import Change
from reviewer.report.json_report import to_json
from reviewer.routing import route
from reviewer.trust import load_config


@dataclass(frozen=True)
class ReviewRequest:
    """What an MCP client asked to review, and the settings its arguments override."""

    diff: bytes
    repo_root: Path | None
    config_path: str | None = None
    model: str | None = None


class CancellableGateway:
    """A gateway that refuses calls once its review was cancelled."""

    def __init__(self, inner: LiteLLMGateway, cancelled: threading.Event) -> None:
        self.models = inner.models
        self._inner = inner
        self._cancelled = cancelled

    def complete(self, system: str, user: str) -> ModelReply:
        if self._cancelled.is_set():
            raise ModelError("the review was cancelled", model=self.models[0])
        return self._inner.complete(system, user)

    def count_tokens(self, text: str) -> int:
        return self._inner.count_tokens(text)

    def price(self) -> tuple[float, float] | None:
        return self._inner.price()

    def prepare(self) -> None:
        self._inner.prepare()

    def with_models(self, models: Sequence[str]) -> CancellableGateway:
        """A pass's or the verifier's own model, cancelled with the review."""
        return CancellableGateway(self._inner.with_models(models), self._cancelled)

    def complete_with_tools(self, system: str, user: str, offer: ToolOffer) -> ModelReply:
        if self._cancelled.is_set():
            raise ModelError("the review was cancelled", model=self.models[0])
        return self._inner.complete_with_tools(system, user, offer)


def diff_request(
    diff: str, repo_root: str | None, config: str | None, model: str | None
) -> ReviewRequest:
    root = checked_root(repo_root) if repo_root else run.repo_root(None)
    return ReviewRequest(diff.encode("utf-8"), root, config, model)


def git_request(repo_root: str, base: str | None, staged: bool) -> ReviewRequest:
    root = checked_root(repo_root)
    return ReviewRequest(git_diff(root, base, staged=staged), root)


def checked_root(path: str) -> Path:
    root = Path(path).expanduser()
    if not root.is_dir():
        raise UsageError(f"repo_root {path} is not a directory")
    return root


def review_report(
    request: ReviewRequest, progress: Progress | None, cancelled: threading.Event
) -> dict[str, Any]:
    """The JSON report of the review, exactly as `--format json` prints it."""
    config = load_config(request.repo_root or Path.cwd(), request.config_path, _flags(request))
    source: ContextSource = LocalCheckout(request.repo_root) if request.repo_root else NoContext()
    identity = "diff:" + hashlib.sha256(request.diff).hexdigest()[:16]
    change = Change(ReviewInput(parse_diff(request.diff)), source, identity=identity)
    chosen = route(config, identity, None)
    gateway, _ = run._gateway(chosen, config, change, posting=False) if chosen else (None, "")
    cache, why_off = run._cache(chosen, config, change, False) if gateway and chosen else (None, "")
    result = review(
        change.review_input,
        config,
        CancellableGateway(gateway, cancelled) if gateway else None,
        source,
        arm=chosen.arm if chosen else None,
        cache=cache,
        progress=progress,
        toolboxes=run._toolboxes(change, config),  # no [[mcp_servers]]: an agent named the config
    )
    _raise_on_outage(result)
    # The cache's trouble goes in the report: an MCP server has no job log to print it to.
    warnings = tuple(map(run.as_note, run.cache_warnings(cache, why_off)))
    result = replace(
        result, summary=replace(result.summary, notes=(*result.summary.notes, *warnings))
    )
    report: dict[str, Any] = json.loads(to_json(result))
    return report


def _flags(request: ReviewRequest) -> dict[str, Any]:
    return {"model": request.model}


def _raise_on_outage(result: ReviewResult) -> None:
    """Every chunk failed: the CLI's exit 3. A partial failure is a report that says so."""
    summary = result.summary
    if summary.chunks and summary.failed_chunks == summary.chunks:
        causes = "; ".join(summary.errors) or "no answer"
        raise ModelError(f"the model could not review the change: {causes}")
