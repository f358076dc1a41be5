"""The evaluation's reports: json (the contract's shape), a rich table, a markdown table.

The tables put the variants side by side, one figure per row; every variant after the first
shows its difference to the first (the baseline).
"""

from __future__ import annotations

import io
import json
from typing import Any

from reviewer.evaluate.metrics import variant_figures
from reviewer.evaluate.runner import Evaluation

ROWS = {
    "cases": "cases",
    "tp": "true positives",
    "fp": "false positives",
    "fn": "missed (fn)",
    "precision": "precision",
    "recall": "recall",
    "f1": "F1",
    "f0_5": "F0.5",
    "clean_false_alarms": "false alarms on clean cases",
    "negatives_hit": "known-wrong comments made",
    "findings_per_case": "findings per case",
    "cost_usd_total": "cost total",
    "cost_usd_median": "cost median per case",
    "latency_s_median": "latency median",
    "latency_s_p90": "latency p90",
    "incomplete_cases": "incomplete reviews",
}


def report_data(evaluation: Evaluation, match_lines: int) -> dict[str, Any]:
    variants = {
        name: variant_figures([o for o in evaluation.outcomes if o.variant == name])
        for name in evaluation.variants
    }
    tally = evaluation.judge
    judge = {"model": tally.model, "calls": tally.calls, "cost_usd": tally.cost_usd,
             "failed": tally.failed} if tally else {"model": "location", "calls": 0,
             "cost_usd": 0.0, "failed": 0}  # fmt: skip
    cases = [
        {"id": o.case_id, "variant": o.variant, "tp": [list(pair) for pair in o.tp],
         "fp": list(o.fp), "fn": list(o.fn), "negatives_hit": o.negatives_hit,
         "findings": o.findings, "cost_usd": _rounded(o.cost_usd),
         "latency_s": _rounded(o.latency_s), "incomplete": o.incomplete}
        for o in evaluation.outcomes
    ]  # fmt: skip
    return {"variants": variants, "judge": judge, "match_lines": match_lines, "cases": cases}


def render_report(data: dict[str, Any], fmt: str, *, width: int = 120) -> str:
    if fmt == "json":
        return json.dumps(data, indent=2) + "\n"
    if fmt == "markdown":
        return _markdown(data)
    return _text(data, width)


def cell(key: str, value: Any) -> str:
    if value is None:
        return "-"
    if key.startswith("cost_usd"):
        return f"${value:.4f}"
    if key.startswith("latency"):
        return f"{value:.2f} s"
    if isinstance(value, int):
        return str(value)
    return f"{value:.3f}" if key != "findings_per_case" else f"{value:.2f}"


def delta(key: str, value: Any, base: Any) -> str:
    """The difference to the baseline, signed, or nothing when either is unknown or equal."""
    if key == "cases" or value is None or base is None or value == base:
        return ""
    change = value - base
    if round(change, 4 if key.startswith("cost_usd") else 2) == 0:
        return ""  # equal as shown
    if key.startswith("cost_usd"):
        return f" ({'+' if change > 0 else '-'}${abs(change):.4f})"
    if key.startswith("latency"):
        return f" ({change:+.2f} s)"
    if isinstance(change, int):
        return f" ({change:+d})"
    return f" ({change:+.2f})" if key == "findings_per_case" else f" ({change:+.3f})"


def _columns(data: dict[str, Any]) -> list[tuple[str, list[str]]]:
    names = list(data["variants"])
    base = data["variants"][names[0]]
    columns = []
    for position, name in enumerate(names):
        figures = data["variants"][name]
        shown = [
            cell(key, figures[key]) + ("" if position == 0 else delta(key, figures[key], base[key]))
            for key in ROWS
        ]
        columns.append((name if position else f"{name} (baseline)", shown))
    return columns


def _footer(data: dict[str, Any]) -> str:
    judge = data["judge"]
    if judge["model"] == "location":
        words = "judge: location only"
    else:
        cost = "unknown cost" if judge["cost_usd"] is None else f"${judge['cost_usd']:.4f}"
        failed = f", {judge['failed']} failed" if judge["failed"] else ""
        calls = f"{judge['calls']} calls{failed}"
        words = f"judge: {judge['model']}, {calls}, {cost} (not in the costs above)"
    return f"{words}; location gate: same path, within {data['match_lines']} lines"


def _markdown(data: dict[str, Any]) -> str:
    columns = _columns(data)
    header = "| | " + " | ".join(_escape(name) for name, _ in columns) + " |"
    rule = "|---|" + "---:|" * len(columns)
    rows = [
        f"| {label} | " + " | ".join(shown[index] for _, shown in columns) + " |"
        for index, label in enumerate(ROWS.values())
    ]
    return "\n".join([header, rule, *rows]) + f"\n\n{_footer(data)}\n"


def _escape(name: str) -> str:
    return " ".join(name.split()).replace("|", "\\|")


def _text(data: dict[str, Any], width: int) -> str:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    table = Table(title="ai-review eval", title_justify="left")
    table.add_column("")
    columns = _columns(data)
    for name, _ in columns:
        table.add_column(Text(name), justify="right")
    for index, label in enumerate(ROWS.values()):
        table.add_row(label, *(shown[index] for _, shown in columns))
    buffer = io.StringIO()
    console = Console(file=buffer, width=width, markup=False, emoji=False, highlight=False)
    console.print(table)
    console.print(_footer(data), soft_wrap=True)
    return buffer.getvalue()


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 6)
