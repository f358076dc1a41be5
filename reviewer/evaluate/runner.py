"""Review every case with every variant, the way `ai-review --diff` would, and match.

Each case is reviewed by the normal engine with the normal configuration resolution (its
repo_root, the variant's config file, the environment, the flags). Cases run in parallel,
`concurrency` at a time; the response cache is never used, so every figure is paid for.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reviewer.config import Config
from reviewer.context import ContextSource, LocalCheckout, NoContext
from reviewer.diff import parse_diff
from reviewer.engine import ReviewInput, review
from reviewer.errors import UsageError
from reviewer.evaluate.cases import Case
from reviewer.evaluate.judge import JudgeTally, ModelJudge
from reviewer.evaluate.matching import Judge, LocationJudge, candidates_of, match_comments
from reviewer.evaluate.metrics import CaseOutcome
from reviewer.evaluate.record import Recording, RecordingGateway, ReplayGateway
from reviewer.gateway import Gateway, LiteLLMGateway, count_tokens, load_client
from reviewer.model import ReviewResult
from reviewer.routing import Route, resolve_headers, review_gateway, route
from reviewer.tools import repository_tools
from reviewer.trust import load_config

CaseProgress = Callable[[int, int], None]


@dataclass(frozen=True)
class Variant:
    name: str
    config_path: str | None = None


@dataclass(frozen=True)
class EvalOptions:
    variants: tuple[Variant, ...]
    flags: Mapping[str, Any]
    match_lines: int = 3
    judge: str = "location"  # or a litellm model string
    judge_api_base: str | None = None
    record: Path | None = None
    replay: Path | None = None


@dataclass(frozen=True)
class Evaluation:
    variants: tuple[str, ...]
    outcomes: tuple[CaseOutcome, ...]
    judge: JudgeTally | None  # None with `--judge location`: it costs nothing


def evaluate(
    cases: Sequence[Case], options: EvalOptions, progress: CaseProgress | None = None
) -> Evaluation:
    if options.replay is None:  # a replay reports the recorded latencies
        load_client()  # litellm loads before any clock: no case's latency holds its import
    count_tokens("openai/gpt-4o", "warm up")  # the tokenizer too
    folder = options.record or options.replay
    recording = Recording(folder) if folder is not None else None
    judge = _judge(options, recording)
    runners = [_CaseRunner(variant, options, judge, recording) for variant in options.variants]
    # Variants interleaved case by case: one-time costs (connections, warm caches) and a
    # gateway's drift during the run fall on every variant alike, not on the baseline.
    tasks = [(runner, case) for case in cases for runner in runners]
    counter = _Counter(len(tasks), progress)
    workers = min(_base_config(v, options).concurrency for v in options.variants)

    def run(task: tuple[_CaseRunner, Case]) -> CaseOutcome:
        outcome = task[0].run(task[1])
        counter.tick()
        return outcome

    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(tasks)))) as pool:
        done = list(pool.map(run, tasks))
    outcomes = [o for name in [v.name for v in options.variants] for o in done if o.variant == name]
    if options.record is not None and recording is not None:
        recording.save_latencies(recording.latencies() | _latencies(outcomes))
    tally = judge.tally if isinstance(judge, ModelJudge) else None
    return Evaluation(tuple(v.name for v in options.variants), tuple(outcomes), tally)


class _Counter:
    def __init__(self, total: int, progress: CaseProgress | None) -> None:
        self.total, self.done, self.progress = total, 0, progress
        self._lock = threading.Lock()

    def tick(self) -> None:
        with self._lock:
            self.done += 1
            if self.progress is not None:
                self.progress(self.done, self.total)


def _base_config(variant: Variant, options: EvalOptions) -> Config:
    try:
        return load_config(Path.cwd(), variant.config_path, options.flags)
    except UsageError as exc:
        raise type(exc)(f"variant {variant.name}: {exc}") from exc


def _judge(options: EvalOptions, recording: Recording | None) -> Judge:
    if options.judge == "location":
        return LocationJudge()
    base = _base_config(options.variants[0], options)
    models = (options.judge,)
    if options.replay is not None and recording is not None:
        replay = ReplayGateway(models, recording, "the judge", _token_counter(models[0]))
        return ModelJudge(replay)
    live = LiteLLMGateway(
        models,
        api_base=options.judge_api_base or base.api_base,
        api_key=os.environ.get("AI_REVIEW_API_KEY") or None,
        timeout_s=base.timeout_s,
        max_retries=base.max_retries,
        temperature=0.0,
        extra_headers=resolve_headers(base.extra_headers),
    )
    live.check_keys()
    return ModelJudge(RecordingGateway(live, recording) if recording is not None else live)


def _token_counter(model: str) -> Callable[[str], int]:
    return lambda text: count_tokens(model, text)


def _latencies(outcomes: Sequence[CaseOutcome]) -> dict[str, dict[str, float]]:
    table: dict[str, dict[str, float]] = {}
    for outcome in outcomes:
        if outcome.latency_s is not None:
            table.setdefault(outcome.variant, {})[outcome.case_id] = outcome.latency_s
    return table


class _CaseRunner:
    """Reviews and matches one case for one variant; any usage error names the case."""

    def __init__(
        self,
        variant: Variant,
        options: EvalOptions,
        judge: Judge,
        recording: Recording | None,
    ) -> None:
        self.variant = variant
        self.options = options
        self.judge = judge
        self.recording = recording
        replayed = recording.latencies() if recording and options.replay else {}
        self.replayed_latency = replayed.get(variant.name, {})

    def run(self, case: Case) -> CaseOutcome:
        try:
            return self._run(case)
        except UsageError as exc:
            where = f"case {case.id!r} (line {case.line}, variant {self.variant.name})"
            raise type(exc)(f"{where}: {exc}") from exc

    def _run(self, case: Case) -> CaseOutcome:
        config = load_config(case.repo_root or Path.cwd(), self.variant.config_path,
                             self.options.flags)  # fmt: skip
        request = ReviewInput(parse_diff(case.diff_text), case.title, case.description)
        identity = "diff:" + hashlib.sha256(case.diff_text.encode()).hexdigest()[:16]
        chosen = route(config, identity)
        if chosen is None:
            raise UsageError("no model: set --model, AI_REVIEW_MODEL or `model` in the config")
        source: ContextSource = LocalCheckout(case.repo_root) if case.repo_root else NoContext()
        gateway = self._gateway(chosen, config)
        toolboxes = (repository_tools(source),) if config.tools else ()  # as a CI run offers
        result = review(request, config, gateway, source, arm=chosen.arm, toolboxes=toolboxes)
        latency: float | None = result.summary.latency_total_s
        if self.options.replay is not None:  # the recorded run's, unknown for a renamed variant
            latency = self.replayed_latency.get(case.id)
        return match_case(case, self.variant.name, result, self.judge,
                          match_lines=self.options.match_lines, latency_s=latency)  # fmt: skip

    def _gateway(self, chosen: Route, config: Config) -> Gateway:
        if self.options.replay is not None and self.recording is not None:
            counter = _token_counter(chosen.models[0])
            return ReplayGateway(chosen.models, self.recording, "the review", counter)
        # The gateway a CI run builds (deadline, attribution): an evaluation measures it.
        live = review_gateway(chosen, config, repo=None, number=None)
        live.check_keys()
        return RecordingGateway(live, self.recording) if self.recording is not None else live


def match_case(
    case: Case,
    variant: str,
    result: ReviewResult,
    judge: Judge,
    *,
    match_lines: int,
    latency_s: float | None,
) -> CaseOutcome:
    """Golden comments first; the findings left over are false positives, and those among
    them that match a known-wrong comment count as negatives hit."""
    candidates = candidates_of(result.findings)
    matched = match_comments(case.golden, candidates, judge, match_lines)
    fingerprint = {c.id: c.fingerprint for c in candidates}
    rest = [c for c in candidates if c.id not in set(matched.values())]
    negatives = match_comments(case.negatives, rest, judge, match_lines) if rest else {}
    summary = result.summary
    return CaseOutcome(
        case_id=case.id,
        variant=variant,
        tp=tuple((g.id, fingerprint[matched[g.id]]) for g in case.golden if g.id in matched),
        fp=tuple(c.fingerprint for c in rest),
        fn=tuple(g.id for g in case.golden if g.id not in matched),
        clean=case.clean,
        negatives_hit=len(negatives),
        findings=len(candidates),
        cost_usd=summary.cost_usd,
        latency_s=latency_s,
        incomplete=summary.failed_chunks > 0,
    )
