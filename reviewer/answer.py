"""Read findings out of a model's answer, forgiving where the meaning is still clear.

Handles a fenced ```json block, prose around the object, trailing commas, and a truncated
answer (the complete findings before the cut are kept). Each finding is validated; what
cannot be understood is returned as a rejection with the reason.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any

from reviewer.model import CATEGORIES, SEVERITIES, RawFinding

# RawFinding is re-exported: it lives with the other values in reviewer.model.
__all__ = ["MAX_BODY", "MAX_TITLE", "RawFinding", "Rejected", "parse_answer", "validate"]

_FENCE = re.compile(r"```(?:json|JSON)?\s*\n(.*?)(?:\n```|\Z)", re.DOTALL)
_TRAILING_COMMA = re.compile(r",(\s*[}\]])")
_FINDINGS_KEY = re.compile(r'"findings"\s*:\s*\[')
# the start of a list of objects (or of an empty one), not a `[1]` in the prose
_BARE_LIST = re.compile(r"\[(?=\s*[{\]])")
_DECODER = json.JSONDecoder()
MAX_TITLE = 200
MAX_BODY = 8000


@dataclass(frozen=True)
class Rejected:
    path: str
    line: int | None
    title: str
    reason: str


def parse_answer(text: str) -> tuple[list[RawFinding], list[Rejected]]:
    """Findings and rejected entries; raises ValueError when no findings list is found at all."""
    items = _finding_items(text)
    findings: list[RawFinding] = []
    rejected: list[Rejected] = []
    for item in items:
        result = validate(item)
        (findings if isinstance(result, RawFinding) else rejected).append(result)  # type: ignore[arg-type]
    return findings, rejected


def _finding_items(text: str) -> list[Any]:
    candidates = _candidates(text)
    for candidate in candidates:
        # as written first: the trailing-comma repair would also edit commas inside strings
        for attempt in (candidate, _TRAILING_COMMA.sub(r"\1", candidate)):
            items = _decoded_items(attempt)
            if items is not None:
                return items
    for candidate in candidates:
        items = _salvage_items(_TRAILING_COMMA.sub(r"\1", candidate))
        if items is not None:
            return items
    raise ValueError("the answer holds no findings list")


def _candidates(text: str) -> list[str]:
    """Fenced blocks, the text from the first `{`, and from a bare list when there is no object."""
    found = [match.group(1) for match in _FENCE.finditer(text)]
    start = text.find("{")
    if start >= 0:
        found.append(text[start:])
    bare_list = None if _FINDINGS_KEY.search(text) else _BARE_LIST.search(text)
    if bare_list:
        found.append(text[bare_list.start() :])
    return found


def _decoded_items(text: str) -> list[Any] | None:
    """The findings of a complete JSON value at the start of `text`; prose may follow it."""
    try:
        value, _ = _DECODER.raw_decode(text, len(text) - len(text.lstrip()))
    except json.JSONDecodeError:
        return None
    if isinstance(value, dict) and isinstance(value.get("findings"), list):
        return list(value["findings"])
    return value if isinstance(value, list) else None


def _salvage_items(text: str) -> list[Any] | None:
    """The complete objects of a findings array whose end was cut off or malformed."""
    key = _FINDINGS_KEY.search(text) or _BARE_LIST.match(text, len(text) - len(text.lstrip()))
    if key is None:
        return None
    items: list[Any] = []
    index = key.end()
    while index < len(text):
        while index < len(text) and text[index] in " \t\r\n,":
            index += 1
        if index >= len(text) or text[index] == "]":
            break
        try:
            item, index = _DECODER.raw_decode(text, index)
        except json.JSONDecodeError:
            break
        items.append(item)
    return items


def validate(item: Any) -> RawFinding | Rejected:
    if not isinstance(item, dict):
        return Rejected("", None, "", "not a JSON object")
    path = _text(item.get("path")).strip().removeprefix("./")
    line = _int(item.get("line"))
    title = " ".join(_text(item.get("title")).split())[:MAX_TITLE]
    if not path or not title:
        return Rejected(path, line, title, "missing path or title")
    severity = _text(item.get("severity")).lower().strip()
    if severity not in SEVERITIES:
        return Rejected(path, line, title, f"unknown severity {severity[:20]!r}")
    category = _text(item.get("category")).lower().strip()
    return RawFinding(
        path=path,
        line=line,
        end_line=_int(item.get("end_line")),
        quote=_text(item.get("quote")),
        severity=severity,
        category=category if category in CATEGORIES else "bug",
        title=title,
        body=_text(item.get("body"))[:MAX_BODY],
        suggestion=_suggestion(item.get("suggestion")),
        confidence=_confidence(item.get("confidence")),
        evidence=_text(item.get("evidence"))[:MAX_BODY],
    )


def _text(value: Any) -> str:
    return value if isinstance(value, str) else "" if value is None else str(value)


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value > 0 else None
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip()) or None
    return None


def _suggestion(value: Any) -> str | None:
    if not isinstance(value, str) or not value.strip() or value.strip().lower() == "null":
        return None
    return value.rstrip("\n")


def _confidence(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return 0.5
    try:
        number = float(value)
    except ValueError:
        return 0.5
    if math.isnan(number):
        return 0.5
    return min(max(number if number <= 1 else number / 100, 0.0), 1.0)
