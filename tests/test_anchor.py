"""Anchoring: findings land on lines the diff shows, by quote first and line number second."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from reviewer.anchor import QUOTE_NOT_FOUND, anchor_findings, dropped_from_rejected
from reviewer.answer import RawFinding, Rejected
from reviewer.chunk import render_line
from reviewer.diff import FileDiff, parse_diff
from reviewer.model import DropCode, Dropped, Finding, Severity
from reviewer.report.reasons import dropped_reason
from tests.test_chunk import diffs

DIFF = """\
diff --git a/app.py b/app.py
--- a/app.py
+++ b/app.py
@@ -1,6 +1,7 @@
 import os
 import sys
-def total(price, qty):
+def total(price, qty, tax):
     value = price * qty
+    value = value * (1 + tax)
     return value
 # end of total
@@ -20,4 +21,5 @@ def main():
     value = price * qty
     print(value)
+    print("done")
     return 0
 # end of main
"""
FILES = parse_diff(DIFF).files


def raw(
    quote: str,
    line: int | None = None,
    end_line: int | None = None,
    path: str = "app.py",
    suggestion: str | None = None,
    severity: Severity = "high",
) -> RawFinding:
    return RawFinding(
        path=path,
        line=line,
        end_line=end_line,
        quote=quote,
        severity=severity,
        category="bug",
        title="Something is off",
        body="Because.",
        suggestion=suggestion,
        confidence=0.8,
    )


def anchor(finding: RawFinding, files: tuple[FileDiff, ...] = FILES) -> Finding:
    (anchored,), dropped = anchor_findings([finding], files)
    assert dropped == []
    return anchored


def drop(finding: RawFinding) -> Dropped:
    anchored, (dropped,) = anchor_findings([finding], FILES)
    assert anchored == []
    return dropped


def place(finding: Finding) -> tuple[int, int, str]:
    return finding.line, finding.end_line, finding.side


def test_exact_quote() -> None:
    found = anchor(raw("    value = value * (1 + tax)", line=40))
    assert place(found) == (5, 5, "RIGHT")
    assert (found.line_kind, found.new_line, found.old_line) == ("add", 5, None)
    assert found.code == "    value = value * (1 + tax)"


def test_quote_with_other_whitespace() -> None:
    assert place(anchor(raw("value  =  value *\t(1 + tax)  "))) == (5, 5, "RIGHT")


def test_quote_contained_in_the_line() -> None:
    assert place(anchor(raw("value * (1 + tax)"))) == (5, 5, "RIGHT")


def test_a_short_fragment_is_not_a_quote_match() -> None:
    # "tax" is in two lines; a fragment this short says nothing about which one is meant
    assert drop(raw("tax")).code == QUOTE_NOT_FOUND


def test_equal_quotes_go_to_the_nearest_line() -> None:
    assert place(anchor(raw("value = price * qty", line=20))) == (21, 21, "RIGHT")
    assert place(anchor(raw("value = price * qty", line=3))) == (4, 4, "RIGHT")
    assert place(anchor(raw("value = price * qty"))) == (4, 4, "RIGHT")  # no line: first


def test_the_quote_wins_over_a_wrong_line() -> None:
    assert place(anchor(raw('print("done")', line=2))) == (23, 23, "RIGHT")


def test_a_quote_matching_nothing_is_dropped_never_placed_by_its_line() -> None:
    # Line 23 is an added line; the quote is a hallucination signal all the same.
    dropped = drop(raw("something the model made up", line=23, severity="critical"))
    assert (dropped.line, dropped.code, dropped.severity) == (23, QUOTE_NOT_FOUND, "critical")


def test_no_quote_match_falls_back_to_a_context_line() -> None:
    assert place(anchor(raw("", line=22))) == (22, 22, "RIGHT")


def test_no_quote_match_and_a_line_outside_the_hunks_is_dropped() -> None:
    dropped = drop(raw("something the model made up", line=12))
    assert (dropped.path, dropped.line, dropped.code) == ("app.py", 12, QUOTE_NOT_FOUND)
    assert (dropped.title, dropped.severity) == ("Something is off", "high")
    assert dropped.body == "Because."


def test_no_quote_and_no_line_is_dropped() -> None:
    assert dropped_reason(drop(raw(""))) == "not on a line the diff shows"


def test_a_quote_on_a_removed_line_is_on_the_left_side() -> None:
    found = anchor(raw("def total(price, qty):", line=3, suggestion="def total(price):"))
    assert place(found) == (3, 3, "LEFT")
    assert (found.line_kind, found.old_line, found.new_line) == ("del", 3, None)
    assert found.suggestion is None  # a removed line cannot be replaced


def test_a_range_is_extended_on_its_side_within_the_hunk() -> None:
    found = anchor(raw("value = value * (1 + tax)", line=5, end_line=7))
    assert place(found) == (5, 7, "RIGHT")
    assert found.code == "    value = value * (1 + tax)\n    return value\n# end of total"
    # across the removed line: the right side's numbers stay consecutive
    assert place(anchor(raw("import os", line=1, end_line=4))) == (1, 4, "RIGHT")
    # on the left side, added lines are skipped
    assert place(anchor(raw("def total(price, qty):", line=3, end_line=4))) == (3, 4, "LEFT")


def test_a_range_never_crosses_into_the_next_hunk() -> None:
    assert place(anchor(raw("return value", line=6, end_line=30))) == (6, 7, "RIGHT")
    assert place(anchor(raw("return 0", line=24, end_line=40))) == (24, 25, "RIGHT")


def test_an_end_line_before_the_line_is_ignored() -> None:
    assert place(anchor(raw("return value", line=6, end_line=2))) == (6, 6, "RIGHT")


def test_a_path_not_in_the_chunk_is_dropped() -> None:
    dropped = drop(raw("import os", line=1, path="other.py"))
    assert dropped.code == DropCode.FILE_NOT_IN_DIFF
    assert dropped_reason(dropped) == "file not in the reviewed diff"


def test_a_git_prefixed_path_is_accepted() -> None:
    assert anchor(raw("import os", path="b/app.py")).path == "app.py"


def test_a_quote_with_the_rendered_number_and_marker_still_matches() -> None:
    assert place(anchor(raw("    5 +    value = value * (1 + tax)"))) == (5, 5, "RIGHT")
    assert place(anchor(raw("3 -def total(price, qty):"))) == (3, 3, "LEFT")
    assert place(anchor(raw("   22      print(value)"))) == (22, 22, "RIGHT")


def test_only_the_first_line_of_a_multiline_quote_counts() -> None:
    found = anchor(raw("\n    print(value)\n    print('done')", end_line=23, line=22))
    assert place(found) == (22, 23, "RIGHT")


NUMBERS = """\
diff --git a/prices.py b/prices.py
--- a/prices.py
+++ b/prices.py
@@ -1,2 +1,3 @@
 total = (
+    100 * rate,
 )
"""


def test_a_code_line_that_starts_with_a_number_matches_as_written() -> None:
    files = parse_diff(NUMBERS).files
    assert place(anchor(raw("100 * rate,", line=9, path="prices.py"), files)) == (2, 2, "RIGHT")
    assert place(anchor(raw("2 +    100 * rate,", path="prices.py"), files)) == (2, 2, "RIGHT")


def test_rejected_findings_become_dropped_with_the_reason() -> None:
    (dropped,) = dropped_from_rejected([Rejected("a.py", 3, "t", "missing path or title")])
    assert dropped == Dropped("a.py", 3, "t", DropCode.INVALID, "missing path or title")
    assert dropped_reason(dropped) == "invalid finding: missing path or title"


# --- the property: whatever the model says, nothing lands outside the diff ---


@st.composite
def findings_for(draw: st.DrawFn, files: tuple[FileDiff, ...]) -> list[RawFinding]:
    lines = [line for file in files for hunk in file.hunks for line in hunk.lines]
    quotes = st.one_of(
        st.sampled_from([line.text for line in lines]),
        st.sampled_from([render_line(line) for line in lines]),
        st.text(max_size=30),
    )
    paths = st.sampled_from([file.path for file in files] + ["elsewhere.py"])
    found = []
    for _ in range(draw(st.integers(0, 8))):
        line = draw(st.none() | st.integers(-5, 400))
        near = (line or 0) + draw(st.integers(0, 12))
        end_line = draw(st.sampled_from([None, near]) | st.integers(-5, 400))
        found.append(raw(draw(quotes), line, end_line, draw(paths)))
    return found


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_anchoring_never_places_a_finding_outside_the_diff(data: st.DataObject) -> None:
    files = data.draw(diffs())
    raws = data.draw(findings_for(files))
    anchored, dropped = anchor_findings(raws, files)
    assert len(anchored) + len(dropped) == len(raws)
    for finding in anchored:
        (file,) = [f for f in files if f.path == finding.path]
        assert finding.line <= finding.end_line
        wanted = set(range(finding.line, finding.end_line + 1))
        sides = [
            {line.new for line in hunk.lines if line.kind != "del"}
            if finding.side == "RIGHT"
            else {line.old for line in hunk.lines if line.kind != "add"}
            for hunk in file.hunks
        ]
        assert any(wanted <= numbers for numbers in sides)
