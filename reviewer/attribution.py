"""The review's identity as a gateway's attribution metadata, so spend per repository shows
in the gateway's own dashboards (`gateway_metadata = "litellm" | "cloudflare"`).

Only the identity the platform gave (repository, MR/PR number), the arm and the pass are sent,
never diff content; values are cut to printable ASCII so no header can be split or forged.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

_UNSAFE = re.compile(r"[^\x21-\x7e]")
MAX_VALUE_CHARS = 100


@dataclass(frozen=True)
class Attribution:
    """Headers and request-body fields that carry the review's identity."""

    headers: dict[str, str] = field(default_factory=dict)
    body: dict[str, Any] = field(default_factory=dict)


def attribution(
    kind: str | None,
    *,
    repo: str | None,
    number: int | None,
    arm: str | None,
    phase: str = "review",
) -> Attribution:
    """What to send for gateway `kind` (None: nothing)."""
    identity = {
        "tool": "ai-review",
        "repository": _clean(repo or "local"),
        "number": str(number) if number is not None else "-",
        "arm": _clean(arm or "-"),
        "pass": _clean(phase),
    }
    if kind == "litellm":
        tags = [f"{name}:{value}" for name, value in identity.items() if name != "tool"]
        tags.insert(0, "ai-review")
        # x-litellm-tags for the proxy's tag spend; spend_logs_metadata lands in its spend logs
        metadata = {"tags": tags, "spend_logs_metadata": identity}
        return Attribution({"x-litellm-tags": ",".join(tags)}, {"metadata": metadata})
    if kind == "cloudflare":  # at most five entries, strings/numbers/booleans
        return Attribution({"cf-aig-metadata": json.dumps(identity, separators=(",", ":"))})
    return Attribution()


def _clean(value: str) -> str:
    return _UNSAFE.sub("_", value)[:MAX_VALUE_CHARS].replace(",", "_")
