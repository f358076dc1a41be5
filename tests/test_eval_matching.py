"""Matching: the location gate, one-to-one assignment, and the location judge."""

from __future__ import annotations

from collections.abc import Sequence

from reviewer.evaluate.cases import Comment
from reviewer.evaluate.matching import (
    Candidate,
    LocationJudge,
    Verdict,
    assign,
    distance,
    match_comments,
    within_gate,
)


def candidate(cid: str, line: int, path: str = "a.py", end: int | None = None) -> Candidate:
    return Candidate(cid, f"fp-{cid}", path, line, end or line, f"title {cid}", "body")


def golden(cid: str, line: int | None = 10, path: str | None = "a.py") -> Comment:
    return Comment(cid, f"comment {cid}", path, line, line)


class ScriptedJudge:
    """Picks by a table (comment id -> candidate ids by preference) and records each call."""

    def __init__(self, wants: dict[str, list[tuple[str, float]]]) -> None:
        self.wants = wants
        self.calls: list[tuple[str, list[str]]] = []

    def decide(self, comment: Comment, candidates: Sequence[Candidate]) -> Verdict:
        offered = [c.id for c in candidates]
        self.calls.append((comment.id, offered))
        for cid, confidence in self.wants.get(comment.id, []):
            if cid in offered:
                return Verdict(cid, confidence)
        return Verdict(None, 0.0)


def test_the_gate_is_same_path_within_match_lines() -> None:
    comment = Comment("g", "c", "a.py", 10, 12)
    assert distance(comment, candidate("f", 11)) == 0
    assert distance(comment, candidate("f", 15)) == 3
    assert distance(comment, candidate("f", 2, end=7)) == 3
    assert distance(comment, candidate("f", 10, path="b.py")) is None
    assert within_gate(comment, candidate("f", 15), 3)
    assert not within_gate(comment, candidate("f", 16), 3)
    assert within_gate(golden("g", None), candidate("f", 999), 0)  # a path without a line
    assert within_gate(golden("g", None, None), candidate("f", 1, path="z.go"), 0)


def test_two_findings_fit_one_golden_comment_only_one_counts() -> None:
    judge = ScriptedJudge({"g1": [("f1", 0.9), ("f2", 0.8)]})
    matched = match_comments([golden("g1")], [candidate("f1", 10), candidate("f2", 11)], judge, 3)
    assert matched == {"g1": "f1"}


def test_one_finding_never_earns_two_hits_the_more_confident_wins() -> None:
    judge = ScriptedJudge({"g1": [("f1", 0.6)], "g2": [("f1", 0.9), ("f2", 0.5)]})
    comments = [golden("g1", 10), golden("g2", 11)]
    matched = match_comments(comments, [candidate("f1", 10), candidate("f2", 12)], judge, 3)
    # g2 was surer about f1; g1 is asked again without f1 and does not want f2
    assert matched == {"g2": "f1"}
    assert judge.calls[-1] == ("g1", ["f2"])


def test_the_comment_that_lost_a_finding_may_take_another() -> None:
    judge = ScriptedJudge({"g1": [("f1", 0.6), ("f2", 0.5)], "g2": [("f1", 0.9)]})
    comments = [golden("g1", 10), golden("g2", 11)]
    matched = match_comments(comments, [candidate("f1", 10), candidate("f2", 12)], judge, 3)
    assert matched == {"g2": "f1", "g1": "f2"}


def test_a_judge_naming_an_ungated_candidate_is_ignored() -> None:
    judge = ScriptedJudge({"g1": [("f9", 1.0)]})
    assert match_comments([golden("g1")], [candidate("f1", 10)], judge, 3) == {}


def test_no_candidate_in_the_gate_means_no_judge_call() -> None:
    judge = ScriptedJudge({})
    assert match_comments([golden("g1", 50)], [candidate("f1", 10)], judge, 3) == {}
    assert judge.calls == []


def test_assign_breaks_ties_by_comment_order() -> None:
    proposals = [(0.5, 1, "g2", "f1"), (0.5, 0, "g1", "f1"), (0.4, 1, "g2", "f2")]
    assert assign(proposals) == {"g1": "f1", "g2": "f2"}


def test_location_judge_takes_the_nearest_and_skips_comments_without_a_path() -> None:
    judge = LocationJudge()
    verdict = judge.decide(golden("g", 10), [candidate("f1", 13), candidate("f2", 9)])
    assert verdict == Verdict("f2", 0.5)
    assert judge.decide(golden("g", None, None), [candidate("f1", 1)]) == Verdict(None, 0.0)
