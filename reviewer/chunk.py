"""Pack the selected files into chunks that fit a token budget, losing no changed line.

Whole hunks stay together and a file's hunks travel together; small files share a chunk; a
hunk larger than the budget is split at line boundaries with a few lines of overlap.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace

from reviewer.diff import DiffLine, FileDiff, Hunk

TokenCounter = Callable[[str], int]
OVERLAP_LINES = 3
_MARK = {"add": "+", "del": "-", "ctx": " "}


@dataclass(frozen=True)
class Chunk:
    """Part of a review sent to the model in one request: files with (some of) their hunks."""

    index: int
    files: tuple[FileDiff, ...]
    tokens: int

    @property
    def changed(self) -> int:
        return sum(file.changed for file in self.files)


def render_line(line: DiffLine) -> str:
    """A hunk line as the model sees it: its number in the file it belongs to, marker, text."""
    number = line.old if line.kind == "del" else line.new
    return f"{number:>5} {_MARK[line.kind]}{line.text}"


def render_hunk(hunk: Hunk) -> str:
    header = f"@@ -{hunk.old_start},{hunk.old_len} +{hunk.new_start},{hunk.new_len} @@"
    if hunk.section:
        header += f" {hunk.section}"
    return "\n".join([header, *(render_line(line) for line in hunk.lines)])


def file_header(file: FileDiff) -> str:
    if file.status in ("renamed", "copied") and file.old_path != file.path:
        return f"### {file.path} ({file.status} from {file.old_path})"
    return f"### {file.path} ({file.status})"


def build_chunks(files: Iterable[FileDiff], budget: int, count: TokenCounter) -> list[Chunk]:
    """Chunks in diff order; each holds at most `budget` tokens unless one line alone is larger."""
    packer = _Packer(budget)
    for file in files:
        header = count(file_header(file))
        pieces = [
            (piece, count(render_hunk(piece)))
            for hunk in file.hunks
            for piece in split_hunk(hunk, budget - header, count)  # the header travels along
        ]
        packer.add_file(file, pieces, header)
    return packer.finish()


def split_hunk(hunk: Hunk, budget: int, count: TokenCounter) -> Iterator[Hunk]:
    """The hunk itself when it fits, else consecutive pieces that overlap by a few lines."""
    if count(render_hunk(hunk)) <= budget:
        yield hunk
        return
    costs = [count(render_line(line)) + 1 for line in hunk.lines]
    room = budget - count(render_hunk(replace(hunk, lines=())))
    start = 0
    while start < len(hunk.lines):
        end, used = start, 0
        while end < len(hunk.lines) and (end == start or used + costs[end] <= room):
            used += costs[end]
            end += 1
        piece = _sub_hunk(hunk, start, end)
        while end - start > 1 and count(render_hunk(piece)) > budget:  # per-line costs estimate
            end -= 1
            piece = _sub_hunk(hunk, start, end)
        yield piece
        if end >= len(hunk.lines):
            return
        start = max(end - OVERLAP_LINES, start + 1)


def _sub_hunk(hunk: Hunk, start: int, end: int) -> Hunk:
    lines = hunk.lines[start:end]
    old_numbers = [line.old for line in lines if line.old is not None]
    new_numbers = [line.new for line in lines if line.new is not None]
    # A piece with no line on one side sits after that side's last line before it, as a
    # zero-length side does in a unified diff header ("@@ -5,2 +4,0 @@").
    before = hunk.lines[:start]
    old_at = hunk.old_start - 1 if hunk.old_len else hunk.old_start
    new_at = hunk.new_start - 1 if hunk.new_len else hunk.new_start
    old_before = max((ln.old for ln in before if ln.old is not None), default=old_at)
    new_before = max((ln.new for ln in before if ln.new is not None), default=new_at)
    return replace(
        hunk,
        old_start=old_numbers[0] if old_numbers else old_before,
        old_len=len(old_numbers),
        new_start=new_numbers[0] if new_numbers else new_before,
        new_len=len(new_numbers),
        lines=lines,
    )


class _Packer:
    """Greedy packing that keeps diff order: it never reorders files or hunks."""

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self.chunks: list[Chunk] = []
        self.files: list[FileDiff] = []
        self.tokens = 0

    def add_file(self, file: FileDiff, pieces: list[tuple[Hunk, int]], header: int) -> None:
        total = header + sum(tokens for _, tokens in pieces)
        if self.tokens + total > self.budget and self.files and total <= self.budget:
            self._flush()
        if self.tokens + total <= self.budget or not pieces:
            self._take(file, [hunk for hunk, _ in pieces], total)
            return
        group: list[Hunk] = []
        used = header
        for hunk, tokens in pieces:
            if self.tokens + used + tokens > self.budget and (group or self.files):
                if group:
                    self._take(file, group, used)
                self._flush()
                group, used = [], header
            group.append(hunk)
            used += tokens
        self._take(file, group, used)

    def _take(self, file: FileDiff, hunks: list[Hunk], tokens: int) -> None:
        self.files.append(replace(file, hunks=tuple(hunks)))
        self.tokens += tokens

    def _flush(self) -> None:
        if self.files:
            self.chunks.append(Chunk(len(self.chunks), tuple(self.files), self.tokens))
        self.files, self.tokens = [], 0

    def finish(self) -> list[Chunk]:
        self._flush()
        return self.chunks
