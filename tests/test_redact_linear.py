"""Secret scanning takes time linear in the line's length, and long lines lose no secret.

A super-linear pattern would not fail these tests: it would hang them (a quadratic one takes
minutes on a 50 KB line and never ends on 10 MB). Linear scanning takes about a second here.
"""

from __future__ import annotations

import importlib
from typing import Any

import pytest

from reviewer.builtin import builtin_findings
from reviewer.diff import Diff, DiffLine, FileDiff, Hunk
from reviewer.redact import (
    OVERLAP,
    SECRET_PATTERNS,
    WINDOW,
    SecretMatch,
    SecretPattern,
    find_secrets,
    redact_diff,
    redact_text,
)
from reviewer.secret_patterns import MAX_MATCH

GITHUB_TOKEN = "ghp_" + "R8x2LqPv0ZcN4mWk7TbY" + "9sHd3JfA6uGe1QoXiK5n"
TEN_MB = 10_000_000
# The regular-expression parser of the standard library (no stubs): it knows a pattern's widths.
RE_PARSER: Any = importlib.import_module("re._parser")


def added(text: str) -> Diff:
    hunk = Hunk(1, 1, 1, 1, "", (DiffLine("del", "old", 1, None), DiffLine("add", text, None, 1)))
    return Diff(files=(FileDiff("bundle.min.js", "bundle.min.js", "modified", (hunk,)),))


def test_the_url_line_that_was_quadratic_is_scanned_in_linear_time() -> None:
    line = "a" * 200_000 + "://"

    assert find_secrets(line) == []
    assert builtin_findings(added(line)) == []
    assert redact_diff(added(line)).files[0].hunks[0].lines[1].text == line


def test_a_ten_megabyte_line_goes_through_the_checks_and_the_redactor() -> None:
    line = "a" * TEN_MB + "://"
    diff = added(line)

    assert builtin_findings(diff) == []
    assert redact_diff(diff) is diff


def test_a_secret_at_the_end_of_a_ten_megabyte_line_is_found_and_redacted() -> None:
    line = "x=1;" * (TEN_MB // 4) + f"t='{GITHUB_TOKEN}'"

    assert redact_text(line).endswith("t='[REDACTED:github-token]'")
    assert [f.title for f in builtin_findings(added(line))] == ["Possible GitHub token committed"]


@pytest.mark.parametrize(
    "pattern", SECRET_PATTERNS, ids=[f"{p.kind}-{n}" for n, p in enumerate(SECRET_PATTERNS)]
)
def test_no_pattern_backtracks_over_a_long_run_of_its_own_literals(pattern: SecretPattern) -> None:
    # Each literal that wakes the pattern up, repeated with and without the characters its
    # matches are made of: the input a backtracking pattern is slowest on.
    assert pattern.triggers
    for trigger in pattern.triggers:
        for filler in ("", "a", "=", ":A1"):
            line = (trigger + filler) * (50_000 // (len(trigger) + len(filler)))
            find_secrets(line)
        find_secrets(trigger.upper() * (50_000 // len(trigger)))


@pytest.mark.parametrize(
    "offset",
    [
        WINDOW - OVERLAP - 10,  # starts before the second window, ends inside the first
        WINDOW - 20,  # crosses the first window's end
        WINDOW - OVERLAP,  # starts exactly where the second window starts
        2 * (WINDOW - OVERLAP) + 3,
        5 * (WINDOW - OVERLAP) - 1,
    ],
)
def test_a_secret_across_a_window_border_is_found_whole(offset: int) -> None:
    line = "." * offset + GITHUB_TOKEN + " " + "." * WINDOW

    assert find_secrets(line) == [SecretMatch("github-token", offset, offset + len(GITHUB_TOKEN))]


def test_two_secrets_in_different_windows_are_both_found() -> None:
    line = f"{GITHUB_TOKEN} " + "." * 3 * WINDOW + f" {GITHUB_TOKEN}"

    assert redact_text(line) == (
        "[REDACTED:github-token] " + "." * 3 * WINDOW + " [REDACTED:github-token]"
    )


@pytest.mark.parametrize(
    "pattern", SECRET_PATTERNS, ids=[f"{p.kind}-{n}" for n, p in enumerate(SECRET_PATTERNS)]
)
def test_every_quantifier_is_bounded_and_no_match_outgrows_the_window_overlap(
    pattern: SecretPattern,
) -> None:
    # An unbounded repeat (`*`, `+`, `{n,}`) would make the widest match MAXREPEAT long.
    widest = RE_PARSER.parse(pattern.regex.pattern, pattern.regex.flags).getwidth()[1]

    assert widest <= MAX_MATCH <= OVERLAP < WINDOW
