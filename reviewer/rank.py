"""Fingerprint, deduplicate, order and cap the anchored findings."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import replace

from reviewer.model import DropCode, Dropped, Finding, severity_rank

_WORD = re.compile(r"[a-z0-9]+")
_STOPWORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "of",
        "in",
        "on",
        "to",
        "is",
        "be",
        "may",
        "can",
        "could",
        "this",
        "that",
        "it",
        "for",
        "with",
    ]
)
OVER_MAX_COMMENTS = DropCode.OVER_MAX_COMMENTS  # kept for importers; read the code
SIMILAR_TITLES = 0.5
SIMILAR_TITLES_SAME_LINES = 0.3


def fingerprint(finding: Finding) -> str:
    """Stable across runs and unrelated edits: path, the anchored code and the title's words."""
    code = " ".join(finding.code.split())
    key = "\0".join((finding.path, finding.side, code, " ".join(sorted(_words(finding.title)))))
    return hashlib.sha256(key.encode("utf-8", errors="replace")).hexdigest()[:20]


def _words(title: str) -> set[str]:
    return set(_WORD.findall(title.lower())) - _STOPWORDS


def _similar(a: Finding, b: Finding) -> bool:
    if a.path != b.path or a.side != b.side:
        return False
    if a.line > b.end_line or b.line > a.end_line:
        return False
    if a.fingerprint == b.fingerprint or a.category == b.category == "security":
        return True
    words_a, words_b = _words(a.title), _words(b.title)
    union = words_a | words_b
    overlap = len(words_a & words_b) / len(union) if union else 0.0
    same_place = (a.line, a.end_line, a.category) == (b.line, b.end_line, b.category)
    return overlap >= (SIMILAR_TITLES_SAME_LINES if same_place else SIMILAR_TITLES)


def _order(finding: Finding) -> tuple[int, float, str, int, str]:
    return (
        severity_rank(finding.severity),
        -finding.confidence,
        finding.path,
        finding.line,
        finding.title,
    )


def rank_findings(
    findings: Iterable[Finding], *, min_severity: str, max_comments: int
) -> tuple[list[Finding], list[Dropped]]:
    """One finding per problem, most severe and confident first, filtered and capped."""
    ordered = sorted((replace(f, fingerprint=fingerprint(f)) for f in findings), key=_order)
    kept: list[Finding] = []
    capped: list[Finding] = []  # a duplicate of a capped finding is a duplicate, not listed again
    dropped: list[Dropped] = []
    threshold = severity_rank(min_severity)
    for finding in ordered:
        if any(_similar(finding, other) for other in kept + capped):
            dropped.append(Dropped.of(finding, DropCode.DUPLICATE))
        elif severity_rank(finding.severity) > threshold:
            dropped.append(Dropped.of(finding, DropCode.BELOW_MIN_SEVERITY))
        elif len(kept) >= max_comments:
            dropped.append(Dropped.of(finding, DropCode.OVER_MAX_COMMENTS))
            capped.append(finding)
        else:
            kept.append(finding)
    return kept, dropped
