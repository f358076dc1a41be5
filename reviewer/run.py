"""One run of the tool: configuration, the platform, the review, the report, the exit code."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

from reviewer.cache import CacheScope, ResponseCache, holds_entries
from reviewer.config import Config
from reviewer.engine import Progress, review
from reviewer.errors import InputError, UsageError
from reviewer.gateway import LiteLLMGateway, preload
from reviewer.mcp_support import context_tools, require_mcp
from reviewer.model import ReviewResult, Summary
from reviewer.options import Options
from reviewer.outcome import outcome
from reviewer.platforms.base import Change, Platform, Published
from reviewer.pricing import missing_key
from reviewer.redact import redact_text
from reviewer.report import render
from reviewer.routing import Route, review_gateway, route
from reviewer.telemetry import TelemetryFile, open_telemetry
from reviewer.toolbox import ToolBox
from reviewer.trust import (
    BaseRevision,
    TrustedConfig,
    load_trusted_config,
    not_used_notes,
    without_edited_templates,
)


def _local(options: Options, root: Path | None) -> tuple[Platform, TrustedConfig]:
    from reviewer.platforms.local import LocalDiff

    assert options.diff is not None  # the kind is "diff" exactly when --diff is given
    return LocalDiff(options.diff, root), local_config(options, root)


def local_config(options: Options, root: Path | None) -> TrustedConfig:
    """A local run's config: the checkout's own file (it is the user's), paths confined."""
    return load_trusted_config(root, options.config, dict(options.config_flags), None)


def _github(options: Options, root: Path | None) -> tuple[Platform, TrustedConfig]:
    """The pull request's API session, first used to read the config at the base commit."""
    from reviewer.platforms.github import api as github_api
    from reviewer.platforms.github import env as github_env
    from reviewer.platforms.github import platform as github

    github_env.refuse_fork_checkout(os.environ, root)
    api = github_api.GitHubAPI(github_env.detect(options.repo, options.pr, os.environ))
    base = BaseRevision(
        _checkout(root),
        github_env.base_shas(os.environ),
        lambda paths: github_api.read_at_base(api, paths),  # the pull request is read once
    )
    with _closed_on_error(api):
        trusted = load_trusted_config(root, options.config, dict(options.config_flags), base)
        platform = github.from_environment(options.repo, options.pr, root, os.environ, api)
        return platform, trusted


def _gitlab(options: Options, root: Path | None) -> tuple[Platform, TrustedConfig]:
    """The merge request's API session, first used to read the config at the base commit."""
    from reviewer.platforms.gitlab import api as gitlab_api
    from reviewer.platforms.gitlab import env as gitlab_env
    from reviewer.platforms.gitlab import platform as gitlab

    api = gitlab_api.connect(gitlab_env.detect(options.project, options.mr, os.environ))
    hinted = os.environ.get("CI_MERGE_REQUEST_DIFF_BASE_SHA", "").strip()
    base = BaseRevision(
        _checkout(root),
        frozenset({hinted} if hinted else ()),
        lambda paths: gitlab_api.read_at_base(api, paths, hinted or None),
    )
    with _closed_on_error(api):
        trusted = load_trusted_config(root, options.config, dict(options.config_flags), base)
        platform = gitlab.from_environment(options.project, options.mr, root, os.environ, api)
        return platform, trusted


def _checkout(root: Path | None) -> str | None:
    from reviewer.platforms.common import checkout_head

    return checkout_head(root) if root is not None else None


@contextmanager
def _closed_on_error(api: Any) -> Iterator[None]:
    try:
        yield
    except BaseException:
        api.close()
        raise


# Each returns the platform and the run's config, read where that platform trusts it.
PLATFORMS: dict[str, Callable[[Options, Path | None], tuple[Platform, TrustedConfig]]]
PLATFORMS = {"diff": _local, "github": _github, "gitlab": _gitlab}


def run(args: argparse.Namespace) -> int:
    options = Options.from_args(args)
    kind = options.kind
    root = repo_root(options.repo_root)
    platform, trusted = PLATFORMS[kind](options, root)
    config = trusted.config
    if config.mcp_servers:
        require_mcp("[[mcp_servers]] in the config")  # one line saying what to install
    _warm_up(config, options.no_cache)
    try:
        telemetry = open_telemetry(options.telemetry) if options.telemetry else None  # early
        change = platform.fetch(full=review_all(options, config))
        if kind == "diff" and not change.review_input.diff.files:
            print("ai-review: nothing to review: the diff is empty", file=sys.stderr)
            _write_report(ReviewResult((), (), Summary()), options)  # a CI artifact is expected
            return 0
        template_note = ""
        if kind != "diff":  # the checkout may hold the change's own templates
            checkout = root or Path.cwd()
            config, template_note = without_edited_templates(config, change.touched, checkout)
        result = _review(change, config, options)
        result = _with_notes(result, change, trusted, template_note)
        _publish(platform, change, result, options, telemetry)
    finally:  # its HTTP session, whatever happened
        platform.close()
    return exit_code(result, config)


def _warm_up(config: Config, no_cache: bool) -> None:
    """A run that will send something loads litellm while it fetches and prepares the
    change; one whose cache may answer everything waits to know (a cached rerun never
    loads it)."""
    cache = config.cache_dir if not no_cache else None
    if cache and holds_entries(Path(cache)):
        return
    keyless = config.model and not os.environ.get("AI_REVIEW_API_KEY") and missing_key(config.model)
    if (config.model or config.arms) and not keyless:  # a fork's PR without a key sends nothing
        preload()


def review_all(options: Options, config: Config) -> bool:
    """Review the whole change, not only what changed since the last review: asked for, or
    a --fail-on gate, which must see every finding (the cache keeps unchanged parts free;
    only the posting then skips what stands already)."""
    return options.full or config.fail_on is not None


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
    posting = options.posting
    gateway, note = _gateway(chosen, config, change, posting=posting) if chosen else (None, "")
    cache, cache_note = (
        _cache(chosen, config, change, options.no_cache) if gateway and chosen else (None, "")
    )
    servers = config.mcp_servers if gateway is not None and config.tools else ()
    with (
        _progress_bar() as progress,
        _servers_cwd(bool(servers) and options.kind != "diff") as cwd,
        context_tools(servers, os.environ, cwd=cwd) as (boxes, notes),
    ):
        result = review(
            change.review_input,
            config,
            gateway,
            change.source,
            arm=chosen.arm if chosen else None,
            cache=cache,
            progress=progress,
            toolboxes=_toolboxes(change, config) + boxes,
        )
    warnings = cache_warnings(cache, cache_note)
    for line in warnings:  # the job log too: a cache that stopped working costs money
        print(f"ai-review: warning: {line}", file=sys.stderr)
    # A skipped model review replaces the engine's "no model" note; the engine's other notes
    # (an unknown price under a cost cap) stay next to the servers' and the cache's.
    kept = (note,) if note else result.summary.notes
    more = tuple(part for part in (*kept, *notes, *map(as_note, warnings)) if part)
    return replace(result, summary=replace(result.summary, notes=more))


def cache_warnings(cache: ResponseCache | None, why_off: str) -> tuple[str, ...]:
    """What the user should hear about the cache: why it was off, or what went wrong in it."""
    return (why_off,) if why_off else cache.notes if cache else ()


def as_note(warning: str) -> str:
    """A warning line as a sentence of the summary's notes."""
    return f"{warning[:1].upper()}{warning[1:]}."


@contextmanager
def _servers_cwd(outside_checkout: bool) -> Iterator[Path | None]:
    """Where stdio MCP servers start. On a platform run the checkout holds the change: a
    trusted `python -m docs_mcp` or `./scripts/server` started there would run its files, with
    the server's secrets. There they start in an empty directory; elsewhere, where we are."""
    if not outside_checkout:
        yield None
        return
    with tempfile.TemporaryDirectory(prefix="ai-review-mcp-") as folder:
        yield Path(folder)


def _with_notes(
    result: ReviewResult, change: Change, trusted: TrustedConfig, *more: str
) -> ReviewResult:
    """The summary says what the change brought that was not used (see trust.py)."""
    not_used = not_used_notes(change.touched, change.source, trusted)
    # Notes quote what servers and gateways said (an MCP server's error, a URL): redacted,
    # since the summary is posted where everyone on the merge request reads it.
    parts = (*result.summary.notes, *not_used, *more)
    notes = tuple(redact_text(part) for part in parts if part)
    return replace(result, summary=replace(result.summary, notes=notes))


def _toolboxes(change: Change, config: Config) -> tuple[ToolBox, ...]:
    """What the model may call with `tools = true`: the repository at the reviewed commit."""
    if not config.tools:
        return ()
    from reviewer.tools import repository_tools

    return (repository_tools(change.source),)


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
    for file in change.touched.files:  # an incremental rerun: the whole change, still
        try:
            resolved = (Path.cwd() / file.path).resolve()
        except (OSError, RuntimeError):  # a symlink loop: it leads nowhere, nor into the cache
            continue
        if resolved.is_relative_to(cache):
            return True
        if relative and Path(file.path).is_relative_to(relative):
            return True
    return False


def _gateway(
    chosen: Route, config: Config, change: Change, *, posting: bool
) -> tuple[LiteLLMGateway | None, str]:
    """The model gateway of the route; without its API key, None and a note when the run
    posts to a platform (the key is then missing for a reason the job cannot fix)."""
    gateway = review_gateway(chosen, config, repo=change.repo, number=change.number)
    try:
        gateway.check_keys()
    except UsageError as exc:
        if not posting:
            raise
        # A fork's pull request gets no secrets: the built-in checks still run and post, and
        # the summary says what to set, instead of a red job for every outside contributor.
        return None, f"Model review skipped: {exc}."
    return gateway, ""


def _cache(
    chosen: Route, config: Config, change: Change, disabled: bool
) -> tuple[ResponseCache | None, str]:
    """The review's response cache, or None and why not when the user should know."""
    if disabled or not config.cache_dir:
        return None, ""
    if _changes_cache(Path(config.cache_dir), change):
        # Entry keys can be computed by anyone: a change that writes into the cache could
        # answer its own chunks with "no findings" and pass the gate unreviewed.
        return None, "cache disabled: the change touches the cache directory"
    scope = CacheScope(chosen.models, chosen.api_base, config.temperature)
    return ResponseCache(Path(config.cache_dir), scope), ""


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
    decided = outcome(result, config.fail_on)
    if decided.line:
        print(decided.line, file=sys.stderr)
    return decided.code
