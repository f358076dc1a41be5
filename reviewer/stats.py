"""`ai-review stats FILE...`: aggregate --telemetry files into figures per arm, model or repo.

It answers "is the open model good enough at 40% of the cost?": per group, latency and cost
(median, 90th percentile, total), tokens, cache hits, findings, failures and how often
reviewers acted on the comments. Only `review` lines count; `call` lines are skipped. A line
that is not a well-formed review line is skipped and counted in a footnote.
"""

from __future__ import annotations

import argparse
import io
import json
import math
import shutil
import statistics
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from reviewer.errors import UsageError
from reviewer.usage import Parser

NO_GROUP = "(none)"
_NUMBERS = ("llm_calls", "prompt_tokens", "completion_tokens", "findings", "failed_chunks")
TEXT_HEADERS = {
    "latency_s_median": "latency median",
    "latency_s_p90": "latency p90",
    "cost_usd_median": "cost median",
    "cost_usd_p90": "cost p90",
    "cost_usd_total": "cost total",
    "tokens_per_review": "tokens/review",
    "cache_hit_rate": "cache hits",
    "findings_per_review": "findings/review",
    "failure_rate": "failed",
    "acceptance_rate": "accepted",
    "addressed_rate": "addressed",
}
COLUMNS = (
    "reviews",
    "latency_s_median",
    "latency_s_p90",
    "cost_usd_median",
    "cost_usd_p90",
    "cost_usd_total",
    "tokens_per_review",
    "cache_hit_rate",
    "findings_per_review",
    "failure_rate",
    "acceptance_rate",
    "addressed_rate",
)


@dataclass(frozen=True)
class Review:
    """The figures of one `review` line that the statistics use."""

    time: datetime
    group: str
    latency_s: float
    cost_usd: float | None
    tokens: int
    llm_calls: int
    cache_hits: int
    findings: int
    failed: bool
    accepted: int | None  # from `acceptance`, when the platform recorded it
    signalled: int | None
    comments: tuple[tuple[str, str], ...] = ()  # (comment key, state) of earlier comments


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="ai-review stats", description="Aggregate --telemetry files.")
    parser.add_argument("files", nargs="+", metavar="FILE", help="telemetry JSON-lines files")
    formats, groups = ("text", "json", "markdown"), ("arm", "model", "repo", "pass")
    parser.add_argument("--format", choices=formats, default="text", help="default: text")
    by = "one row per arm (default), model, repository or review pass"
    parser.add_argument("--group-by", choices=groups, default="arm", help=by)
    parser.add_argument("--since", type=_date, metavar="YYYY-MM-DD", help="reviews from then on")
    return parser


def stats_main(argv: Sequence[str]) -> int:
    args = build_parser().parse_args(list(argv))
    reviews: list[Review] = []
    malformed = 0
    for name in args.files:
        found, bad = read_reviews(_read(name), args.group_by)
        reviews += found
        malformed += bad
    if args.since is not None:
        start = datetime.combine(args.since, datetime.min.time(), tzinfo=UTC)
        reviews = [review for review in reviews if review.time >= start]
    if malformed:
        print(f"ai-review: warning: skipped {_lines(malformed)} not understood", file=sys.stderr)
    groups = aggregate(reviews)
    sys.stdout.write(render(groups, args.format, malformed))
    return 0


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date: {text!r}, use YYYY-MM-DD") from None


def _read(name: str) -> str:
    try:
        return Path(name).read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError as exc:
        raise UsageError(f"telemetry file {name} does not exist") from exc
    except OSError as exc:
        raise UsageError(f"cannot read telemetry file {name}: {exc.strerror}") from exc


def read_reviews(text: str, group_by: str) -> tuple[list[Review], int]:
    """The review lines of a telemetry file, and how many lines were not understood."""
    reviews: list[Review] = []
    malformed = 0
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            if isinstance(data, dict) and data.get("type") != "review":
                continue  # call lines, and line types added later
            if group_by == "pass":
                reviews += per_pass(data)
            else:
                reviews.append(parse_review(data, group_by))
        except (ValueError, KeyError, TypeError):
            malformed += 1
    return reviews, malformed


def parse_review(data: Any, group_by: str) -> Review:
    """Raises ValueError, KeyError or TypeError when the line lacks a figure stats needs."""
    if not isinstance(data, dict):
        raise TypeError("not an object")
    numbers = {key: _count(data[key]) for key in _NUMBERS}
    accepted, signalled = _acceptance(data.get("acceptance"))
    return Review(
        time=_time(data["time"]),
        group=_group(data, group_by),
        latency_s=_latency(data["latency_s"]),
        cost_usd=None if data["cost_usd"] is None else _number(data["cost_usd"]),
        tokens=numbers["prompt_tokens"] + numbers["completion_tokens"],
        llm_calls=numbers["llm_calls"],
        cache_hits=0 if data.get("cache_hits") is None else _count(data["cache_hits"]),
        findings=numbers["findings"],
        failed=numbers["failed_chunks"] > 0,
        accepted=accepted,
        signalled=signalled,
        comments=_comments(data.get("comments")),
    )


def per_pass(data: Any) -> list[Review]:
    """One entry per pass (and the verifier) of a review line, with that pass's figures; a
    line from before passes existed counts whole under NO_GROUP."""
    whole = parse_review(data, "pass")
    passes = data.get("by_pass")
    if not isinstance(passes, dict) or not passes:
        return [whole]
    return [
        replace(
            whole,
            group=str(name),
            latency_s=_number(figures["latency_s"]),
            cost_usd=None if figures["cost_usd"] is None else _number(figures["cost_usd"]),
            tokens=_count(figures["prompt_tokens"]) + _count(figures["completion_tokens"]),
            llm_calls=_count(figures["calls"]),
            cache_hits=0,
            failed=_count(figures["failed"]) > 0,
        )
        for name, figures in passes.items()
    ]


def _group(data: dict[str, Any], group_by: str) -> str:
    if group_by == "model":
        models = data.get("models")
        value = models[0] if isinstance(models, list) and models else None
    else:
        value = data.get(group_by)
    return NO_GROUP if value is None or value == "" else str(value)


def _time(value: Any) -> datetime:
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _latency(value: Any) -> float:
    return _number(value["total"] if isinstance(value, dict) else value)


def _acceptance(value: Any) -> tuple[int | None, int | None]:
    if not isinstance(value, dict):
        return None, None
    try:
        return _count(value["accepted"]), _count(value["signalled"])
    except (KeyError, TypeError):
        return None, None  # an acceptance this version cannot read does not spoil the line


def _comments(value: Any) -> tuple[tuple[str, str], ...]:
    if not isinstance(value, list):
        return ()
    items = [c for c in value if isinstance(c, dict)]
    return tuple((str(c["key"]), str(c["state"])) for c in items if "key" in c and "state" in c)


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise TypeError("not a number")
    return float(value)


def _count(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise TypeError("not a count")
    return value


def aggregate(reviews: Iterable[Review]) -> dict[str, dict[str, Any]]:
    """The contract's figures per group, groups sorted by name."""
    grouped: dict[str, list[Review]] = {}
    for review in reviews:
        grouped.setdefault(review.group, []).append(review)
    return {name: group_figures(grouped[name]) for name in sorted(grouped)}


def group_figures(reviews: list[Review]) -> dict[str, Any]:
    count = len(reviews)
    latencies = [r.latency_s for r in reviews]
    costs = [r.cost_usd for r in reviews if r.cost_usd is not None]  # unknown prices left out
    calls = sum(r.llm_calls + r.cache_hits for r in reviews)
    return {
        "reviews": count,
        "latency_s_median": round(statistics.median(latencies), 3),
        "latency_s_p90": round(percentile(latencies, 90), 3),
        "cost_usd_median": _rounded(statistics.median(costs) if costs else None, 8),
        "cost_usd_p90": _rounded(percentile(costs, 90) if costs else None, 8),
        "cost_usd_total": _rounded(math.fsum(costs) if costs else None, 8),
        "tokens_per_review": round(sum(r.tokens for r in reviews) / count, 1),
        "cache_hit_rate": _ratio(sum(r.cache_hits for r in reviews), calls),
        "findings_per_review": round(sum(r.findings for r in reviews) / count, 3),
        "failure_rate": _ratio(sum(r.failed for r in reviews), count),
        "acceptance_rate": _acceptance_rate(reviews),
        "addressed_rate": _addressed_rate(reviews),
    }


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile: the smallest value with at least pct% of values at or below."""
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


def _acceptance_rate(reviews: list[Review]) -> float | None:
    """Weighted by comments: accepted over signalled comments, over reviews that carry it."""
    accepted = sum(r.accepted or 0 for r in reviews)
    return _ratio(accepted, sum(r.signalled or 0 for r in reviews))


def _addressed_rate(reviews: list[Review]) -> float | None:
    """Addressed among the earlier comments, each counted once in its latest state: a review
    rerun many times weighs no more than one run."""
    latest: dict[str, str] = {}
    for review in sorted(reviews, key=lambda r: r.time):
        latest.update(review.comments)
    return _ratio(sum(state == "addressed" for state in latest.values()), len(latest))


def _ratio(part: float, whole: float) -> float | None:
    return round(part / whole, 4) if whole else None


def _rounded(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def _lines(count: int) -> str:
    return f"{count} line" if count == 1 else f"{count} lines"


def render(groups: dict[str, dict[str, Any]], fmt: str, malformed: int) -> str:
    if fmt == "json":
        return json.dumps({"groups": groups}, indent=2) + "\n"
    footnote = f"Skipped {_lines(malformed)} not understood." if malformed else ""
    if fmt == "markdown":
        return _markdown(groups, footnote)
    return _text(groups, footnote)


def _cell(column: str, value: Any) -> str:
    if value is None:
        return "-"
    if column.startswith("cost_usd"):
        return f"${value:.4f}"
    if column.endswith("_rate"):
        return f"{value:.0%}"
    if column.startswith("latency"):
        return f"{value:.1f} s"
    if column == "tokens_per_review":
        return f"{value:,.0f}"
    return f"{value:,}" if isinstance(value, int) else f"{value:,.1f}"


def _markdown(groups: dict[str, dict[str, Any]], footnote: str) -> str:
    header = "| group | " + " | ".join(COLUMNS) + " |"
    rule = "|---|" + "---:|" * len(COLUMNS)
    rows = [
        f"| {_escape(name)} | " + " | ".join(_cell(c, figures[c]) for c in COLUMNS) + " |"
        for name, figures in groups.items()
    ]
    text = "\n".join([header, rule, *rows]) + "\n"
    return text + (f"\n{footnote}\n" if footnote else "")


def _escape(name: str) -> str:
    return " ".join(name.split()).replace("|", "\\|")


MAX_TEXT_WIDTH = 100
GROUP_WIDTH = 24  # longer names (model strings, repositories) wrap within it
# The text report is two tables, so each fits 100 columns (a CI log, a 120-column terminal):
# what a review costs, then what it found. A column added to COLUMNS joins the second.
SPEND_COLUMNS = frozenset(c for c in COLUMNS if c.startswith(("latency", "cost", "tokens")))


def _text(groups: dict[str, dict[str, Any]], footnote: str) -> str:
    from rich.console import Console

    if not groups:
        return "No reviews in the telemetry files.\n" + (f"{footnote}\n" if footnote else "")
    spend = [c for c in COLUMNS if c == "reviews" or c in SPEND_COLUMNS]
    found = [c for c in COLUMNS if c not in SPEND_COLUMNS]
    buffer = io.StringIO()
    width = shutil.get_terminal_size().columns if sys.stdout.isatty() else MAX_TEXT_WIDTH
    console = Console(file=buffer, width=min(width, MAX_TEXT_WIDTH), markup=False, emoji=False,
                      highlight=False)  # fmt: skip
    console.print(_table("ai-review stats: cost and latency", groups, spend, ""))
    console.print(_table("ai-review stats: findings and outcomes", groups, found, footnote))
    return buffer.getvalue()


def _table(title: str, groups: dict[str, dict[str, Any]], columns: list[str], note: str) -> Any:
    from rich.table import Table
    from rich.text import Text

    table = Table(title=title, title_justify="left", caption=note or None)
    table.add_column("group", min_width=12, max_width=GROUP_WIDTH, overflow="fold")
    for column in columns:
        header = TEXT_HEADERS.get(column, column).replace(" ", "\n").replace("/", "/\n")
        table.add_column(header, justify="right", no_wrap=True)
    for name, figures in groups.items():
        table.add_row(Text(name), *(_cell(c, figures[c]) for c in columns))
    return table
