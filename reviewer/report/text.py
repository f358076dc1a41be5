"""Terminal output (`--format text`), rendered with rich into a string.

Model text is only ever put into `Text` objects (and `Syntax` for code), never parsed as rich
markup: "[bold]" or "[/]" in an answer prints literally and cannot break the output. Every
string from the model or the change passes `terminal_safe` first: no ESC sequence reaches the
terminal and no workflow command (`::error::`, `::add-mask::`) the Actions log would run.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from functools import lru_cache

from pygments.lexers import get_lexer_for_filename  # type: ignore[import-untyped]
from pygments.util import ClassNotFound  # type: ignore[import-untyped]
from rich import box
from rich.console import Console, RenderableType
from rich.padding import Padding
from rich.rule import Rule
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text

from reviewer.model import Finding, ReviewResult, Summary
from reviewer.report.common import (
    by_severity,
    depth_rows,
    format_cost,
    format_seconds,
    listed_drops,
    location,
    one_line,
    side_note,
    verdict,
)
from reviewer.report.reasons import dropped_reason, skipped_reason
from reviewer.sanitize import terminal_safe

SEVERITY_STYLES = {
    "critical": "bold white on red",
    "high": "bold red",
    "medium": "yellow",
    "low": "cyan",
}


def to_text(result: ReviewResult, *, width: int, color: bool) -> str:
    buffer = io.StringIO()
    console = Console(
        file=buffer,
        width=width,
        force_terminal=color,
        color_system="256" if color else None,
        markup=False,
        emoji=False,
        highlight=False,
    )
    for renderable in _renderables(result):
        console.print(renderable)
    return buffer.getvalue()


def lexer_for(path: str) -> str:
    """The pygments lexer alias for a file name, or "text" when none fits."""
    return _lexer_for(path.rsplit("/", 1)[-1])


@lru_cache(maxsize=256)
def _lexer_for(filename: str) -> str:
    try:
        lexer = get_lexer_for_filename(filename)
    except ClassNotFound:
        return "text"
    aliases: list[str] = lexer.aliases
    return aliases[0] if aliases else "text"


def _renderables(result: ReviewResult) -> Iterator[RenderableType]:
    yield Text(f"AI review: {verdict(result)}", style="bold")
    for severity, findings in by_severity(result.findings):
        yield Rule(Text(f"{severity.capitalize()} ({len(findings)})", style="bold"), align="left")
        for finding in findings:
            yield from _finding(finding)
    if dropped_list := listed_drops(result):
        yield Rule(Text("Not posted inline"), align="left")
        for dropped in dropped_list:
            where = dropped.path if dropped.line is None else f"{dropped.path}:{dropped.line}"
            yield _item(where, one_line(dropped.title), dropped_reason(dropped))  # made safe there
    if result.summary.files_skipped:
        yield Rule(Text("Not reviewed"), align="left")
        for skipped in result.summary.files_skipped:
            yield _item(skipped.path, "", skipped_reason(skipped))
    yield from _summary(result.summary)


def _finding(finding: Finding) -> Iterator[RenderableType]:
    severity = finding.severity
    yield Text.assemble(
        (f"{severity.upper()}", SEVERITY_STYLES.get(severity, "")),
        " ",
        (f"[{finding.category}]", "dim"),
        " ",
        (terminal_safe(one_line(finding.title)), "bold"),
    )
    yield Text(terminal_safe(f"  {location(finding)}{side_note(finding)}"), style="dim")
    lexer = lexer_for(finding.path)
    if finding.code:
        yield Padding(
            _syntax(finding.code, lexer, start_line=finding.line), (0, 0, 0, 2), expand=False
        )
    if finding.body.strip():
        yield Padding(Text(terminal_safe(finding.body.strip())), (0, 0, 0, 2), expand=False)
    if finding.suggestion:
        yield Text("  Suggested change:", style="green")
        yield Padding(_syntax(finding.suggestion, lexer), (0, 0, 0, 4), expand=False)
    yield Text("")


def _syntax(code: str, lexer: str, start_line: int | None = None) -> Syntax:
    return Syntax(
        terminal_safe(code.rstrip("\n")),
        lexer,
        line_numbers=start_line is not None,
        start_line=start_line or 1,
        word_wrap=True,
        background_color="default",
    )


def _item(where: str, title: str, reason: str) -> Text:
    text = Text.assemble("  ", (terminal_safe(where), "bold"))
    if title:
        text.append(terminal_safe(f"  {title}"))
    text.append(terminal_safe(f"  ({one_line(reason)})"), style="dim")
    return text


def _summary(summary: Summary) -> Iterator[RenderableType]:
    table = Table(title="Summary", show_header=False, box=box.SIMPLE, title_justify="left")
    table.add_column("figure", style="bold")
    table.add_column("value")
    for name, value in _summary_rows(summary):
        table.add_row(Text(name), Text(terminal_safe(value)))
    yield table
    if summary.notes:
        yield Text(terminal_safe(f"Note: {' '.join(summary.notes)}"), style="italic")
    for error in summary.errors:
        yield Text(terminal_safe(f"Error: {error}"), style="red")


def _summary_rows(summary: Summary) -> list[tuple[str, str]]:
    return [
        ("Models", ", ".join(summary.models) or "none"),
        ("Arm", summary.arm or "-"),
        ("Chunks", str(summary.chunks)),
        ("Failed chunks", str(summary.failed_chunks)),
        ("Model calls", str(summary.llm_calls)),
        *_retry_rows(summary),
        ("Prompt tokens", f"{summary.prompt_tokens:,}"),
        ("Completion tokens", f"{summary.completion_tokens:,}"),
        ("Cached tokens", f"{summary.cached_tokens:,}"),
        ("Cost USD", format_cost(summary.cost_usd)),
        ("Latency total", format_seconds(summary.latency_total_s)),
        ("Latency model", format_seconds(summary.latency_llm_s)),
        ("Files reviewed", str(summary.files_reviewed)),
        ("Cache hits", _cache_hits(summary)),
        *depth_rows(summary),
    ]


def _retry_rows(summary: Summary) -> list[tuple[str, str]]:
    rows = [("Retries", str(summary.retries))] if summary.retries else []
    if summary.fallback_calls:
        rows.append(("Fallback answers", str(summary.fallback_calls)))
    return rows


def _cache_hits(summary: Summary) -> str:
    if summary.cache_hits is None:
        return "-"
    if not summary.cache_hits or summary.saved_usd is None:
        return str(summary.cache_hits)
    return f"{summary.cache_hits} ({format_cost(summary.saved_usd)} saved)"
