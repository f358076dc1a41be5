"""The command line: parse flags, run, and turn every error into one line and an exit code."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from typing import NoReturn

from reviewer import __version__
from reviewer.depth import DEPTHS
from reviewer.errors import ReviewError
from reviewer.model import REPORT_FORMATS, SEVERITIES
from reviewer.usage import Parser

EPILOG = """\
subcommands:
  ai-review stats FILE...   aggregate --telemetry files per arm (see `ai-review stats --help`)
  ai-review eval CASES.jsonl
                            precision, recall, cost and latency per configuration
  ai-review mcp             serve the review over MCP on stdio (needs ai-review[mcp])

environment variables:
  AI_REVIEW_MODEL, AI_REVIEW_FALLBACK_MODELS (comma-separated), AI_REVIEW_API_BASE
                            same as --model, --fallback-model, --api-base
  AI_REVIEW_API_KEY         the model (or gateway) key; provider variables such as
                            OPENAI_API_KEY and ANTHROPIC_API_KEY work too
  GITHUB_TOKEN, GITHUB_API_URL, GITHUB_REPOSITORY, GITHUB_EVENT_PATH, GITHUB_STEP_SUMMARY
                            --github, as GitHub Actions sets them
  AI_REVIEW_GITLAB_TOKEN (or GITLAB_TOKEN), CI_SERVER_URL, CI_PROJECT_ID, CI_MERGE_REQUEST_IID
                            --gitlab, as GitLab CI sets them (the token needs `api` scope)
  AI_REVIEW_DEBUG=1         show the traceback of an internal error

exit codes:
  0  review done (possibly with findings)
  1  a finding at or above --fail-on remains
  2  usage, configuration or input error, or every model refused the request as set up
     (a key, a model name, a gateway's 400/404): one line on stderr says what to fix
  3  the review could not be completed (model or platform unreachable after retries):
     what was done is still reported, and one line on stderr says what failed
"""


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="ai-review",
        description="AI code review for merge requests: inline comments, cost and latency.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
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
    out.add_argument(
        "--format", choices=REPORT_FORMATS, default="text", help="report format (default: text)"
    )
    out.add_argument("--output", metavar="FILE", help="write the report to FILE, not stdout")
    out.add_argument("--telemetry", metavar="FILE", help="append JSON lines per review and call")
    model = parser.add_argument_group("model")
    model.add_argument("--model", metavar="M", help="litellm model, e.g. openai/gpt-4.1-mini")
    model.add_argument(
        "--fallback-model",
        action="append",
        default=[],
        metavar="M",
        help="a model tried when the first fails (repeatable, in order)",
    )
    model.add_argument("--api-base", metavar="URL", help="gateway or proxy base URL")
    model.add_argument("--arm", metavar="NAME", help="force one routing arm")
    model.add_argument("--cache-dir", metavar="DIR", help="cache of reviewed chunks' answers")
    model.add_argument("--no-cache", action="store_true", help="do not read or write the cache")
    review = parser.add_argument_group("review")
    review.add_argument("--config", metavar="PATH", help="config file (default: .ai-review.toml)")
    review.add_argument("--repo-root", metavar="PATH", help="checkout used for context")
    review.add_argument("--max-comments", type=int, metavar="N", help="inline comments at most")
    review.add_argument(
        "--min-severity", choices=SEVERITIES, help="the lowest severity reported (default: low)"
    )
    review.add_argument(
        "--fail-on", choices=SEVERITIES, help="exit 1 when a finding at or above LEVEL remains"
    )
    review.add_argument(
        "--depth",
        choices=DEPTHS,
        help="review depth: auto scales with the change's risk (default: config, else auto)",
    )
    return parser


def _subcommand(name: str) -> Callable[[Sequence[str]], int] | None:
    """The entry point of `ai-review NAME ...`, imported only when it is used."""
    if name == "stats":
        from reviewer.stats import stats_main

        return stats_main
    if name == "eval":
        from reviewer.evaluate.command import eval_main

        return eval_main
    if name == "mcp":  # the MCP SDK is an extra: imported only here, and only when present
        from reviewer.mcp_command import mcp_main

        return mcp_main
    return None


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    try:
        command = _subcommand(args_list[0]) if args_list else None
        if command is not None:
            return command(args_list[1:])
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


def console() -> NoReturn:
    """The `ai-review` command. Once litellm is loaded, tearing the interpreter down takes
    seconds (its hundreds of modules and objects): every file is closed and the report
    written by now, so the process ends at once after flushing its output."""
    code = main()
    if "litellm" not in sys.modules:
        sys.exit(code)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":  # pragma: no cover
    console()
