"""The pure parts of posting to GitHub: placing comments, their JSON, the bounded retry, the
Actions workflow commands, and the helpers added to platforms/common."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from reviewer.diff import Diff, parse_file_patch
from reviewer.model import Finding
from reviewer.platforms.common import MAX_SUGGESTION_CHARS, checkout_head, fenced_suggestion
from reviewer.platforms.github.actions import (
    annotation,
    append_outputs,
    append_step_summary,
    escape_data,
    escape_property,
)
from reviewer.platforms.github.api import ChangedFile
from reviewer.platforms.github.platform import to_diff
from reviewer.platforms.github.post import ReviewRefused, post_bounded, review_comment
from reviewer.platforms.gitlab.position import suggestion_block
from reviewer.report.reasons import skipped_reason

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
    assert [(s.path, skipped_reason(s)) for s in skipped] == [
        ("logo.png", "no diff from GitHub: a binary or empty file"),
        ("huge.sql", "no diff from GitHub: too large (40000 changed lines)"),
    ]


# --------------------------------------------------------------------------- common helpers


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
