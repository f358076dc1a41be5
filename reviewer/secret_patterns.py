"""The shapes of secrets: one table of patterns, each with the cheap literals that must appear
on a line before its regular expression is tried.

Every quantifier is bounded, so no pattern can spend more than a bounded number of steps at
one starting position: scanning is linear in the line's length (a 10 MB line included), and a
match is never longer than MAX_MATCH, which lets long lines be scanned in overlapping windows.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass

MAX_MATCH = 8192  # no pattern matches more characters than this (a test checks it)


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
    triggers: tuple[str, ...] = ()  # lower-case literals, one of which the line must hold


_PLACEHOLDER_WORDS = frozenset(
    {"password", "passwd", "pass", "pwd", "pw", "secret", "token", "changeme", "example", "none"}
)
# ${VAR} $VAR $(cmd) {name} {{ jinja }} <password> %s %(name)s, and our own [REDACTED:kind]
_TEMPLATE = re.compile(
    r"\$\{.*|\$\(.*|\$(?:[A-Z_][A-Z0-9_]*|[a-z_][a-z0-9_]*)|\{.*\}|<.*>|%.*|\[REDACTED:.*", re.ASCII
)
_PLACEHOLDER_PARTS = (
    "example", "changeme", "change_me", "placeholder", "your_", "your-", "xxxx", "dummy",
    "redacted", "0123456789abcdef", "abcdef0123456789", "1234567890", "os.environ", "env:",
)  # fmt: skip
# Digests of empty input: test fixtures and protocol constants, never credentials.
_EMPTY_DIGESTS = frozenset(
    {
        "d41d8cd98f00b204e9800998ecf8427e",  # md5
        "da39a3ee5e6b4b0d3255bfef95601890afd80709",  # sha1
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",  # sha256
    }
)


def is_placeholder(value: str) -> bool:
    lowered = value.lower()
    return (
        lowered in _PLACEHOLDER_WORDS
        or _TEMPLATE.fullmatch(value) is not None
        or len(set(lowered)) <= 2  # ***, xxx, ........, 0x0000
        or any(part in lowered for part in _PLACEHOLDER_PARTS)
        or lowered in _EMPTY_DIGESTS
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
    return not is_placeholder(match["secret"]) and match["secret"] != match["user"]


# An unquoted value that reads as code is a variable (settings.KEY_V2, get_token(), NAME_2).
_DOTTED = re.compile(r"[A-Za-z_$][\w$]*(?:(?:\.|::|->)[A-Za-z_$][\w$]*)+[)\]};]*", re.ASCII)
_IDENTIFIER = re.compile(r"[A-Za-z_$][\w$]*[)\]};]*", re.ASCII)
_DIGIT_RUN = re.compile(r"[0-9]+")
_LOWER_WORDS = re.compile(r"[a-z0-9]+(?:[-_.][a-z0-9]+)+", re.ASCII)


def secret_value(match: re.Match[str]) -> str:
    start, end = secret_span(match)
    return match.string[start:end]


def secret_span(match: re.Match[str]) -> tuple[int, int]:
    """The span of the secret alone: the `secret` (or `secret_bare`) group, or the match."""
    for name in ("secret", "secret_bare"):
        if name in match.re.groupindex and match.start(name) >= 0:
            return match.span(name)
    return match.span()


def _generic_secret(match: re.Match[str]) -> bool:
    # A real secret mixes at least three of: lower, upper, digits, symbols (and a bare one
    # switches between them often). Words, hex digests, constant names (MY_APP_TOKEN_NAME),
    # kebab-case names and regular expressions do not.
    secret = secret_value(match)
    if is_placeholder(secret) or _char_classes(secret) < 3 or not _names_a_secret(match):
        return False
    if "\\" in secret or _LOWER_WORDS.fullmatch(secret) is not None:
        return False  # a regular expression, a snake- or kebab-case name
    if match["quote"] is not None:
        return True
    return _switches_often(secret) and not _reads_as_code(secret)


def _class_of(char: str) -> int:
    return 0 if char.islower() else 1 if char.isupper() else 2 if char.isdigit() else 3


def _switches_often(value: str) -> bool:
    switches = sum(_class_of(a) != _class_of(b) for a, b in itertools.pairwise(value))
    return switches * 3 >= len(value)


def _reads_as_code(value: str) -> bool:
    # A bare value that is code: a call, an index, a dotted or plain name (a type annotation
    # `token: AccessToken`, a keyword argument `api_key=api_key_v2`), or a sentence ("Required.").
    if "(" in value or "[" in value or _DOTTED.fullmatch(value) is not None:
        return True
    if not any(c.isdigit() for c in value):
        return True
    return _IDENTIFIER.fullmatch(value) is not None and len(_DIGIT_RUN.findall(value)) < 3


# A name for a secret's name, place or kind (secret_name, token_url, password_field) holds none.
_NOT_A_SECRET_SUFFIX = re.compile(
    r".*(?:name|id|ids|path|file|dir|field|header|url|uri|env|var|type|label|prefix|ref|arn"
    r"|length|len|size|count|min|max|regex|pattern|format)",
    re.ASCII | re.IGNORECASE,
)


def _names_a_secret(match: re.Match[str]) -> bool:
    return _NOT_A_SECRET_SUFFIX.fullmatch(match["suffix"]) is None


def _hex_secret(match: re.Match[str]) -> bool:
    secret = secret_value(match).lower().removeprefix("0x")
    if "suffix" in match.re.groupindex and not _names_a_secret(match):
        return False
    if len(secret) > 48 and "private" not in match[0].lower():
        return False  # a SHA-256 (a hashed key, a checksum); 64 hex digits are a private key
    return not is_placeholder(secret) and not secret.isdigit() and not secret.isalpha()


def _mixed_alnum(match: re.Match[str]) -> bool:
    # OpenAI keys mix cases and digits; a long kebab-case name after "sk-" does not.
    return any(c.isupper() for c in match[0]) and any(c.isdigit() for c in match[0])


def _random(match: re.Match[str]) -> bool:
    # Upper and lower case and digits: base64, JWTs, random tokens; not a word or a path.
    value = secret_value(match)
    return (
        not is_placeholder(value)
        and any(c.isupper() for c in value)
        and any(c.islower() for c in value)
        and any(c.isdigit() for c in value)
    )


def _mixed_case(match: re.Match[str]) -> bool:
    return any(c.isupper() for c in match[0]) and any(c.islower() for c in match[0][3:])


def _not_aws_example(match: re.Match[str]) -> bool:
    return not match[0].endswith("EXAMPLE")  # AKIAIOSFODNN7EXAMPLE is AWS's documented example


def _pattern(
    kind: str,
    subject: str,
    regex: str,
    triggers: tuple[str, ...],
    flags: int = 0,
    *,
    accept: Callable[[re.Match[str]], bool] = _any_value,
    confidence: float = 1.0,
) -> SecretPattern:
    # ASCII: \w is [A-Za-z0-9_], and IGNORECASE cannot match a keyword through look-alikes.
    regex_ = re.compile(regex, flags | re.ASCII)
    return SecretPattern(kind, f"{subject} committed", regex_, confidence, accept, triggers)


_ASSIGN = r"""["']?\s{0,8}(?::=|=>|[:=])\s{0,8}"""  # name = / name: / "name": / := / =>
PEM_MARKER = r"-----{} [A-Z ]{{0,40}}PRIVATE KEY(?: BLOCK)?-----"  # format with BEGIN or END
_CREDENTIAL_WORDS = (
    r"(?:passw(?:or)?d|\bpwd|secret|api[_-]?key|apikey|token|access[_-]?key|auth[_-]?key"
    r"|private[_-]?key|credentials?|_authToken)"
)
# A quoted value, or an unquoted one running to the end of a .env, INI, YAML or shell value.
_VALUE = (
    r"""(?:(?:[bBrRuU]{1,2}(?=["']))?(?P<quote>["'`])(?P<secret>[^"'`\s]{8,256})(?P=quote)"""
    r"""|(?P<secret_bare>[^\s"'`;,=][^\s"'`;,]{7,255})(?=$|[\s;,#]))"""
)
_SUFFIX = r"(?P<suffix>[\w-]{0,30})"  # SECRET_KEY, api_key_prod, password_hash, token_name
_B64 = "A-Za-z0-9+/"
_I = re.IGNORECASE
_NO_ALNUM_BEFORE = r"(?<![A-Za-z0-9])"
_NO_ALNUM_AFTER = r"(?![A-Za-z0-9])"

# Earlier entries name the match when spans overlap (sk-ant-... is Anthropic, not OpenAI).
# fmt: off
SECRET_PATTERNS: tuple[SecretPattern, ...] = (
    # The header and, on the same line, the body up to the END marker (a JSON service account
    # holds the whole key on one line) or else the base64 and escaped newlines that follow.
    _pattern("private-key", "Private key",
             PEM_MARKER.format("BEGIN")
             + rf"(?:.{{0,3900}}?{PEM_MARKER.format('END')}|(?:\\[nr]|[\w+/=]){{0,3900}})",
             ("-----begin",)),
    # The first body line of a private key (PKCS#1, PKCS#8, SEC1, OpenSSH) without its header.
    _pattern("private-key", "Private key",
             r"(?<![A-Za-z0-9+/])(?:MII[A-Za-z0-9+/]{2}[AQgw]IBA(?:AK|DAN)|MHcCAQEE|MIGkAgEBBD"
             r"|MIG[A-Za-z0-9+/]AgEAMBMG|MC4CAQAwBQYDK2Vw|b3BlbnNzaC1rZXktdjE)[A-Za-z0-9+/]{20,80}",
             ("mii", "mig", "mhccaqee", "mc4caqaw", "b3blbnnzac1")),
    _pattern("aws-access-key-id", "Possible AWS access key",
             _NO_ALNUM_BEFORE + r"(?:AKIA|ASIA|AGPA|AROA|AIDA)[A-Z0-9]{16}" + _NO_ALNUM_AFTER,
             ("akia", "asia", "agpa", "aroa", "aida"), accept=_not_aws_example),
    _pattern("aws-secret-access-key", "Possible AWS secret access key",
             r"aws[_-]?secret[_-]?(?:access[_-]?)?key" + _ASSIGN
             + r"""["']?(?P<secret>[A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])""", ("secret",), _I),
    _pattern("github-token", "Possible GitHub token", r"(?<!\w)gh[pousr]_[A-Za-z0-9]{36,251}",
             ("ghp_", "gho_", "ghu_", "ghs_", "ghr_")),
    _pattern("github-fine-grained-token", "Possible GitHub token",
             r"(?<!\w)github_pat_\w{22,255}", ("github_pat_",)),
    _pattern("gitlab-token", "Possible GitLab token",
             r"(?<![\w-])gl(?:pat|dt|rt|cbt|ptt|ft|imt|agent|oas)-[\w-]{20,255}", ("gl",)),
    _pattern("slack-token", "Possible Slack token",
             r"(?<![A-Za-z0-9])xox[abeprs]-\d{6,16}-[A-Za-z0-9-]{10,255}", ("xox",)),
    _pattern("slack-webhook", "Possible Slack webhook URL",
             r"https://hooks\.slack\.com/(?:services|workflows|triggers)/[\w/+-]{20,255}",
             ("hooks.slack.com",)),
    _pattern("discord-webhook", "Possible Discord webhook URL",
             r"https://(?:ptb\.|canary\.)?discord(?:app)?\.com/api/webhooks/\d{5,30}/[\w-]{20,100}",
             ("discord",)),
    _pattern("discord-bot-token", "Possible Discord bot token",
             _NO_ALNUM_BEFORE + r"[MNO][\w-]{23,25}\.[\w-]{6}\.[\w-]{27,38}(?![\w-])", (".",),
             accept=_random),
    _pattern("google-api-key", "Possible Google API key", r"(?<![\w-])AIza[\w-]{35}(?![\w-])",
             ("aiza",)),
    _pattern("google-oauth-secret", "Possible Google OAuth client secret",
             r"(?<![\w-])GOCSPX-[\w-]{28}(?![\w-])", ("gocspx-",)),
    _pattern("stripe-live-key", "Possible Stripe live key",
             _NO_ALNUM_BEFORE + r"(?:[sr]k_live|whsec)_[A-Za-z0-9]{16,255}",
             ("_live_", "whsec_")),
    _pattern("anthropic-key", "Possible Anthropic API key", r"(?<![\w-])sk-ant-[\w-]{20,255}",
             ("sk-ant-",)),
    _pattern("openai-key", "Possible OpenAI API key",
             r"(?<![\w-])sk-(?:proj|svcacct|admin)-[\w-]{20,255}", ("sk-",)),
    _pattern("openai-legacy-key", "Possible OpenAI API key", r"(?<![\w-])sk-[\w-]{40,255}",
             ("sk-",), accept=_mixed_alnum),
    _pattern("huggingface-token", "Possible Hugging Face token",
             r"(?<![\w-])hf_[A-Za-z0-9]{30,40}" + _NO_ALNUM_AFTER, ("hf_",), accept=_mixed_case),
    _pattern("npm-token", "Possible npm token", r"(?<![\w-])npm_[A-Za-z0-9]{36}" + _NO_ALNUM_AFTER,
             ("npm_",)),
    _pattern("pypi-token", "Possible PyPI token", r"(?<![\w-])pypi-AgE[\w-]{50,300}",
             ("pypi-age",)),
    _pattern("sendgrid-key", "Possible SendGrid API key",
             r"(?<![\w-])SG\.[\w-]{22}\.[\w-]{43}(?![\w-])", ("sg.",)),
    _pattern("twilio-key", "Possible Twilio account or key SID",
             _NO_ALNUM_BEFORE + r"(?:AC|SK)[0-9a-f]{32}" + _NO_ALNUM_AFTER, ("ac", "sk"),
             accept=_hex_secret),
    _pattern("mailgun-key", "Possible Mailgun API key",
             r"(?<![\w-])key-[0-9a-zA-Z]{32}" + _NO_ALNUM_AFTER, ("key-",)),
    _pattern("mailchimp-key", "Possible Mailchimp API key",
             _NO_ALNUM_BEFORE + r"[0-9a-f]{32}-us\d{1,2}" + _NO_ALNUM_AFTER, ("-us",)),
    _pattern("square-token", "Possible Square token",
             r"(?<![\w-])sq0(?:csp|atp)-[\w-]{22,43}(?![\w-])", ("sq0",)),
    _pattern("digitalocean-token", "Possible DigitalOcean token",
             r"(?<![\w-])do[opr]_v1_[a-f0-9]{64}" + _NO_ALNUM_AFTER, ("_v1_",)),
    _pattern("shopify-token", "Possible Shopify token",
             r"(?<![\w-])shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}" + _NO_ALNUM_AFTER, ("shp",)),
    _pattern("vault-token", "Possible HashiCorp Vault token",
             r"(?<![\w.-])hv[sb]\.[\w-]{24,255}", ("hvs.", "hvb.")),
    _pattern("telegram-bot-token", "Possible Telegram bot token",
             r"(?<![\w:])\d{8,10}:A[\w-]{34}(?![\w-])", (":a",)),
    _pattern("heroku-key", "Possible Heroku API key",
             r"(?:heroku[\w-]{0,30}" + _ASSIGN + r"""["']?(?P<secret>[0-9a-f]{8}-[0-9a-f]{4}-"""
             r"[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})|(?<![\w-])HRKU-[\w-]{60})" + _NO_ALNUM_AFTER,
             ("heroku", "hrku-"), _I),
    _pattern("azure-storage-key", "Possible Azure storage or service bus key",
             rf"(?:AccountKey|SharedAccessKey)=(?P<secret>[{_B64}]{{40,86}}={{0,2}})",
             ("accountkey=", "sharedaccesskey=")),
    _pattern("jwt", "Possible JSON Web Token",
             r"(?<![\w-])eyJ[\w-]{1,1500}\.eyJ[\w-]{1,1500}\.[\w-]{0,600}",
             ("eyj",)),
    # Only the password is the secret; it runs to the last @ before the host.
    _pattern("url-password", "Possible password in URL",
             r"(?<![\w+.-])[A-Za-z][\w+.-]{0,30}://(?P<user>[^\s:/@\"'`]{0,256}):"
             r"(?P<secret>[^\s/\"'`]{1,256})@(?=[^\s@/\"'`])",
             ("://",), accept=_url_password),
    _pattern("authorization-header", "Possible credential in an Authorization header",
             r"\b(?:basic|bearer)\s{1,8}(?P<secret>[\w.~+/-]{12,2048}={0,2})(?![\w.~+/=-])",
             ("basic", "bearer"), _I, accept=_random),
    _pattern("hex-secret", "Possible hard-coded secret",
             r"(?:api[_-]?key|apikey|secret|auth[_-]?token|access[_-]?token|private[_-]?key"
             r"|client[_-]?key)" + _SUFFIX + _ASSIGN
             + r"""["']?(?P<secret>(?:0x)?[0-9a-fA-F]{32,64})(?![\w-])""",
             ("key", "secret", "token"), _I, accept=_hex_secret),
    _pattern("generic-secret", "Possible hard-coded secret",
             _CREDENTIAL_WORDS + _SUFFIX + _ASSIGN + _VALUE,
             ("passw", "pwd", "secret", "key", "token", "credential"), _I,
             accept=_generic_secret, confidence=0.9),
)
# fmt: on
BY_KIND = {pattern.kind: pattern for pattern in SECRET_PATTERNS}
