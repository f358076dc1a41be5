"""SARIF 2.1.0 (`--format sarif`), for GitHub code scanning and other SARIF viewers."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from reviewer.model import CATEGORIES, Finding, ReviewResult
from reviewer.report.common import new_file_span

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://github.com/ai-review/ai-review"
FINGERPRINT_KEY = "aiReview/v1"

LEVELS = {"critical": "error", "high": "error", "medium": "warning", "low": "note"}

RULE_DESCRIPTIONS = {
    "bug": "Likely bug: wrong behaviour, crash or data loss",
    "security": "Security weakness",
    "performance": "Performance problem",
    "maintainability": "Hard to maintain: complexity, duplication, unclear design",
    "style": "Style or convention",
    "docs": "Documentation missing or wrong",
    "test": "Testing gap or broken test",
}


def to_sarif(result: ReviewResult) -> str:
    rule_ids = _rule_ids(result.findings)
    run = {
        "tool": {
            "driver": {
                "name": "ai-review",
                "informationUri": INFORMATION_URI,
                "rules": [_rule(rule_id) for rule_id in rule_ids],
            }
        },
        "results": [_result(finding, rule_ids) for finding in result.findings],
    }
    sarif = {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}
    return json.dumps(sarif, indent=2, ensure_ascii=False) + "\n"


def _rule_ids(findings: tuple[Finding, ...]) -> list[str]:
    """One rule per category present, in the fixed category order (unknown ones last)."""
    present = {finding.category for finding in findings}
    known: list[str] = [category for category in CATEGORIES if category in present]
    return known + sorted(present - set(CATEGORIES))


def _rule(rule_id: str) -> dict[str, Any]:
    description = RULE_DESCRIPTIONS.get(rule_id, rule_id)
    return {"id": rule_id, "name": rule_id, "shortDescription": {"text": description}}


def _result(finding: Finding, rule_ids: list[str]) -> dict[str, Any]:
    message = finding.title if not finding.body.strip() else f"{finding.title}\n\n{finding.body}"
    properties: dict[str, Any] = {
        "severity": finding.severity,
        "confidence": finding.confidence,
        "source": finding.source,
    }
    if finding.side == "LEFT":
        # Old-file lines: the region does not point into the new file; viewers must know.
        properties["side"] = "LEFT"
    return {
        "ruleId": finding.category,
        "ruleIndex": rule_ids.index(finding.category),
        "level": LEVELS.get(finding.severity, "warning"),
        "message": {"text": message},
        "locations": [_location(finding)],
        "partialFingerprints": {FINGERPRINT_KEY: finding.fingerprint},
        "properties": properties,
    }


def _location(finding: Finding) -> dict[str, Any]:
    start, end = new_file_span(finding)
    region = {"startLine": start, "endLine": end}
    return {
        "physicalLocation": {
            "artifactLocation": {"uri": quote(finding.path, safe="/")},
            "region": region,
        }
    }
