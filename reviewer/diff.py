"""Parse unified diffs into a small typed model. The only module that imports unidiff."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from unidiff.errors import UnidiffParseError
from unidiff.patch import PatchSet

from reviewer.errors import InputError

LineKind = Literal["add", "del", "ctx"]
FileStatus = Literal["added", "deleted", "modified", "renamed", "copied"]

_KIND = {"+": "add", "-": "del", " ": "ctx"}
_DEV_NULL = "/dev/null"
_QUOTED_ESCAPE = re.compile(rb"\\([0-7]{3}|.)", re.DOTALL)
_C_ESCAPES = {b"a": 7, b"b": 8, b"t": 9, b"n": 10, b"v": 11, b"f": 12, b"r": 13}
_NAME_MAX = 255  # bytes in one path component (NAME_MAX on Linux, macOS and Windows)
_HUNK_HEADER = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@ ?(.*)$")


@dataclass(frozen=True, slots=True)
class DiffLine:
    """One line of a hunk with its number in the old and/or new file."""

    kind: LineKind
    text: str
    old: int | None
    new: int | None


@dataclass(frozen=True)
class Hunk:
    """A hunk: its header numbers, the section header git found, and its lines."""

    old_start: int
    old_len: int
    new_start: int
    new_len: int
    section: str
    lines: tuple[DiffLine, ...]

    @property
    def changed(self) -> int:
        return sum(1 for line in self.lines if line.kind != "ctx")


@dataclass(frozen=True)
class FileDiff:
    """The change to one file. `path` is the new path (the old one for a deleted file)."""

    path: str
    old_path: str
    status: FileStatus
    hunks: tuple[Hunk, ...] = ()
    binary: bool = False
    old_mode: str | None = None
    new_mode: str | None = None

    @property
    def changed(self) -> int:
        return sum(hunk.changed for hunk in self.hunks)


@dataclass(frozen=True)
class Diff:
    files: tuple[FileDiff, ...]

    @property
    def changed(self) -> int:
        return sum(file.changed for file in self.files)


def parse_diff(data: bytes | str) -> Diff:
    """Parse `git diff`, `git format-patch` or GitHub `.diff` output; InputError if it is none."""
    text = data.decode("utf-8", errors="replace") if isinstance(data, bytes) else data
    text = _normalize_newlines(text)
    if not text.strip():
        return Diff(files=())
    try:
        patch = PatchSet(text)
    except UnidiffParseError as exc:
        raise InputError(
            f"the diff cannot be parsed ({_first_line(exc)}): is it truncated?"
        ) from exc
    if not patch:
        raise InputError(
            "the input is not a unified diff: pass the output of `git diff` or `git format-patch`"
        )
    files = tuple(_file_from_unidiff(patched) for patched in patch)
    for file in files:
        _check_path(file.path)
        _check_path(file.old_path)
    return Diff(files=files)


def _check_path(path: str) -> None:
    # No checkout can hold such a path (git refuses NUL, file systems names over 255 bytes):
    # the diff was not made by git, and reading the file for context would fail later.
    problem = None
    if "\0" in path:
        problem = "a NUL byte"
    elif any(len(part.encode("utf-8", "surrogateescape")) > _NAME_MAX for part in path.split("/")):
        problem = f"a component longer than {_NAME_MAX} bytes"
    if problem:
        shown = ascii(path)  # escapes NUL, control and non-ASCII characters: one printable line
        shown = shown if len(shown) <= 80 else shown[:76] + "...'"
        raise InputError(f"the diff names a path with {problem} ({shown}): is it a git diff?")


def parse_file_patch(
    patch: str, path: str, old_path: str | None = None, status: FileStatus = "modified"
) -> FileDiff:
    """Build a FileDiff from hunks alone, as GitHub's and GitLab's APIs give them per file."""
    hunks: list[Hunk] = []
    current: list[DiffLine] = []
    header: tuple[int, int, int, int, str] | None = None
    old = new = 0
    # A CR ends a line of a CRLF patch or of a CRLF file's content: never part of the text.
    for raw in (line.removesuffix("\r") for line in patch.split("\n")):
        match = _HUNK_HEADER.match(raw)
        if match:
            if header is not None:
                hunks.append(Hunk(*header, lines=tuple(current)))
            a, b, c, d, section = match.groups()
            header = (int(a), _count(b), int(c), _count(d), section.strip())
            old, new, current = int(a), int(c), []
        elif header is not None and raw[:1] in _KIND:
            line, old, new = _numbered(raw[0], raw[1:], old, new)
            current.append(line)
    if header is not None:
        hunks.append(Hunk(*header, lines=tuple(current)))
    return FileDiff(path=path, old_path=old_path or path, status=status, hunks=tuple(hunks))


def render_patch(file: FileDiff) -> str:
    """The file's hunks as unified-diff text without file headers (inverse of parse_file_patch)."""
    out: list[str] = []
    for hunk in file.hunks:
        out.append(
            f"@@ -{hunk.old_start},{hunk.old_len} +{hunk.new_start},{hunk.new_len} @@"
            + (f" {hunk.section}" if hunk.section else "")
        )
        out.extend({"add": "+", "del": "-", "ctx": " "}[ln.kind] + ln.text for ln in hunk.lines)
    return "\n".join(out)


def _count(value: str | None) -> int:
    return 1 if value is None else int(value)


def _numbered(marker: str, text: str, old: int, new: int) -> tuple[DiffLine, int, int]:
    kind = _KIND[marker]
    if kind == "add":
        return DiffLine("add", text, None, new), old, new + 1
    if kind == "del":
        return DiffLine("del", text, old, None), old + 1, new
    return DiffLine("ctx", text, old, new), old + 1, new + 1


def _normalize_newlines(text: str) -> str:
    # A diff saved with CRLF endings throughout (its headers too) reads as LF; CR inside
    # content lines of an LF diff (a CRLF file in the repo) stays and is stripped per line.
    first = text.find("\n")
    if first > 0 and text[first - 1] == "\r":
        return text.replace("\r\n", "\n")
    return text


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _file_from_unidiff(patched: object) -> FileDiff:
    info = "".join(getattr(patched, "patch_info", None) or [])
    source = _clean_path(getattr(patched, "source_file", "") or "")
    target = _clean_path(getattr(patched, "target_file", "") or "")
    renamed_from = _header_value(info, "rename from") or _header_value(info, "copy from")
    old_path = renamed_from or (source if source != _DEV_NULL else target)
    path = target if target != _DEV_NULL else source
    if not path or path == _DEV_NULL:
        path = _clean_path(str(getattr(patched, "path", "")))
    hunks = tuple(_hunks(patched))
    return FileDiff(
        path=path,
        old_path=old_path if old_path and old_path != _DEV_NULL else path,
        status=_status(patched, info, source, target),
        hunks=hunks,
        binary=bool(getattr(patched, "is_binary_file", False)),
        old_mode=getattr(patched, "source_mode", None),
        new_mode=getattr(patched, "target_mode", None),
    )


def _status(patched: object, info: str, source: str, target: str) -> FileStatus:
    if source == _DEV_NULL or "\nnew file mode" in "\n" + info:
        return "added"
    if target == _DEV_NULL or "\ndeleted file mode" in "\n" + info:
        return "deleted"
    if "\ncopy from " in "\n" + info:
        return "copied"
    if "\nrename from " in "\n" + info or (source and target and source != target):
        return "renamed"
    return "modified"


def _hunks(patched: object) -> Iterator[Hunk]:
    for hunk in patched:  # type: ignore[attr-defined]
        lines = tuple(
            DiffLine(
                _KIND[line.line_type],  # type: ignore[arg-type]
                line.value.rstrip("\n").removesuffix("\r"),
                line.source_line_no if line.line_type != "+" else None,
                line.target_line_no if line.line_type != "-" else None,
            )
            for line in hunk
            if line.line_type in _KIND
        )
        yield Hunk(
            hunk.source_start,
            hunk.source_length,
            hunk.target_start,
            hunk.target_length,
            (hunk.section_header or "").strip(),
            lines,
        )


def _header_value(info: str, key: str) -> str | None:
    for line in info.splitlines():
        if line.startswith(key + " "):
            return _unquote(line[len(key) + 1 :].strip())
    return None


def _clean_path(path: str) -> str:
    path = path.split("\t", 1)[0].strip()
    if path == _DEV_NULL:
        return path
    path = _unquote(path)
    if re.match(r"^[abciow12]/", path):
        path = path[2:]
    return path


def _unquote(path: str) -> str:
    # git quotes paths with unusual bytes as "a/\303\244.txt"
    if len(path) >= 2 and path[0] == path[-1] == '"':
        raw = path[1:-1].encode("utf-8", errors="surrogateescape")
        # One pass, so an escaped backslash is never read as the start of another escape.
        raw = _QUOTED_ESCAPE.sub(_unescape, raw)
        return raw.decode("utf-8", errors="replace")
    return path


def _unescape(match: re.Match[bytes]) -> bytes:
    code = match.group(1)
    if len(code) == 3:
        if int(code, 8) > 0o377:  # git escapes one byte at a time: \377 at most
            raise InputError(f"the diff quotes a path with an invalid escape \\{code.decode()}")
        return bytes([int(code, 8)])
    return bytes([_C_ESCAPES.get(code, code[0])])
