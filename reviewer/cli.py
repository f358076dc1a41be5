"""The command line: parse flags, run, and turn every error into one line and an exit code."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from reviewer import __version__
from reviewer.errors import ReviewError
from reviewer.model import REPORT_FORMATS, SEVERITIES
from reviewer.usage import Parser


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="ai-review",
        description="AI code review for merge requests: inline comments, cost and latency.",
        epilog="Subcommand: `ai-review stats FILE...` aggregates --telemetry files per arm.",
    )
    parser.add_argument("--version", action="version", version=f"ai-review {__version__}")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--diff", metavar="PATH", help="review a unified diff file (- for stdin)")
    source.add_argument("--github", action="store_true", help="review and post to a GitHub PR")
    source.add_argument("--gitlab", action="store_true", help="review and post to a GitLab MR")
    where = parser.add_argument_group("platform outside CI")
    where.add_argument("--repo", metavar="OWNER/NAME", help="GitHub repository")
    where.add_argument("--pr", type=int, metavar="N", help="GitHub pull request number")
    where.add_argument("--project", metavar="ID_OR_PATH", help="GitLab project")
    where.add_argument("--mr", type=int, metavar="IID", help="GitLab merge request IID")
    where.add_argument("--dry-run", action="store_true", help="review for real, post nothing")
    where.add_argument("--full", action="store_true", help="review the whole change, not the delta")
    out = parser.add_argument_group("output")
    out.add_argument("--format", choices=REPORT_FORMATS, default="text")
    out.add_argument("--output", metavar="FILE", help="write the report to FILE")
    out.add_argument("--telemetry", metavar="FILE", help="append JSON lines per review and call")
    model = parser.add_argument_group("model")
    model.add_argument("--model", metavar="M", help="litellm model, e.g. openai/gpt-4.1-mini")
    model.add_argument("--fallback-model", action="append", default=[], metavar="M")
    model.add_argument("--api-base", metavar="URL", help="gateway or proxy base URL")
    model.add_argument("--arm", metavar="NAME", help="force one routing arm")
    model.add_argument("--cache-dir", metavar="DIR", help="cache of reviewed chunks' answers")
    model.add_argument("--no-cache", action="store_true", help="do not read or write the cache")
    review = parser.add_argument_group("review")
    review.add_argument("--config", metavar="PATH", help="config file (default: .ai-review.toml)")
    review.add_argument("--repo-root", metavar="PATH", help="checkout used for context")
    review.add_argument("--max-comments", type=int, metavar="N")
    review.add_argument("--min-severity", choices=SEVERITIES)
    review.add_argument("--fail-on", choices=SEVERITIES)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    try:
        if args_list[:1] == ["stats"]:
            from reviewer.stats import stats_main

            return stats_main(args_list[1:])
        args = build_parser().parse_args(args_list)
        from reviewer.run import run

        return run(args)
    except ReviewError as exc:
        print(f"ai-review: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except SystemExit as exc:  # --help and --version print and stop: main still returns
        return exc.code if isinstance(exc.code, int) else 0
    except KeyboardInterrupt:
        print("ai-review: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # pragma: no cover - a bug; Python's exit 1 would read as findings
        if os.environ.get("AI_REVIEW_DEBUG"):
            raise
        print(
            f"ai-review: internal error ({type(exc).__name__}): rerun with AI_REVIEW_DEBUG=1 "
            "for the traceback, and please report it",
            file=sys.stderr,
        )
        return 3


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
