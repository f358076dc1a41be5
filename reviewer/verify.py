"""The verifier: a second model call per chunk that confirms or rejects candidate findings.

Verification only removes noise, it never loses a review: a rejected candidate goes to
`dropped` with the verifier's reason, one it does not mention is kept (unverified), and a
failed or unreadable verification keeps its whole batch. It never adds or moves a finding:
at most it changes a kept finding's severity.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any

from reviewer.errors import ModelError
from reviewer.gateway import ModelReply
from reviewer.model import (
    SEVERITIES,
    CallRecord,
    DropCode,
    Dropped,
    Finding,
    Severity,
    Verification,
)

VERIFIER = "verifier"  # the role of its calls in the summary and telemetry
_FENCE = re.compile(r"```(?:json|JSON)?\s*\n(.*?)(?:\n```|\Z)", re.DOTALL)
_DECODER = json.JSONDecoder()
MAX_REASON = 300


@dataclass(frozen=True)
class Verdict:
    verdict: str  # confirmed | rejected
    reason: str = ""
    severity: Severity | None = None


@dataclass(frozen=True)
class Applied:
    """A batch after its verdicts: what stays, what was rejected, and the counts."""

    kept: tuple[Finding, ...]
    dropped: tuple[Dropped, ...]
    figures: Verification


def candidates_json(findings: Sequence[Finding]) -> str:
    """The candidates as one JSON array with ids c1, c2, ... in the batch's order."""
    items = [
        {"id": f"c{n}", "path": f.path, "line": f.line, "end_line": f.end_line,
         "quote": (f.code.splitlines() or [""])[0].strip(), "severity": f.severity,
         "category": f.category, "title": f.title, "body": f.body, "evidence": f.evidence}
        for n, f in enumerate(findings, start=1)
    ]  # fmt: skip
    # A backtick inside a string would let the text close the fence: JSON may escape it.
    return json.dumps(items, indent=1, ensure_ascii=False).replace("`", "\\u0060")


def parse_verdicts(text: str) -> dict[str, Verdict]:
    """Verdicts by candidate id; ValueError when the answer holds no verdicts list."""
    for candidate in [m.group(1) for m in _FENCE.finditer(text)] + [text[text.find("{") :]]:
        try:
            value, _ = _DECODER.raw_decode(candidate.strip())
        except json.JSONDecodeError:
            continue
        if isinstance(value, dict) and isinstance(value.get("verdicts"), list):
            return dict(_verdict(item) for item in value["verdicts"] if _verdict(item)[0])
    raise ValueError("the answer holds no verdicts list")


def _verdict(item: Any) -> tuple[str, Verdict]:
    if not isinstance(item, dict) or not isinstance(item.get("id"), str):
        return "", Verdict("")
    kind = str(item.get("verdict", "")).lower().strip()
    if kind not in ("confirmed", "rejected"):
        return "", Verdict("")
    reason = " ".join(str(item.get("reason") or "").split())[:MAX_REASON]
    severity = str(item.get("severity") or "").lower().strip()
    new = next((s for s in SEVERITIES if s == severity), None)
    return item["id"].strip(), Verdict(kind, reason, new)


def apply_verdicts(findings: Sequence[Finding], verdicts: Mapping[str, Verdict]) -> Applied:
    """Each candidate kept, re-graded or dropped by its verdict; never added, never moved."""
    kept: list[Finding] = []
    dropped: list[Dropped] = []
    confirmed = changed = unverified = 0
    for n, finding in enumerate(findings, start=1):
        verdict = verdicts.get(f"c{n}")
        if verdict is None:
            unverified += 1
            kept.append(finding)
        elif verdict.verdict == "rejected":
            detail = verdict.reason or "rejected"
            dropped.append(Dropped.of(finding, DropCode.VERIFIER_REJECTED, detail))
        else:
            confirmed += 1
            severity = verdict.severity or finding.severity
            changed += severity != finding.severity
            kept.append(replace(finding, severity=severity))
    figures = Verification(
        candidates=len(findings), confirmed=confirmed, rejected=len(dropped),
        severity_changed=changed, unverified=unverified, batches=1,
    )  # fmt: skip
    return Applied(tuple(kept), tuple(dropped), figures)


@dataclass(frozen=True)
class VerifyJob:
    """One chunk's candidates with the rendered verifier prompts."""

    chunk: int
    findings: tuple[Finding, ...]
    system: str
    user: str


@dataclass
class VerifyOutcome:
    kept: list[Finding] = field(default_factory=list)
    dropped: list[Dropped] = field(default_factory=list)
    calls: list[CallRecord] = field(default_factory=list)
    figures: Verification = field(default_factory=Verification)


Ask = Callable[[str, str], ModelReply]


def run_verification(
    jobs: Sequence[VerifyJob], ask: Ask, *, concurrency: int, default_model: str
) -> VerifyOutcome:
    """Every batch verified concurrently; the outcome in the jobs' order."""
    outcome = VerifyOutcome()
    if not jobs:
        return outcome
    with ThreadPoolExecutor(max_workers=max(1, min(concurrency, len(jobs)))) as pool:
        results = list(pool.map(lambda job: _verify(job, ask, default_model), jobs))
    for applied, call in results:
        outcome.kept += applied.kept
        outcome.dropped += applied.dropped
        outcome.calls.append(call)
        outcome.figures = _added(outcome.figures, applied.figures)
    return outcome


def _verify(job: VerifyJob, ask: Ask, default_model: str) -> tuple[Applied, CallRecord]:
    unchecked = Verification(
        candidates=len(job.findings), unverified=len(job.findings), batches=1, failed_batches=1
    )
    try:
        reply = ask(job.system, job.user)
    except ModelError as exc:
        failed = CallRecord(
            job.chunk, exc.model or default_model, 0, 0, 0, 0.0, 0.0, max(exc.attempts - 1, 0),
            False, "failed", f"verification: {exc}", exc.key_refused, exc.misconfigured, VERIFIER,
        )  # fmt: skip
        return Applied(job.findings, (), unchecked), failed
    try:
        verdicts = parse_verdicts(reply.text)
    except ValueError as exc:
        return Applied(job.findings, (), unchecked), _record(job, reply, f"verification: {exc}")
    return apply_verdicts(job.findings, verdicts), _record(job, reply, "")


def _record(job: VerifyJob, reply: ModelReply, error: str) -> CallRecord:
    return CallRecord(
        job.chunk, reply.model, reply.prompt_tokens, reply.completion_tokens,
        reply.cached_tokens, reply.cost_usd, reply.latency_s, reply.retries, reply.fallback,
        "failed" if error else "ok", error, False, False, VERIFIER, reply.tool_calls,
    )  # fmt: skip


def _added(a: Verification, b: Verification) -> Verification:
    return Verification(
        *(getattr(a, name) + getattr(b, name) for name in Verification.__dataclass_fields__)
    )
