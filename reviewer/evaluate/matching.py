"""Match findings to comments: a location gate, a judge, and one-to-one assignment.

A finding and a comment may be matched when the finding lies on the comment's path within
`match_lines` lines of it (a comment without a path, or without a line, skips that part of
the gate) and the judge says they raise the same issue. Each comment and each finding is
matched at most once, best confidence first: when two comments want the same finding, the
more confident verdict wins and the other comment is judged again among what is left.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from reviewer.evaluate.cases import Comment
from reviewer.model import Finding

DEFAULT_MATCH_LINES = 3


@dataclass(frozen=True)
class Candidate:
    """A reported finding as the judge sees it; `id` is short and local to the case."""

    id: str
    fingerprint: str
    path: str
    line: int
    end_line: int
    title: str
    body: str


@dataclass(frozen=True)
class Verdict:
    match: str | None
    confidence: float


class Judge(Protocol):
    """Decides which of the gated candidates (if any) raises the comment's issue."""

    def decide(self, comment: Comment, candidates: Sequence[Candidate]) -> Verdict: ...


def candidates_of(findings: Sequence[Finding]) -> list[Candidate]:
    return [
        Candidate(f"f{n}", f.fingerprint, f.path, f.line, f.end_line, f.title, f.body)
        for n, f in enumerate(findings, start=1)
    ]


def distance(comment: Comment, candidate: Candidate) -> int | None:
    """Lines between the comment and the finding (0 when they overlap); None on another
    path. A comment without a path or line is at distance 0 of everything it can reach."""
    if comment.path is None:
        return 0
    if comment.path != candidate.path:
        return None
    if comment.line is None:
        return 0
    end = comment.end_line or comment.line
    return max(0, comment.line - candidate.end_line, candidate.line - end)


def within_gate(comment: Comment, candidate: Candidate, match_lines: int) -> bool:
    gap = distance(comment, candidate)
    return gap is not None and gap <= match_lines


def match_comments(
    comments: Sequence[Comment],
    candidates: Sequence[Candidate],
    judge: Judge,
    match_lines: int,
) -> dict[str, str]:
    """Comment id -> candidate id, one-to-one."""
    matched: dict[str, str] = {}
    waiting = list(comments)
    while waiting:
        taken = set(matched.values())
        proposals: list[tuple[float, int, str, str]] = []
        for order, comment in enumerate(waiting):
            gated = [
                c for c in candidates if c.id not in taken and within_gate(comment, c, match_lines)
            ]
            if not gated:
                continue
            verdict = judge.decide(comment, gated)
            if verdict.match in {c.id for c in gated}:
                proposals.append((verdict.confidence, order, comment.id, str(verdict.match)))
        won = assign(proposals)
        if not won:
            break
        matched.update(won)
        proposed = {comment_id for _, _, comment_id, _ in proposals}
        waiting = [c for c in waiting if c.id in proposed and c.id not in matched]
    return matched


def assign(proposals: Sequence[tuple[float, int, str, str]]) -> dict[str, str]:
    """Greedy one-to-one: (confidence, order, comment, candidate), highest confidence first,
    earlier comments first on ties."""
    won: dict[str, str] = {}
    for _, _, comment_id, candidate_id in sorted(proposals, key=lambda p: (-p[0], p[1])):
        if comment_id not in won and candidate_id not in won.values():
            won[comment_id] = candidate_id
    return won


class LocationJudge:
    """`--judge location`: the nearest finding in the gate is the match, whatever it says."""

    def decide(self, comment: Comment, candidates: Sequence[Candidate]) -> Verdict:
        if comment.path is None:  # nothing to go by: only a model judge can match it
            return Verdict(None, 0.0)
        gaps = [(distance(comment, c) or 0, n) for n, c in enumerate(candidates)]
        gap, best = min(gaps)
        return Verdict(candidates[best].id, 1.0 / (1 + gap))
