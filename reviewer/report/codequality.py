"""GitLab Code Quality report (`--format codequality`): a Code Climate issue list."""

from __future__ import annotations

import json
from typing import Any

from reviewer.model import Finding, ReviewResult

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
    if finding.side == "RIGHT":
        return {"begin": finding.line, "end": max(finding.line, finding.end_line)}
    # A LEFT finding is about removed (old-file) lines, which the new file does not have, and
    # Code Quality only knows new-file lines. Point at the new-file line of the first anchored
    # line when it has one (a context line), else at line 1: still a valid location in the file.
    begin = finding.new_line if finding.new_line is not None else 1
    return {"begin": begin, "end": begin}


def _description(finding: Finding) -> str:
    title = " ".join(finding.title.split())
    if finding.side == "LEFT":
        return f"{title} (on removed code, old line {finding.line})"
    return title
