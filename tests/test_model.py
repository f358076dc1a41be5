"""The shared value types' own behaviour."""

from __future__ import annotations

from reviewer.answer import RawFinding
from reviewer.model import DropCode, Dropped, Finding


def test_dropped_keeps_what_the_summary_lists_of_a_finding() -> None:
    anchored = Finding(
        "a.py", 3, 4, "RIGHT", "high", "bug", "Off by one", "Why.", None, 0.9, "llm", "f" * 16
    )
    stated = RawFinding("b.py", None, None, "q", "low", "style", "Name", "Body.", None, 0.5)
    assert Dropped.of(anchored, DropCode.DUPLICATE) == Dropped(
        "a.py", 3, "Off by one", DropCode.DUPLICATE, "", "high", "Why."
    )
    assert Dropped.of(stated, DropCode.VERIFIER_REJECTED, "Not reachable.") == Dropped(
        "b.py", None, "Name", DropCode.VERIFIER_REJECTED, "Not reachable.", "low", "Body."
    )
