"""The model judge: does a finding raise the same issue as a golden comment?

One request per comment, holding the comment and its gated candidates as a JSON array in a
fenced block; the answer is `{"match": id | null, "confidence": x, "reason": "..."}`. A judge
call that fails or cannot be read counts as "no match" and is reported, never fatal.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from reviewer.errors import ModelError
from reviewer.evaluate.cases import Comment
from reviewer.evaluate.matching import Candidate, Verdict
from reviewer.gateway import Gateway
from reviewer.prompt import _render as render_template

_FENCED = re.compile(r"`{3,}(?:json)?\s*\n(.*?)\n\s*`{3,}", re.DOTALL)
MAX_BODY_CHARS = 2000


@dataclass(frozen=True)
class JudgeTally:
    """What the judge cost, apart from the reviews: calls, USD (None if a price is unknown),
    and calls that failed or whose answer could not be read."""

    model: str
    calls: int = 0
    cost_usd: float | None = 0.0
    failed: int = 0


class ModelJudge:
    """Asks a model; safe to share between the threads that evaluate cases."""

    def __init__(self, gateway: Gateway) -> None:
        self._gateway = gateway
        self._lock = threading.Lock()
        self._tally = JudgeTally(gateway.models[0])

    @property
    def tally(self) -> JudgeTally:
        return self._tally

    def decide(self, comment: Comment, candidates: Sequence[Candidate]) -> Verdict:
        system = render_template(None, "judge_system.j2").strip() + "\n"
        try:
            reply = self._gateway.complete(system, judge_request(comment, candidates))
        except ModelError:
            self._count(0.0, failed=True)
            return Verdict(None, 0.0)
        verdict = parse_verdict(reply.text)
        self._count(reply.cost_usd, failed=verdict is None)
        return verdict or Verdict(None, 0.0)

    def _count(self, cost: float | None, *, failed: bool) -> None:
        with self._lock:
            old = self._tally
            total = None if old.cost_usd is None or cost is None else old.cost_usd + cost
            self._tally = JudgeTally(old.model, old.calls + 1, total, old.failed + int(failed))


def judge_request(comment: Comment, candidates: Sequence[Candidate]) -> str:
    items = [
        {"id": c.id, "path": c.path, "line": c.line, "title": c.title,
         "body": c.body[:MAX_BODY_CHARS]}
        for c in candidates
    ]  # fmt: skip
    listed = json.dumps(items, indent=1, ensure_ascii=False)
    location = comment.path or ""
    if comment.path and comment.line:
        location += f" line {comment.line}"
    # A fence longer than any backtick run inside, so no text can close it early.
    longest = max((len(run) for run in re.findall(r"`+", listed + comment.comment)), default=0)
    fence = "`" * max(3, longest + 1)
    return render_template(
        None,
        "judge.j2",
        location=location,
        reference=comment.comment,
        candidates=listed,
        fence=fence,
    )


def parse_verdict(text: str) -> Verdict | None:
    """The verdict of an answer, or None when it holds none."""
    for candidate in [*_FENCED.findall(text), text[text.find("{") :] if "{" in text else ""]:
        value = _decoded(candidate)
        if isinstance(value, dict) and "match" in value:
            match = value["match"]
            return Verdict(str(match) if match not in (None, "", "null") else None,
                           _confidence(value.get("confidence")))  # fmt: skip
    return None


def _decoded(text: str) -> Any:
    try:
        return json.JSONDecoder().raw_decode(text.strip())[0]
    except (json.JSONDecodeError, ValueError):
        return None


def _confidence(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return 0.5
    return min(max(float(value), 0.0), 1.0)
