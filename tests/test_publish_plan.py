"""The shared publishing pipeline's pure parts: placement, the posting plan, the summary's
words, the dry-run report (the platforms' own tests run it end to end)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from reviewer.diff import Diff, FileDiff, parse_file_patch
from reviewer.model import DropCode, Dropped, Finding, ReviewResult, Side, Summary
from reviewer.platforms.common import reviewed_head, summary_marker
from reviewer.platforms.plan import Placed, placement_problem, plan_posting
from reviewer.platforms.scope import incremental_scope
from reviewer.platforms.summary import (
    dry_run_report,
    posted_report,
    posting_notes,
    restamp_summary,
    with_not_posted,
)
from reviewer.platforms.threads import (
    CommentState,
    EarlierThread,
    comment_state,
    comment_title,
    resolved_in,
    resolved_marker,
    to_resolve,
)
from reviewer.report.reasons import dropped_reason

# Hunk 1: old 1-3 / new 1-4; hunk 2: old 10-11 / new 11-12.
PATCH = (
    "@@ -1,3 +1,4 @@\n import os\n-x = 1\n+x = 2\n+y = 3\n print(x)\n"
    "@@ -10,2 +11,2 @@ def f():\n a\n-b\n+c\n"
)
FILE = parse_file_patch(PATCH, "src/app.py")
DIFF = Diff((FILE,))
BUG = Finding(
    path="src/app.py",
    line=3,
    end_line=3,
    side="RIGHT",
    severity="high",
    category="bug",
    title="y shadows a builtin",
    body="Rename it.",
    suggestion="y_value = 3",
    confidence=0.9,
    source="llm",
    fingerprint="f" * 20,
)


def place(finding: Finding, file: FileDiff) -> Placed[str] | str:
    return "the platform has no such line" if finding.line == 1 else Placed(finding, "p", "here")


@pytest.mark.parametrize(
    ("line", "end_line", "side", "problem"),
    [
        (2, 4, "RIGHT", None),  # added lines and a context line, one hunk
        (1, 1, "RIGHT", None),  # context
        (2, 2, "LEFT", None),  # removed
        (3, 3, "LEFT", None),  # context, old numbering
        (11, 11, "LEFT", None),
        (4, 12, "RIGHT", "its lines span more than one hunk"),
        (5, 5, "RIGHT", "not on a line the diff shows"),
        (12, 12, "LEFT", "not on a line the diff shows"),
        (4, 2, "RIGHT", "its line range ends before it starts"),
    ],
)
def test_placement_on_the_hunks(line: int, end_line: int, side: Side, problem: str | None) -> None:
    finding = replace(BUG, line=line, end_line=end_line, side=side)
    assert placement_problem(finding, FILE) == problem


def test_placement_on_a_file_outside_the_diff() -> None:
    assert placement_problem(BUG, None) == "its file is not in the diff"


def test_plan_sorts_findings_into_new_unplaced_and_already_posted() -> None:
    off = replace(BUG, line=5, end_line=5, fingerprint="o" * 20)
    elsewhere = replace(BUG, path="other.py", fingerprint="e" * 20)
    old = replace(BUG, line=2, end_line=2, fingerprint="d" * 20)
    refused = replace(BUG, line=1, end_line=1, fingerprint="r" * 20)
    twice = replace(BUG, title="the same finding again")  # same fingerprint: posted once
    plan = plan_posting([BUG, off, elsewhere, old, refused, twice], DIFF, {"d" * 20}, place)
    assert [p.finding for p in plan.new] == [BUG]
    assert [(d.title, d.code, dropped_reason(d)) for d in plan.unplaced] == [
        (BUG.title, DropCode.CANNOT_GO_INLINE, "cannot go inline: not on a line the diff shows"),
        (BUG.title, DropCode.CANNOT_GO_INLINE, "cannot go inline: its file is not in the diff"),
        (BUG.title, DropCode.CANNOT_GO_INLINE, "cannot go inline: the platform has no such line"),
    ]
    assert [d.path for d in plan.unplaced] == ["src/app.py", "other.py", "src/app.py"]
    assert plan.already == (old, twice)


def test_with_not_posted_lists_them_and_adds_the_notes() -> None:
    result = ReviewResult((BUG,), (), Summary(notes=("Built-in only.",)))
    refused = Dropped.of(BUG, DropCode.REFUSED, "GitHub refused the comment")
    shown = with_not_posted(result, [refused], ["Incremental."])
    assert shown.findings == (BUG,)
    assert [(d.path, d.line, dropped_reason(d), d.severity) for d in shown.dropped] == [
        ("src/app.py", 3, "GitHub refused the comment", "high")
    ]
    assert shown.summary.notes == ("Built-in only.", "Incremental.")
    assert with_not_posted(result, []) == result


def test_restamp_keeps_the_summary_and_replaces_its_note() -> None:
    body = summary_marker("a" * 40) + "\n## AI review\n\n1 finding: 1 high\n\ndetails\n"
    once = restamp_summary(body, "c" * 40, "Nothing new since `aaaaaaa`.")
    assert reviewed_head(once) == "c" * 40
    assert once.count("<!-- ai-review:summary") == 1
    assert "**Nothing new since `aaaaaaa`.**" in once and "1 finding: 1 high" in once
    twice = restamp_summary(once, "d" * 40, "Nothing new since `ccccccc`.")
    assert "aaaaaaa`.**" not in twice and "Nothing new since `ccccccc`" in twice
    assert twice.split("\n", 1)[1] == once.split("\n", 1)[1].replace("aaaaaaa", "ccccccc")


def test_the_posting_words_are_one_wording_for_every_platform() -> None:
    assert posting_notes(["Incremental."], already=1, resolved=2, refused=1, capped=3) == (
        "Incremental.",
        "1 finding already posted before.",
        "2 earlier threads resolved: fixed since.",
        "3 findings over max_comments: listed below, not inline.",
        "1 comment refused by the platform (listed below).",
    )
    assert posting_notes([], already=0) == ()
    assert posted_report(1, 0, 0, 0, "u") == "posted 1 inline comment; summary: u"
    assert posted_report(2, 1, 3, 1, "u") == (
        "posted 2 inline comments, 1 listed in the summary instead, 3 already posted earlier,"
        " 1 thread resolved; summary: u"
    )


def test_dry_run_report_says_what_would_be_posted() -> None:
    ranged = replace(BUG, line=2, end_line=4, side="LEFT", title="a\x1b[31m title\nwith lines")
    unplaced = Dropped.of(BUG, DropCode.CANNOT_GO_INLINE, "not on a line the diff shows")
    lines = dry_run_report([Placed(ranged, {}, "old_line 2")], [unplaced], 2, summary_exists=True)
    assert lines == [
        "dry run: would post 1 inline comment and update the summary",
        "  src/app.py:2-4 (old file) at old_line 2: [high] a[31m title with lines",
        "  src/app.py:3: not inline (not on a line the diff shows)",
        "  2 findings already posted by an earlier run",
    ]
    assert dry_run_report([], [], 0, summary_exists=False) == [
        "dry run: would post 0 inline comments and create the summary"
    ]


def test_scope_of_a_rerun() -> None:
    head, last = "b" * 40, "a" * 40
    whole = incremental_scope(DIFF, (), None, head, lambda a, b: None)
    assert whole.diff == DIFF and whole.since is None and not whole.nothing_new
    same = incremental_scope(DIFF, (), head, head, lambda a, b: None)
    assert same.nothing_new and same.notes[0].startswith("No new commits since `bbbbbbb`")
    lost = incremental_scope(DIFF, (), last, head, lambda a, b: None)
    assert lost.diff == DIFF and "cannot be compared: reviewed everything" in lost.notes[0]
    second = Diff((parse_file_patch("@@ -10,2 +11,2 @@\n a\n-b\n+c\n", "src/app.py"),))
    pushed = incremental_scope(DIFF, (), last, head, lambda a, b: second)
    assert [len(f.hunks) for f in pushed.diff.files] == [1] and pushed.since == last
    assert pushed.notes[0].startswith("Incremental review: only the changes since `aaaaaaa`")
    elsewhere = Diff((parse_file_patch("@@ -1 +1 @@\n-a\n+b\n", "docs/x.md"),))
    untouched = incremental_scope(DIFF, (), last, head, lambda a, b: elsewhere)
    assert untouched.nothing_new and "change nothing in the reviewed diff" in untouched.notes[0]


# --------------------------------------------------------------------------- earlier threads


def thread(**changes: object) -> EarlierThread:
    base = EarlierThread("T1", "gh#7/1", "src/app.py", "f" * 20, BUG.title, outdated=True)
    return replace(base, **changes)  # type: ignore[arg-type]


def test_which_threads_are_resolved() -> None:
    gone = thread(fingerprint="0" * 20, title="Something else")
    reviewed = {"src/app.py"}
    assert to_resolve([gone], [BUG], reviewed, frozenset()) == [gone]
    assert to_resolve([thread()], [BUG], reviewed, frozenset()) == []  # same fingerprint
    reworded = thread(fingerprint="0" * 20, title="Y shadows a builtin!")
    assert to_resolve([reworded], [BUG], reviewed, frozenset()) == []  # same path and title
    for kept in (
        replace(gone, outdated=False),  # its lines did not change
        replace(gone, answered=True),  # someone wrote after us
        replace(gone, resolved=True),
        replace(gone, path="other.py"),  # its file was not reviewed this run
    ):
        assert to_resolve([kept], [BUG], reviewed, frozenset()) == []
    assert to_resolve([gone], [], reviewed, frozenset({"T1"})) == []  # closed once already


def test_comment_states() -> None:
    reviewed = {"src/app.py"}
    gone = thread(fingerprint="0" * 20, title="Something else")
    assert comment_state(gone, [BUG], reviewed) == CommentState.ADDRESSED
    assert comment_state(thread(), [BUG], reviewed) == CommentState.OPEN
    dismissed = replace(gone, outdated=False, thumbs_down=True)
    assert comment_state(dismissed, [BUG], set()) == CommentState.DISMISSED
    assert comment_state(replace(gone, outdated=False), [BUG], set()) is None  # cannot tell


def test_resolved_marker_round_trip_and_comment_title() -> None:
    body = f"## AI review\n{resolved_marker(['PRRT_2', 'PRRT_1', 'PRRT_2'])}\n"
    assert "<!-- ai-review:resolved=PRRT_1,PRRT_2 -->" in body
    assert resolved_in(body) == {"PRRT_1", "PRRT_2"}
    assert resolved_in("no marker") == frozenset() == resolved_in(None)
    assert comment_title("**High · bug:** y shadows a builtin\n\nRename it.") == BUG.title
    assert comment_title("a person's words") == ""
