"""Secrets in code: find them, and redact them from everything sent to a model.

Patterns are precise (a token's known shape, or a secret-looking value assigned to a
secret-looking name) and skip placeholders, so redaction costs the review little context.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace

from reviewer.diff import Diff, DiffLine, FileDiff, Hunk
from reviewer.secret_patterns import (
    BY_KIND,
    MAX_MATCH,
    PEM_MARKER,
    SECRET_PATTERNS,
    SecretPattern,
    secret_span,
)

__all__ = [
    "BY_KIND",
    "SECRET_PATTERNS",
    "SecretMatch",
    "SecretPattern",
    "find_secrets",
    "may_hold_secret",
    "redact_diff",
    "redact_text",
]


@dataclass(frozen=True)
class SecretMatch:
    """A secret found in one line: its kind and the span of the secret value alone."""

    kind: str
    start: int
    end: int


# Lines longer than a window are scanned window by window; windows overlap by more than the
# longest match, so a secret that crosses a window's edge lies whole inside the next one.
WINDOW = 8 * MAX_MATCH
OVERLAP = MAX_MATCH
_CACHED_LINE = 2048
_PATTERN_TRIGGERS = tuple(frozenset(pattern.triggers) for pattern in SECRET_PATTERNS)
_TRIGGERS = frozenset().union(*_PATTERN_TRIGGERS)
_PEM_BEGIN = re.compile(PEM_MARKER.format("BEGIN"))
_PEM_END = re.compile(PEM_MARKER.format("END"))
_PEM_BODY = "[REDACTED:private-key]"
# A line of a key's base64 body (64 wide in PEM, 70 in OpenSSH keys), bare or quoted, and the
# shorter last line of a body. A hunk inside a key shows no BEGIN or END line at all.
_KEY_LINE = r"""\s{{0,40}}["']?[A-Za-z0-9+/]{}(?:\\n)?["']?[,+\\]?\s{{0,8}}"""
_BODY_LINE = re.compile(_KEY_LINE.format("{60,76}"))
_LAST_BODY_LINE = re.compile(_KEY_LINE.format("{2,76}={0,2}"))


def may_hold_secret(text: str) -> bool:
    """False when no pattern can match: the cheap pre-check find_secrets starts with."""
    return bool(_candidates(text.lower()))


def _candidates(lowered: str) -> list[int]:
    """The ranks of the patterns one of whose literals the (lower-cased) line holds."""
    present = {trigger for trigger in _TRIGGERS if trigger in lowered}
    return [rank for rank, triggers in enumerate(_PATTERN_TRIGGERS) if triggers & present]


def find_secrets(text: str) -> list[SecretMatch]:
    """The secrets in one line, in order; overlapping matches merge under the earlier pattern."""
    # A review scans each added line twice (redaction, then the built-in checks): remember
    # the short ones.
    return list(_find_cached(text) if len(text) <= _CACHED_LINE else _find(text))


@functools.lru_cache(maxsize=16384)
def _find_cached(text: str) -> tuple[SecretMatch, ...]:
    return _find(text)


def _find(text: str) -> tuple[SecretMatch, ...]:
    candidates = _candidates(text.lower())
    if not candidates:
        return ()
    spans = sorted(
        (*secret_span(match), rank)
        for start in range(0, max(len(text) - OVERLAP, 1), WINDOW - OVERLAP)
        for rank in candidates
        for match in SECRET_PATTERNS[rank].regex.finditer(text, start, start + WINDOW)
        if SECRET_PATTERNS[rank].accept(match)
    )
    merged: list[tuple[int, int, int]] = []
    for span in spans:
        if merged and span[0] < merged[-1][1]:
            start, end, rank = merged.pop()
            span = (start, max(end, span[1]), min(rank, span[2]))  # noqa: PLW2901
        merged.append(span)
    return tuple(SecretMatch(SECRET_PATTERNS[rank].kind, start, end) for start, end, rank in merged)


def redact_lines(text: str) -> list[str]:
    """A file's lines (as `str.splitlines` cuts them), redacted as one text: a key's body
    lines are recognisable only between its BEGIN and END lines, before they are numbered."""
    return redact_text("\n".join(text.splitlines())).split("\n")


def redact_text(text: str) -> str:
    """The text with each secret replaced by `[REDACTED:<kind>]`, and the lines of a private
    key's body blanked: in text of several lines (a description, a guidelines file) the whole
    block between BEGIN and END, in a line alone one that has a key body line's shape."""
    if "\n" not in text:
        return _redact_line_text(text)
    lines = text.split("\n")
    in_key = _key_body(lines, [range(len(lines))], cut=False)
    return "\n".join(
        _PEM_BODY if index in in_key else _redact_line_text(line)
        for index, line in enumerate(lines)
    )


def _redact_line_text(text: str) -> str:
    if _is_body_line(text) or _is_padded_tail(text):
        return _PEM_BODY
    parts: list[str] = []
    position = 0
    for secret in find_secrets(text):
        parts += [text[position : secret.start], f"[REDACTED:{secret.kind}]"]
        position = secret.end
    return "".join(parts) + text[position:] if parts else text


def redact_diff(diff: Diff) -> Diff:
    """The diff with secrets redacted from every line and hunk header (all of it may reach the
    model) and private key bodies blanked; the same object when nothing changed."""
    files = tuple(_redact_file(file) for file in diff.files)
    if all(new is old for new, old in zip(files, diff.files, strict=True)):
        return diff
    return replace(diff, files=files)


def _redact_file(file: FileDiff) -> FileDiff:
    hunks = tuple(_redact_hunk(hunk) for hunk in file.hunks)
    if all(new is old for new, old in zip(hunks, file.hunks, strict=True)):
        return file
    return replace(file, hunks=hunks)


def _redact_hunk(hunk: Hunk) -> Hunk:
    in_key = _private_key_body(hunk.lines)
    lines = tuple(_redact_line(line, index in in_key) for index, line in enumerate(hunk.lines))
    section = redact_text(hunk.section)
    if section == hunk.section and all(
        new is old for new, old in zip(lines, hunk.lines, strict=True)
    ):
        return hunk
    return replace(hunk, section=section, lines=lines)


def _redact_line(line: DiffLine, in_key: bool) -> DiffLine:
    text = _PEM_BODY if in_key else redact_text(line.text)
    return line if text == line.text else replace(line, text=text)


def _private_key_body(lines: tuple[DiffLine, ...]) -> frozenset[int]:
    """Indexes of the lines inside a private key block, in the old or the new file's view."""
    old_view = [index for index, line in enumerate(lines) if line.kind != "add"]
    new_view = [index for index, line in enumerate(lines) if line.kind != "del"]
    return _key_body([line.text for line in lines], [old_view, new_view], cut=True)


def _key_body(texts: Sequence[str], views: Sequence[Sequence[int]], cut: bool) -> frozenset[int]:
    """Indexes of key body lines; `cut`: the lines are a hunk, whose first line may lie inside
    a key (a whole text starts outside any)."""
    return frozenset(
        index
        for view in views
        for index in (*_bare_body(texts, view), *_inside_blocks(texts, view, cut))
    )


def _bare_body(texts: Sequence[str], view: Sequence[int]) -> Iterator[int]:
    # A line of random-looking base64 as wide as a key's body lines, and the short line after
    # such lines: redacted even out of any marker (blanking a blob costs the review nothing).
    after_body = False
    for index in view:
        text = texts[index]
        if _is_body_line(text):
            after_body = True
            yield index
        elif after_body and _LAST_BODY_LINE.fullmatch(text):
            after_body = False
            yield index
        else:
            after_body = False


def _is_padded_tail(text: str) -> bool:
    # The last line of a key's body, alone (context lines are redacted one by one): base64
    # ending in its padding, long and mixed enough not to be a word.
    stripped = text.strip().strip("\"',").removesuffix("\\n")
    return (
        len(stripped) >= 16
        and stripped.endswith("=")
        and _LAST_BODY_LINE.fullmatch(text) is not None
        and _mixes_cases_and_digits(stripped)
    )


def _is_body_line(text: str) -> bool:
    return _BODY_LINE.fullmatch(text) is not None and _mixes_cases_and_digits(text)


def _mixes_cases_and_digits(text: str) -> bool:
    return (
        any(c.islower() for c in text)
        and any(c.isupper() for c in text)
        and any(c.isdigit() for c in text)
    )


def _inside_blocks(texts: Sequence[str], view: Sequence[int], cut: bool) -> Iterator[int]:
    # A block may start before the hunk (an END with no BEGIN before it) or end after it (a
    # BEGIN with no END): the hunk's edge then bounds it, so no part of a key slips through.
    state, before_any_marker = "unknown" if cut else "closed", list[int]()
    for index in view:
        begin, end = _PEM_BEGIN.search(texts[index]), _PEM_END.search(texts[index])
        if begin and end:
            continue  # a whole key on one line (JSON, escaped \n): find_secrets redacts it
        if end:
            if state == "unknown":
                yield from before_any_marker
            state = "closed"
        elif begin:
            state = "open"
        elif state == "open":
            yield index
        elif state == "unknown":
            before_any_marker.append(index)
