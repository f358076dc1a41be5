"""The seam between a model's tool-calling loop and what answers the calls.

The repository tools (read_file, search_code) and the tools of configured MCP servers are
each a ToolBox; the review loop offers the union of their specs to the model and sends each
call to the box that named it. A box never raises anything but ToolError from `call`: a
refused or failed call is a tool result the model reads, never a failed review.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class ToolSpec:
    """One tool as the model sees it (OpenAI-style function calling)."""

    name: str
    description: str
    parameters: Mapping[str, Any]  # JSON schema of the arguments object


class ToolError(Exception):
    """A refused or failed tool call; its message goes back to the model as the result."""


class ToolReportedError(ToolError):
    """The tool ran and reported an error in its own words (an MCP server's error result):
    untrusted text, tagged and capped like any result, not our own refusal."""


class ToolBox(Protocol):
    def specs(self) -> tuple[ToolSpec, ...]: ...

    def call(self, name: str, arguments: Mapping[str, Any]) -> str:
        """The call's result as text (untrusted data: the caller redacts and caps it)."""
        ...
