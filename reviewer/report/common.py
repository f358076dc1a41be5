"""Wording shared by the human-readable reports: verdict, locations and figures."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from reviewer.model import (
    SEVERITIES,
    DropCode,
    Dropped,
    Finding,
    PassFigures,
    ReviewResult,
    Severity,
    Summary,
    Verification,
    severity_rank,
)


def verdict(result: ReviewResult) -> str:
    """One line: how many findings at which severities, and whether the review is complete."""
    counts = Counter(finding.severity for finding in result.findings)
    total = len(result.findings)
    if total:
        noun = "finding" if total == 1 else "findings"
        parts = ", ".join(f"{counts[level]} {level}" for level in SEVERITIES if counts[level])
        line = f"{total} {noun}: {parts}"
    else:
        line = "No findings."
    failed = result.summary.failed_chunks
    if failed:
        return f"{line.rstrip('.')} (incomplete: {failed} of {result.summary.chunks} chunks failed)"
    return line


def report_order(findings: Iterable[Finding]) -> list[Finding]:
    """The order every report lists findings in: by severity, then path and line."""
    return sorted(findings, key=lambda f: (severity_rank(f.severity), f.path, f.line, f.end_line))


def by_severity(findings: Iterable[Finding]) -> list[tuple[Severity, list[Finding]]]:
    """Findings grouped by severity, most severe first, by path and line within a group."""
    ordered = report_order(findings)
    groups: dict[Severity, list[Finding]] = {}
    for finding in ordered:
        groups.setdefault(finding.severity, []).append(finding)
    return list(groups.items())


def location(finding: Finding) -> str:
    """`path:42` or `path:42-44`."""
    if finding.end_line > finding.line:
        return f"{finding.path}:{finding.line}-{finding.end_line}"
    return f"{finding.path}:{finding.line}"


def side_note(finding: Finding) -> str:
    """Old-file (LEFT) line numbers do not point into the new file: say so."""
    return " (removed lines, old file numbering)" if finding.side == "LEFT" else ""


def format_cost(cost_usd: float | None) -> str:
    """Dollars, or "unknown": an unknown cost is never shown as 0."""
    return "unknown" if cost_usd is None else f"${cost_usd:.4f}"


def format_seconds(seconds: float) -> str:
    return f"{seconds:.1f} s"


def one_line(text: str) -> str:
    """Titles are one line; a model may still send several."""
    return " ".join(text.split())


def new_file_span(finding: Finding) -> tuple[int, int]:
    """First and last new-file line of a finding, for formats that know only the new file.

    A LEFT finding is about removed (old-file) lines, which the new file does not have: point
    at the new-file line of its first anchored line when it has one (a context line), else at
    line 1, still a valid location in the file.
    """
    if finding.side == "RIGHT":
        return finding.line, max(finding.line, finding.end_line)
    begin = finding.new_line if finding.new_line is not None else 1
    return begin, begin


def depth_rows(summary: Summary) -> list[tuple[str, str]]:
    """The depth tier, what each pass and the verifier cost, what the verifier did, and the
    repository tools' use; nothing when no model reviewed the change."""
    if not summary.depth:
        return []
    rows = [("Depth", f"{summary.depth} ({one_line(summary.depth_reason)})")]
    if len(summary.by_pass) > 1:
        rows.append(("Per pass", "; ".join(_pass_cost(figures) for figures in summary.by_pass)))
    if summary.verification is not None:
        rows.append(("Verification", verification_line(summary.verification)))
    if summary.tool_calls or summary.tools_note:
        note = f" ({summary.tools_note})" if summary.tools_note else ""
        rows.append(("Tool calls", f"{summary.tool_calls}{note}"))
    return rows


def _pass_cost(figures: PassFigures) -> str:
    calls = f"{figures.calls} call{'s' if figures.calls != 1 else ''}"
    failed = f", {figures.failed} failed" if figures.failed else ""
    return f"{figures.name} {calls}{failed}, {figures.prompt_tokens:,} tokens in, " + format_cost(
        figures.cost_usd
    )


def verification_line(figures: Verification) -> str:
    """E.g. `5 candidates: 3 confirmed, 1 rejected, 1 unverified (1 of 2 batches failed)`."""
    line = (
        f"{figures.candidates} candidate{'s' if figures.candidates != 1 else ''}: "
        f"{figures.confirmed} confirmed, "
        f"{figures.rejected} rejected, {figures.unverified} unverified"
    )
    if figures.severity_changed:
        line += f", {figures.severity_changed} re-graded"
    if figures.over_budget:
        line += f" ({figures.over_budget} not sent: over the review's budget; candidates kept)"
    if figures.failed_batches:
        line += (
            f" ({figures.failed_batches} of {figures.batches} verifications failed: "
            "their candidates are kept)"
        )
    return line


def listed_drops(result: ReviewResult) -> tuple[Dropped, ...]:
    """The dropped findings a reader should see: a duplicate of the same problem at the same
    place (another pass found it too) is left out of the list when that problem is reported
    or listed already. The JSON report keeps every entry."""
    seen: set[tuple[str, int | None, str]] = {(f.path, f.line, f.title) for f in result.findings}
    seen |= {(d.path, d.line, d.title) for d in result.dropped if d.code != DropCode.DUPLICATE}
    shown: list[Dropped] = []
    for item in result.dropped:
        where = (item.path, item.line, item.title)
        if item.code == DropCode.DUPLICATE and where in seen:
            continue
        seen.add(where)
        shown.append(item)
    return tuple(shown)
