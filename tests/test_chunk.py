"""Chunking: every changed line reaches the model, in order, within the token budget."""

from __future__ import annotations

from itertools import pairwise

from hypothesis import given, settings
from hypothesis import strategies as st

from reviewer.chunk import (
    OVERLAP_LINES,
    Chunk,
    build_chunks,
    file_header,
    render_hunk,
    split_hunk,
)
from reviewer.diff import FileDiff, parse_diff

LineId = tuple[str, str, int | None, int | None]
PROPERTY = settings(max_examples=200, deadline=None)


def count(text: str) -> int:
    return len(text) // 4 + 1


# --- a strategy for whole diffs: text that git could have written, parsed like real input ---

# Lines drawn from a small pool repeat, as real code does; their lengths vary a lot.
_TEXTS = [
    "",
    "}",
    "    return total",
    "    total = price * qty",
    "def total(price, qty):",
    "        raise ValueError(f'quantity {qty} must be positive, got a negative number')",
    "# " + "a long comment that goes on and on " * 4,
    "x = 1",
    "    if qty <= 0:",
]
_LINE = st.sampled_from([(marker, text) for marker in "+- " for text in _TEXTS])
_DIRS = ["src", "reviewer", "a_rather_long_directory_name", "platforms", "x"]
_PATH = st.lists(st.sampled_from(_DIRS), max_size=4).map(lambda dirs: "/".join([*dirs, "f.py"]))


@st.composite
def _hunk_text(draw: st.DrawFn, old_start: int, new_start: int) -> tuple[str, int, int]:
    """One hunk as diff text, and how many old and new lines it spans."""
    lines = draw(st.lists(_LINE, min_size=1, max_size=30))
    if all(marker == " " for marker, _ in lines):
        lines[0] = ("+", lines[0][1])
    old_len = sum(marker != "+" for marker, _ in lines)
    new_len = sum(marker != "-" for marker, _ in lines)
    section = draw(st.sampled_from(["", "def handler(request, *args, **kwargs):", "class A:"]))
    header = f"@@ -{old_start},{old_len} +{new_start},{new_len} @@ {section}".rstrip()
    body = "".join(f"{marker}{text}\n" for marker, text in lines)
    return header + "\n" + body, old_len, new_len


@st.composite
def _file_text(draw: st.DrawFn, path: str) -> str:
    out = [f"diff --git a/{path} b/{path}\n--- a/{path}\n+++ b/{path}\n"]
    old = new = draw(st.integers(1, 50))
    for _ in range(draw(st.integers(1, 4))):
        text, old_len, new_len = draw(_hunk_text(old, new))
        out.append(text)
        gap = draw(st.integers(1, 30))  # unchanged lines between hunks
        old, new = old + old_len + gap, new + new_len + gap
    return "".join(out)


@st.composite
def diffs(draw: st.DrawFn) -> tuple[FileDiff, ...]:
    paths = draw(st.lists(_PATH, min_size=1, max_size=4, unique=True))
    return parse_diff("".join(draw(_file_text(path)) for path in paths)).files


def changed_ids(files: tuple[FileDiff, ...]) -> list[LineId]:
    return [
        (file.path, line.kind, line.old, line.new)
        for file in files
        for hunk in file.hunks
        for line in hunk.lines
        if line.kind != "ctx"
    ]


def chunked_ids(chunks: list[Chunk]) -> list[LineId]:
    return [line_id for chunk in chunks for line_id in changed_ids(chunk.files)]


def one_line_alone(chunk: Chunk) -> bool:
    """A chunk that holds a single line which cannot fit the budget with its headers."""
    return len(chunk.files) == 1 and [len(h.lines) for h in chunk.files[0].hunks] == [1]


# --- properties ---


@PROPERTY
@given(diffs(), st.integers(40, 400))
def test_every_changed_line_is_in_some_chunk(files: tuple[FileDiff, ...], budget: int) -> None:
    chunks = build_chunks(files, budget, count)
    assert set(changed_ids(files)) <= set(chunked_ids(chunks))


@PROPERTY
@given(diffs(), st.integers(40, 400))
def test_changed_lines_keep_their_order(files: tuple[FileDiff, ...], budget: int) -> None:
    chunks = build_chunks(files, budget, count)
    assert list(dict.fromkeys(chunked_ids(chunks))) == changed_ids(files)
    assert [chunk.index for chunk in chunks] == list(range(len(chunks)))


@PROPERTY
@given(diffs(), st.integers(40, 400))
def test_chunks_stay_within_the_budget(files: tuple[FileDiff, ...], budget: int) -> None:
    for chunk in build_chunks(files, budget, count):
        # the reported count is what the chunk's text really costs
        assert chunk.tokens == sum(
            count(file_header(file)) + sum(count(render_hunk(hunk)) for hunk in file.hunks)
            for file in chunk.files
        )
        assert chunk.tokens <= budget or one_line_alone(chunk)


@PROPERTY
@given(diffs(), st.integers(40, 400))
def test_hunks_that_fit_stay_whole(files: tuple[FileDiff, ...], budget: int) -> None:
    chunks = build_chunks(files, budget, count)
    for file in files:
        for hunk in file.hunks:
            if count(file_header(file)) + count(render_hunk(hunk)) > budget:
                continue
            ids = set(changed_ids((FileDiff(file.path, file.old_path, file.status, (hunk,)),)))
            holding = [chunk for chunk in chunks if ids & set(chunked_ids([chunk]))]
            assert len(holding) == 1
            assert hunk in [h for f in holding[0].files if f.path == file.path for h in f.hunks]


# --- examples ---

SMALL = """\
diff --git a/a.py b/a.py
--- a/a.py
+++ b/a.py
@@ -1,2 +1,2 @@
 import os
-x = 1
+x = 2
diff --git a/b.py b/b.py
--- a/b.py
+++ b/b.py
@@ -10,2 +10,3 @@ def f():
     y = 1
+    z = 2
     return y
"""


def test_small_files_share_one_chunk() -> None:
    files = parse_diff(SMALL).files
    chunks = build_chunks(files, 1000, count)
    assert len(chunks) == 1
    assert chunks[0].files == files
    assert chunks[0].changed == 3


def _big_file() -> str:
    hunks = [
        f"@@ -{start},3 +{start},3 @@\n a{start}\n"
        f"-old line number {start}\n+new line number {start}\n b{start}\n"
        for start in (10, 30, 50, 70, 90)
    ]
    return "diff --git a/big.py b/big.py\n--- a/big.py\n+++ b/big.py\n" + "".join(hunks)


def test_a_large_file_spans_several_chunks_in_order() -> None:
    (file,) = parse_diff(_big_file()).files
    header, hunk = count(file_header(file)), count(render_hunk(file.hunks[0]))
    chunks = build_chunks([file], header + 2 * hunk, count)
    assert [[h.new_start for f in c.files for h in f.hunks] for c in chunks] == [
        [10, 30],
        [50, 70],
        [90],
    ]
    assert all(c.files[0].path == "big.py" for c in chunks)
    assert all(c.tokens <= header + 2 * hunk for c in chunks)


OVERSIZE = (
    "diff --git a/gen.py b/gen.py\n--- a/gen.py\n+++ b/gen.py\n@@ -1,2 +1,32 @@\n context_before\n"
    + "".join(f"+value_{n:02} = compute({n}, factor={n * 3})\n" for n in range(1, 31))
    + " context_after\n"
)


def test_an_oversize_hunk_is_split_with_overlap() -> None:
    (file,) = parse_diff(OVERSIZE).files
    chunks = build_chunks([file], 150, count)
    pieces = [hunk for chunk in chunks for f in chunk.files for hunk in f.hunks]
    assert len(pieces) > 2
    for before, after in pairwise(pieces):
        assert before.lines[-OVERLAP_LINES:] == after.lines[:OVERLAP_LINES]
    assert pieces[0].lines[0].text == "context_before"
    assert pieces[-1].lines[-1].text == "context_after"
    for piece in pieces:  # each piece's header describes its own lines
        assert piece.new_start == piece.lines[0].new
        assert piece.new_len == len(piece.lines)
    assert all(chunk.tokens <= 150 for chunk in chunks)


def test_a_hunk_that_fits_is_not_split() -> None:
    (file,) = parse_diff(SMALL).files[:1]
    assert list(split_hunk(file.hunks[0], 1000, count)) == [file.hunks[0]]


def test_a_line_larger_than_the_budget_gets_a_chunk_of_its_own() -> None:
    text = "x" * 400
    diff = f"diff --git a/w.py b/w.py\n--- a/w.py\n+++ b/w.py\n@@ -1,1 +1,3 @@\n a\n+{text}\n+b\n"
    (file,) = parse_diff(diff).files
    chunks = build_chunks([file], 60, count)
    alone = [c for c in chunks if text in (ln.text for h in c.files[0].hunks for ln in h.lines)]
    assert len(alone) == 1
    assert one_line_alone(alone[0])
    assert changed_ids((file,)) == list(dict.fromkeys(chunked_ids(chunks)))


def test_long_headers_are_counted_when_a_hunk_is_split() -> None:
    path = "src/" + "very_long_directory_name/" * 6 + "module.py"
    section = "def a_function_with_a_long_signature(first_argument, second_argument, third):"
    lines = "".join(f"+line_{n} = {n}\n" for n in range(40))
    diff = f"diff --git a/{path} b/{path}\n--- a/{path}\n+++ b/{path}\n@@ -0,0 +1,40 @@ {section}\n"
    (file,) = parse_diff(diff + lines).files
    chunks = build_chunks([file], 120, count)
    assert len(chunks) > 1
    assert all(chunk.tokens <= 120 for chunk in chunks)


def test_a_piece_of_only_removed_lines_sits_after_the_new_line_before_it() -> None:
    text = "".join(f"-removed line number {n} with some words\n" for n in range(1, 41))
    file = parse_diff(f"--- a/x.py\n+++ b/x.py\n@@ -11,40 +10,0 @@\n{text}").files[0]
    pieces = list(split_hunk(file.hunks[0], 80, lambda s: len(s) // 4 + 1))
    assert len(pieces) > 1
    assert {(p.new_start, p.new_len) for p in pieces} == {(10, 0)}
    assert [p.old_start for p in pieces] == sorted(p.old_start for p in pieces)
    mixed = parse_diff(
        "--- a/y.py\n+++ b/y.py\n@@ -1,2 +1,31 @@\n a\n"
        + "".join(f"+added line number {n} with several words\n" for n in range(29))
        + " b\n"
    ).files[0]
    added_only = [p for p in split_hunk(mixed.hunks[0], 80, lambda s: len(s) // 4 + 1)][1]
    assert (added_only.old_start, added_only.old_len) == (1, 0)  # after old line 1
