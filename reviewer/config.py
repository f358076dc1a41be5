"""One Config value, built once: built-in defaults < config file < environment < flags.

Secrets never live here: API keys and platform tokens are read from the environment by the
edge that needs them.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from reviewer.depth import DEFAULT_PASSES, DEFAULT_RISK_PATHS, DEPTHS
from reviewer.errors import ConfigError
from reviewer.mcp_config import McpServerConfig, parse_mcp_servers
from reviewer.model import SEVERITIES


@dataclass(frozen=True)
class Arm:
    """One side of a traffic split: a model, its fallbacks, a weight, an optional gateway."""

    name: str
    model: str
    fallback_models: tuple[str, ...] = ()
    weight: float = 1.0
    api_base: str | None = None
    extra_headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Config:
    model: str | None = None
    fallback_models: tuple[str, ...] = ()
    api_base: str | None = None
    max_comments: int = 20
    min_severity: str = "low"
    fail_on: str | None = None
    exclude: tuple[str, ...] = ()
    include: tuple[str, ...] = ()
    guidelines: tuple[str, ...] = ("REVIEW.md",)
    concurrency: int = 8
    max_prompt_tokens: int | None = None
    max_cost_usd: float | None = None
    cache_dir: str | None = None
    arms: tuple[Arm, ...] = ()
    timeout_s: float = 120.0
    review_timeout_s: float = 900.0  # every call, retry and wait of one review
    gateway_metadata: str | None = None  # "litellm" | "cloudflare": attribution sent along
    max_retries: int = 3
    temperature: float = 0.1
    chunk_tokens: int = 6000
    context_lines: int = 5
    prompts_dir: str | None = None
    extra_headers: tuple[tuple[str, str], ...] = ()
    mcp_servers: tuple[McpServerConfig, ...] = ()
    # Review depth, specialist passes, verification and repository tools (reviewer.depth).
    depth: str = "auto"  # scale the review with the change's risk; "trivial" is one pass
    verify: bool = True  # verify candidates at the tiers that call for it (lite, full)
    verifier_model: str | None = None  # default: the review model
    passes: tuple[str, ...] = DEFAULT_PASSES
    pass_models: tuple[tuple[str, str], ...] = ()  # (pass, model)
    tools: bool = False  # opt-in: more round trips and cost, and it needs a checkout
    max_tool_calls: int = 8
    trivial_max_lines: int = 10  # auto: at most this many changed lines is trivial...
    full_min_lines: int = 200  # ...and at least this many gets the specialist passes
    risk_paths: tuple[str, ...] = DEFAULT_RISK_PATHS


# Keys a config file may set, with the type each must have.
_FILE_KEYS: dict[str, type | tuple[type, ...]] = {
    "model": str,
    "fallback_models": list,
    "api_base": str,
    "max_comments": int,
    "min_severity": str,
    "fail_on": str,
    "exclude": list,
    "include": list,
    "guidelines": list,
    "concurrency": int,
    "max_prompt_tokens": int,
    "max_cost_usd": (int, float),
    "cache_dir": str,
    "arms": list,
    "timeout_s": (int, float),
    "review_timeout_s": (int, float),
    "gateway_metadata": str,
    "max_retries": int,
    "temperature": (int, float),
    "chunk_tokens": int,
    "context_lines": int,
    "prompts_dir": str,
    "extra_headers": dict,
    "mcp_servers": list,
    "depth": str,
    "verify": bool,
    "verifier_model": str,
    "passes": list,
    "pass_models": dict,
    "tools": bool,
    "max_tool_calls": int,
    "trivial_max_lines": int,
    "full_min_lines": int,
    "risk_paths": list,
}
_BOOL_KEYS = {"verify", "tools"}
_ARM_KEYS = {"name", "model", "fallback_models", "weight", "api_base", "extra_headers"}
_ENV_KEYS = {
    "AI_REVIEW_MODEL": "model",
    "AI_REVIEW_FALLBACK_MODELS": "fallback_models",
    "AI_REVIEW_API_BASE": "api_base",
}


def read_config_file(path: Path, *, pyproject: bool) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from exc
    return parse_config_text(text, str(path), pyproject=pyproject)


def parse_config_text(text: str, where: str, *, pyproject: bool) -> dict[str, Any]:
    """The ai-review table of a config file's text (`[tool.ai-review]` of a pyproject.toml)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {where} is not valid TOML: {exc}") from exc
    if pyproject:
        data = data.get("tool", {}).get("ai-review", {})
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: [tool.ai-review] must be a table")
    return data


def build_config(
    file_values: Mapping[str, Any],
    env: Mapping[str, str],
    flags: Mapping[str, Any],
    *,
    source: str = "config file",
) -> Config:
    """Merge the layers; each value is checked where it enters, naming where it came from."""
    values: dict[str, Any] = {}
    for key, value in file_values.items():
        values[key] = _checked_file_value(key, value, source)
    for var, key in _ENV_KEYS.items():
        if env.get(var):
            values[key] = _split(env[var]) if key == "fallback_models" else env[var]
    given = {key: value for key, value in flags.items() if value not in (None, [], ())}
    values.update(given)
    config = replace(Config(), **_as_config_kwargs(values))
    _validate(config)
    return _outranking_arms(config, set(given) | {k for v, k in _ENV_KEYS.items() if env.get(v)})


def _outranking_arms(config: Config, set_outside_file: set[str]) -> Config:
    """A model or gateway given by flag or environment outranks the file's [[arms]]: a
    model replaces the split, an api_base replaces each arm's own."""
    if "model" in set_outside_file:
        return replace(config, arms=())
    if "api_base" in set_outside_file:
        return replace(config, arms=tuple(replace(arm, api_base=None) for arm in config.arms))
    return config


def _checked_file_value(key: str, value: Any, source: str) -> Any:
    expected = _FILE_KEYS.get(key)
    if expected is None:
        known = ", ".join(sorted(_FILE_KEYS))
        raise ConfigError(f"{source}: unknown key {key!r} (known keys: {known})")
    wrong_bool = isinstance(value, bool) != (key in _BOOL_KEYS)
    if wrong_bool or not isinstance(value, expected):
        raise ConfigError(f"{source}: {key!r} has the wrong type ({type(value).__name__})")
    if key == "pass_models" and isinstance(value, dict):
        return _pass_models(value, source)
    if key == "arms" and isinstance(value, list):
        return tuple(_arm(item, source) for item in value)
    if key == "extra_headers":
        return _headers(value, source)
    if key == "mcp_servers":
        return parse_mcp_servers(value, source)
    return value


def _arm(item: Any, source: str) -> Arm:
    if not isinstance(item, dict):
        raise ConfigError(f"{source}: each [[arms]] entry must be a table")
    unknown = set(item) - _ARM_KEYS
    if unknown:
        raise ConfigError(f"{source}: unknown key {sorted(unknown)[0]!r} in [[arms]]")
    if not isinstance(item.get("name"), str) or not isinstance(item.get("model"), str):
        raise ConfigError(f"{source}: every [[arms]] entry needs a `name` and a `model`")
    weight = item.get("weight", 1)
    if isinstance(weight, bool) or not isinstance(weight, (int, float)) or weight < 0:
        raise ConfigError(f"{source}: arm {item['name']!r} needs a non-negative `weight`")
    return Arm(
        name=item["name"],
        model=item["model"],
        fallback_models=tuple(_strings(item.get("fallback_models", []), "fallback_models")),
        weight=float(weight),
        api_base=item.get("api_base"),
        extra_headers=_headers(item.get("extra_headers", {}), source),
    )


def _headers(value: Any, source: str) -> tuple[tuple[str, str], ...]:
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise ConfigError(f"{source}: `extra_headers` must be a table of strings")
    # Header values may name an environment variable ("env:GATEWAY_TOKEN") so keys stay out
    # of committed config files; they are resolved by the gateway, not stored here resolved.
    return tuple(sorted((str(k), str(v)) for k, v in value.items()))


def _pass_models(value: dict[str, Any], source: str) -> tuple[tuple[str, str], ...]:
    if not all(isinstance(v, str) and v for v in value.values()):
        raise ConfigError(f'{source}: `pass_models` must be a table of pass = "model"')
    return tuple(sorted((str(k), str(v)) for k, v in value.items()))


def _strings(value: Any, key: str) -> list[str]:
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"`{key}` must be a list of strings")
    return list(value)


def _split(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


def _as_config_kwargs(values: Mapping[str, Any]) -> dict[str, Any]:
    known = {f.name for f in fields(Config)}
    kwargs: dict[str, Any] = {}
    for key, value in values.items():
        if key not in known:
            raise ConfigError(f"unknown setting {key!r}")
        listed = key in {"fallback_models", "exclude", "include", "guidelines", "passes",
                         "risk_paths"}  # fmt: skip
        kwargs[key] = tuple(_strings(value, key)) if listed else value
    return kwargs


def _validate(config: Config) -> None:
    for name in ("min_severity", "fail_on"):
        value = getattr(config, name)
        if value is not None and value not in SEVERITIES:
            raise ConfigError(f"`{name}` must be one of {', '.join(SEVERITIES)}, not {value!r}")
    positive = ("max_comments", "concurrency", "chunk_tokens", "max_retries", "context_lines")
    for name in positive:
        if getattr(config, name) < (1 if name in {"concurrency", "chunk_tokens"} else 0):
            raise ConfigError(f"`{name}` must be a positive number")
    if config.max_prompt_tokens is not None and config.max_prompt_tokens < 1:
        raise ConfigError("`max_prompt_tokens` must be a positive number of tokens")
    if config.max_cost_usd is not None and config.max_cost_usd <= 0:
        raise ConfigError("`max_cost_usd` must be more than 0 (USD per review)")
    _validate_gateway(config)
    if config.chunk_tokens < 500:
        raise ConfigError("`chunk_tokens` must be at least 500")
    _validate_depth(config)
    names = [arm.name for arm in config.arms]
    if len(set(names)) != len(names):
        raise ConfigError("[[arms]] names must be unique")
    if config.arms and sum(arm.weight for arm in config.arms) <= 0:
        raise ConfigError("[[arms]] weights must add up to more than 0")


def _validate_depth(config: Config) -> None:
    if config.depth not in DEPTHS:
        raise ConfigError(f"`depth` must be one of {', '.join(DEPTHS)}, not {config.depth!r}")
    if not config.passes or not all(p.isidentifier() for p in config.passes):
        raise ConfigError('`passes` must list pass names (letters, digits, _), e.g. ["security"]')
    if config.max_tool_calls < 0 or config.trivial_max_lines < 0:
        raise ConfigError("`max_tool_calls` and `trivial_max_lines` must not be negative")
    if config.full_min_lines <= config.trivial_max_lines:
        raise ConfigError("`full_min_lines` must be more than `trivial_max_lines`")


def _validate_gateway(config: Config) -> None:
    if config.timeout_s <= 0 or config.review_timeout_s <= 0:
        raise ConfigError("`timeout_s` and `review_timeout_s` must be more than 0 seconds")
    if config.gateway_metadata not in (None, "litellm", "cloudflare"):
        raise ConfigError(
            f"`gateway_metadata` must be litellm or cloudflare, not {config.gateway_metadata!r}"
        )
