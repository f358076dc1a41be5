"""Repository context around each hunk: the enclosing function or class, nearby lines, and
the review guidelines. Files come from a ContextSource: a checkout, or a platform's API."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Protocol

from reviewer.diff import Hunk
from reviewer.errors import UsageError

MAX_FILE_BYTES = 2_000_000
_BINARY_SNIFF_BYTES = 8192
MAX_GUIDELINE_CHARS = 20_000
_SCAN_LIMIT = 3000
VCS_METADATA = frozenset({".git", ".hg", ".svn"})
# A line that opens a scope in common languages: def/class/func/fn/function/impl/...
_SCOPE = re.compile(
    r"^\s*(?:(?:export|public|private|protected|static|async|pub(?:\(\w+\))?|override|final|"
    r"abstract|default|inline|virtual)\s+)*"
    r"(?:def|class|func|fn|function|impl|trait|struct|enum|interface|module|namespace|"
    r"object|record|type|sub|procedure)\b"
)


class ContextSource(Protocol):
    """Reads a file of the reviewed revision; None when it cannot (missing, binary, too big)."""

    def read(self, path: str) -> str | None: ...


class NoContext:
    def read(self, path: str) -> str | None:
        return None


class LocalCheckout:
    """Files from a checkout on disk: the one place every read of the checkout (context,
    guidelines, repository tools) goes through. A path is resolved, symlinks included, and
    read only when it stays inside the checkout and outside VCS metadata (`.git/` holds the
    job's credentials). What cannot be read for another reason than absence (a symlink loop,
    an unreadable file, a refused path) is skipped and recorded in `skipped`."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.skipped: dict[str, str] = {}  # path -> why it was not read, for the summary

    def read(self, path: str) -> str | None:
        try:
            target = confine(self.root, path)
            if not target.is_file() or target.stat().st_size > MAX_FILE_BYTES:
                return None
            data = target.read_bytes()
        except OutsideRepository as exc:
            self.skipped[path] = str(exc)
            return None
        except OSError as exc:
            if not isinstance(exc, FileNotFoundError):
                self.skipped[path] = f"unreadable ({exc.strerror or type(exc).__name__})"
            return None
        return decode_file(data)


class OutsideRepository(UsageError):
    """A path that resolves outside the repository root or into VCS metadata, or cannot be
    resolved; the message completes "PATH is ...": "outside the repository"."""


def confine(root: Path, path: str | Path) -> Path:
    """`path` (relative to `root`, or absolute) resolved with its symlinks, when it stays
    inside `root` and out of `.git/`, `.hg/` and `.svn/`; else OutsideRepository."""
    base = root.resolve()
    try:
        target = (base / path).resolve()
    except (OSError, RuntimeError) as exc:  # a symlink loop: RuntimeError up to Python 3.12
        raise OutsideRepository("a symlink loop") from exc
    if not target.is_relative_to(base):
        raise OutsideRepository("outside the repository")
    parts = {*Path(path).parts, *target.relative_to(base).parts}
    if any(part.lower() in VCS_METADATA for part in parts):
        raise OutsideRepository("inside VCS metadata (.git/)")
    return target


@dataclass(frozen=True)
class RemoteFiles:
    """Files of the reviewed commit through a platform's API, read when the review asks for
    them; nothing is ever executed. No memo here: the engine reads each file of the diff
    once (its line reader is memoised) and each guideline file once."""

    read_at: Callable[[str, str], str | None]  # (path, ref): the platform API's read_file
    ref: str

    def read(self, path: str) -> str | None:
        parts = PurePosixPath(path).parts
        if (
            not parts
            or parts[0] == "/"
            or ".." in parts
            or VCS_METADATA & {p.lower() for p in parts}
        ):
            return None  # the API is asked for repository paths only, never metadata
        return self.read_at(path, self.ref)


def decode_file(data: bytes) -> str | None:
    """A file's text for context, from a checkout or a platform's API; None for a file over
    MAX_FILE_BYTES or a binary one (a NUL byte near the start). Bytes that are not UTF-8
    become U+FFFD rather than failing the review."""
    if len(data) > MAX_FILE_BYTES or b"\0" in data[:_BINARY_SNIFF_BYTES]:
        return None
    return data.decode("utf-8", errors="replace")


@dataclass(frozen=True)
class HunkContext:
    scope: str
    before: tuple[tuple[int, str], ...]
    after: tuple[tuple[int, str], ...]


def hunk_context(lines: list[str] | None, hunk: Hunk, around: int) -> HunkContext:
    """The enclosing scope line and up to `around` unchanged lines before and after the hunk."""
    if lines is None:
        return HunkContext(hunk.section, (), ())
    # 0-based index of the hunk's first new-file line; a hunk with no new line ("+4,0") sits
    # after new line 4, so what follows it starts at index 4.
    first = hunk.new_start if hunk.new_len == 0 else hunk.new_start - 1
    last = first + hunk.new_len
    before = tuple((n + 1, lines[n]) for n in range(max(first - around, 0), min(first, len(lines))))
    after = tuple((n + 1, lines[n]) for n in range(last, min(last + around, len(lines))))
    return HunkContext(_scope(lines, hunk, first) or hunk.section, before, after)


def _scope(lines: list[str], hunk: Hunk, first: int) -> str:
    body = [line.text for line in hunk.lines if line.kind != "del" and line.text.strip()]
    indent = _indent(body[0]) if body else 0
    for index in range(min(first, len(lines)) - 1, max(first - _SCAN_LIMIT, 0) - 1, -1):
        text = lines[index]
        if text.strip() and _indent(text) < indent and _SCOPE.match(text):
            return f"{index + 1}: {text.strip()}"
        if text.strip() and _indent(text) == 0 and indent == 0:
            break
    return ""


def _indent(text: str) -> int:
    return len(text) - len(text.lstrip(" \t"))


@dataclass(frozen=True)
class Guideline:
    path: str
    text: str


def read_guidelines(source: ContextSource, paths: tuple[str, ...]) -> tuple[Guideline, ...]:
    """The repository's review guideline files that exist, each capped in size."""
    found = []
    for path in paths:
        text = source.read(path)
        if text and text.strip():
            found.append(Guideline(path, text[:MAX_GUIDELINE_CHARS].strip()))
    return tuple(found)
