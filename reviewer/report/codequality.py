"""GitLab Code Quality report (`--format codequality`): a Code Climate issue list."""

from __future__ import annotations

import json
from typing import Any

from reviewer.model import Finding, ReviewResult
from reviewer.report.common import new_file_span

SEVERITIES = {"critical": "critical", "high": "major", "medium": "minor", "low": "info"}

CATEGORIES = {
    "bug": ["Bug Risk"],
    "security": ["Security"],
    "performance": ["Performance"],
    "maintainability": ["Complexity"],
    "style": ["Style"],
    "docs": ["Clarity"],
    "test": ["Bug Risk"],
}


def to_codequality(result: ReviewResult) -> str:
    issues: list[dict[str, Any]] = []
    seen: set[str] = set()
    for finding in result.findings:
        fingerprint = _unique(finding.fingerprint, seen)
        seen.add(fingerprint)
        issues.append(_issue(finding, fingerprint))
    return json.dumps(issues, indent=2, ensure_ascii=False) + "\n"


def _unique(fingerprint: str, seen: set[str]) -> str:
    """GitLab keys issues by fingerprint: a repeated one would hide all but one finding."""
    candidate, count = fingerprint, 1
    while candidate in seen:
        count += 1
        candidate = f"{fingerprint}-{count}"
    return candidate


def _issue(finding: Finding, fingerprint: str) -> dict[str, Any]:
    return {
        "type": "issue",
        "description": _description(finding),
        "check_name": f"ai-review/{finding.category}",
        "fingerprint": fingerprint,
        "severity": SEVERITIES.get(finding.severity, "minor"),
        "location": {"path": finding.path, "lines": _lines(finding)},
        "categories": CATEGORIES.get(finding.category, ["Bug Risk"]),
    }


def _lines(finding: Finding) -> dict[str, int]:
    begin, end = new_file_span(finding)
    return {"begin": begin, "end": end}


def _description(finding: Finding) -> str:
    title = " ".join(finding.title.split())
    if finding.side == "LEFT":
        return f"{title} (on removed code, old line {finding.line})"
    return title
