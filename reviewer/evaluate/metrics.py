"""Figures per variant from the matched cases.

Definitions (and their edge cases):
- tp: golden comments matched by a finding; fn: golden comments left unmatched; fp: reported
  findings that matched no golden comment (findings on clean cases included).
- precision = tp / (tp + fp), null when the variant reported no finding at all;
  recall = tp / (tp + fn), null when the cases hold no golden comment.
- F-beta = (1 + b²)·tp / ((1 + b²)·tp + b²·fn + fp): equal to the usual formula, 0 when
  nothing was found although something should have been, null only when there was neither
  a finding nor a golden comment. F1 has b = 1; F0.5 (b = 0.5) weighs precision more.
- clean_false_alarms: findings reported on `clean` cases; negatives_hit: known-wrong
  comments that a finding matched; findings_per_case: reported findings per case.
- cost: total and median per case over the cases whose cost is known (null when none is);
  latency: median and nearest-rank 90th percentile of each case's review time (a replay
  reports the recorded run's; null for a variant the recording does not name).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from reviewer.stats import percentile


@dataclass(frozen=True)
class CaseOutcome:
    """One case reviewed by one variant, matched."""

    case_id: str
    variant: str
    tp: tuple[tuple[str, str], ...]  # (golden id, finding fingerprint)
    fp: tuple[str, ...]  # finding fingerprints
    fn: tuple[str, ...]  # golden ids
    clean: bool
    negatives_hit: int
    findings: int
    cost_usd: float | None
    latency_s: float | None  # None: replayed from a recording that lacks it
    incomplete: bool  # some chunk of the review failed


def f_beta(tp: int, fp: int, fn: int, beta: float) -> float | None:
    weight = beta * beta
    denominator = (1 + weight) * tp + weight * fn + fp
    return None if denominator == 0 else (1 + weight) * tp / denominator


def variant_figures(outcomes: Sequence[CaseOutcome]) -> dict[str, Any]:
    tp = sum(len(o.tp) for o in outcomes)
    fp = sum(len(o.fp) for o in outcomes)
    fn = sum(len(o.fn) for o in outcomes)
    costs = [o.cost_usd for o in outcomes if o.cost_usd is not None]
    latencies = [o.latency_s for o in outcomes if o.latency_s is not None]
    cases = len(outcomes)
    return {
        "cases": cases,
        "tp": tp,
        "fp": fp,
        "fn": fn,
        "precision": _ratio(tp, tp + fp),
        "recall": _ratio(tp, tp + fn),
        "f1": _rounded(f_beta(tp, fp, fn, 1.0), 3),
        "f0_5": _rounded(f_beta(tp, fp, fn, 0.5), 3),
        "clean_false_alarms": sum(o.findings for o in outcomes if o.clean),
        "negatives_hit": sum(o.negatives_hit for o in outcomes),
        "findings_per_case": _ratio(sum(o.findings for o in outcomes), cases, 2),
        "cost_usd_total": _rounded(math.fsum(costs) if costs else None, 6),
        "cost_usd_median": _rounded(statistics.median(costs) if costs else None, 6),
        "latency_s_median": _rounded(statistics.median(latencies) if latencies else None, 3),
        "latency_s_p90": _rounded(percentile(latencies, 90) if latencies else None, 3),
        "incomplete_cases": sum(o.incomplete for o in outcomes),
    }


def _ratio(part: int, whole: int, digits: int = 3) -> float | None:
    return round(part / whole, digits) if whole else None


def _rounded(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)
