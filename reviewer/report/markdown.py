"""The pull/merge request summary comment (`--format markdown`).

Everything the model wrote goes through `sanitize_markdown` (prose) or `fenced` (code): a
comment must never ping people, render model-written HTML or show images from elsewhere.
"""

from __future__ import annotations

from pathlib import PurePosixPath

from reviewer.model import Dropped, Finding, ReviewResult, Skipped, Summary
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
from reviewer.sanitize import MAX_COMMENT_CHARS, fenced, inline_code, sanitize_markdown, truncate

MAX_TITLE_CHARS = 300
MAX_BODY_CHARS = 4_000  # per finding, so one long answer cannot crowd out the others
MAX_SUGGESTION_CHARS = 4_000
MAX_ERRORS_SHOWN = 10


def to_markdown(result: ReviewResult, *, marker: str = "", head_sha: str | None = None) -> str:
    head = f"## AI review\n\n{verdict(result)}"
    if marker:  # first, so the platform code finds its own comment again
        head = f"{marker}\n{head}"
    footer = _details(result.summary, head_sha)
    middle = "\n\n".join(
        section
        for section in (
            _findings_section(result.findings),
            _dropped_section(listed_drops(result)),
            _skipped_section(result.summary.files_skipped),
        )
        if section
    )
    budget = MAX_COMMENT_CHARS - len(head) - len(footer) - 8
    middle = truncate(middle, budget) if middle else ""
    return "\n\n".join(part for part in (head, middle, footer) if part) + "\n"


def _findings_section(findings: tuple[Finding, ...]) -> str:
    blocks: list[str] = []
    for severity, group in by_severity(findings):
        blocks.append(f"### {severity.capitalize()} ({len(group)})")
        blocks.extend(_finding(finding) for finding in group)
    return "\n\n".join(blocks)


def _finding(finding: Finding) -> str:
    title = _title(finding.title)
    where = inline_code(location(finding)) + side_note(finding)
    parts = [f"**[{finding.severity}] {title}** — {where}"]
    if finding.body.strip():
        body = sanitize_markdown(truncate(finding.body.strip(), MAX_BODY_CHARS))
        parts.append(_blockquote(body))
    if finding.suggestion:
        parts.append(_suggestion(finding.path, finding.suggestion))
    return "\n\n".join(parts)


def _title(text: str) -> str:
    """Clipped before sanitizing: a cut in sanitized text could split a code span."""
    return sanitize_markdown(one_line(text)[:MAX_TITLE_CHARS])


def _blockquote(text: str) -> str:
    return "\n".join(f"> {line}" if line else ">" for line in text.splitlines())


def _suggestion(path: str, code: str) -> str:
    if len(code) > MAX_SUGGESTION_CHARS:
        return f"Suggested change: too long to show here ({len(code.splitlines())} lines)."
    language = PurePosixPath(path).suffix.lstrip(".")
    return "Suggested change:\n\n" + fenced(code, language)


def _dropped_section(dropped: tuple[Dropped, ...]) -> str:
    if not dropped:
        return ""
    items = [_dropped_item(item) for item in dropped]
    return "### Not posted inline\n\n" + "\n".join(items)


def _dropped_item(item: Dropped) -> str:
    where = item.path if item.line is None else f"{item.path}:{item.line}"
    title = _title(item.title)
    reason = sanitize_markdown(one_line(dropped_reason(item)))
    return f"- {inline_code(where)} — {title} ({reason})"


def _skip_words(skipped: Skipped) -> str:
    return sanitize_markdown(one_line(skipped_reason(skipped)))


def _skipped_section(skipped: tuple[Skipped, ...]) -> str:
    if not skipped:
        return ""
    items = [f"- {inline_code(s.path)} — {_skip_words(s)}" for s in skipped]
    return "### Not reviewed\n\n" + "\n".join(items)


def _details(summary: Summary, head_sha: str | None) -> str:
    rows = "\n".join(f"| {name} | {_cell(value)} |" for name, value in _rows(summary, head_sha))
    parts = ["### Details", "| | |\n|---|---|\n" + rows]
    if summary.errors:
        parts.append(_errors(summary.errors))
    if summary.notes:
        parts.append(f"**Note:** {sanitize_markdown(one_line(' '.join(summary.notes)))}")
    return "\n\n".join(parts)


def _rows(summary: Summary, head_sha: str | None) -> list[tuple[str, str]]:
    models = ", ".join(inline_code(model) for model in summary.models) or "none"
    rows = [("Model(s)", models)]
    if summary.arm:
        rows.append(("Arm", inline_code(summary.arm)))
    rows += [
        ("Chunks (failed)", f"{summary.chunks} ({summary.failed_chunks})"),
        ("Model calls", _calls(summary)),
        ("Tokens in / out", _tokens(summary)),
        ("Cost (USD)", format_cost(summary.cost_usd)),
        ("Latency total / model", _latency(summary)),
    ]
    if summary.cache_hits is not None:
        known = summary.cache_hits and summary.saved_usd is not None
        saved = f" ({format_cost(summary.saved_usd)} saved)" if known else ""
        rows.append(("Cache hits", f"{summary.cache_hits}{saved}"))
    rows += [(name, sanitize_markdown(value)) for name, value in depth_rows(summary)]
    if head_sha:
        rows.append(("Reviewed head", inline_code(head_sha[:7])))
    return rows


def _calls(summary: Summary) -> str:
    """Requests sent, with the retries and fallback answers among them when there were any."""
    retries = f"{summary.retries} {'retry' if summary.retries == 1 else 'retries'}"
    extra = [retries] if summary.retries else []
    if summary.fallback_calls:
        extra.append(f"{summary.fallback_calls} answered by a fallback model")
    return f"{summary.llm_calls} ({', '.join(extra)})" if extra else str(summary.llm_calls)


def _tokens(summary: Summary) -> str:
    text = f"{summary.prompt_tokens:,} / {summary.completion_tokens:,}"
    return f"{text} ({summary.cached_tokens:,} cached)" if summary.cached_tokens else text


def _latency(summary: Summary) -> str:
    return f"{format_seconds(summary.latency_total_s)} / {format_seconds(summary.latency_llm_s)}"


def _cell(value: str) -> str:
    """A table cell: one line, and a pipe must not end the cell (GFM honours `\\|` in code too)."""
    return one_line(value).replace("|", "\\|")


def _errors(errors: tuple[str, ...]) -> str:
    shown = [f"- {sanitize_markdown(one_line(error)[:500])}" for error in errors[:MAX_ERRORS_SHOWN]]
    if len(errors) > MAX_ERRORS_SHOWN:
        shown.append(f"- … and {len(errors) - MAX_ERRORS_SHOWN} more")
    return "**Errors**\n\n" + "\n".join(shown)
