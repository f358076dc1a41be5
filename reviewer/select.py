"""Decide which files of a diff go to review; every file left out gets a reason."""

from __future__ import annotations

from collections.abc import Iterable
from fnmatch import fnmatchcase

from reviewer.diff import Diff, FileDiff
from reviewer.model import SkipCode, Skipped

# Files nobody reviews by hand: what a tool wrote, what a vendor shipped, what a minifier made.
LOCK_FILES = (
    "**/package-lock.json",
    "**/yarn.lock",
    "**/pnpm-lock.yaml",
    "**/poetry.lock",
    "**/Pipfile.lock",
    "**/uv.lock",
    "**/Cargo.lock",
    "**/go.sum",
    "**/composer.lock",
    "**/Gemfile.lock",
    "**/*.lock",
)
GENERATED = (
    "**/*.pb.go",
    "**/*_pb2.py",
    "**/*_pb2.pyi",
    "**/*.generated.*",
    "**/*.g.dart",
    "**/*.snap",
    "**/__snapshots__/**",
    "**/*.svg",
)
VENDORED = ("**/vendor/**", "**/node_modules/**", "**/third_party/**", "**/dist/**")
MINIFIED = ("**/*.min.js", "**/*.min.css", "**/*.map")

_DEFAULT_RULES = (
    (SkipCode.LOCK_FILE, LOCK_FILES),
    (SkipCode.GENERATED, GENERATED),
    (SkipCode.VENDORED, VENDORED),
    (SkipCode.MINIFIED, MINIFIED),
)


def select_files(
    diff: Diff, exclude: Iterable[str] = (), include: Iterable[str] = ()
) -> tuple[tuple[FileDiff, ...], tuple[Skipped, ...]]:
    """Split the diff's files into those to review and those skipped, with the reason."""
    exclude, include = tuple(exclude), tuple(include)
    selected: list[FileDiff] = []
    skipped: list[Skipped] = []
    for file in diff.files:
        reason = skip_reason(file, exclude, include)
        if reason is None:
            selected.append(file)
        else:
            skipped.append(reason)
    return tuple(selected), tuple(skipped)


def skip_reason(
    file: FileDiff, exclude: tuple[str, ...], include: tuple[str, ...]
) -> Skipped | None:
    """Why a file is not reviewed, or None. `include` overrides the built-in rules only."""
    code = _skip_code(file, exclude, include)
    if code is None and not file.hunks:
        return _no_content(file)
    return None if code is None else Skipped(file.path, code)


def _skip_code(
    file: FileDiff, exclude: tuple[str, ...], include: tuple[str, ...]
) -> SkipCode | None:
    if file.binary:
        return SkipCode.BINARY
    if file.status == "deleted":
        return SkipCode.DELETED
    if matches(file.path, exclude):
        return SkipCode.EXCLUDED
    if include:
        return None if matches(file.path, include) else SkipCode.NOT_INCLUDED
    return next((code for code, globs in _DEFAULT_RULES if matches(file.path, globs)), None)


def _no_content(file: FileDiff) -> Skipped:
    if file.status == "added":
        return Skipped(file.path, SkipCode.EMPTY_NEW_FILE)
    if file.old_mode != file.new_mode and file.new_mode is not None:
        return Skipped(file.path, SkipCode.MODE_CHANGE)
    if file.status in ("renamed", "copied"):
        return Skipped(file.path, SkipCode.UNCHANGED_COPY, file.status)
    return Skipped(file.path, SkipCode.NO_CONTENT_CHANGE)


def matches(path: str, patterns: Iterable[str]) -> bool:
    """Glob match where `**/` also matches the top directory and `dir/**` matches below it."""
    for pattern in patterns:
        if fnmatchcase(path, pattern):
            return True
        if pattern.startswith("**/") and fnmatchcase(path, pattern[3:]):
            return True
    return False
