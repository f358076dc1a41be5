"""The diff parser on real `git` output: every shape git writes, and input that is not a diff."""

from __future__ import annotations

from pathlib import Path

import pytest

from reviewer.diff import (
    Diff,
    FileDiff,
    Hunk,
    LineKind,
    parse_diff,
    parse_file_patch,
    render_patch,
)
from reviewer.errors import InputError

# Each fixture was written by git 2.39 in a scratch repository (see the test using it).
DIFFS = Path(__file__).resolve().parent / "data" / "diffs"

Row = tuple[LineKind, int | None, int | None, str]


def parse(name: str) -> Diff:
    return parse_diff((DIFFS / name).read_bytes())


def only_file(name: str) -> FileDiff:
    (file,) = parse(name).files
    return file


def rows(hunk: Hunk) -> list[Row]:
    return [(line.kind, line.old, line.new, line.text) for line in hunk.lines]


def header(hunk: Hunk) -> tuple[int, int, int, int, str]:
    return (hunk.old_start, hunk.old_len, hunk.new_start, hunk.new_len, hunk.section)


# --- renames, copies, additions, deletions, modes ---


def test_renamed_with_edits() -> None:
    # git mv src/billing.py src/invoice.py, one line edited; git diff -M --cached
    file = only_file("renamed_with_edits.diff")
    assert (file.path, file.old_path) == ("src/invoice.py", "src/billing.py")
    assert file.status == "renamed"
    assert (file.binary, file.old_mode, file.new_mode) == (False, "100644", "100644")
    (hunk,) = file.hunks
    assert header(hunk) == (5, 4, 5, 4, "def total(price, qty):")
    assert rows(hunk) == [
        ("ctx", 5, 5, ""),
        ("ctx", 6, 6, ""),
        ("ctx", 7, 7, "def tax(amount):"),
        ("del", 8, None, "    return amount * 0.2"),
        ("add", None, 8, "    return round(amount * 0.2, 2)"),
    ]
    assert file.changed == 2


def test_pure_rename_has_no_hunks() -> None:
    # similarity index 100%: git writes no ---/+++ lines and no hunks
    assert parse("pure_rename.diff") == Diff(
        files=(FileDiff(path="kept.txt", old_path="keep.txt", status="renamed"),)
    )


def test_copy() -> None:
    # git diff -C -C --cached after copying colors.txt and appending a line
    file = only_file("copy.diff")
    assert (file.path, file.old_path, file.status) == ("colors_ext.txt", "colors.txt", "copied")
    assert (file.binary, file.old_mode, file.new_mode) == (False, "100644", "100644")
    (hunk,) = file.hunks
    assert header(hunk) == (5, 3, 5, 4, "green")
    assert rows(hunk) == [
        ("ctx", 5, 5, "blue"),
        ("ctx", 6, 6, "indigo"),
        ("ctx", 7, 7, "violet"),
        ("add", None, 8, "ultraviolet"),
    ]


def test_new_file() -> None:
    file = only_file("new_file.diff")
    assert (file.path, file.old_path, file.status) == ("new.txt", "new.txt", "added")
    assert (file.binary, file.old_mode, file.new_mode) == (False, None, "100644")
    (hunk,) = file.hunks
    assert header(hunk) == (0, 0, 1, 2, "")
    assert rows(hunk) == [("add", None, 1, "hello"), ("add", None, 2, "world")]


def test_deleted_file() -> None:
    file = only_file("deleted_file.diff")
    assert (file.path, file.old_path, file.status) == ("old.txt", "old.txt", "deleted")
    assert (file.binary, file.old_mode, file.new_mode) == (False, "100644", None)
    (hunk,) = file.hunks
    assert header(hunk) == (1, 2, 0, 0, "")
    assert rows(hunk) == [("del", 1, None, "gone 1"), ("del", 2, None, "gone 2")]


def test_new_empty_file_has_no_hunks() -> None:
    assert parse("new_empty_file.diff") == Diff(
        files=(FileDiff(path="empty.txt", old_path="empty.txt", status="added", new_mode="100644"),)
    )


def test_mode_only_change() -> None:
    # chmod +x run.sh: only "old mode" / "new mode" lines
    assert parse("mode_change.diff") == Diff(
        files=(
            FileDiff(
                path="run.sh",
                old_path="run.sh",
                status="modified",
                old_mode="100644",
                new_mode="100755",
            ),
        )
    )


@pytest.mark.parametrize(
    "name",
    [
        "binary.diff",  # git diff: "Binary files a/logo.png and b/logo.png differ"
        "binary_patch.diff",  # git diff --binary: "GIT binary patch" with base85 literals
    ],
)
def test_binary_file(name: str) -> None:
    assert parse(name) == Diff(
        files=(
            FileDiff(
                path="logo.png",
                old_path="logo.png",
                status="modified",
                binary=True,
                old_mode="100644",
                new_mode="100644",
            ),
        )
    )


# --- line endings and encodings ---


def test_no_newline_marker_is_not_a_line() -> None:
    # tail_new.txt lost its final newline, tail_old.txt gained one
    lost, gained = parse("no_newline.diff").files
    assert (lost.path, gained.path) == ("tail_new.txt", "tail_old.txt")
    expected = [("ctx", 1, 1, "first"), ("del", 2, None, "last"), ("add", None, 2, "last")]
    assert [rows(hunk) for hunk in lost.hunks] == [expected]
    assert [rows(hunk) for hunk in gained.hunks] == [expected]


def test_crlf_throughout_parses_like_lf() -> None:
    # renamed_with_edits.diff as a Windows editor saves it: every line, headers too, ends in CRLF
    data = (DIFFS / "crlf_throughout.diff").read_bytes()
    assert data.count(b"\r\n") == data.count(b"\n")  # the checkout kept the CRs
    assert parse_diff(data) == parse("renamed_with_edits.diff")
    assert parse_diff(data.decode()) == parse("renamed_with_edits.diff")


def test_crlf_content_in_lf_diff() -> None:
    # win.py has CRLF endings in the repository; git's own lines end in LF
    assert b"b = 2\r\n" in (DIFFS / "crlf_content.diff").read_bytes()
    file = only_file("crlf_content.diff")
    assert file.path == "win.py"
    assert [rows(hunk) for hunk in file.hunks] == [
        [("ctx", 1, 1, "a = 1"), ("del", 2, None, "b = 2"), ("add", None, 2, "b = 3")]
    ]


def test_non_utf8_bytes_are_replaced() -> None:
    # latin.txt is latin-1: "café" is b"caf\xe9"
    assert b"caf\xe9" in (DIFFS / "latin1.diff").read_bytes()
    file = only_file("latin1.diff")
    assert [rows(hunk) for hunk in file.hunks] == [
        [("del", 1, None, "caf\ufffd"), ("add", None, 1, "caf\ufffd cr\ufffdme")]
    ]


def test_quoted_unicode_path() -> None:
    # git writes ä.txt as "a/\303\244.txt"
    assert b'"a/\\303\\244.txt"' in (DIFFS / "quoted_path.diff").read_bytes()
    file = only_file("quoted_path.diff")
    assert (file.path, file.old_path, file.status) == ("ä.txt", "ä.txt", "modified")
    assert [rows(hunk) for hunk in file.hunks] == [
        [("del", 1, None, "eins"), ("add", None, 1, "zwei")]
    ]


def test_quoted_path_with_backslash() -> None:
    # a file literally named x\101.txt: git writes "a/x\\101.txt", which is not the octal \101
    file = only_file("quoted_backslash.diff")
    assert (file.path, file.old_path) == ("x\\101.txt", "x\\101.txt")


# --- whole-change formats ---


def test_format_patch_mail_with_two_commits() -> None:
    # git format-patch --stdout of two commits that both touch greet.py
    first, names, second = parse("format_patch.mbox").files
    assert (first.path, first.status, len(first.hunks)) == ("greet.py", "modified", 1)
    assert rows(first.hunks[0]) == [
        ("ctx", 1, 1, "def greet(name):"),
        ("del", 2, None, '    return "hi " + name'),
        ("add", None, 2, '    return f"hi {name}"'),
    ]
    assert (names.path, names.status, names.new_mode) == ("NAMES", "added", "100644")
    assert [rows(hunk) for hunk in names.hunks] == [[("add", None, 1, "greet")]]
    # neither the mail headers nor the "-- " signature before "2.39.5" become lines
    assert (second.path, second.status) == ("greet.py", "modified")
    assert rows(second.hunks[0]) == [
        ("del", 1, None, "def greet(name):"),
        ("add", None, 1, "def greet(name: str) -> str:"),
        ("ctx", 2, 2, '    return f"hi {name}"'),
    ]


def test_github_diff_format() -> None:
    # what https://github.com/OWNER/REPO/pull/N.diff serves: git diff base head, index lines kept
    names, greet = parse("github.diff").files
    assert (names.path, names.old_path, names.status, len(names.hunks)) == (
        "NAMES",
        "NAMES",
        "added",
        1,
    )
    assert (greet.path, greet.old_path, greet.status) == ("greet.py", "greet.py", "modified")
    assert (greet.old_mode, greet.new_mode) == ("100644", "100644")
    assert [header(hunk) for hunk in greet.hunks] == [(1, 2, 1, 2, "")]
    assert parse("github.diff").changed == 5


def test_several_hunks_with_section_headers() -> None:
    file = only_file("several_hunks.diff")
    assert [header(hunk) for hunk in file.hunks] == [
        (1, 4, 1, 5, ""),
        (10, 7, 11, 7, "def foo():"),
        (22, 4, 23, 4, "def bar():"),
    ]
    assert rows(file.hunks[2]) == [
        ("ctx", 22, 23, "    x6 = 6"),
        ("ctx", 23, 24, "    x7 = 7"),
        ("ctx", 24, 25, "    x8 = 8"),
        ("del", 25, None, "    return x2"),
        ("add", None, 26, "    return x2 * 2"),
    ]


# --- input that is not a diff ---


@pytest.mark.parametrize("data", ["", b"", " \n\n", b"\r\n"])
def test_empty_input_is_an_empty_diff(data: str | bytes) -> None:
    assert parse_diff(data) == Diff(files=())


def _truncated_in_hunk() -> bytes:
    data = (DIFFS / "several_hunks.diff").read_bytes()
    return data[: data.index(b"-    return x1")]


def _truncated_mid_line() -> bytes:
    data = (DIFFS / "several_hunks.diff").read_bytes()
    return data[: data.index(b"+    return x1 + 1") + 6]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("Hi team,\n\nplease review my pricing change.\nThanks!\n", "not a unified diff"),
        (bytes(range(256)) * 4, "not a unified diff"),
        (_truncated_in_hunk(), "is it truncated?"),
        (_truncated_mid_line(), "is it truncated?"),
    ],
    ids=["prose", "binary-garbage", "truncated-in-hunk", "truncated-mid-line"],
)
def test_bad_input_raises_one_line_input_error(data: str | bytes, message: str) -> None:
    with pytest.raises(InputError) as info:
        parse_diff(data)
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def _one_file(header_path: str, old: str | None = None) -> str:
    old = old or header_path.replace("b/", "a/", 1)
    return f"diff --git {old} {header_path}\n--- {old}\n+++ {header_path}\n@@ -1 +1 @@\n-a\n+b\n"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (_one_file('"b/\\400.txt"'), "invalid escape \\400"),
        (_one_file('"b/x\\777"'), "invalid escape \\777"),
        (_one_file("b/x\0y.py"), "a NUL byte ('x\\x00y.py')"),
        (_one_file('"b/x\\000y.py"'), "a NUL byte"),
        (_one_file("b/" + "d" * 256 + "/f.py"), "a component longer than 255 bytes ('ddd"),
        (_one_file("b/" + "\u00e9" * 128), "longer than 255 bytes"),  # 256 bytes in UTF-8
        (_one_file("b/ok.py", old="a/" + "o" * 300), "longer than 255 bytes"),
    ],
    ids=["octal-400", "octal-777", "nul", "escaped-nul", "long-component", "long-utf8", "old"],
)
def test_a_path_no_checkout_can_hold_is_a_one_line_input_error(data: str, message: str) -> None:
    with pytest.raises(InputError) as info:
        parse_diff(data)
    assert message in str(info.value)
    assert "\n" not in str(info.value)
    assert len(str(info.value)) < 200


def test_the_longest_names_and_escapes_git_makes_are_fine() -> None:
    name = "d" * 255
    diff = parse_diff(_one_file(f"b/{name}/{name}") + _one_file('"b/\\377\\303\\244.txt"'))

    assert [file.path for file in diff.files] == [f"{name}/{name}", "\ufffd\u00e4.txt"]


# --- per-file patches from the GitHub and GitLab APIs ---


@pytest.mark.parametrize(
    "name",
    ["renamed_with_edits.diff", "several_hunks.diff", "no_newline.diff", "format_patch.mbox"],
)
def test_render_patch_round_trips(name: str) -> None:
    for file in parse(name).files:
        assert parse_file_patch(render_patch(file), file.path).hunks == file.hunks


def test_parse_file_patch_keeps_path_and_status() -> None:
    file = parse_file_patch("@@ -1 +1 @@\n-a\n+b", "new.py", "old.py", "renamed")
    assert (file.path, file.old_path, file.status) == ("new.py", "old.py", "renamed")
    assert parse_file_patch("", "x.py") == FileDiff(path="x.py", old_path="x.py", status="modified")


def test_parse_file_patch_crlf_content_and_no_newline_marker() -> None:
    # GitHub's "patch" field for a CRLF file that lost its final newline
    patch = "@@ -1,2 +1,2 @@\n a = 1\r\n-b = 2\r\n+b = 3\n\\ No newline at end of file"
    (hunk,) = parse_file_patch(patch, "win.py").hunks
    assert rows(hunk) == [
        ("ctx", 1, 1, "a = 1"),
        ("del", 2, None, "b = 2"),
        ("add", None, 2, "b = 3"),
    ]
