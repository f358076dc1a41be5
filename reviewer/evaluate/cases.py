"""The cases file: one JSON object per line, checked where it is read.

Every mistake is one line that names the file and the line number (exit 2), so a hand-written
or imported cases file is fixed in one pass.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reviewer.errors import InputError

_CASE_KEYS = {"id", "diff_path", "diff", "repo_root", "title", "description", "golden",
              "negatives", "clean"}  # fmt: skip
_GOLDEN_KEYS = {"id", "path", "line", "end_line", "side", "comment", "severity"}
_NEGATIVE_KEYS = {"path", "line", "end_line", "side", "comment"}


@dataclass(frozen=True)
class Comment:
    """A golden comment (what a reviewer should say) or a negative one (known to be wrong).
    Location fields are optional: without a path, only the judge can match it."""

    id: str
    comment: str
    path: str | None = None
    line: int | None = None
    end_line: int | None = None
    side: str = "RIGHT"
    severity: str | None = None


@dataclass(frozen=True)
class Case:
    id: str
    diff_text: str
    repo_root: Path | None
    title: str = ""
    description: str = ""
    golden: tuple[Comment, ...] = ()
    negatives: tuple[Comment, ...] = ()
    clean: bool = False
    line: int = 0  # where it is in the cases file, for error messages


class _Bad(ValueError):
    """What is wrong with one line; load_cases adds the file and line number."""


def load_cases(path: Path) -> list[Case]:
    text = _read(path)
    cases: list[Case] = []
    seen: set[str] = set()
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            case = _case(_json_object(line), path.parent, number)
            if case.id in seen:
                raise _Bad(f"duplicate case id {case.id!r}")
        except _Bad as exc:
            raise InputError(f"{path}:{number}: {exc}") from None
        seen.add(case.id)
        cases.append(case)
    if not cases:
        raise InputError(f"{path}: no cases (one JSON object per line)")
    return cases


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"cases file {path} does not exist") from None
    except IsADirectoryError:
        raise InputError(f"{path} is a directory: pass a .jsonl cases file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read cases file {path}: {exc}") from None


def _json_object(line: str) -> dict[str, Any]:
    try:
        value = json.loads(line)
    except json.JSONDecodeError as exc:
        raise _Bad(f"not valid JSON ({exc.msg} at column {exc.colno})") from None
    if not isinstance(value, dict):
        raise _Bad("a case must be a JSON object")
    return value


def _case(data: dict[str, Any], base: Path, number: int) -> Case:
    _known(data, _CASE_KEYS, "case")
    case_id = _string(data, "id", required=True)
    golden = _comments(data.get("golden", []), "golden", _GOLDEN_KEYS)
    ids = [g.id for g in golden]
    if len(set(ids)) != len(ids):
        raise _Bad(f"case {case_id!r}: golden comment ids must be unique")
    clean = data.get("clean", False)
    if not isinstance(clean, bool):
        raise _Bad("`clean` must be true or false")
    if clean and golden:
        raise _Bad(f"case {case_id!r} is `clean` but has golden comments")
    return Case(
        id=case_id,
        diff_text=_diff_text(data, base),
        repo_root=_repo_root(data, base),
        title=_string(data, "title"),
        description=_string(data, "description"),
        golden=golden,
        negatives=_comments(data.get("negatives", []), "negatives", _NEGATIVE_KEYS),
        clean=clean,
        line=number,
    )


def _known(data: dict[str, Any], keys: set[str], what: str) -> None:
    unknown = sorted(set(data) - keys)
    if unknown:
        raise _Bad(f"unknown key {unknown[0]!r} in a {what} (known: {', '.join(sorted(keys))})")


def _string(data: dict[str, Any], key: str, *, required: bool = False) -> str:
    value = data.get(key, None if required else "")
    if not isinstance(value, str) or (required and not value.strip()):
        raise _Bad(f"`{key}` must be a{' non-empty' if required else ''} string")
    return value


def _diff_text(data: dict[str, Any], base: Path) -> str:
    if ("diff" in data) == ("diff_path" in data):
        raise _Bad("give exactly one of `diff` (the text) or `diff_path` (a file)")
    if "diff" in data:
        return _string(data, "diff")
    path = base / _string(data, "diff_path", required=True)
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise _Bad(f"cannot read diff_path {path}: {exc.strerror or exc}") from None


def _repo_root(data: dict[str, Any], base: Path) -> Path | None:
    if data.get("repo_root") in (None, ""):
        return None
    root = base / _string(data, "repo_root")
    if not root.is_dir():
        raise _Bad(f"repo_root {root} is not a directory")
    return root


def _comments(value: Any, key: str, keys: set[str]) -> tuple[Comment, ...]:
    if not isinstance(value, list):
        raise _Bad(f"`{key}` must be a list of objects")
    return tuple(_comment(item, key, keys, index) for index, item in enumerate(value, start=1))


def _comment(item: Any, key: str, keys: set[str], index: int) -> Comment:
    if not isinstance(item, dict):
        raise _Bad(f"`{key}` item {index} must be an object")
    _known(item, keys, f"`{key}` item")
    text = item.get("comment")
    if not isinstance(text, str) or not text.strip():
        raise _Bad(f"`{key}` item {index} needs a non-empty `comment`")
    path = item.get("path")
    if path is not None and (not isinstance(path, str) or not path):
        raise _Bad(f"`{key}` item {index}: `path` must be a non-empty string")
    line, end_line = _line(item, "line", key, index), _line(item, "end_line", key, index)
    if line is not None and path is None:
        raise _Bad(f"`{key}` item {index} has a `line` but no `path`")
    side = item.get("side", "RIGHT")
    if side not in ("RIGHT", "LEFT"):
        raise _Bad(f"`{key}` item {index}: `side` must be RIGHT or LEFT")
    comment_id = item.get("id", f"{key[0]}{index}")
    if not isinstance(comment_id, str) or not comment_id:
        raise _Bad(f"`{key}` item {index}: `id` must be a non-empty string")
    severity = item.get("severity")
    if severity is not None and not isinstance(severity, str):
        raise _Bad(f"`{key}` item {index}: `severity` must be a string")
    end = max(line, end_line or line) if line is not None else None
    return Comment(comment_id, text, path, line, end, side, severity)


def _line(item: dict[str, Any], name: str, key: str, index: int) -> int | None:
    value = item.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise _Bad(f"`{key}` item {index}: `{name}` must be a line number (1 or more)")
    return value
