"""The command line as one frozen value, built once from argparse's namespace: nothing below
the run reads flags, and the run turns options and config into decisions (`review_all`)."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from typing import Any, Literal

from reviewer.errors import UsageError

Kind = Literal["diff", "github", "gitlab"]
# Flags that override config keys (flag > environment > file > default).
CONFIG_FLAGS = {
    "model": "model",
    "fallback_models": "fallback_model",
    "api_base": "api_base",
    "max_comments": "max_comments",
    "min_severity": "min_severity",
    "fail_on": "fail_on",
    "cache_dir": "cache_dir",
    "depth": "depth",
}


@dataclass(frozen=True)
class Options:
    kind: Kind
    diff: str | None = None
    repo: str | None = None
    pr: int | None = None
    project: str | None = None
    mr: int | None = None
    dry_run: bool = False
    full: bool = False
    format: str = "text"
    output: str | None = None
    telemetry: str | None = None
    arm: str | None = None
    no_cache: bool = False
    config: str | None = None
    repo_root: str | None = None
    config_flags: tuple[tuple[str, Any], ...] = field(default=())

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> Options:
        flags = tuple((key, getattr(args, name)) for key, name in CONFIG_FLAGS.items())
        return cls(
            kind=_kind(args),
            diff=args.diff,
            repo=args.repo,
            pr=args.pr,
            project=args.project,
            mr=args.mr,
            dry_run=args.dry_run,
            full=args.full,
            format=args.format,
            output=args.output,
            telemetry=args.telemetry,
            arm=args.arm,
            no_cache=args.no_cache,
            config=args.config,
            repo_root=args.repo_root,
            config_flags=flags,
        )

    @property
    def posting(self) -> bool:
        """Whether the run posts to a platform (a dry run still reads one)."""
        return self.kind != "diff"


def _kind(args: argparse.Namespace) -> Kind:
    if args.diff is not None:
        return "diff"
    if args.github or args.gitlab:
        return "github" if args.github else "gitlab"
    raise UsageError("say what to review: --diff PATH, --github or --gitlab (see --help)")
