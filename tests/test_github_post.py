"""The pure parts of posting to GitHub: placing comments, their JSON, the bounded retry, the
Actions workflow commands, and the helpers added to platforms/common."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import pytest

from reviewer.diff import Diff, parse_file_patch
from reviewer.model import Finding, ReviewResult, Side, Summary
from reviewer.platforms.common import (
    MAX_SUGGESTION_CHARS,
    checkout_head,
    fenced_suggestion,
    placement_problem,
    restamp_summary,
    reviewed_head,
    say,
    summary_marker,
    with_not_posted,
)
from reviewer.platforms.github.actions import (
    annotation,
    append_outputs,
    append_step_summary,
    escape_data,
    escape_property,
)
from reviewer.platforms.github.api import ChangedFile
from reviewer.platforms.github.platform import to_diff
from reviewer.platforms.github.post import ReviewRefused, plan_review, post_bounded, review_comment
from reviewer.platforms.gitlab.position import suggestion_block

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


# --------------------------------------------------------------------------- placement


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


def test_plan_sorts_findings_into_inline_off_diff_and_already_posted() -> None:
    off = replace(BUG, line=5, end_line=5, fingerprint="o" * 20)
    elsewhere = replace(BUG, path="other.py", fingerprint="e" * 20)
    old = replace(BUG, line=2, end_line=2, fingerprint="d" * 20)
    plan = plan_review([BUG, off, elsewhere, old], DIFF, standing={"d" * 20})
    assert [c.finding for c in plan.comments] == [BUG]
    assert plan.off_diff == (
        (off, "cannot go inline: not on a line the diff shows"),
        (elsewhere, "cannot go inline: its file is not in the diff"),
    )
    assert plan.already_posted == (old,)


def test_review_comment_json() -> None:
    single = review_comment(BUG)
    assert {k: v for k, v in single.items() if k != "body"} == {
        "path": "src/app.py",
        "line": 3,
        "side": "RIGHT",
    }
    assert "```suggestion\ny_value = 3\n```" in str(single["body"])
    ranged = review_comment(replace(BUG, line=2, end_line=4, suggestion=None))
    assert (ranged["start_line"], ranged["start_side"], ranged["line"]) == (2, "RIGHT", 4)
    assert "suggestion" not in str(ranged["body"])
    left = review_comment(replace(BUG, line=2, end_line=2, side="LEFT"))
    assert left["side"] == "LEFT" and "```suggestion" not in str(left["body"])
    fenced = review_comment(replace(BUG, suggestion="a = ```b```"))
    assert "````suggestion\na = ```b```\n````" in str(fenced["body"])


# --------------------------------------------------------------------------- bounded posting


class Poster:
    """Refuses every request that holds a bad item, like GitHub's 422, and records requests."""

    def __init__(self, bad: set[int], *, per_comment: bool = True) -> None:
        self.bad = bad
        self.per_comment = per_comment
        self.requests: list[list[int]] = []

    def __call__(self, batch: Sequence[int]) -> None:
        self.requests.append(list(batch))
        if self.bad & set(batch):
            raise ReviewRefused("422 line must be part of the diff", per_comment=self.per_comment)


def test_everything_posts_in_requests_of_30() -> None:
    poster = Poster(set())
    posted, refused = post_bounded(range(65), poster)
    assert posted == list(range(65)) and refused == []
    assert [len(r) for r in poster.requests] == [30, 30, 5]


def test_one_bad_comment_is_found_by_halving() -> None:
    poster = Poster({5})
    posted, refused = post_bounded(range(8), poster)
    assert posted == [0, 1, 2, 3, 4, 6, 7]
    assert refused == [(5, "GitHub refused the comment (422 line must be part of the diff)")]
    assert poster.requests == [[0, 1, 2, 3, 4, 5, 6, 7], [0, 1, 2, 3], [4, 5, 6, 7], [4, 5],
                               [4], [5], [6, 7]]  # fmt: skip


def test_the_extra_requests_are_bounded() -> None:
    poster = Poster(set(range(30)))
    posted, refused = post_bounded(range(30), poster, extra_requests=4)
    assert posted == [] and len(refused) == 30
    assert len(poster.requests) == 1 + 4
    assert refused[-1][1].startswith("GitHub refused the review holding it")


def test_a_refusal_of_the_whole_review_is_not_split() -> None:
    poster = Poster({1}, per_comment=False)
    posted, refused = post_bounded(range(4), poster)
    assert posted == [] and [item for item, _ in refused] == [0, 1, 2, 3]
    assert len(poster.requests) == 1


# --------------------------------------------------------------------------- workflow commands


def test_escaping_per_workflow_command_rules() -> None:
    assert escape_data("100%\r\nnext") == "100%25%0D%0Anext"
    assert escape_property("a:b,c%\n") == "a%3Ab%2Cc%25%0A"


def test_annotation_cannot_start_a_command_of_its_own() -> None:
    sneaky = replace(
        BUG, title="a, b: c", body="line one\n::set-output name=x::y\n::add-mask::z", line=2,
        end_line=4,
    )  # fmt: skip
    line = annotation(sneaky)
    assert "\n" not in line
    assert line == (
        "::warning file=src/app.py,line=2,endLine=4,title=[high] a%2C b%3A c::"
        "line one%0A::set-output name=x::y%0A::add-mask::z"
    )
    removed = annotation(replace(BUG, side="LEFT", line=2, end_line=2, body=""))
    assert removed == (
        "::warning file=src/app.py,title=[high] y shadows a builtin::"
        "[high] y shadows a builtin%0A(removed lines 2 of the old file)"
    )


def test_job_summary_and_outputs_are_appended(tmp_path: Path) -> None:
    summary, output = tmp_path / "summary.md", tmp_path / "output"
    output.write_text("earlier=1\n")
    append_step_summary(summary, "## one")
    append_step_summary(summary, "## two\n")
    append_outputs(output, {"findings": "2", "cost-usd": "0.001200"})
    assert summary.read_text() == "## one\n\n## two\n\n"
    assert output.read_text() == "earlier=1\nfindings=2\ncost-usd=0.001200\n"


# --------------------------------------------------------------------------- files API to diff


def test_files_become_a_diff_and_the_rest_is_listed() -> None:
    files = [
        ChangedFile("a.py", "added", "@@ -0,0 +1 @@\n+a\n", None, 1),
        ChangedFile("gone.py", "removed", "@@ -1 +0,0 @@\n-b\n", None, 1),
        ChangedFile("new.py", "renamed", "@@ -1 +1 @@\n-c\n+d\n", "old.py", 2),
        ChangedFile("moved.py", "renamed", None, "was.py", 0),
        ChangedFile("m.py", "changed", "@@ -1 +1 @@\n-e\n+f\n", None, 2),
        ChangedFile("logo.png", "modified", None, None, 0),
        ChangedFile("huge.sql", "modified", None, None, 40000),
    ]
    diff, skipped = to_diff(files)
    shapes = [(f.path, f.old_path, f.status, len(f.hunks)) for f in diff.files]
    assert shapes == [
        ("a.py", "a.py", "added", 1),
        ("gone.py", "gone.py", "deleted", 1),
        ("new.py", "old.py", "renamed", 1),
        ("moved.py", "was.py", "renamed", 0),
        ("m.py", "m.py", "modified", 1),
    ]
    assert [(s.path, s.reason) for s in skipped] == [
        ("logo.png", "no diff from GitHub: a binary or empty file"),
        ("huge.sql", "no diff from GitHub: too large (40000 changed lines)"),
    ]


# --------------------------------------------------------------------------- common helpers


def test_with_not_posted_lists_them_and_adds_the_note() -> None:
    result = ReviewResult((BUG,), (), Summary(note="Built-in only."))
    shown = with_not_posted(result, [(BUG, "GitHub refused the comment")], "Incremental.")
    assert shown.findings == (BUG,)
    assert [(d.path, d.line, d.reason, d.severity) for d in shown.dropped] == [
        ("src/app.py", 3, "GitHub refused the comment", "high")
    ]
    assert shown.summary.note == "Built-in only. Incremental."
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


def test_checkout_head(tmp_path: Path) -> None:
    assert checkout_head(tmp_path) is None
    git = tmp_path / ".git"
    git.mkdir()
    (git / "HEAD").write_text("a" * 40 + "\n")
    assert checkout_head(tmp_path) == "a" * 40
    (git / "HEAD").write_text("ref: refs/heads/main\n")
    (git / "packed-refs").write_text(f"# pack-refs\n{'b' * 40} refs/heads/main\n")
    assert checkout_head(tmp_path) == "b" * 40
    (git / "refs" / "heads").mkdir(parents=True)
    (git / "refs" / "heads" / "main").write_text("c" * 40)
    assert checkout_head(tmp_path) == "c" * 40
    worktree = tmp_path / "wt"
    worktree.mkdir()
    (worktree / ".git").write_text("gitdir: ../.git\n")
    assert checkout_head(worktree) == "c" * 40


def test_one_suggestion_gate_for_both_platforms() -> None:
    assert fenced_suggestion(BUG, "suggestion") == f"```suggestion\n{BUG.suggestion}\n```"
    for refused in (
        replace(BUG, side="LEFT"),  # a suggestion replaces new-file lines only
        replace(BUG, suggestion=None),
        replace(BUG, suggestion="x" * (MAX_SUGGESTION_CHARS + 1)),
    ):
        assert fenced_suggestion(refused, "suggestion") is None
        assert "```suggestion" not in str(review_comment(refused)["body"])
        assert suggestion_block(refused) is None  # GitLab's block, through the same gate


def test_say_writes_each_line_to_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    say("posted 2", "summary: url")
    say("::warning::x", prefix="")
    out, err = capsys.readouterr()
    assert out == ""
    assert err == "ai-review: posted 2\nai-review: summary: url\n::warning::x\n"
