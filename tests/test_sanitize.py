from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from reviewer.platforms.common import fingerprints_in, is_summary
from reviewer.sanitize import (
    MAX_COMMENT_CHARS,
    TRUNCATION_NOTE,
    fenced,
    inline_code,
    sanitize_markdown,
    strip_markers,
    terminal_safe,
    truncate,
)

ZWSP = "\u200b"

# A CommonMark renderer that, like GitHub, passes raw HTML through: what it renders from our
# output is what a platform would show.
RENDERER = MarkdownIt("commonmark", {"html": True}).enable("table")
RENDERER.validateLink = lambda url: True  # type: ignore[method-assign]  # check links ourselves
ALLOWED_TAGS = {
    "p", "code", "pre", "ul", "ol", "li", "blockquote", "em", "strong", "a", "hr", "br",
    "h1", "h2", "h3", "h4", "h5", "h6", "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip


def rendered(markdown: str) -> str:
    html: str = RENDERER.render(markdown)
    return html


def outside_code(html: str) -> str:
    return re.sub(r"<(pre|code)>.*?</\1>", "", html, flags=re.DOTALL)


def test_mentions_are_neutralized() -> None:
    text = sanitize_markdown("ping @octocat, @org/team, @all and @here")
    assert text == f"ping @{ZWSP}octocat, @{ZWSP}org/team, @{ZWSP}all and @{ZWSP}here"


@pytest.mark.parametrize("text", ["_x_@octocat", "&#64;octocat", "**x**@octocat", "\\@octocat"])
def test_mentions_in_disguise_are_neutralized(text: str) -> None:
    assert not re.search(r"(?<!\w)@\w", outside_code(rendered(sanitize_markdown(text))))


def test_email_addresses_are_left_alone() -> None:
    assert sanitize_markdown("write to a@b.com") == "write to a@b.com"


def test_code_is_left_as_written() -> None:
    text = "Use `List<int>` here:\n\n```python\n@decorator\ndef f() -> list[int]: ...\n```"
    assert sanitize_markdown(text) == text


def test_raw_html_is_escaped() -> None:
    text = sanitize_markdown("<img src=x onerror=alert(1)> a > b")
    assert text == "&lt;img src=x onerror=alert(1)&gt; a &gt; b"
    assert "<img" not in rendered(text)


def test_images_become_their_alt_text() -> None:
    assert sanitize_markdown("see ![diagram](http://evil/p.png) now") == "see diagram now"
    assert "<img" not in rendered(sanitize_markdown("![x][ref]\n\n[ref]: http://evil/p.png"))


def test_script_and_data_links_become_plain_text() -> None:
    text = "[a](javascript:alert(1)) [b](data:text/html,x) [c]( JavaScript&#58;x)"
    assert sanitize_markdown(text) == "a) b c"


def test_script_links_split_over_lines_or_hidden_by_controls_become_plain_text() -> None:
    assert sanitize_markdown("[a](\njavascript:alert(1))") == "a)"
    assert sanitize_markdown("[a](<java\tscript:void>)") == "a"


def test_web_and_relative_links_are_kept() -> None:
    text = "[docs](https://example.com/x) and [here](#anchor)"
    assert sanitize_markdown(text) == text


@pytest.mark.parametrize(
    "text",
    [
        "[click][x]\n\n[x]: javascript:alert(1)",
        "- [click][x]\n- [x]: javascript:alert(1)",
        "[a [nested] link](javascript:alert(1))",
        "[a](javascript\\:alert(1))",
        "[a](java&#115;cript:alert(1))",
    ],
)
def test_script_links_of_any_shape_are_not_links(text: str) -> None:
    assert "href" not in rendered(sanitize_markdown(text))


def test_escaped_backtick_does_not_open_code() -> None:
    html = rendered(sanitize_markdown("\\`<b>` x"))
    assert "<b>" not in outside_code(html)


def test_unclosed_fence_is_closed() -> None:
    assert sanitize_markdown("```py\nx = 1") == "```py\nx = 1\n```"


def test_fences_are_reemitted_at_top_level_and_longer_than_any_run_inside() -> None:
    text = "  ~~~ruby extra\n  a ```` b\n  ~~~\nafter"
    assert sanitize_markdown(text) == "`````ruby\na ```` b\n`````\nafter"


def test_unpaired_backticks_cannot_open_code_later() -> None:
    # CommonMark would pair the backticks across the two lines and render <img> as HTML.
    html = rendered(sanitize_markdown("a ` b\nc ` <img src=x> ` d"))
    assert "<img" not in outside_code(html)


def test_code_span_with_a_pipe_is_not_trusted() -> None:
    # In a table row a pipe splits the span, so what looked like code would be rendered.
    table = "| a | b |\n|---|---|\n| `x <img src=y> | z` | w |"
    assert "<img" not in rendered(sanitize_markdown(table))


def test_fence_in_list_item_cannot_hide_html() -> None:
    text = "- ```\n  x\n  ```\n<img src=x onerror=alert(1)>\n- ~~~\n<b>"
    html = rendered(sanitize_markdown(text))
    assert "<img" not in outside_code(html)
    assert "<b>" not in outside_code(html)


HOSTILE = st.sampled_from(
    [
        "`", "``", "```", "~~~", "\\", "\n", "\n\n", " ", "    ", "- ", "1. ", "> ", "|",
        "|---|", "x", "<img src=x onerror=alert(1)>", "<script>", "@bob", "@org/team",
        "[a](javascript:alert(1))", "![i](http://e/p.png)", "[r]: javascript:y", "[r]",
        "](", ")", "<", ">", "&", "a@b.com", "[", "]", "](javascript:x)", "]: javascript:x",
        "java&#115;cript:", "\\:",
    ]
)  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(st.lists(HOSTILE, max_size=30).map("".join), st.integers(min_value=1, max_value=300))
def test_nothing_hostile_survives_rendering(text: str, limit: int) -> None:
    assert_safe(rendered(sanitize_markdown(text)))
    assert_safe(rendered(truncate(sanitize_markdown(text), limit)))


def assert_safe(html: str) -> None:
    tags = set(re.findall(r"</?([a-zA-Z][a-zA-Z0-9]*)", html))
    assert tags <= ALLOWED_TAGS, html
    for href in re.findall(r'href="([^"]*)"', html):
        scheme = re.match(r"([a-z][a-z0-9+.-]*):", href.lower())
        assert scheme is None or scheme[1] in {"http", "https"}, html
    assert not re.search(r"(?<!\w)@\w", outside_code(html)), html


@given(st.text(max_size=200))
def test_plain_text_stays_readable(text: str) -> None:
    # Prose without markup characters passes through unchanged.
    plain = re.sub(r"[^\w ,.]", "", text)
    assert sanitize_markdown(plain) == plain


def test_fenced_picks_a_fence_longer_than_the_code_uses() -> None:
    assert fenced("a\n```\nb\n", "py") == "````py\na\n```\nb\n````"
    assert fenced("x", "not a language!") == "```not\nx\n```"


def test_inline_code_holds_backticks() -> None:
    assert inline_code("a`b") == "``a`b``"
    assert inline_code("`x`") == "`` `x` ``"
    assert "<code>`x`</code>" in rendered(inline_code("`x`"))


def test_truncate_leaves_short_text_alone() -> None:
    assert truncate("short", 10) == "short"


def test_truncate_cuts_at_a_line_and_says_so() -> None:
    text = "\n".join(f"line {n}" for n in range(100))
    cut = truncate(text, 60)
    assert len(cut) <= 60
    assert cut.endswith(TRUNCATION_NOTE)
    assert all(line.startswith("line ") for line in cut.splitlines()[:-2])
    assert cut.startswith("line 0\nline 1\n")


def test_truncate_closes_a_code_block_it_cuts() -> None:
    text = "intro\n````py\n" + "x = 1\n" * 100 + "````\nend"
    cut = truncate(text, 80)
    assert len(cut) <= 80
    body = cut.removesuffix("\n\n" + TRUNCATION_NOTE)
    assert body.endswith("\n````")
    assert TRUNCATION_NOTE in outside_code(rendered(cut))


def test_truncate_never_cuts_inside_a_line() -> None:
    # half a line could hold half a code span, and then what the span held would render
    assert truncate("`<b>` " * 20, 50) == TRUNCATION_NOTE
    assert truncate("x" * 100, 5) == TRUNCATION_NOTE[:5]


def test_max_comment_chars_is_under_githubs_limit() -> None:
    assert MAX_COMMENT_CHARS < 65_536


def test_gitlab_quick_actions_in_model_text_cannot_run() -> None:
    text = "Looks fine.\n/approve\n  /merge\n/label ~shipit\nUse `/merge` later."
    text += "\n```\n/keep in code\n```"
    out = sanitize_markdown(text)
    lines = out.splitlines()
    assert not any(line.lstrip().startswith("/") for line in lines if line != "/keep in code")
    assert "\u200b/approve" in out and "  \u200b/merge" in out
    assert "/keep in code" in lines  # code blocks are not run as quick actions


# ------------------------------------------------------------------ issue 8: markers, logs

FORGED = ("<!-- ai-review:summary head=abc1234 -->", "<!-- AI-REVIEW:fp=deadbeef00 -->")


@pytest.mark.parametrize("marker", FORGED)
def test_hidden_markers_are_removed_from_code_too(marker: str) -> None:
    for text in (f"see `{marker}`", f"```\n{marker}\n```", f"plain {marker}", f"``{marker}``"):
        clean = sanitize_markdown(text)
        assert not is_summary(clean) and fingerprints_in([clean]) == set()
        assert "ai-review" not in clean.lower()
    assert "ai-review" not in fenced(marker).lower() + inline_code(marker).lower()


def test_a_marker_rebuilt_by_removing_another_is_removed_too() -> None:
    nested = "<!-<!-- ai-review:x -->- ai-review:summary -->"
    assert not is_summary(sanitize_markdown(f"`{nested}`"))
    assert strip_markers("<!-- ai-review:summary") == ":summary"  # an opening alone


def test_terminal_text_has_no_escape_sequences_or_workflow_commands() -> None:
    hostile = "\x1b[2J\x1b]0;title\x07ok\r::error::pwned\n  ::add-mask::x ##[set-output]\u202e"
    safe = terminal_safe(hostile)
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f\u202e]", safe)
    assert not re.search(r"^\s*(::|##\[)", safe, re.MULTILINE)
    assert "::error::" not in safe and "::add-mask::" not in safe
    assert terminal_safe("std::vector<int> a; x = 1") == "std::vector<int> a; x = 1"


def test_markdown_prose_never_starts_a_line_with_a_workflow_command() -> None:
    text = sanitize_markdown("Fine.\n::add-mask::value\n  ##[error]x\nstd::vector stays")
    assert not re.search(r"^\s*(::|##\[)", text, re.MULTILINE)
    assert "std::vector stays" in text
