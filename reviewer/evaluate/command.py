"""`ai-review eval CASES.jsonl ...` and `ai-review eval import ...`: flags in, report out."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from reviewer.errors import InputError, UsageError
from reviewer.evaluate.cases import load_cases
from reviewer.evaluate.matching import DEFAULT_MATCH_LINES
from reviewer.evaluate.report import render_report, report_data
from reviewer.evaluate.runner import CaseProgress, EvalOptions, Variant, evaluate
from reviewer.model import SEVERITIES
from reviewer.usage import Parser

FORMATS = ("text", "json", "markdown")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="ai-review eval",
        description="Review cases with known answers; report precision, recall, cost, latency.",
        epilog="`ai-review eval import aacr|martian --help`: turn public benchmarks into cases.",
    )
    parser.add_argument("cases", metavar="CASES.jsonl", help="one JSON case per line")
    parser.add_argument(
        "--variant",
        action="append",
        default=[],
        metavar="NAME=CONFIG.toml",
        help="a configuration to evaluate (repeatable; the first is the baseline)",
    )
    parser.add_argument("--judge", default="location", metavar="MODEL|location",
                        help="model that decides whether a finding raises a golden comment's "
                        "issue (default: location alone)")  # fmt: skip
    parser.add_argument("--judge-api-base", metavar="URL", help="gateway for the judge model")
    parser.add_argument(
        "--match-lines",
        type=int,
        default=DEFAULT_MATCH_LINES,
        metavar="N",
        help="a finding within N lines of a golden comment may match it",
    )
    saved = parser.add_mutually_exclusive_group()
    saved.add_argument("--record", metavar="DIR", help="store every model answer in DIR")
    saved.add_argument("--replay", metavar="DIR", help="answer from DIR: no network call")
    parser.add_argument("--format", choices=FORMATS, default="text")
    parser.add_argument("--output", metavar="FILE", help="write the report to FILE")
    review = parser.add_argument_group("review settings for every variant")
    review.add_argument("--model", metavar="M")
    review.add_argument("--fallback-model", action="append", default=[], metavar="M")
    review.add_argument("--api-base", metavar="URL")
    review.add_argument("--config", metavar="PATH", help="config file without --variant")
    review.add_argument("--max-comments", type=int, metavar="N")
    review.add_argument("--min-severity", choices=SEVERITIES)
    return parser


def eval_main(argv: Sequence[str]) -> int:
    if list(argv[:1]) == ["import"]:
        from reviewer.evaluate.importers import import_main

        return import_main(list(argv[1:]))
    args = build_parser().parse_args(list(argv))
    options = _options(args)
    cases = load_cases(Path(args.cases))
    unplaced = sum(g.path is None for case in cases for g in case.golden)
    if unplaced and options.judge == "location":
        print(
            f"ai-review: warning: {unplaced} golden comments have no location, and "
            "--judge location cannot match them: use --judge MODEL",
            file=sys.stderr,
        )
    with _progress_bar() as progress:
        evaluation = evaluate(cases, options, progress)
    data = report_data(evaluation, options.match_lines)
    _write(render_report(data, args.format, width=_width()), args.output)
    return _exit_code(evaluation.outcomes)


def _options(args: argparse.Namespace) -> EvalOptions:
    if args.match_lines < 0:
        raise UsageError("--match-lines must be 0 or more")
    if args.replay is not None and not Path(args.replay).is_dir():
        raise UsageError(f"--replay {args.replay} is not a directory (made with --record)")
    variants = tuple(_variant(text) for text in args.variant) or (Variant("default", args.config),)
    names = [v.name for v in variants]
    if len(set(names)) != len(names):
        raise UsageError("--variant names must be unique")
    return EvalOptions(
        variants=variants,
        flags=_flags(args),
        match_lines=args.match_lines,
        judge=args.judge,
        judge_api_base=args.judge_api_base,
        record=Path(args.record) if args.record else None,
        replay=Path(args.replay) if args.replay else None,
    )


def _variant(text: str) -> Variant:
    name, sep, path = text.partition("=")
    if not sep or not name.strip() or not path:
        raise UsageError(f"--variant {text}: write it as NAME=CONFIG.toml")
    return Variant(name.strip(), path)


def _flags(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "model": args.model,
        "fallback_models": args.fallback_model,
        "api_base": args.api_base,
        "max_comments": args.max_comments,
        "min_severity": args.min_severity,
    }


def _exit_code(outcomes: Sequence[Any]) -> int:
    incomplete = sum(o.incomplete for o in outcomes)
    if incomplete:
        print(
            f"ai-review: warning: {incomplete} of {len(outcomes)} reviews are incomplete "
            "(model calls failed); their figures count only what was reviewed",
            file=sys.stderr,
        )
    return 3 if outcomes and incomplete == len(outcomes) else 0


def _width() -> int:
    import shutil

    return min(max(shutil.get_terminal_size().columns, 80), 200) if sys.stdout.isatty() else 120


def _write(text: str, output: str | None) -> None:
    if output is None:
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    try:
        Path(output).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot write --output {output}: {exc.strerror}") from exc


@contextmanager
def _progress_bar() -> Iterator[CaseProgress | None]:
    if not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import Progress

    with Progress(transient=True, console=Console(stderr=True)) as bar:
        task = bar.add_task("evaluating cases", total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update
