"""Anchor the model's findings onto lines the diff shows, by quote first and line number second.

Models are unreliable with line numbers, so a finding is placed where its `quote` matches a
line of that file's hunks; `line` only breaks ties, or places a finding that has no quote. A
quote that matches nothing is dropped with a reason, never placed by its line number. The
result always lies on hunk lines (added, removed or context), so it can be posted inline.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from reviewer.answer import RawFinding, Rejected
from reviewer.diff import DiffLine, FileDiff, Hunk
from reviewer.model import DropCode, Dropped, Finding, Side

QUOTE_NOT_FOUND = DropCode.QUOTE_NOT_FOUND
_NUMBER_AND_MARKER = re.compile(r"^\s*\d+\s?[ +-]")


@dataclass(frozen=True)
class _Candidate:
    hunk: Hunk
    index: int  # position of the line in hunk.lines
    level: int  # 0 exact, 1 same words, 2 contained; 3 by line number only
    distance: int


def anchor_findings(
    raw: Iterable[RawFinding], files: Sequence[FileDiff]
) -> tuple[list[Finding], list[Dropped]]:
    """Place each finding on the hunks of `files` (what the model was shown) or drop it."""
    anchored: list[Finding] = []
    dropped: list[Dropped] = []
    for finding in raw:
        result = anchor_one(finding, files)
        (anchored if isinstance(result, Finding) else dropped).append(result)  # type: ignore[arg-type]
    return anchored, dropped


def anchor_one(finding: RawFinding, files: Sequence[FileDiff]) -> Finding | Dropped:
    hunks = [hunk for file in files if _same_path(file, finding.path) for hunk in file.hunks]
    if not hunks:
        return Dropped.of(finding, DropCode.FILE_NOT_IN_DIFF)
    candidate = _best(hunks, finding)
    if candidate is None and finding.quote.strip():
        # A quote that matches nothing the model was shown is a hallucination signal: its
        # line number is not trusted to place it (the contract's anchoring rule).
        return Dropped.of(finding, QUOTE_NOT_FOUND)
    if candidate is None:
        return Dropped.of(finding, DropCode.NOT_ON_DIFF)
    path = next(file.path for file in files if _same_path(file, finding.path))
    return _finding(finding, path, candidate)


def dropped_from_rejected(rejected: Iterable[Rejected]) -> list[Dropped]:
    return [Dropped(r.path, r.line, r.title, DropCode.INVALID, r.reason) for r in rejected]


def _same_path(file: FileDiff, path: str) -> bool:
    path = path.removeprefix("a/") if path not in (file.path, file.old_path) else path
    path = path.removeprefix("b/") if path not in (file.path, file.old_path) else path
    return path in (file.path, file.old_path)


def _best(hunks: list[Hunk], finding: RawFinding) -> _Candidate | None:
    quotes = _quote_forms(finding.quote)
    candidates = [
        _Candidate(hunk, index, level, _distance(line, finding.line))
        for hunk in hunks
        for index, line in enumerate(hunk.lines)
        if (level := _match_level(line.text, quotes)) is not None
    ]
    if not candidates and finding.line is not None and not finding.quote.strip():
        candidates = [
            _Candidate(hunk, index, 3, 0)
            for hunk in hunks
            for index, line in enumerate(hunk.lines)
            if line.new == finding.line and line.kind != "del"
        ]
    if not candidates:
        return None
    return min(candidates, key=lambda c: (c.level, c.distance, c.hunk.lines[c.index].kind != "add"))


def _quote_forms(quote: str) -> list[tuple[str, str]]:
    """The quote's first line as written and without a rendered `NUMBER MARKER` prefix: code
    such as `100 * rate,` looks like one, so both forms are tried."""
    first = next((part for part in quote.splitlines() if part.strip()), "")
    bare = _NUMBER_AND_MARKER.sub("", first, count=1)
    forms = dict.fromkeys(form for form in (first, bare) if form.strip())
    return [(form.strip(), " ".join(form.split())) for form in forms]


def _match_level(text: str, quotes: list[tuple[str, str]]) -> int | None:
    levels = [level for quote in quotes if (level := _level(text, quote)) is not None]
    return min(levels, default=None)


def _level(text: str, quote: tuple[str, str]) -> int | None:
    exact, words = quote
    if text.strip() == exact:
        return 0
    collapsed = " ".join(text.split())
    if collapsed == words:
        return 1
    if len(words) >= 8 and words in collapsed:
        return 2
    return None


def _distance(line: DiffLine, wanted: int | None) -> int:
    if wanted is None:
        return 0
    number = line.new if line.new is not None else line.old
    return abs((number or 0) - wanted)


def _finding(raw: RawFinding, path: str, candidate: _Candidate) -> Finding:
    lines = candidate.hunk.lines
    first = lines[candidate.index]
    side: Side = "LEFT" if first.kind == "del" else "RIGHT"
    span = max((raw.end_line or 0) - (raw.line or 0), 0) if raw.line else 0
    covered = _extend(lines, candidate.index, side, span)
    number = _number(first, side)
    end = _number(covered[-1], side)
    code = "\n".join(line.text for line in covered)
    suggestion = raw.suggestion if side == "RIGHT" and raw.suggestion != code else None
    return Finding(
        path=path,
        line=number,
        end_line=end,
        side=side,
        severity=raw.severity,
        category=raw.category,
        title=raw.title,
        body=raw.body,
        suggestion=suggestion,
        confidence=raw.confidence,
        source="llm",
        fingerprint="",
        code=code,
        line_kind=first.kind,
        old_line=first.old,
        new_line=first.new,
        evidence=raw.evidence,
    )


def _extend(lines: tuple[DiffLine, ...], start: int, side: str, span: int) -> list[DiffLine]:
    """The anchored line and up to `span` following lines of the same side, within the hunk."""
    covered = [lines[start]]
    for line in lines[start + 1 :]:
        if len(covered) > span:
            break
        if side == "RIGHT" and line.kind == "del":
            continue
        if side == "LEFT" and line.kind == "add":
            continue
        covered.append(line)
    return covered


def _number(line: DiffLine, side: str) -> int:
    number = line.old if side == "LEFT" else line.new
    assert number is not None  # a RIGHT line is add/ctx, a LEFT line del/ctx
    return number
