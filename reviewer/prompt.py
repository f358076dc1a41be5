"""Render the prompts from jinja2 templates in `prompts/` (a repository may override them).

Templates are data too: they render in jinja2's immutable sandbox with no globals, and a
repository's own templates load only from inside their directory (no symlink out of it).
Everything the change brings is put between tags that it cannot close: text that looks like
one of the prompt's tags is neutralized first, and the tags carry a nonce of the whole block.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import jinja2
import jinja2.sandbox

from reviewer.chunk import Chunk, file_header, render_hunk
from reviewer.context import Guideline, OutsideRepository, confine, hunk_context
from reviewer.depth import SINGLE_PASS
from reviewer.diff import FileDiff
from reviewer.errors import ConfigError

FileLines = Callable[[str], "list[str] | None"]


def _default_prompts_dir() -> Path:
    here = Path(__file__).resolve().parent
    installed = here / "prompts"  # inside the wheel (hatch force-include)
    return installed if installed.is_dir() else here.parent / "prompts"


# "<untrusted-...", "</ untrusted...", any case: the start of one of the prompt's own tags.
_TAG_LIKE = re.compile(r"<(?=\s*/?\s*untrusted)", re.IGNORECASE)
_TAG_STANDIN = "\u2039"  # a single left angle quote: reads alike to a model, opens no tag


def neutralize_tags(text: str) -> str:
    """Untrusted text (diff, context, title, description, guidelines, tool results) with
    anything that could open or close one of the prompt's `<untrusted-...>` tags made
    inert, whatever the nonce: the text can never step outside its block."""
    return _TAG_LIKE.sub(_TAG_STANDIN, text)


class _ConfinedLoader(jinja2.FileSystemLoader):
    """A repository's templates: a name that resolves outside the directory (a symlink
    out of it, into `.git/`) is refused, loudly: no silent fallback to the shipped one."""

    def get_source(
        self, environment: jinja2.Environment, template: str
    ) -> tuple[str, str, Callable[[], bool]]:
        for directory in self.searchpath:
            try:
                confine(Path(directory), template)
            except OutsideRepository as exc:
                raise jinja2.TemplateError(f"{template} is refused: it is {exc}") from exc
        return super().get_source(environment, template)


@cache
def _environment(override: str | None) -> jinja2.Environment:
    loaders: list[jinja2.BaseLoader] = []
    if override:
        if not Path(override).is_dir():
            raise ConfigError(f"prompts_dir {override} is not a directory")
        loaders.append(_ConfinedLoader(override))
    loaders.append(jinja2.FileSystemLoader(str(_default_prompts_dir())))
    environment = jinja2.sandbox.ImmutableSandboxedEnvironment(
        loader=jinja2.ChoiceLoader(loaders),
        undefined=jinja2.StrictUndefined,
        autoescape=False,  # prompts are plain text, not HTML
        keep_trailing_newline=True,
    )
    environment.globals.clear()  # no range, lipsum, cycler...: only the values we pass
    return environment


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
    guidelines = tuple(
        Guideline(neutralize_tags(g.path).replace('"', "'"), neutralize_tags(g.text))
        for g in inputs.guidelines
    )
    nonce = _nonce(*(part for g in guidelines for part in (g.path, g.text)))
    text = _render(inputs.prompts_dir, "system.j2", guidelines=guidelines, nonce=nonce)
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
    title, description = neutralize_tags(inputs.title), neutralize_tags(inputs.description)
    shown = [title, description]
    for file in files:
        shown.append(file.header)
        shown.extend(part for h in file.hunks for part in (h.scope, h.before, h.text, h.after))
    return _render(
        inputs.prompts_dir,
        "review.j2",
        files=files,
        title=title,
        description=description,
        nonce=_nonce(*shown),
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
        shown = (context.scope, before, render_hunk(hunk), after)
        hunks.append(HunkView(*(neutralize_tags(part) for part in shown)))
    return FileView(neutralize_tags(file_header(file)), tuple(hunks))


def _numbered(lines: Sequence[tuple[int, str]]) -> str:
    return "\n".join(f"{number:>5}  {text}" for number, text in lines)


def _nonce(*parts: str) -> str:
    # Tags around untrusted text end with a nonce derived from all of the text inside them
    # (every part, length-prefixed), so no part can carry its own closing tag; derived, not
    # random, so identical chunks give identical prompts. Tag-like text is neutralized too.
    digest = hashlib.sha256()
    for part in parts:
        data = part.encode("utf-8", errors="replace")
        digest.update(len(data).to_bytes(8, "big") + data)
    return digest.hexdigest()[:12]


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
        candidates=neutralize_tags(candidates_json),  # model text quoting the change
        count=count,
        nonce=_nonce(body, candidates_json),
    )


def _tools_note(inputs: PromptInputs, max_tool_calls: int) -> str:
    if max_tool_calls <= 0:
        return ""
    return _render(inputs.prompts_dir, "tools.j2", max_tool_calls=max_tool_calls).rstrip() + "\n"
