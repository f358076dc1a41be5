"""Make model-written text safe to publish as GitHub/GitLab markdown.

Model output is untrusted: it must not ping people, inject HTML, show tracking images or carry
script links. Code is left as written. To make "what is code" certain, every fenced block is
re-emitted as a canonical top-level fence (longer than any backtick run inside it), and every
backtick that does not pair into a one-line code span becomes the entity `&#96;`: the published
text then has exactly the code regions this module decided on, whatever the original nesting
was. Prose outside them has no raw `<`, so no HTML block or tag can start there either.
Hidden ai-review markers are removed from model text wherever they appear, code included: a
marker decides what the tool takes for its own summary and for findings already posted.

For the terminal and the CI log, `terminal_safe` makes control characters (ESC sequences,
carriage returns, bidi overrides) visible and breaks workflow commands (`::error::`).
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator

MAX_COMMENT_CHARS = 65_000  # GitHub rejects comments over 65,536 characters
TRUNCATION_NOTE = "… (truncated)"

_FENCE_OPEN = re.compile(r"^[ \t]*(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
_CODE_SPAN = re.compile(r"(?<![`\\])(?P<ticks>`+)(?!`)(?P<code>.+?)(?<!`)(?P=ticks)(?!`)")
# Any @ that could start a mention. Only a letter or digit before it (an e-mail) is safe: after
# "_" or "*" the @ may begin a text node of its own once emphasis is rendered.
_MENTION = re.compile(r"(?<![^\W_])@")
_AT_ENTITY = re.compile(r"&(?:#0*64|#[xX]0*40|commat);")
_IMAGE = re.compile(r"!\[(?P<alt>[^\]\n]*)\]\([ \t]*\n?[^)\n]*\)")
_LINK = re.compile(r"\[(?P<text>[^\]\n]*)\]\((?P<dest>[ \t]*\n?[^)\n]*)\)")
# Whatever a link or reference definition looks like, its destination follows "](" or "]:".
_TARGET = re.compile(r"\](?P<sep>[(:])(?=(?P<dest>[ \t]*\n?[ \t]*<?[^\s>)]*))")
_BACKSLASH_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")
_SCHEME = re.compile(r"^(?P<scheme>[a-z][a-z0-9+.-]*):", re.IGNORECASE)
_SAFE_SCHEMES = frozenset({"http", "https"})
_LANGUAGE = re.compile(r"[\w+#.:-]*")  # also GitLab's `suggestion:-1+2`
# A hidden marker (`<!-- ai-review:summary head=... -->`, `<!-- ai-review:fp=... -->`), whole
# or only its opening; the bounded length keeps the match linear.
_MARKER = re.compile(r"<!--\s*ai-review[^>\n]{0,300}?-->|<!--\s*ai-review", re.IGNORECASE)
# C0 controls but tab and newline, DEL, C1 controls, bidi overrides and isolates.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
# `::name ...::` (the runner's workflow commands, wherever a wrap may put them at a line's
# start) and the older `##[name]` form.
_WORKFLOW_COMMAND = re.compile(r"::(?=[A-Za-z][\w-]*[\s:,=])|##(?=\[)")


def strip_markers(text: str) -> str:
    """`text` without anything that could read as one of ai-review's hidden markers."""
    while True:
        stripped = _MARKER.sub("", text)
        if stripped == text:
            return text
        text = stripped


def terminal_safe(text: str) -> str:
    """Model or change text for a terminal or a CI log: control characters shown as their
    Unicode pictures (no ESC sequence, no carriage-return overwrite, no bidi reordering), and
    no workflow command the Actions runner would execute from the log."""
    text = _CONTROL.sub(lambda m: _control_picture(m.group()), text)
    return _WORKFLOW_COMMAND.sub(lambda m: m.group()[0] + "\u200b" + m.group()[1], text)


def _control_picture(char: str) -> str:
    code = ord(char)
    if code < 0x20:
        return chr(0x2400 + code)
    return "\u2421" if code == 0x7F else "\ufffd"


def sanitize_markdown(text: str) -> str:
    """Neutralize mentions, raw HTML, images and script links outside code; keep code as is.
    Hidden markers go everywhere, code included."""
    text = strip_markers(text)
    parts: list[str] = []
    for is_code, chunk in _split_fences(text.splitlines()):
        parts.append(_canonical_fence(chunk) if is_code else _sanitize_prose(chunk))
    return "\n".join(parts)


def fenced(code: str, language: str = "") -> str:
    """A fenced code block that no backtick run inside `code` can close early (and that
    holds no hidden marker)."""
    code = strip_markers(code)
    fence = "`" * max(3, _longest_run(code, "`") + 1)
    info = _LANGUAGE.match(language)
    return f"{fence}{info.group() if info else ''}\n{code.rstrip(chr(10))}\n{fence}"


def inline_code(text: str) -> str:
    """An inline code span holding `text` literally (on one line), without hidden markers."""
    flat = " ".join(strip_markers(text).splitlines())
    ticks = "`" * (_longest_run(flat, "`") + 1)
    pad = " " if flat.startswith("`") or flat.endswith("`") else ""
    return f"{ticks}{pad}{flat}{pad}{ticks}"


def truncate(text: str, limit: int) -> str:
    """Cut `text` to at most `limit` characters at a line boundary, saying that it was cut."""
    if len(text) <= limit:
        return text
    note = "\n\n" + TRUNCATION_NOTE
    reserve = 0  # room for the fence that closes a code block left open by the cut
    while (budget := limit - len(note) - reserve) > 0:
        kept = _cut_at_line(text, budget)
        closer = _open_fence_closer(kept)
        if closer and len(closer) + 1 > reserve:
            reserve = len(closer) + 1
            continue
        if kept:
            return (f"{kept}\n{closer}" if closer else kept) + note
        break
    return TRUNCATION_NOTE[:limit]


def _cut_at_line(text: str, limit: int) -> str:
    """Never inside a line: a cut line could split a code span and expose what it held."""
    kept = text[:limit]
    if text[limit : limit + 1] == "\n":
        return kept
    return kept[: kept.rindex("\n")] if "\n" in kept else ""


def _split_fences(lines: list[str]) -> Iterator[tuple[bool, list[str]]]:
    """Yield (is_fenced_block, lines); a fenced block's lines include its opening fence."""
    prose: list[str] = []
    block: list[str] = []
    fence = ""
    for line in lines:
        if block:
            if _closes(line, fence):
                yield True, block
                block = []
            else:
                block.append(line)
            continue
        opener = _FENCE_OPEN.match(line)
        if opener and not (opener["fence"][0] == "`" and "`" in opener["info"]):
            if prose:
                yield False, prose
                prose = []
            fence, block = opener["fence"], [line]
        else:
            prose.append(line)
    if prose:
        yield False, prose
    if block:
        yield True, block


def _closes(line: str, fence: str) -> bool:
    stripped = line.strip()
    return len(stripped) >= len(fence) and stripped == fence[0] * len(stripped)


def _canonical_fence(block: list[str]) -> str:
    opener = _FENCE_OPEN.match(block[0])
    assert opener is not None  # _split_fences only yields blocks that start with a fence
    indent = len(block[0]) - len(block[0].lstrip(" \t"))
    body = "\n".join(_dedent(line, indent) for line in block[1:])
    words = opener["info"].split()
    return fenced(body, words[0] if words else "")


def _dedent(line: str, indent: int) -> str:
    width = len(line) - len(line.lstrip(" "))
    return line[min(width, indent) :]


def _sanitize_prose(lines: list[str]) -> str:
    # Links and images first, on the whole block: a destination may sit on the next line.
    text = _IMAGE.sub(lambda m: m["alt"], "\n".join(lines))
    text = _LINK.sub(_neutralize_link, text)
    text = _TARGET.sub(_neutralize_target, text)
    safe = (_no_quick_action(_sanitize_line(line)) for line in text.split("\n"))
    return "\n".join(_no_line_command(line) for line in safe)


def _no_line_command(line: str) -> str:
    # A markdown report printed in an Actions log runs a line that starts with a workflow
    # command (`::add-mask::`, `::error::`): prose lines never start with one.
    stripped = line.lstrip()
    if not stripped.startswith(("::", "##[")):
        return line
    return line[: len(line) - len(stripped)] + stripped[0] + "\u200b" + stripped[1:]


def _no_quick_action(line: str) -> str:
    # GitLab runs a note line that starts with a slash command (/merge, /approve, /label ...)
    # as an action of the token's user: model text must never start a line with one.
    stripped = line.lstrip()
    if not stripped.startswith("/"):
        return line
    return line[: len(line) - len(stripped)] + "\u200b" + stripped


def _sanitize_line(line: str) -> str:
    out: list[str] = []
    position = 0
    for span in _CODE_SPAN.finditer(line):
        if "|" in span["code"]:  # a table row would split the span on the pipe
            continue
        out.append(_sanitize_text(line[position : span.start()]))
        out.append(span.group())
        position = span.end()
    out.append(_sanitize_text(line[position:]))
    return "".join(out)


def _sanitize_text(text: str) -> str:
    """Sanitize text outside code. Backticks left here are unpaired: make them plain text."""
    text = text.replace("![", "!\\[")
    text = text.replace("<", "&lt;").replace(">", "&gt;").replace("`", "&#96;")
    return _MENTION.sub("@\u200b", _AT_ENTITY.sub("@", text))


def _neutralize_link(match: re.Match[str]) -> str:
    return match.group() if _is_safe_url(match["dest"]) else match["text"]


def _neutralize_target(match: re.Match[str]) -> str:
    """An escaped "(" or ":" makes what follows plain text instead of a link destination."""
    if _is_safe_url(match["dest"]):
        return match.group()
    return f"]\\{match['sep']}"


def _is_safe_url(destination: str) -> bool:
    """Relative links and http(s) are fine; javascript:, data: and friends are not."""
    url = html.unescape(_BACKSLASH_ESCAPE.sub(r"\1", destination)).strip().lstrip("<")
    url = re.sub(r"[\x00-\x20\x7f]", "", url)
    scheme = _SCHEME.match(url)
    return scheme is None or scheme["scheme"].lower() in _SAFE_SCHEMES


def _longest_run(text: str, char: str) -> int:
    runs = re.findall(f"{re.escape(char)}+", text)
    return max((len(run) for run in runs), default=0)


def _open_fence_closer(text: str) -> str | None:
    """The fence that closes a block left open at the end of `text`, if one is open."""
    fence = ""
    for line in text.splitlines():
        if fence:
            fence = "" if _closes(line, fence) else fence
            continue
        opener = _FENCE_OPEN.match(line)
        if opener and not (opener["fence"][0] == "`" and "`" in opener["info"]):
            fence = opener["fence"]
    return fence or None
