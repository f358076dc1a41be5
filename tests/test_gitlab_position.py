"""GitLab positions and line codes, checked against the fake server's own numbering."""

from __future__ import annotations

import hashlib
from dataclasses import replace

import pytest

from reviewer.diff import FileDiff, parse_file_patch
from reviewer.model import Finding
from reviewer.platforms.gitlab.position import (
    DiffRefs,
    gitlab_lines,
    position_for,
    suggestion_block,
)
from tests.fakes.gitlab_server import parse_diff_lines

REFS = DiffRefs("ba5e" * 10, "57a7" * 10, "a1" * 20)
# " ctx" (1,1) | "-del" (2,2) | "+add" (3,2) | "+add" (3,3) | " ctx" (3,4) | " ctx" (4,5)
MODIFIED = "@@ -1,4 +1,5 @@\n line1\n-line2\n+line2b\n+line2c\n line3\n line4\n"
TWO_HUNKS = (
    "@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n"
    "@@ -20,3 +20,4 @@ def f():\n x\n+y\n z\n-w\n\\ No newline at end of file\n+W\n"
)
NEW_FILE = "@@ -0,0 +1,2 @@\n+hello\n+world\n"
DELETED = "@@ -1,2 +0,0 @@\n-gone\n-too\n"


def _code(path: str, old: int, new: int) -> str:
    return f"{hashlib.sha1(path.encode()).hexdigest()}_{old}_{new}"


def _finding(
    line: int, end_line: int | None = None, side: str = "RIGHT", suggestion: str | None = None
) -> Finding:
    return Finding(
        path="a.py",
        line=line,
        end_line=end_line or line,
        side=side,  # type: ignore[arg-type]
        severity="medium",
        category="bug",
        title="t",
        body="b",
        suggestion=suggestion,
        confidence=0.5,
        source="llm",
        fingerprint="f" * 20,
    )


def _file(patch: str, path: str = "a.py", old_path: str | None = None) -> FileDiff:
    return parse_file_patch(patch, path, old_path)


def _base(file: FileDiff) -> dict[str, object]:
    return {
        "position_type": "text",
        "base_sha": REFS.base_sha,
        "start_sha": REFS.start_sha,
        "head_sha": REFS.head_sha,
        "old_path": file.old_path,
        "new_path": file.path,
    }


@pytest.mark.parametrize("patch", [MODIFIED, TWO_HUNKS, NEW_FILE, DELETED])
def test_line_codes_match_gitlab_running_counters(patch: str) -> None:
    ours = gitlab_lines(_file(patch))
    theirs = parse_diff_lines(patch)
    assert [(x.old_line, x.new_line, x.line_code) for x in ours] == [
        (t.old_line, t.new_line, t.line_code("a.py")) for t in theirs
    ]


def test_each_kind_of_line_takes_its_numbers() -> None:
    file = _file(MODIFIED)
    assert position_for(_finding(2), file, REFS) == {**_base(file), "new_line": 2}
    assert position_for(_finding(2, side="LEFT"), file, REFS) == {**_base(file), "old_line": 2}
    context = position_for(_finding(4), file, REFS)
    assert context == {**_base(file), "old_line": 3, "new_line": 4}
    # the same unchanged line named by its old number
    assert position_for(_finding(3, side="LEFT"), file, REFS) == context


def test_range_sits_on_its_last_line_with_line_codes() -> None:
    file = _file(MODIFIED)
    position = position_for(_finding(2, 4), file, REFS)
    assert position == {
        **_base(file),
        "old_line": 3,
        "new_line": 4,
        "line_range": {
            "start": {
                "line_code": _code("a.py", 3, 2),
                "type": "new",
                "old_line": None,
                "new_line": 2,
            },
            "end": {"line_code": _code("a.py", 3, 4), "type": "old", "old_line": 3, "new_line": 4},
        },
    }


def test_removed_range_and_new_file() -> None:
    deleted = _file(DELETED, "gone.py")
    position = position_for(replace(_finding(1, 2, side="LEFT"), path="gone.py"), deleted, REFS)
    assert position is not None and position["old_line"] == 2 and "new_line" not in position
    assert position["line_range"]["start"]["line_code"] == _code("gone.py", 1, 0)
    created = _file(NEW_FILE, "new.py")
    assert position_for(_finding(1), created, REFS) == {**_base(created), "new_line": 1}


def test_renamed_file_keeps_both_paths_and_hashes_the_new_one() -> None:
    file = _file(MODIFIED, "b.py", "a.py")
    position = position_for(_finding(1, 2), file, REFS)
    assert position is not None
    assert (position["old_path"], position["new_path"]) == ("a.py", "b.py")
    assert position["line_range"]["start"]["line_code"] == _code("b.py", 1, 1)


def test_line_outside_the_diff_has_no_position() -> None:
    file = _file(MODIFIED)
    assert position_for(_finding(9), file, REFS) is None
    assert position_for(_finding(4, 9), file, REFS) is None
    assert position_for(_finding(3, side="LEFT"), _file(NEW_FILE), REFS) is None


def test_suggestion_counts_lines_above_the_commented_last_line() -> None:
    assert suggestion_block(_finding(2, suggestion="x = 1")) == "```suggestion:-0+0\nx = 1\n```"
    block = suggestion_block(_finding(2, 4, suggestion="a\nb\nc"))
    assert block == "```suggestion:-2+0\na\nb\nc\n```"
    fenced = suggestion_block(_finding(2, suggestion="s = '```'"))
    assert fenced == "````suggestion:-0+0\ns = '```'\n````"
    assert suggestion_block(_finding(2, side="LEFT", suggestion="x")) is None
    assert suggestion_block(_finding(2)) is None
    assert suggestion_block(_finding(2, suggestion="x" * 30_000)) is None
