"""Figures per variant, and what they are when there is nothing to divide."""

from __future__ import annotations

from reviewer.evaluate.metrics import CaseOutcome, f_beta, variant_figures


def outcome(tp: int = 0, fp: int = 0, fn: int = 0, **kw: object) -> CaseOutcome:
    values: dict[str, object] = {
        "case_id": "c", "variant": "v", "tp": tuple(("g", "f") for _ in range(tp)),
        "fp": tuple("f" for _ in range(fp)), "fn": tuple("g" for _ in range(fn)),
        "clean": False, "negatives_hit": 0, "findings": tp + fp, "cost_usd": 0.01,
        "latency_s": 1.0, "incomplete": False,
    }  # fmt: skip
    values.update(kw)
    return CaseOutcome(**values)  # type: ignore[arg-type]


def test_f_beta_edge_cases() -> None:
    assert f_beta(0, 0, 0, 1.0) is None  # nothing to find and nothing found
    assert f_beta(0, 0, 3, 1.0) == 0.0  # nothing found although something should have been
    assert f_beta(0, 2, 0, 0.5) == 0.0  # only noise
    assert f_beta(1, 1, 1, 1.0) == 0.5


def test_no_finding_and_no_golden_comment_leave_ratios_undefined() -> None:
    figures = variant_figures([outcome(clean=True, cost_usd=None)])
    assert figures["precision"] is None and figures["recall"] is None
    assert figures["f1"] is None and figures["f0_5"] is None
    assert figures["cost_usd_total"] is None and figures["cost_usd_median"] is None
    assert figures["clean_false_alarms"] == 0


def test_figures_over_cases() -> None:
    figures = variant_figures(
        [
            outcome(tp=2, fp=1, fn=1, latency_s=1.0, cost_usd=0.01),
            outcome(fp=2, clean=True, latency_s=3.0, cost_usd=None, negatives_hit=1),
            outcome(fn=1, latency_s=2.0, cost_usd=0.03, incomplete=True),
        ]
    )
    assert figures["precision"] == 0.4 and figures["recall"] == 0.5
    assert figures["clean_false_alarms"] == 2 and figures["negatives_hit"] == 1
    assert figures["findings_per_case"] == 1.67
    assert figures["cost_usd_total"] == 0.04 and figures["cost_usd_median"] == 0.02
    assert figures["latency_s_median"] == 2.0 and figures["latency_s_p90"] == 3.0
    assert figures["incomplete_cases"] == 1
