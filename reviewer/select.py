"""Decide which files of a diff go to review; every file left out gets a reason."""

from __future__ import annotations

from collections.abc import Iterable
from fnmatch import fnmatchcase

from reviewer.diff import Diff, FileDiff
from reviewer.model import Skipped

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
    ("lock file", LOCK_FILES),
    ("generated", GENERATED),
    ("vendored", VENDORED),
    ("minified", MINIFIED),
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
            skipped.append(Skipped(file.path, reason))
    return tuple(selected), tuple(skipped)


def skip_reason(file: FileDiff, exclude: tuple[str, ...], include: tuple[str, ...]) -> str | None:
    """Why a file is not reviewed, or None. `include` overrides the built-in rules only."""
    if file.binary:
        return "binary"
    if file.status == "deleted":
        return "deleted"
    if matches(file.path, exclude):
        return "excluded by config"
    if include:
        reason = None if matches(file.path, include) else "not in include"
    else:
        reason = next((why for why, globs in _DEFAULT_RULES if matches(file.path, globs)), None)
    if reason is None and not file.hunks:
        return _no_content_reason(file)
    return reason


def _no_content_reason(file: FileDiff) -> str:
    if file.status == "added":
        return "empty new file"
    if file.old_mode != file.new_mode and file.new_mode is not None:
        return "mode change only"
    if file.status in ("renamed", "copied"):
        return f"{file.status} without changes"
    return "no content change"


def matches(path: str, patterns: Iterable[str]) -> bool:
    """Glob match where `**/` also matches the top directory and `dir/**` matches below it."""
    for pattern in patterns:
        if fnmatchcase(path, pattern):
            return True
        if pattern.startswith("**/") and fnmatchcase(path, pattern[3:]):
            return True
    return False
