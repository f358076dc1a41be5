"""The cases file: good cases load; every mistake is one line naming the file and line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reviewer.cli import main
from reviewer.errors import InputError
from reviewer.evaluate.cases import load_cases

DIFF = "diff --git a/a.py b/a.py\n--- a/a.py\n+++ b/a.py\n@@ -1 +1 @@\n-x = 1\n+x = 2\n"


def write(tmp_path: Path, *lines: str) -> Path:
    path = tmp_path / "cases.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_a_case_loads_with_paths_relative_to_the_cases_file(tmp_path: Path) -> None:
    (tmp_path / "c1.diff").write_text(DIFF)
    (tmp_path / "c1").mkdir()
    golden = {"id": "g1", "path": "a.py", "line": 3, "end_line": 1, "comment": "wrong value",
              "severity": "high"}  # fmt: skip
    first = {"id": "c1", "diff_path": "c1.diff", "repo_root": "c1", "golden": [golden],
             "negatives": [{"path": "a.py", "comment": "nit"}]}  # fmt: skip
    second = {"id": "c2", "diff": DIFF, "clean": True, "title": "t"}
    cases = load_cases(write(tmp_path, json.dumps(first), "", json.dumps(second)))
    assert [c.id for c in cases] == ["c1", "c2"]
    assert cases[0].diff_text == DIFF and cases[0].repo_root == tmp_path / "c1"
    assert (cases[0].golden[0].line, cases[0].golden[0].end_line) == (3, 3)
    assert cases[0].negatives[0].id == "n1" and cases[0].negatives[0].line is None
    assert cases[1].clean and cases[1].line == 3 and cases[1].repo_root is None


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('{"id": "x", "diff": "d"', "not valid JSON (Expecting ',' delimiter at column 24)"),
        ("[1]", "a case must be a JSON object"),
        ('{"diff": "d"}', "`id` must be a non-empty string"),
        ('{"id": "x"}', "give exactly one of `diff` (the text) or `diff_path` (a file)"),
        ('{"id": "x", "diff": "d", "gold": []}', "unknown key 'gold' in a case"),
        ('{"id": "x", "diff": "d", "golden": {}}', "`golden` must be a list of objects"),
        ('{"id": "x", "diff": "d", "golden": [3]}', "`golden` item 1 must be an object"),
        ('{"id": "x", "diff": "d", "golden": [{"path": "a"}]}',
         "`golden` item 1 needs a non-empty `comment`"),
        ('{"id": "x", "diff": "d", "golden": [{"comment": "c", "line": 0, "path": "a"}]}',
         "`golden` item 1: `line` must be a line number (1 or more)"),
        ('{"id": "x", "diff": "d", "golden": [{"comment": "c", "line": 2}]}',
         "`golden` item 1 has a `line` but no `path`"),
        ('{"id": "x", "diff": "d", "golden": [{"comment": "c", "path": ""}]}',
         "`golden` item 1: `path` must be a non-empty string"),
        ('{"id": "x", "diff": "d", "golden": [{"comment": "c", "side": "right"}]}',
         "`golden` item 1: `side` must be RIGHT or LEFT"),
        ('{"id": "x", "diff": "d", "golden": [{"comment": "c", "id": 4}]}',
         "`golden` item 1: `id` must be a non-empty string"),
        ('{"id": "x", "diff": "d", "golden": [{"comment": "c", "severity": 4}]}',
         "`golden` item 1: `severity` must be a string"),
        ('{"id": "x", "diff": "d", "golden": [{"comment": "c"}, {"comment": "d", "id": "g1"}]}',
         "case 'x': golden comment ids must be unique"),
        ('{"id": "x", "diff": "d", "clean": "yes"}', "`clean` must be true or false"),
        ('{"id": "x", "diff": "d", "clean": true, "golden": [{"comment": "c"}]}',
         "case 'x' is `clean` but has golden comments"),
        ('{"id": "x", "diff_path": "nope.diff"}', "cannot read diff_path"),
        ('{"id": "x", "diff": "d", "repo_root": "nope"}', "repo_root"),
        ('{"id": "x", "diff": "d", "title": 3}', "`title` must be a string"),
    ],
)  # fmt: skip
def test_a_bad_line_is_one_error_naming_file_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], line: str, message: str
) -> None:
    path = write(tmp_path, '{"id": "ok", "diff": "d"}', line)
    assert main(["eval", str(path), "--model", "openai/m"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"ai-review: error: {path}:2: {message}")
    assert err.count("\n") == 1


def test_duplicate_case_ids_name_the_second_line(tmp_path: Path) -> None:
    path = write(tmp_path, '{"id": "a", "diff": "d"}', '{"id": "a", "diff": "d"}')
    with pytest.raises(InputError, match=r":2: duplicate case id 'a'$"):
        load_cases(path)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p / "missing.jsonl", "does not exist"),
        (lambda p: p, "is a directory"),
        (lambda p: write(p, "", "  "), "no cases"),
    ],
)
def test_an_unusable_cases_file_is_one_error(tmp_path: Path, make: object, message: str) -> None:
    with pytest.raises(InputError, match=message):
        load_cases(make(tmp_path))  # type: ignore[operator]


def test_an_unreadable_cases_file_is_one_error(tmp_path: Path) -> None:
    path = tmp_path / "cases.jsonl"
    path.write_bytes(b"\xff\xfe{")
    with pytest.raises(InputError, match="cannot read cases file"):
        load_cases(path)
