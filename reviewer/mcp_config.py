"""`[[mcp_servers]]`: MCP servers whose allow-listed tools the model may call during a review.

Parsed and checked here, where the config file enters; nothing here imports the MCP SDK.
Environment values stay as written ("env:VAR"): they are resolved when the server starts,
so a secret never lives on the Config value.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from reviewer.credentials import is_platform_credential
from reviewer.errors import ConfigError

# Tools reach the model as `<server>__<tool>`: OpenAI-style names allow [A-Za-z0-9_-]{1,64}.
_NAME = re.compile(r"[A-Za-z0-9-]+(?:_[A-Za-z0-9-]+)*")
_KEYS = {"name", "command", "url", "tools", "env", "timeout_s"}
_ENV_VAR = re.compile(r"env:([A-Za-z_][A-Za-z0-9_]*)")


@dataclass(frozen=True)
class McpServerConfig:
    """One context server: a stdio `command` or a streamable-HTTP `url`, and its allow-list."""

    name: str
    tools: tuple[str, ...]
    command: tuple[str, ...] = ()
    url: str | None = None
    env: tuple[tuple[str, str], ...] = ()  # values as written: "env:VAR" or a literal
    timeout_s: float = 30.0


def parse_mcp_servers(value: Any, source: str) -> tuple[McpServerConfig, ...]:
    if not isinstance(value, list):
        raise ConfigError(f"{source}: `mcp_servers` must be an array of tables ([[mcp_servers]])")
    servers = tuple(_server(item, source) for item in value)
    names = [server.name for server in servers]
    if len(set(names)) != len(names):
        raise ConfigError(f"{source}: [[mcp_servers]] names must be unique")
    return servers


def _server(item: Any, source: str) -> McpServerConfig:
    if not isinstance(item, dict):
        raise ConfigError(f"{source}: each [[mcp_servers]] entry must be a table")
    unknown = sorted(set(item) - _KEYS)
    if unknown:
        raise ConfigError(f"{source}: unknown key {unknown[0]!r} in [[mcp_servers]]")
    name = item.get("name")
    if not isinstance(name, str) or not _NAME.fullmatch(name) or len(name) > 30:
        raise ConfigError(
            f"{source}: every [[mcp_servers]] entry needs a `name` of letters, digits, - and "
            "single _ (at most 30 characters)"
        )
    where = f"{source}: [[mcp_servers]] {name!r}"
    command, url = item.get("command"), item.get("url")
    if (command is None) == (url is None):
        raise ConfigError(f"{where} needs either `command` (stdio) or `url` (streamable HTTP)")
    return McpServerConfig(
        name=name,
        tools=_tools(item.get("tools"), where),
        command=_command(command, where),
        url=_url(url, where),
        env=_env(item.get("env", {}), where, stdio=command is not None),
        timeout_s=_timeout(item.get("timeout_s", 30.0), where),
    )


def _tools(value: Any, where: str) -> tuple[str, ...]:
    if (
        not isinstance(value, list)
        or not value
        or not all(isinstance(tool, str) and tool for tool in value)
    ):
        raise ConfigError(f"{where} needs `tools`: a non-empty list of the tool names allowed")
    return tuple(value)


def _command(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where}: `command` must be a non-empty list of strings (argv)")
    return tuple(value)


def _url(value: Any, where: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.startswith(("https://", "http://")):
        raise ConfigError(f"{where}: `url` must be an http(s) URL")
    return value


def _env(value: Any, where: str, *, stdio: bool) -> tuple[tuple[str, str], ...]:
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise ConfigError(f"{where}: `env` must be a table of strings")
    if value and not stdio:
        raise ConfigError(f"{where}: `env` applies to `command` servers only")
    for key, text in value.items():
        match = _ENV_VAR.fullmatch(text)
        if match is not None and is_platform_credential(match.group(1)):
            raise ConfigError(
                f"{where}: env {key} may not carry {match.group(1)}: it is a platform "
                "credential, not the MCP server's"
            )
    return tuple(sorted((str(k), v) for k, v in value.items()))


def _timeout(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise ConfigError(f"{where}: `timeout_s` must be a positive number of seconds")
    return float(value)


def resolve_env(
    server: McpServerConfig, environ: Mapping[str, str]
) -> tuple[dict[str, str], list[str]]:
    """The server's environment with "env:VAR" values read from `environ`, and the names of
    variables that are not set (such an entry is left out, never passed as the literal)."""
    resolved: dict[str, str] = {}
    missing: list[str] = []
    for key, value in server.env:
        match = _ENV_VAR.fullmatch(value)
        if match is None:
            resolved[key] = value
        elif environ.get(match.group(1)):
            resolved[key] = environ[match.group(1)]
        else:
            missing.append(match.group(1))
    return resolved, missing
