"""Importers, on small files shaped like AACR-Bench's and Martian's (see their READMEs)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from reviewer.cli import main
from reviewer.evaluate.cases import load_cases


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, check=True,
                          text=True)  # fmt: skip
    return done.stdout.strip()


def make_clone(root: Path) -> tuple[str, str]:
    root.mkdir(parents=True)
    git(root, "init", "-q")
    git(root, "config", "user.email", "t@example.com")
    git(root, "config", "user.name", "t")
    (root / "calc.py").write_text("def mean(xs):\n    return sum(xs) / len(xs)\n")
    git(root, "add", ".")
    git(root, "commit", "-qm", "base")
    base = git(root, "rev-parse", "HEAD")
    (root / "calc.py").write_text("def mean(xs):\n    total = sum(xs)\n    return total / 0\n")
    git(root, "commit", "-qam", "head")
    return base, git(root, "rev-parse", "HEAD")


def aacr_pr(url: str, source: str, target: str, comments: list[dict[str, Any]]) -> dict[str, Any]:
    return {"change_line_count": 3, "project_main_language": "Python", "source_commit": source,
            "target_commit": target, "githubPrUrl": url, "comments": comments,
            "category": "Bug Fix"}  # fmt: skip


def aacr_comment(note: str, start: int, end: int, side: str = "right") -> dict[str, Any]:
    return {"is_ai_comment": False, "note": note, "path": "calc.py", "side": side,
            "source_model": "", "from_line": start, "to_line": end, "category": "Code Defect",
            "context": "Diff Level"}  # fmt: skip


def test_aacr_keeps_locations_turns_negative_samples_into_negatives_and_lists_what_is_missing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base, head = make_clone(tmp_path / "clones" / "acme" / "calc")
    url = "https://github.com/acme/calc/pull/7"
    positive = [
        aacr_pr(url, head, base, [aacr_comment("Divides by zero", 3, 2),
                                  {"note": "", "path": "calc.py"}]),
        aacr_pr("https://github.com/acme/gone/pull/1", head, base, []),
    ]  # fmt: skip
    negative = [aacr_pr(url, head, base, [aacr_comment("Rename xs", 1, 1, side="left")])]
    (tmp_path / "pos.json").write_text(json.dumps(positive))
    (tmp_path / "neg.json").write_text(json.dumps(negative))
    code = main(["eval", "import", "aacr", str(tmp_path / "pos.json"), "--negatives",
                 str(tmp_path / "neg.json"), "--clones", str(tmp_path / "clones"),
                 "--out", str(tmp_path / "out")])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 0
    gone = "https://github.com/acme/gone"
    assert f"ai-review: missing: {gone}/pull/1: no clone; run `git clone {gone} " in err
    assert "wrote 1 cases" in err and "1 skipped" in err
    (case,) = load_cases(tmp_path / "out" / "cases.jsonl")
    assert case.id == "acme-calc-7" and "+    return total / 0" in case.diff_text
    (golden,) = case.golden
    assert (golden.path, golden.line, golden.end_line, golden.side) == ("calc.py", 2, 3, "RIGHT")
    assert golden.comment == "Divides by zero"
    (wrong,) = case.negatives
    assert (wrong.comment, wrong.line, wrong.side) == ("Rename xs", 1, "LEFT")


def test_aacr_names_commits_the_clone_lacks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base, _ = make_clone(tmp_path / "clones" / "calc")
    missing = "0" * 40
    url = "https://github.com/acme/calc/pull/8"
    (tmp_path / "pos.json").write_text(json.dumps([aacr_pr(url, missing, base, [])]))
    code = main(["eval", "import", "aacr", str(tmp_path / "pos.json"),
                 "--clones", str(tmp_path / "clones"), "--out", str(tmp_path / "out")])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2
    assert (
        f"lacks {missing}; run `git -C {tmp_path / 'clones' / 'calc'} fetch origin {missing}`"
        in err
    )
    assert err.endswith("ai-review: error: nothing imported: every pull request lacks its diff "
                        "(listed above)\n")  # fmt: skip


def test_martian_comments_have_no_location_and_diffs_come_from_the_user(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    golden = [
        {"pr_title": "Faster pagination", "url": "https://github.com/org/shop-fork/pull/1",
         "az_comment": "x", "comments": [{"comment": "Negative slicing is unsupported",
                                          "severity": "High"},
                                         {"comment": "Odd", "severity": "Weird"}]},
        {"pr_title": "Other", "url": "https://github.com/org/shop-fork/pull/2",
         "original_url": "https://github.com/up/shop/pull/9", "comments": []},
    ]  # fmt: skip
    (tmp_path / "shop.json").write_text(json.dumps(golden))
    diffs = tmp_path / "diffs"
    diffs.mkdir()
    (diffs / "shop-fork-1.diff").write_text(
        "diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n"
    )
    code = main(["eval", "import", "martian", str(tmp_path / "shop.json"), "--diffs", str(diffs),
                 "--out", str(tmp_path / "out")])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 0
    assert (f"ai-review: missing: {diffs / 'shop-fork-2.diff'}: download "
            "https://github.com/org/shop-fork/pull/2.diff to it") in err  # fmt: skip
    (case,) = load_cases(tmp_path / "out" / "cases.jsonl")
    assert case.id == "org-shop-fork-1" and case.title == "Faster pagination"
    assert [(g.comment, g.path, g.severity) for g in case.golden] == [
        ("Negative slicing is unsupported", None, "high"), ("Odd", None, None),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "does not exist"),
        ("{", "not valid JSON"),
        ('{"a": 1}', "expected a JSON array of pull requests"),
        ('[{"url": "https://example.com/x"}]', "Martian pull request 1: 'https://example.com/x' "
                                               "is not a GitHub pull request URL"),
    ],
)  # fmt: skip
def test_bad_benchmark_files_are_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str | None, message: str
) -> None:
    path = tmp_path / "golden.json"
    if content is not None:
        path.write_text(content)
    code = main(["eval", "import", "martian", str(path), "--diffs", str(tmp_path),
                 "--out", str(tmp_path / "out")])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2 and message in err and err.count("\n") == 1


def test_aacr_entries_without_commits_are_listed_not_guessed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base, head = make_clone(tmp_path / "clones" / "calc")
    good = aacr_pr("https://github.com/acme/calc/pull/1", head, base, [])
    broken = aacr_pr("https://github.com/acme/calc/pull/2", "HEAD~1; rm -rf /", base, [])
    (tmp_path / "pos.json").write_text(json.dumps([good, broken]))
    code = main(["eval", "import", "aacr", str(tmp_path / "pos.json"),
                 "--clones", str(tmp_path / "clones"), "--out", str(tmp_path / "out")])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 0
    assert ("missing: https://github.com/acme/calc/pull/2: the entry has no valid "
            "source_commit/target_commit") in err  # fmt: skip
    assert [case.id for case in load_cases(tmp_path / "out" / "cases.jsonl")] == ["acme-calc-1"]
