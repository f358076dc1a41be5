"""The verifier: its protocol, what it may change, and what it never does."""

from __future__ import annotations

import json
import re

from hypothesis import given
from hypothesis import strategies as st

from reviewer.model import SEVERITIES, Finding
from reviewer.report.reasons import dropped_reason
from reviewer.verify import Verdict, apply_verdicts, candidates_json, parse_verdicts


def finding(n: int, severity: str = "medium", title: str = "") -> Finding:
    return Finding(
        path=f"src/m{n % 3}.py", line=n + 1, end_line=n + 2, side="RIGHT",
        severity=severity,  # type: ignore[arg-type]
        category="bug", title=title or f"problem {n}", body="why", suggestion=None,
        confidence=0.7, source="llm", fingerprint=f"fp{n}", code=f"x_{n} = 1\ny = 2",
        evidence="x is never reset",
    )  # fmt: skip


def test_candidates_are_one_fenceable_json_array_with_ids() -> None:
    text = candidates_json([finding(0), finding(1, title="a ``` fence")])
    assert "`" not in text  # a backtick in a title cannot close the block around it
    items = json.loads(text)
    assert [item["id"] for item in items] == ["c1", "c2"]
    assert items[0]["quote"] == "x_0 = 1"
    assert items[1]["title"] == "a ``` fence"
    assert {"id", "path", "line", "quote", "title", "body", "evidence"} <= set(items[0])


def test_verdicts_are_read_from_a_fence_or_prose() -> None:
    answer = '{"verdicts": [{"id": "c1", "verdict": "Rejected", "reason": "guarded"}]}'
    fenced = f"Sure.\n```json\n{answer}\n```"
    assert parse_verdicts(fenced) == {"c1": Verdict("rejected", "guarded")}
    prose = 'My answer: {"verdicts": [{"id": "c2", "verdict": "confirmed", "severity": "HIGH"},'
    prose += ' {"id": "c3", "verdict": "maybe"}, "junk"]} done'
    assert parse_verdicts(prose) == {"c2": Verdict("confirmed", "", "high")}


def test_an_answer_without_verdicts_is_an_error() -> None:
    for text in ("I think they are fine.", '{"findings": []}', "```json\n{broken\n```"):
        try:
            parse_verdicts(text)
        except ValueError as exc:
            assert "no verdicts" in str(exc)
        else:  # pragma: no cover - the assertion that fails the test
            raise AssertionError(text)


def test_rejected_dropped_with_reason_confirmed_regraded_unmentioned_kept() -> None:
    batch = [finding(0), finding(1), finding(2), finding(3)]
    verdicts = {
        "c1": Verdict("confirmed"),
        "c2": Verdict("rejected", "the value is checked on line 3"),
        "c3": Verdict("confirmed", "", "critical"),
        "c9": Verdict("rejected", "no such candidate"),
    }
    applied = apply_verdicts(batch, verdicts)
    assert [f.title for f in applied.kept] == ["problem 0", "problem 2", "problem 3"]
    assert [f.severity for f in applied.kept] == ["medium", "critical", "medium"]
    [dropped] = applied.dropped
    assert (dropped.title, dropped_reason(dropped)) == (
        "problem 1",
        "verifier: the value is checked on line 3",
    )
    figures = applied.figures
    assert (figures.confirmed, figures.rejected, figures.unverified) == (2, 1, 1)
    assert figures.severity_changed == 1


verdict_strategy = st.builds(
    Verdict,
    st.sampled_from(["confirmed", "rejected"]),
    st.text(max_size=20),
    st.one_of(st.none(), st.sampled_from(SEVERITIES)),
)


@given(
    st.lists(st.sampled_from(SEVERITIES), max_size=8),
    st.dictionaries(st.from_regex(re.compile(r"c[0-9]{1,2}"), fullmatch=True), verdict_strategy),
)
def test_verification_never_adds_a_finding_and_never_moves_one(
    severities: list[str], verdicts: dict[str, Verdict]
) -> None:
    batch = [finding(n, severity) for n, severity in enumerate(severities)]
    applied = apply_verdicts(batch, verdicts)
    where = {(f.fingerprint, f.path, f.line, f.end_line, f.side, f.title) for f in batch}
    assert {
        (f.fingerprint, f.path, f.line, f.end_line, f.side, f.title) for f in applied.kept
    } <= where
    assert len(applied.kept) + len(applied.dropped) == len(batch)
    assert len({f.fingerprint for f in applied.kept}) == len(applied.kept)
    assert all(dropped_reason(d).startswith("verifier: ") for d in applied.dropped)


answer_item = st.one_of(
    st.fixed_dictionaries(
        {
            "id": st.one_of(
                st.from_regex(re.compile(r"c[0-9]"), fullmatch=True), st.text(max_size=3)
            ),
            "verdict": st.sampled_from(["confirmed", "rejected", "CONFIRMED", "maybe", ""]),
        },
        optional={
            "reason": st.one_of(st.text(max_size=30), st.integers(), st.none()),
            "severity": st.one_of(st.sampled_from([*SEVERITIES, "urgent", ""]), st.none()),
        },
    ),
    st.integers(),
    st.text(max_size=5),
)


@given(st.lists(st.sampled_from(SEVERITIES), max_size=6), st.lists(answer_item, max_size=8))
def test_whatever_the_verifier_answers_nothing_is_added_moved_or_lost(
    severities: list[str], items: list[object]
) -> None:
    batch = [finding(n, severity) for n, severity in enumerate(severities)]
    answer = "```json\n" + json.dumps({"verdicts": items}) + "\n```"
    applied = apply_verdicts(batch, parse_verdicts(answer))
    before = [(f.fingerprint, f.path, f.line, f.end_line, f.side) for f in batch]
    after = [(f.fingerprint, f.path, f.line, f.end_line, f.side) for f in applied.kept]
    assert after == [place for place in before if place in after]  # a subsequence, in order
    assert len(applied.kept) + len(applied.dropped) == len(batch)
    assert all(f.severity in SEVERITIES for f in applied.kept)
