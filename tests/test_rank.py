"""Ranking: one finding per problem, most severe and confident first, filtered and capped."""

from __future__ import annotations

from dataclasses import replace

from reviewer.anchor import anchor_findings
from reviewer.answer import RawFinding
from reviewer.diff import parse_diff
from reviewer.model import Finding, Severity
from reviewer.rank import fingerprint, rank_findings
from reviewer.report.reasons import dropped_reason

BASE = Finding(
    path="src/app.py",
    line=10,
    end_line=12,
    side="RIGHT",
    severity="high",
    category="bug",
    title="Division by zero in total",
    body="qty can be 0.",
    suggestion=None,
    confidence=0.8,
    source="llm",
    fingerprint="",
    code="    return price / qty",
)


def finding(**changes: object) -> Finding:
    return replace(BASE, **changes)  # type: ignore[arg-type]


def rank(
    *findings: Finding, min_severity: Severity = "low", max_comments: int = 50
) -> tuple[list[Finding], list[tuple[str, str]]]:
    kept, dropped = rank_findings(findings, min_severity=min_severity, max_comments=max_comments)
    return kept, [(d.title, dropped_reason(d)) for d in dropped]


def test_the_same_problem_reported_twice_is_kept_once() -> None:
    first = finding(confidence=0.6)
    title = "Possible division by zero in total()"
    again = finding(line=11, end_line=11, confidence=0.9, title=title)
    kept, dropped = rank(first, again)
    assert [(f.title, f.confidence) for f in kept] == [(title, 0.9)]
    assert dropped == [("Division by zero in total", "duplicate")]
    assert kept[0].fingerprint == fingerprint(again)


def test_the_more_severe_duplicate_is_the_one_kept() -> None:
    kept, dropped = rank(
        finding(severity="medium", confidence=0.99),
        finding(severity="critical", confidence=0.5, title="Division by zero in total!"),
    )
    assert [f.severity for f in kept] == ["critical"]
    assert dropped == [("Division by zero in total", "duplicate")]


def test_different_problems_on_the_same_line_are_both_kept() -> None:
    other = finding(title="Function name shadows a builtin", category="maintainability")
    kept, dropped = rank(finding(), other)
    assert len(kept) == 2
    assert dropped == []


def test_similar_titles_on_lines_that_do_not_overlap_are_both_kept() -> None:
    kept, _ = rank(finding(), finding(line=40, end_line=40, code="    avg = total / count"))
    assert len(kept) == 2


def test_the_same_title_on_the_other_side_is_kept() -> None:
    kept, _ = rank(finding(), finding(side="LEFT"))
    assert len(kept) == 2


def test_order_is_severity_then_confidence() -> None:
    kept, _ = rank(
        finding(title="a", line=1, end_line=1, severity="low", confidence=0.9),
        finding(title="b", line=2, end_line=2, severity="critical", confidence=0.5),
        finding(title="c", line=3, end_line=3, severity="high", confidence=0.7),
        finding(title="d", line=4, end_line=4, severity="high", confidence=0.9),
        finding(title="e", line=5, end_line=5, severity="medium", confidence=0.1),
    )
    assert [f.title for f in kept] == ["b", "d", "c", "e", "a"]


def test_min_severity_drops_the_less_severe() -> None:
    kept, dropped = rank(
        finding(title="a", line=1, end_line=1, severity="high"),
        finding(title="b", line=2, end_line=2, severity="medium"),
        finding(title="c", line=3, end_line=3, severity="critical"),
        finding(title="d", line=4, end_line=4, severity="low"),
        min_severity="high",
    )
    assert [f.title for f in kept] == ["c", "a"]
    assert dropped == [("b", "below min-severity"), ("d", "below min-severity")]


def test_max_comments_keeps_the_first_ones() -> None:
    kept, dropped = rank(
        finding(title="a", line=1, end_line=1, confidence=0.5),
        finding(title="b", line=2, end_line=2, confidence=0.9),
        finding(title="c", line=3, end_line=3, confidence=0.7),
        max_comments=2,
    )
    assert [f.title for f in kept] == ["b", "c"]
    assert dropped == [("a", "over max-comments")]


def test_a_duplicate_of_a_capped_finding_is_not_listed_twice() -> None:
    kept, dropped = rank(
        finding(title="Unrelated leak", line=30, end_line=30, code="open(path)", confidence=0.9),
        finding(confidence=0.8),
        finding(line=11, end_line=11, confidence=0.7, title="Possible division by zero in total()"),
        max_comments=1,
    )
    assert [f.title for f in kept] == ["Unrelated leak"]
    assert dropped == [
        ("Division by zero in total", "over max-comments"),
        ("Possible division by zero in total()", "duplicate"),
    ]


def test_dropped_findings_keep_what_the_summary_shows() -> None:
    _, (dropped,) = rank_findings([finding(severity="low")], min_severity="high", max_comments=5)
    assert (dropped.path, dropped.line, dropped.severity, dropped.body) == (
        "src/app.py",
        10,
        "low",
        "qty can be 0.",
    )


# --- fingerprints: stable across runs and unrelated edits, different for different problems ---

BEFORE = """\
diff --git a/src/app.py b/src/app.py
--- a/src/app.py
+++ b/src/app.py
@@ -10,3 +10,4 @@ def total(price, qty):
     if price < 0:
         raise ValueError(price)
+    return price / qty
     # unreachable
"""
# the same change after an unrelated edit added five lines above it
AFTER = BEFORE.replace("@@ -10,3 +10,4 @@", "@@ -10,3 +15,4 @@")


def anchored(diff: str, title: str = "Division by zero when qty is 0") -> Finding:
    raw = RawFinding(
        path="src/app.py",
        line=12,
        end_line=None,
        quote="return price / qty",
        severity="high",
        category="bug",
        title=title,
        body="qty can be 0.",
        suggestion=None,
        confidence=0.8,
    )
    (found,), _ = anchor_findings([raw], parse_diff(diff).files)
    return found


def test_a_fingerprint_survives_moving_the_code() -> None:
    before, after = anchored(BEFORE), anchored(AFTER)
    assert (before.line, after.line) == (12, 17)
    assert fingerprint(before) == fingerprint(after)
    assert len(fingerprint(before)) == 20


def test_a_fingerprint_ignores_case_and_filler_words_in_the_title() -> None:
    assert fingerprint(anchored(BEFORE)) == fingerprint(
        anchored(AFTER, "division by zero when QTY is 0.")
    )


def test_a_fingerprint_changes_with_the_title_meaning() -> None:
    assert fingerprint(anchored(BEFORE)) != fingerprint(
        anchored(BEFORE, "Integer division truncates the total")
    )


def test_a_fingerprint_changes_with_the_code_or_path() -> None:
    base = anchored(BEFORE)
    assert fingerprint(base) != fingerprint(replace(base, code="    return price // qty"))
    assert fingerprint(base) != fingerprint(replace(base, path="src/other.py"))


def test_rank_sets_the_fingerprint() -> None:
    kept, _ = rank(anchored(BEFORE))
    assert kept[0].fingerprint == fingerprint(anchored(AFTER))
