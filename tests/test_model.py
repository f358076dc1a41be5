"""The shared value types' own behaviour."""

from __future__ import annotations

from reviewer.answer import RawFinding
from reviewer.model import Dropped, Finding


def test_dropped_keeps_what_the_summary_lists_of_a_finding() -> None:
    anchored = Finding(
        "a.py", 3, 4, "RIGHT", "high", "bug", "Off by one", "Why.", None, 0.9, "llm", "f" * 16
    )
    stated = RawFinding("b.py", None, None, "q", "low", "style", "Name", "Body.", None, 0.5)
    assert Dropped.of(anchored, "duplicate") == Dropped(
        "a.py", 3, "Off by one", "duplicate", "high", "Why."
    )
    assert Dropped.of(stated, "file not in the reviewed diff") == Dropped(
        "b.py", None, "Name", "file not in the reviewed diff", "low", "Body."
    )
