"""One run of the tool: configuration, the platform, the review, the report, the exit code."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

from reviewer.cache import CacheScope, ResponseCache
from reviewer.config import Config, load_config
from reviewer.engine import Progress, review
from reviewer.errors import InputError, UsageError
from reviewer.gateway import LiteLLMGateway
from reviewer.model import DropCode, ReviewResult, severity_rank
from reviewer.options import Options
from reviewer.platforms.base import Change, Platform, Published
from reviewer.report import render
from reviewer.routing import Route, resolve_headers, route
from reviewer.telemetry import TelemetryFile, open_telemetry


def _local(options: Options, root: Path | None) -> Platform:
    from reviewer.platforms.local import LocalDiff

    assert options.diff is not None  # the kind is "diff" exactly when --diff is given
    return LocalDiff(options.diff, root)


def _github(options: Options, root: Path | None) -> Platform:
    from reviewer.platforms.github import platform as github

    return github.from_environment(options.repo, options.pr, root, os.environ)


def _gitlab(options: Options, root: Path | None) -> Platform:
    from reviewer.platforms.gitlab import platform as gitlab

    return gitlab.from_environment(options.project, options.mr, root, os.environ)


PLATFORMS: dict[str, Callable[[Options, Path | None], Platform]] = {
    "diff": _local,
    "github": _github,
    "gitlab": _gitlab,
}


def run(args: argparse.Namespace) -> int:
    options = Options.from_args(args)
    root = repo_root(options.repo_root)
    if options.kind == "github":
        from reviewer.platforms.github.env import refuse_fork_checkout

        refuse_fork_checkout(os.environ, root)
    config = load_config(root or Path.cwd(), options.config, dict(options.config_flags))
    telemetry = open_telemetry(options.telemetry) if options.telemetry else None  # fail early
    platform = PLATFORMS[options.kind](options, root)
    try:
        change = platform.fetch(full=review_all(options, config))
        if options.kind == "diff" and not change.review_input.diff.files:
            print("ai-review: nothing to review: the diff is empty", file=sys.stderr)
            return 0
        result = _review(change, config, options)
        _publish(platform, change, result, options, telemetry)
    finally:  # its HTTP session, whatever happened
        platform.close()
    return exit_code(result, config)


def review_all(options: Options, config: Config) -> bool:
    """Review the whole change, not only what changed since the last review: asked for, or
    a --fail-on gate, which must see every finding (the cache keeps unchanged parts free;
    only the posting then skips what stands already)."""
    return options.full or config.fail_on is not None


KEY_REFUSED = (
    "ai-review: error: the model refused the API key (HTTP 401/403): check AI_REVIEW_API_KEY "
    "or the provider's key variable, and that the key may use this model"
)


def _publish(
    platform: Platform,
    change: Change,
    result: ReviewResult,
    options: Options,
    telemetry: TelemetryFile | None,
) -> None:
    published: Published | None = None
    try:
        published = platform.publish(change, result, dry_run=options.dry_run)
        for line in published.log:  # the job log; stdout carries the report
            print(line, file=sys.stderr)
    finally:  # the review is recorded and reported even when posting it failed
        if telemetry is not None:
            telemetry.record(change, result, published)
        _write_report(result, options)


def _review(change: Change, config: Config, options: Options) -> ReviewResult:
    chosen = route(config, change.identity, options.arm)
    gateway, note = _gateway(chosen, config, posting=options.posting) if chosen else (None, "")
    cache = _cache(chosen, config, change, options.no_cache) if gateway and chosen else None
    with _progress_bar() as progress:
        result = review(
            change.review_input,
            config,
            gateway,
            change.source,
            arm=chosen.arm if chosen else None,
            cache=cache,
            progress=progress,
        )
    return replace(result, summary=replace(result.summary, notes=(note,))) if note else result


def repo_root(flag: str | None) -> Path | None:
    if flag is not None:
        path = Path(flag)
        if not path.is_dir():
            raise UsageError(f"--repo-root {flag} is not a directory")
        return path
    cwd = Path.cwd()
    return cwd if (cwd / ".git").exists() else None


def _changes_cache(cache_dir: Path, change: Change) -> bool:
    """Whether a file of the change lies in the cache directory: the change's paths are
    relative to the checkout, which is the working directory in CI, and a relative cache
    directory is taken as a path inside the repository too."""
    cache = cache_dir.resolve()
    relative = None if cache_dir.is_absolute() else cache_dir.as_posix().removeprefix("./")
    for file in change.review_input.diff.files:
        if (Path.cwd() / file.path).resolve().is_relative_to(cache):
            return True
        if relative and Path(file.path).is_relative_to(relative):
            return True
    return False


def _gateway(chosen: Route, config: Config, *, posting: bool) -> tuple[LiteLLMGateway | None, str]:
    """The model gateway of the route; without its API key, None and a note when the run
    posts to a platform (the key is then missing for a reason the job cannot fix)."""
    gateway = LiteLLMGateway(
        chosen.models,
        api_base=chosen.api_base,
        api_key=os.environ.get("AI_REVIEW_API_KEY") or None,
        timeout_s=config.timeout_s,
        max_retries=config.max_retries,
        temperature=config.temperature,
        extra_headers=resolve_headers(chosen.extra_headers),
    )
    try:
        gateway.check_keys()
    except UsageError as exc:
        if not posting:
            raise
        # A fork's pull request gets no secrets: the built-in checks still run and post, and
        # the summary says what to set, instead of a red job for every outside contributor.
        return None, f"Model review skipped: {exc}."
    return gateway, ""


def _cache(chosen: Route, config: Config, change: Change, disabled: bool) -> ResponseCache | None:
    if disabled or not config.cache_dir:
        return None
    if _changes_cache(Path(config.cache_dir), change):
        # Entry keys can be computed by anyone: a change that writes into the cache could
        # answer its own chunks with "no findings" and pass the gate unreviewed.
        print("ai-review: warning: cache disabled: the change touches the cache directory",
              file=sys.stderr)  # fmt: skip
        return None
    scope = CacheScope(chosen.models, chosen.api_base, config.temperature)
    return ResponseCache(Path(config.cache_dir), scope)


@contextmanager
def _progress_bar() -> Iterator[Progress | None]:
    if not sys.stderr.isatty():
        yield None
        return
    from rich.progress import Progress as RichProgress

    with RichProgress(transient=True, console=_stderr_console()) as bar:
        task = bar.add_task("reviewing chunks", total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


def _stderr_console() -> Any:
    from rich.console import Console

    return Console(stderr=True)


def _write_report(result: ReviewResult, options: Options) -> None:
    to_terminal = options.output is None and sys.stdout.isatty()
    width = os.get_terminal_size().columns if to_terminal else 100
    text = render(result, options.format, width=min(max(width, 60), 160), color=to_terminal)
    if options.output is None:
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    try:
        Path(options.output).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot write --output {options.output}: {exc.strerror}") from exc


def exit_code(result: ReviewResult, config: Config) -> int:
    summary = result.summary
    if summary.chunks and summary.failed_chunks == summary.chunks:
        failed = [call for call in result.calls if call.outcome == "failed"]
        if failed and all(call.key_refused for call in failed):
            print(KEY_REFUSED, file=sys.stderr)
            return 2  # a configuration error: exit 3 would read as an outage and be allowed
        return 3
    if config.fail_on is not None:
        threshold = severity_rank(config.fail_on)
        # A finding left out of the inline comments by --max-comments still remains.
        capped = [d.severity for d in result.dropped if d.code == DropCode.OVER_MAX_COMMENTS]
        severities = [f.severity for f in result.findings] + capped
        if any(severity_rank(severity) <= threshold for severity in severities):
            return 1
    return 0
