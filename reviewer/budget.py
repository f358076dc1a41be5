"""Fit a review into its caps: which chunks are sent, and which are listed as over budget.

Pure: the caller estimates each chunk's prompt tokens before anything is sent. When the caps
do not hold everything, the chunks most worth reviewing are taken first (source over tests
over docs; within each, security-sensitive paths first, then larger changes); a chunk that
does not fit is skipped and a smaller one behind it may still fit. Nothing is skipped
silently: every file of a skipped chunk is returned with a reason that names the budget.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import PurePosixPath

from reviewer.chunk import Chunk
from reviewer.model import SkipCode, Skipped

# The completion is not known before sending: each chunk's answer is estimated at this many
# tokens, priced at the model's output price (a typical answer is a few hundred tokens).
COMPLETION_TOKENS_ESTIMATE = 1000
TOKEN_REASON = "over the review's token budget"  # noqa: S105 - a reason, not a secret
USD_REASON = "over the review's USD budget"

SENSITIVE_WORDS = (
    "auth",
    "crypto",
    "security",
    "permission",
    "token",
    "password",
    "secret",
    "sql",
    "payment",
)
_TEST_DIRS = {"test", "tests", "spec", "specs", "__tests__", "testing"}
_DOC_SUFFIXES = {".md", ".rst", ".txt", ".adoc"}
_DOC_DIRS = {"doc", "docs"}

Price = tuple[float, float]  # USD per (prompt, completion) token


def plan_budget(
    chunks: Sequence[Chunk],
    estimated_tokens: Sequence[int],
    max_tokens: int | None,
    max_cost: float | None,
    price: Price | None,
) -> tuple[list[Chunk], tuple[Skipped, ...]]:
    """The chunks to send, in their original order, and the files left out with the reason.

    A chunk estimated at 0 tokens (e.g. answered from the cache) always fits. Without a
    price, `max_cost` cannot be estimated and only `max_tokens` applies.
    """
    tokens_left = float("inf") if max_tokens is None else max_tokens
    cost_left = float("inf") if max_cost is None or price is None else max_cost
    kept: set[int] = set()
    reasons: dict[int, str] = {}
    for position in sorted(range(len(chunks)), key=lambda i: priority(chunks[i])):
        tokens = estimated_tokens[position]
        cost = estimated_cost(tokens, price) if tokens else 0.0
        if tokens > tokens_left:
            reasons[position] = TOKEN_REASON
        elif cost > cost_left:
            reasons[position] = USD_REASON
        else:
            kept.add(position)
            tokens_left -= tokens
            cost_left -= cost
    chosen = [chunk for position, chunk in enumerate(chunks) if position in kept]
    return chosen, _skipped_files(chunks, chosen, reasons)


def estimated_cost(prompt_tokens: int, price: Price | None) -> float:
    """USD for a chunk's prompt and its estimated answer; 0 when the price is unknown."""
    if price is None:
        return 0.0
    return prompt_tokens * price[0] + COMPLETION_TOKENS_ESTIMATE * price[1]


def priority(chunk: Chunk) -> tuple[int, int, int, int]:
    """Sort key, most worth reviewing first: source, then sensitive paths, then larger changes."""
    paths = [file.path for file in chunk.files]
    sensitive = any(is_sensitive(path) for path in paths)
    kind = min((path_kind(path) for path in paths), default=0)
    return (kind, 0 if sensitive else 1, -chunk.changed, chunk.index)


def is_sensitive(path: str) -> bool:
    lowered = path.lower()
    return any(word in lowered for word in SENSITIVE_WORDS)


DOCS = 2  # the path_kind of documentation


def path_kind(path: str) -> int:
    """0 for source, 1 for tests, 2 (DOCS) for docs."""
    pure = PurePosixPath(path.lower())
    directories = set(pure.parts[:-1])
    if directories & _TEST_DIRS or _is_test_name(pure.name):
        return 1
    if pure.suffix in _DOC_SUFFIXES or directories & _DOC_DIRS:
        return 2
    return 0


def _is_test_name(name: str) -> bool:
    stem = name.split(".", 1)[0]
    if stem.startswith("test_") or stem.endswith(("_test", "_spec")) or stem == "conftest":
        return True
    return ".test." in name or ".spec." in name


def _skipped_files(
    chunks: Sequence[Chunk], chosen: list[Chunk], reasons: dict[int, str]
) -> tuple[Skipped, ...]:
    reviewed = {file.path for chunk in chosen for file in chunk.files}
    skipped: dict[str, Skipped] = {}
    for position, reason in sorted(reasons.items()):
        for file in chunks[position].files:
            partly = file.path in reviewed
            code = SkipCode.PARTLY_OVER_BUDGET if partly else SkipCode.OVER_BUDGET
            skipped.setdefault(file.path, Skipped(file.path, code, reason))
    return tuple(skipped.values())
