"""The review passes of one depth tier, the verification step, and their per-pass figures.

Decides, once per review, which model answers each pass and the verifier (`pass_models`,
`verifier_model`), and whether its conversation may call the repository's tools. The engine
runs the pass jobs with the chunks' dispatcher, then hands the candidates to `verify_step`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol, runtime_checkable

from reviewer.budget import Price, estimated_cost
from reviewer.chunk import Chunk
from reviewer.config import Config
from reviewer.depth import DepthPlan, DepthPolicy, plan_depth
from reviewer.diff import FileDiff, Hunk
from reviewer.gateway import Gateway, ModelReply, ToolOffer, supports_tools
from reviewer.model import CallRecord, Dropped, Finding, PassFigures, Verification
from reviewer.prompt import PromptInputs, render_verify, render_verify_system
from reviewer.rank import fingerprint, rank_findings
from reviewer.toolbox import ToolBox
from reviewer.tools import ToolSession
from reviewer.verify import VERIFIER, VerifyJob, candidates_json, run_verification

Ask = Callable[[str, str], ModelReply]
FileLines = Callable[[str], "list[str] | None"]
NO_TOOLS_NOTE = (
    "Repository tools not offered to {models}: litellm does not list function calling for it."
)


@runtime_checkable
class RoutingGateway(Protocol):
    """A gateway that can reach other models with its settings and hold a tool conversation
    (LiteLLMGateway). A plain Gateway gets every role on its own models and no tools."""

    models: tuple[str, ...]

    def complete(self, system: str, user: str) -> ModelReply: ...

    def count_tokens(self, text: str) -> int: ...

    def price(self) -> tuple[float, float] | None: ...

    def prepare(self) -> None: ...

    def with_models(self, models: Sequence[str]) -> RoutingGateway: ...

    def complete_with_tools(self, system: str, user: str, offer: ToolOffer) -> ModelReply: ...


@dataclass
class PassSetup:
    """Per role (a pass name, or "verifier"): how it is asked and whether the response cache
    may answer it (not with a model of its own, nor with tools: the answer then depends on
    more than the prompt)."""

    depth: DepthPlan
    asks: dict[str, Ask] = field(default_factory=dict)
    cacheable: dict[str, bool] = field(default_factory=dict)
    tooled: dict[str, bool] = field(default_factory=dict)  # its conversation may call tools
    max_tool_calls: int = 0  # 0: no tools offered anywhere
    session: ToolSession | None = None
    unsupported: list[str] = field(default_factory=list)  # models offered no tools
    verifier_model: str = ""  # the model verification asks first

    def tool_calls_for(self, role: str) -> int:
        """The tool calls a role's conversation may make (0: tools not offered to it)."""
        return self.max_tool_calls if self.tooled.get(role) else 0

    @property
    def tools_note(self) -> str:
        return NO_TOOLS_NOTE.format(models=", ".join(self.unsupported)) if self.unsupported else ""


def depth_policy(config: Config) -> DepthPolicy:
    return DepthPolicy(
        config.depth, config.verify, config.passes, config.trivial_max_lines,
        config.full_min_lines, config.risk_paths,
    )  # fmt: skip


def setup_passes(
    config: Config, files: Sequence[FileDiff], gateway: Gateway, toolboxes: Sequence[ToolBox]
) -> PassSetup:
    setup = PassSetup(plan_depth(files, depth_policy(config)))
    routed = dict(config.pass_models)
    if config.verifier_model:
        routed[VERIFIER] = config.verifier_model
    roles = (*setup.depth.passes, *((VERIFIER,) if setup.depth.verify else ()))
    boxes = tuple(toolboxes) if config.tools and config.max_tool_calls > 0 else ()
    setup.session = ToolSession(boxes) if boxes else None
    setup.verifier_model = gateway.models[0]
    for role in roles:
        own = routed.get(role)
        target = gateway
        if own is not None and isinstance(gateway, RoutingGateway):
            target = gateway.with_models(tuple(dict.fromkeys((own, *gateway.models))))
            setup.verifier_model = own if role == VERIFIER else setup.verifier_model
        setup.asks[role] = _ask(target, setup, config.max_tool_calls)
        setup.tooled[role] = setup.asks[role] != target.complete
        setup.cacheable[role] = target is gateway and not setup.tooled[role]
    return setup


def _ask(gateway: Gateway, setup: PassSetup, max_calls: int) -> Ask:
    session = setup.session
    if session is None or not isinstance(gateway, RoutingGateway):
        return gateway.complete
    if not supports_tools(gateway.models[0]):
        if gateway.models[0] not in setup.unsupported:
            setup.unsupported.append(gateway.models[0])
        return gateway.complete
    setup.max_tool_calls = max_calls
    offer = ToolOffer(session.openai_specs(), session.dispatch, max_calls)

    def ask(system: str, user: str) -> ModelReply:
        return gateway.complete_with_tools(system, user, offer)

    return ask


@dataclass
class Verified:
    findings: list[Finding]
    dropped: list[Dropped]
    calls: list[CallRecord]
    figures: Verification | None
    seconds: float = 0.0


def verify_step(
    found: Sequence[tuple[Chunk, Sequence[Finding]]],
    setup: PassSetup,
    inputs: PromptInputs,
    lines: FileLines,
    *,
    concurrency: int,
    default_model: str,
    clock: Callable[[], float] = time.monotonic,
    allowance: Allowance | None = None,
) -> Verified:
    """Deduplicated candidates, verified per chunk when the tier calls for it."""
    every = [finding for _, findings in found for finding in findings]
    if not setup.depth.verify:
        return Verified(every, [], [], None)
    started = clock()
    candidates, duplicates = rank_findings(every, min_severity="low", max_comments=len(every))
    system = render_verify_system(inputs, max_tool_calls=setup.tool_calls_for(VERIFIER))
    jobs = []
    for chunk, findings in _by_chunk(found, candidates):
        batch = candidates_json(findings)
        user = render_verify(_about(chunk, findings), inputs, lines, batch, len(findings))
        jobs.append(VerifyJob(chunk.index, tuple(findings), system, user))
    sent, held = allowance.split(jobs) if allowance is not None else (jobs, [])
    outcome = run_verification(
        sent, setup.asks[VERIFIER], concurrency=concurrency, default_model=default_model
    )
    kept = outcome.kept + [finding for job in held for finding in job.findings]
    unsent = sum(len(job.findings) for job in held)
    figures = outcome.figures
    if held:  # candidates the caps left no room to verify are kept, unverified
        figures = replace(
            figures, candidates=figures.candidates + unsent,
            unverified=figures.unverified + unsent, over_budget=len(held),
        )  # fmt: skip
    dropped = duplicates + outcome.dropped
    return Verified(kept, dropped, outcome.calls, figures, clock() - started)


@dataclass(frozen=True)
class Allowance:
    """What the review's caps (max_prompt_tokens, max_cost_usd) leave for verification once
    the passes are paid: batches are sent in order while their estimate fits."""

    count_tokens: Callable[[str], int]
    tokens: float = math.inf
    usd: float = math.inf
    price: Price | None = None

    def split(self, jobs: Sequence[VerifyJob]) -> tuple[list[VerifyJob], list[VerifyJob]]:
        tokens_left, usd_left = self.tokens, self.usd
        sent: list[VerifyJob] = []
        held: list[VerifyJob] = []
        for job in jobs:
            tokens = self.count_tokens(job.system) + self.count_tokens(job.user)
            cost = estimated_cost(tokens, self.price)
            if tokens > tokens_left or cost > usd_left:
                held.append(job)
                continue
            tokens_left -= tokens
            usd_left -= cost
            sent.append(job)
        return sent, held


def _by_chunk(
    found: Sequence[tuple[Chunk, Sequence[Finding]]],
    candidates: Sequence[Finding],
) -> list[tuple[Chunk, list[Finding]]]:
    """Each candidate with the chunk that produced it (the first, for a duplicate)."""
    origin: dict[str, Chunk] = {}
    for chunk, findings in found:
        for finding in findings:
            origin.setdefault(fingerprint(finding), chunk)
    batches: dict[int, tuple[Chunk, list[Finding]]] = {}
    for finding in candidates:
        chunk = origin[finding.fingerprint]
        batches.setdefault(chunk.index, (chunk, []))[1].append(finding)
    return [batches[index] for index in sorted(batches)]


def _about(chunk: Chunk, findings: Sequence[Finding]) -> Chunk:
    """The chunk cut down to the hunks its candidates lie in: the verifier reads the code it
    judges, not the whole chunk again."""
    files = []
    for file in chunk.files:
        spans = [f for f in findings if f.path == file.path]
        hunks = tuple(h for h in file.hunks if any(_within(h, f) for f in spans))
        if hunks:
            files.append(replace(file, hunks=hunks))
    return replace(chunk, files=tuple(files)) if files else chunk


def _within(hunk: Hunk, finding: Finding) -> bool:
    start, length = (
        (hunk.old_start, hunk.old_len) if finding.side == "LEFT" else (hunk.new_start, hunk.new_len)
    )
    return start <= finding.line <= start + max(length - 1, 0)


def pass_figures(calls: Sequence[CallRecord], roles: Sequence[str]) -> tuple[PassFigures, ...]:
    """Calls, tokens, cost and time per pass and for the verifier (cached answers excluded)."""
    figures = []
    for role in roles:
        mine = [c for c in calls if c.role == role and c.outcome != "cached"]
        costs = [c.cost_usd for c in mine]
        figures.append(
            PassFigures(
                name=role,
                calls=len(mine),
                failed=sum(c.outcome == "failed" for c in mine),
                prompt_tokens=sum(c.prompt_tokens for c in mine),
                completion_tokens=sum(c.completion_tokens for c in mine),
                cost_usd=None if None in costs else sum(c or 0.0 for c in costs),
                latency_s=sum(c.latency_s for c in mine),
                tool_calls=sum(c.tool_calls for c in mine),
            )
        )
    return tuple(figures)
