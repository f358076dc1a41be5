"""Render the prompts from jinja2 templates in `prompts/` (a repository may override them)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import jinja2

from reviewer.chunk import Chunk, file_header, render_hunk
from reviewer.context import Guideline, hunk_context
from reviewer.depth import SINGLE_PASS
from reviewer.diff import FileDiff
from reviewer.errors import ConfigError

FileLines = Callable[[str], "list[str] | None"]


def _default_prompts_dir() -> Path:
    here = Path(__file__).resolve().parent
    installed = here / "prompts"  # inside the wheel (hatch force-include)
    return installed if installed.is_dir() else here.parent / "prompts"


@cache
def _environment(override: str | None) -> jinja2.Environment:
    search = [_default_prompts_dir()]
    if override:
        if not Path(override).is_dir():
            raise ConfigError(f"prompts_dir {override} is not a directory")
        search.insert(0, Path(override))
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader([str(p) for p in search]),
        undefined=jinja2.StrictUndefined,
        autoescape=False,  # noqa: S701 - prompts are plain text, not HTML
        keep_trailing_newline=True,
    )


@dataclass(frozen=True)
class PromptInputs:
    """What every chunk's prompt shares: guidelines, the change's title and description."""

    guidelines: tuple[Guideline, ...] = ()
    title: str = ""
    description: str = ""
    context_lines: int = 5
    prompts_dir: str | None = None


def render_system(inputs: PromptInputs) -> str:
    """The static part of every request: identical across chunks so providers can cache it."""
    nonce = _nonce("".join(g.text for g in inputs.guidelines))
    text = _render(inputs.prompts_dir, "system.j2", guidelines=inputs.guidelines, nonce=nonce)
    return text.strip() + "\n"


@dataclass(frozen=True)
class HunkView:
    scope: str
    before: str
    text: str
    after: str


@dataclass(frozen=True)
class FileView:
    header: str
    hunks: tuple[HunkView, ...]


def render_review(chunk: Chunk, inputs: PromptInputs, file_lines: FileLines) -> str:
    """One chunk's request. It depends on the chunk alone (not on its position among the
    chunks), so an unchanged chunk gives the same prompt, and a cache hit, after a push."""
    files = [_file_view(file, inputs.context_lines, file_lines) for file in chunk.files]
    body = "\n".join(f.header + "".join(h.text for h in f.hunks) for f in files)
    return _render(
        inputs.prompts_dir,
        "review.j2",
        files=files,
        title=inputs.title,
        description=inputs.description,
        nonce=_nonce(body + inputs.title + inputs.description),
    )


def _render(override: str | None, name: str, **values: object) -> str:
    """A template rendered strictly; a repository's broken override is a config error."""
    try:
        template = _environment(override).get_template(name)
    except jinja2.TemplateError as exc:
        raise ConfigError(f"prompt template {name} cannot be loaded: {exc}") from exc
    try:
        return template.render(**values)
    except jinja2.TemplateError as exc:
        raise ConfigError(f"prompt template {name} cannot be rendered: {exc}") from exc


def _file_view(file: FileDiff, around: int, file_lines: FileLines) -> FileView:
    lines = file_lines(file.path) if around > 0 and file.status != "deleted" else None
    hunks = []
    for hunk in file.hunks:
        context = hunk_context(lines, hunk, around)
        before, after = _numbered(context.before), _numbered(context.after)
        hunks.append(HunkView(context.scope, before, render_hunk(hunk), after))
    return FileView(file_header(file), tuple(hunks))


def _numbered(lines: Sequence[tuple[int, str]]) -> str:
    return "\n".join(f"{number:>5}  {text}" for number, text in lines)


def _nonce(text: str) -> str:
    # Tags around untrusted text end with a nonce derived from that text, so the text cannot
    # close its own tag; derived, not random, so identical chunks give identical prompts.
    return hashlib.sha256(text.encode("utf-8", errors="replace")).hexdigest()[:12]


def render_pass_system(inputs: PromptInputs, focus: str, *, max_tool_calls: int = 0) -> str:
    """The system prompt of one review pass: the general one, then the pass's own focus
    (`pass_<name>.j2`; the single pass has none) and, with tools, how to use them."""
    text = render_system(inputs)
    if focus != SINGLE_PASS:
        text += "\n" + _render(inputs.prompts_dir, f"pass_{focus}.j2").strip() + "\n"
    return text + _tools_note(inputs, max_tool_calls)


def render_verify_system(inputs: PromptInputs, *, max_tool_calls: int = 0) -> str:
    text = _render(inputs.prompts_dir, "verify_system.j2").strip() + "\n"
    return text + _tools_note(inputs, max_tool_calls)


def render_verify(
    chunk: Chunk, inputs: PromptInputs, file_lines: FileLines, candidates_json: str, count: int
) -> str:
    """The verifier's request: the candidates as one fenced JSON array, and their code."""
    files = [_file_view(file, inputs.context_lines, file_lines) for file in chunk.files]
    body = "\n".join(f.header + "".join(h.text for h in f.hunks) for f in files)
    return _render(
        inputs.prompts_dir,
        "verify.j2",
        files=files,
        candidates=candidates_json,
        count=count,
        nonce=_nonce(body + candidates_json),
    )


def _tools_note(inputs: PromptInputs, max_tool_calls: int) -> str:
    if max_tool_calls <= 0:
        return ""
    return _render(inputs.prompts_dir, "tools.j2", max_tool_calls=max_tool_calls).rstrip() + "\n"
