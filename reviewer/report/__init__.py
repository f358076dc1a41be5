"""Reporters: turn a ReviewResult into text, JSON, markdown, SARIF or GitLab Code Quality."""

from __future__ import annotations

from collections.abc import Callable

from reviewer.model import REPORT_FORMATS, ReviewResult
from reviewer.report.codequality import to_codequality
from reviewer.report.json_report import summary_dict, to_json
from reviewer.report.markdown import to_markdown
from reviewer.report.sarif import to_sarif
from reviewer.report.text import to_text

Renderer = Callable[[ReviewResult, int, bool], str]

FORMATS = REPORT_FORMATS

_RENDERERS: dict[str, Renderer] = {
    "text": lambda result, width, color: to_text(result, width=width, color=color),
    "json": lambda result, width, color: to_json(result),
    "markdown": lambda result, width, color: to_markdown(result),
    "sarif": lambda result, width, color: to_sarif(result),
    "codequality": lambda result, width, color: to_codequality(result),
}


def render(result: ReviewResult, fmt: str, *, width: int = 100, color: bool = False) -> str:
    """The report in format `fmt` (one of FORMATS)."""
    try:
        renderer = _RENDERERS[fmt]
    except KeyError:
        raise ValueError(f"unknown format {fmt!r}: choose one of {', '.join(FORMATS)}") from None
    return renderer(result, width, color)


__all__ = [
    "FORMATS",
    "render",
    "summary_dict",
    "to_codequality",
    "to_json",
    "to_markdown",
    "to_sarif",
    "to_text",
]
