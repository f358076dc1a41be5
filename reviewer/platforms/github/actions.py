"""What an Actions step tells the runner: the job summary, the step's outputs, and workflow
commands (annotations) in the log.

Model text ends up in annotations: it is escaped per GitHub's workflow-command rules, so it
can never end the command line and start a command of its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from reviewer.errors import PlatformError
from reviewer.model import Finding
from reviewer.report.common import one_line
from reviewer.sanitize import truncate

MAX_ANNOTATION_TITLE = 200
MAX_ANNOTATION_MESSAGE = 4_000


def escape_data(text: str) -> str:
    """A workflow command's message: % first, so the escapes themselves stay intact."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A workflow command's property value (`file=...,title=...`)."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def workflow_command(command: str, message: str, **properties: str | int) -> str:
    props = ",".join(f"{name}={escape_property(str(value))}" for name, value in properties.items())
    return f"::{command}{' ' + props if props else ''}::{escape_data(message)}"


def annotation(finding: Finding) -> str:
    """A `::warning` on the finding's lines. Annotations point into the new file: a finding
    on removed lines names the file only, and its old line numbers in the message."""
    title = f"[{finding.severity}] {one_line(finding.title)}"[:MAX_ANNOTATION_TITLE]
    message = truncate(finding.body.strip() or title, MAX_ANNOTATION_MESSAGE)
    if finding.side == "LEFT":
        where = f"{finding.line}-{finding.end_line}" if finding.end_line > finding.line else ""
        message = f"{message}\n(removed lines {where or finding.line} of the old file)"
        return workflow_command("warning", message, file=finding.path, title=title)
    return workflow_command(
        "warning", message, file=finding.path, line=finding.line, endLine=finding.end_line,
        title=title,
    )  # fmt: skip


def append_step_summary(path: Path, markdown: str) -> None:
    _append(path, markdown.rstrip("\n") + "\n\n", "GITHUB_STEP_SUMMARY")


def append_outputs(path: Path, outputs: Mapping[str, str]) -> None:
    """`name=value` lines; values are one line (numbers), so no heredoc delimiter is needed."""
    lines = "".join(f"{name}={one_line(value)}\n" for name, value in outputs.items())
    _append(path, lines, "GITHUB_OUTPUT")


def _append(path: Path, text: str, variable: str) -> None:
    try:
        with path.open("a", encoding="utf-8") as handle:
            handle.write(text)
    except OSError as exc:
        raise PlatformError(f"cannot write {variable}={path}: {exc.strerror}") from exc
