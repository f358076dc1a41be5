"""Secrets in code: find them, and redact them from everything sent to a model.

Patterns are precise (a token's known shape, or a secret-looking value assigned to a
secret-looking name) and skip placeholders, so redaction costs the review little context.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace

from reviewer.diff import Diff, DiffLine, FileDiff, Hunk


@dataclass(frozen=True)
class SecretMatch:
    """A secret found in one line: its kind and the span of the secret value alone."""

    kind: str
    start: int
    end: int


def _any_value(match: re.Match[str]) -> bool:
    return True


@dataclass(frozen=True)
class SecretPattern:
    """One kind of secret. Its span is the regex's `secret` group, or the whole match."""

    kind: str
    title: str
    regex: re.Pattern[str]
    confidence: float = 1.0
    accept: Callable[[re.Match[str]], bool] = _any_value  # rejects placeholders and the like


_PLACEHOLDER_WORDS = frozenset(
    {"password", "passwd", "pass", "pwd", "pw", "secret", "token", "changeme", "example"}
)
# ${VAR} $VAR $(cmd) {name} {{ jinja }} <password> %s %(name)s, and our own [REDACTED:kind]
_TEMPLATE = re.compile(
    r"\$\{.*|\$\(.*|\$(?:[A-Z_][A-Z0-9_]*|[a-z_][a-z0-9_]*)|\{.*\}|<.*>|%.*|\[REDACTED:.*", re.ASCII
)
_PLACEHOLDER_PARTS = ("example", "changeme", "change_me", "placeholder", "your_", "your-", "xxxx")


def _is_placeholder(value: str) -> bool:
    lowered = value.lower()
    return (
        lowered in _PLACEHOLDER_WORDS
        or _TEMPLATE.fullmatch(value) is not None
        or len(set(lowered)) == 1  # ***, xxx, ........
        or any(part in lowered for part in _PLACEHOLDER_PARTS)
    )


def _char_classes(value: str) -> int:
    """How many of lower case, upper case, digits and other characters the value uses."""
    return (
        any(c.islower() for c in value)
        + any(c.isupper() for c in value)
        + any(c.isdigit() for c in value)
        + any(not c.isalnum() for c in value)
    )


def _url_password(match: re.Match[str]) -> bool:
    # user == password is a well-known default (postgres:postgres in CI services), not a leak.
    return not _is_placeholder(match["secret"]) and match["secret"] != match["user"]


def _generic_secret(match: re.Match[str]) -> bool:
    # A real secret mixes at least three of: lower, upper, digits, symbols. Words, hex digests
    # and constant names (MY_APP_TOKEN_NAME) do not.
    return not _is_placeholder(match["secret"]) and _char_classes(match["secret"]) >= 3


def _mixed_alnum(match: re.Match[str]) -> bool:
    # OpenAI keys mix cases and digits; a long kebab-case name after "sk-" does not.
    return any(c.isupper() for c in match[0]) and any(c.isdigit() for c in match[0])


def _not_aws_example(match: re.Match[str]) -> bool:
    return not match[0].endswith("EXAMPLE")  # AKIAIOSFODNN7EXAMPLE is AWS's documented example


def _pattern(
    kind: str,
    subject: str,
    regex: str,
    flags: int = 0,
    *,
    accept: Callable[[re.Match[str]], bool] = _any_value,
    confidence: float = 1.0,
) -> SecretPattern:
    # ASCII: \w is [A-Za-z0-9_], and IGNORECASE cannot match a keyword through look-alikes.
    regex_ = re.compile(regex, flags | re.ASCII)
    return SecretPattern(kind, f"{subject} committed", regex_, confidence, accept)


_ASSIGN = r"""["']?\s*(?::=|=>|[:=])\s*"""  # name = / name: / "name": / name := / name =>
_PEM = r"-----{} [A-Z ]*PRIVATE KEY(?: BLOCK)?-----"
_I = re.IGNORECASE

# Earlier entries name the match when spans overlap (sk-ant-... is Anthropic, not OpenAI).
# fmt: off
SECRET_PATTERNS: tuple[SecretPattern, ...] = (
    # The header and, on the same line, the body up to the END marker (a JSON service account
    # holds the whole key on one line) or else the base64 and escaped newlines that follow.
    _pattern("private-key", "Private key",
             _PEM.format("BEGIN") + rf"(?:.*?{_PEM.format('END')}|(?:\\[nr]|[\w+/=])*)"),
    _pattern("aws-access-key-id", "Possible AWS access key",
             r"(?<![A-Za-z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Za-z0-9])", accept=_not_aws_example),
    _pattern("aws-secret-access-key", "Possible AWS secret access key",
             r"aws[_-]?secret[_-]?(?:access[_-]?)?key" + _ASSIGN
             + r"""["']?(?P<secret>[A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])""", _I),
    _pattern("github-token", "Possible GitHub token", r"(?<!\w)gh[pousr]_[A-Za-z0-9]{36,}"),
    _pattern("github-fine-grained-token", "Possible GitHub token", r"(?<!\w)github_pat_\w{22,}"),
    _pattern("gitlab-token", "Possible GitLab token", r"(?<![\w-])glpat-[\w-]{20,}"),
    _pattern("slack-token", "Possible Slack token",
             r"(?<![A-Za-z0-9])xox[abprs]-\d{6,}-[A-Za-z0-9-]{10,}"),
    _pattern("slack-webhook", "Possible Slack webhook URL",
             r"https://hooks\.slack\.com/(?:services|workflows|triggers)/[\w/+-]{20,}"),
    _pattern("google-api-key", "Possible Google API key", r"(?<![\w-])AIza[\w-]{35}(?![\w-])"),
    _pattern("stripe-live-key", "Possible Stripe live key",
             r"(?<![A-Za-z0-9])[sr]k_live_[A-Za-z0-9]{16,}"),
    _pattern("anthropic-key", "Possible Anthropic API key", r"(?<![\w-])sk-ant-[\w-]{20,}"),
    _pattern("openai-key", "Possible OpenAI API key",
             r"(?<![\w-])sk-(?:proj|svcacct|admin)-[\w-]{20,}"),
    _pattern("openai-legacy-key", "Possible OpenAI API key", r"(?<![\w-])sk-[\w-]{40,}",
             accept=_mixed_alnum),
    _pattern("jwt", "Possible JSON Web Token", r"(?<![\w-])eyJ[\w-]+\.eyJ[\w-]+\.[\w-]*"),
    # Only the password is the secret; it runs to the last @ before the host.
    _pattern("url-password", "Possible password in URL",
             r"[A-Za-z][\w+.-]*://(?P<user>[^\s:/@\"'`]*):(?P<secret>[^\s/\"'`]+)@(?=[^\s@/\"'`])",
             accept=_url_password),
    _pattern("generic-secret", "Possible hard-coded secret",
             r"(?:passw(?:or)?d|secret|api[_-]?key|token|access[_-]?key)" + _ASSIGN
             + r"""["'](?P<secret>[^"'\s]{12,})["']""", _I,
             accept=_generic_secret, confidence=0.9),
)
# fmt: on

# Each pattern needs one of these in the lower-cased line: a cheap test that spares the
# regular expressions on the vast majority of lines.
# fmt: off
_TRIGGERS = (
    "-----begin", "-----end", "akia", "asia", "secret", "ghp_", "gho_", "ghu_", "ghs_", "ghr_",
    "github_pat_", "glpat-", "xox", "hooks.slack.com", "aiza", "_live_", "sk-", "eyj", "://",
    "passw", "api_key", "api-key", "apikey", "token", "access_key", "access-key", "accesskey",
)
# fmt: on
_TRIGGER = re.compile("|".join(map(re.escape, _TRIGGERS)))  # faster than `any(t in line ...)`
_PEM_BEGIN = re.compile(_PEM.format("BEGIN"))
_PEM_END = re.compile(_PEM.format("END"))
_PEM_BODY = "[REDACTED:private-key]"
BY_KIND = {pattern.kind: pattern for pattern in SECRET_PATTERNS}


def may_hold_secret(text: str) -> bool:
    """False when no pattern can match: the cheap pre-check find_secrets starts with."""
    return _TRIGGER.search(text.lower()) is not None


def find_secrets(text: str) -> list[SecretMatch]:
    """The secrets in one line, in order; overlapping matches merge under the earlier pattern."""
    if not may_hold_secret(text):
        return []
    spans = sorted(
        (*_secret_span(pattern, match), rank)
        for rank, pattern in enumerate(SECRET_PATTERNS)
        for match in pattern.regex.finditer(text)
        if pattern.accept(match)
    )
    merged: list[tuple[int, int, int]] = []
    for span in spans:
        if merged and span[0] < merged[-1][1]:
            start, end, rank = merged.pop()
            span = (start, max(end, span[1]), min(rank, span[2]))  # noqa: PLW2901
        merged.append(span)
    return [SecretMatch(SECRET_PATTERNS[rank].kind, start, end) for start, end, rank in merged]


def _secret_span(pattern: SecretPattern, match: re.Match[str]) -> tuple[int, int]:
    return match.span("secret") if "secret" in pattern.regex.groupindex else match.span()


def redact_text(text: str) -> str:
    """The line with each secret replaced by `[REDACTED:<kind>]`."""
    parts: list[str] = []
    position = 0
    for secret in find_secrets(text):
        parts += [text[position : secret.start], f"[REDACTED:{secret.kind}]"]
        position = secret.end
    return "".join(parts) + text[position:] if parts else text


def redact_diff(diff: Diff) -> Diff:
    """The diff with secrets redacted from every line and hunk header (all of it may reach the
    model) and private key bodies blanked; the same object when nothing changed."""
    files = tuple(_redact_file(file) for file in diff.files)
    if all(new is old for new, old in zip(files, diff.files, strict=True)):
        return diff
    return replace(diff, files=files)


def _redact_file(file: FileDiff) -> FileDiff:
    hunks = tuple(_redact_hunk(hunk) for hunk in file.hunks)
    if all(new is old for new, old in zip(hunks, file.hunks, strict=True)):
        return file
    return replace(file, hunks=hunks)


def _redact_hunk(hunk: Hunk) -> Hunk:
    if not may_hold_secret(hunk.section) and not any(
        may_hold_secret(line.text) for line in hunk.lines
    ):
        return hunk
    in_key = _private_key_body(hunk.lines)
    lines = tuple(_redact_line(line, index in in_key) for index, line in enumerate(hunk.lines))
    section = redact_text(hunk.section)
    if section == hunk.section and all(
        new is old for new, old in zip(lines, hunk.lines, strict=True)
    ):
        return hunk
    return replace(hunk, section=section, lines=lines)


def _redact_line(line: DiffLine, in_key: bool) -> DiffLine:
    text = _PEM_BODY if in_key else redact_text(line.text)
    return line if text == line.text else replace(line, text=text)


def _private_key_body(lines: tuple[DiffLine, ...]) -> frozenset[int]:
    """Indexes of the lines inside a private key block, in the old or the new file's view."""
    old_view = [index for index, line in enumerate(lines) if line.kind != "add"]
    new_view = [index for index, line in enumerate(lines) if line.kind != "del"]
    return frozenset(_inside_blocks(lines, old_view)) | frozenset(_inside_blocks(lines, new_view))


def _inside_blocks(lines: tuple[DiffLine, ...], view: list[int]) -> Iterator[int]:
    # A block may start before the hunk (an END with no BEGIN before it) or end after it (a
    # BEGIN with no END): the hunk's edge then bounds it, so no part of a key slips through.
    state, before_any_marker = "unknown", list[int]()
    for index in view:
        begin, end = _PEM_BEGIN.search(lines[index].text), _PEM_END.search(lines[index].text)
        if begin and end:
            continue  # a whole key on one line (JSON, escaped \n): find_secrets redacts it
        if end:
            if state == "unknown":
                yield from before_any_marker
            state = "closed"
        elif begin:
            state = "open"
        elif state == "open":
            yield index
        elif state == "unknown":
            before_any_marker.append(index)
