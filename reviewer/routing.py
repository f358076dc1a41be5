"""Which model chain reviews a change: one model with fallbacks, or a weighted split of arms,
and the gateway that reaches it (one builder for CI runs, `ai-review mcp` and evaluations).

The arm is a pure function of the change's identity, so every rerun lands on the same arm.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass

from reviewer.attribution import attribution
from reviewer.config import Arm, Config
from reviewer.credentials import is_platform_credential
from reviewer.errors import ConfigError
from reviewer.gateway import LiteLLMGateway


@dataclass(frozen=True)
class Route:
    arm: str | None
    models: tuple[str, ...]
    api_base: str | None
    extra_headers: tuple[tuple[str, str], ...] = ()


def choose_arm(arms: tuple[Arm, ...], identity: str) -> Arm:
    """Deterministic weighted choice: the identity's hash picks a point on the weight line."""
    total = sum(arm.weight for arm in arms)
    digest = hashlib.sha256(identity.encode("utf-8")).digest()
    point = int.from_bytes(digest[:8], "big") / 2**64 * total
    for arm in arms:
        if point < arm.weight:
            return arm
        point -= arm.weight
    return next(arm for arm in reversed(arms) if arm.weight > 0)


def route(config: Config, identity: str, forced_arm: str | None = None) -> Route | None:
    """The model chain for this change, or None when no model is configured."""
    if config.arms:
        arm = _forced(config.arms, forced_arm) if forced_arm else choose_arm(config.arms, identity)
        return Route(
            arm.name,
            (arm.model, *arm.fallback_models),
            arm.api_base or config.api_base,
            arm.extra_headers or config.extra_headers,
        )
    if forced_arm:
        raise ConfigError(f"--arm {forced_arm}: the configuration defines no [[arms]]")
    if not config.model:
        return None
    return Route(
        None, (config.model, *config.fallback_models), config.api_base, config.extra_headers
    )


def _forced(arms: tuple[Arm, ...], name: str) -> Arm:
    for arm in arms:
        if arm.name == name:
            return arm
    known = ", ".join(arm.name for arm in arms)
    raise ConfigError(f"--arm {name}: no such arm (configured: {known})")


def resolve_headers(
    headers: tuple[tuple[str, str], ...], env: Mapping[str, str] = os.environ
) -> dict[str, str]:
    """Header values written as `env:NAME` are read from the environment, so keys stay out
    of committed config files; never a platform's credential (GITHUB_TOKEN, CI_JOB_TOKEN...),
    which belongs to another service than the model gateway."""
    resolved = {}
    for name, value in headers:
        var = value.removeprefix("env:") if value.startswith("env:") else None
        if var is not None and is_platform_credential(var):
            raise ConfigError(
                f"extra header {name} may not carry {var}: it is a platform credential, not a "
                "model gateway's key"
            )
        if var is not None and var not in env:
            raise ConfigError(f"extra header {name} needs the environment variable {var}")
        resolved[name] = env[var] if var is not None else value
    return resolved


def review_gateway(
    chosen: Route,
    config: Config,
    *,
    repo: str | None,
    number: int | None,
    env: Mapping[str, str] = os.environ,
) -> LiteLLMGateway:
    """The gateway a review sends through: the route's models and endpoint, the config's
    timeouts, retries and temperature, the review's deadline (`review_timeout_s`, counted
    from here) and the attribution the gateway bills by. Its keys are not checked here."""
    meta = attribution(config.gateway_metadata, repo=repo, number=number, arm=chosen.arm)
    return LiteLLMGateway(
        chosen.models,
        api_base=chosen.api_base,
        api_key=env.get("AI_REVIEW_API_KEY") or None,
        timeout_s=config.timeout_s,
        max_retries=config.max_retries,
        temperature=config.temperature,
        extra_headers=resolve_headers(chosen.extra_headers, env) | meta.headers,
        extra_body=meta.body,
        deadline_s=config.review_timeout_s,
    )
