"""Built-in checks: secrets, conflict markers, and redaction of what reaches the model.

Fake secrets are built by concatenation so that this file does not look like it holds keys.
"""

from __future__ import annotations

import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reviewer.builtin import builtin_findings
from reviewer.diff import Diff, DiffLine, FileDiff, Hunk, parse_diff
from reviewer.redact import SECRET_PATTERNS, SecretMatch, find_secrets, redact_diff, redact_text

AWS_KEY = "AKIA" + "Q3EGWDKYZ7N4PLRT"
AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/" + "bPxRfiCYzq3PlX9vTk"
GITHUB_TOKEN = "ghp_" + "R8x2LqPv0ZcN4mWk7TbY" + "9sHd3JfA6uGe1QoXiK5n"
GITHUB_PAT = "github_pat_" + "11ABCDEFG0aBcDeFgHiJkL" + "_" + "Mn0pQrStUvWxYz12345678" * 2
GITLAB_TOKEN = "glpat-" + "Zx9Kq2LmN8pR4tVw6YbC"
SLACK_TOKEN = "xoxb-" + "123456789012-1234567890123-" + "AbCdEfGhIjKlMnOpQrStUvWx"
SLACK_WEBHOOK = (
    "https://hooks.slack.com/services/" + "T0A1B2C3D/B0E1F2G3H/" + "aBcDeFgHiJkLmNoPqRsTuVwX"
)
GOOGLE_KEY = "AIza" + "SyB2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R"
STRIPE_KEY = "sk_live_" + "51H8xQpLmZ2vT9rKw4YbN6cD"
ANTHROPIC_KEY = "sk-ant-" + "api03-" + "Xy7Kp2Lm9Qr4Tv6Wz8Bc1Dn3Fg5Hj0Ks"
OPENAI_PROJECT_KEY = "sk-proj-" + "Ab3De6Gh9Jk2Mn5Pq8St1Vw4Yz7"
OPENAI_LEGACY_KEY = "sk-" + "T3BlbkFJ" + "aB1cD2eF3gH4iJ5kL6mN7oP8qR9sT0uV1wX2yZ3aB4"
JWT = (
    "eyJhbGciOiJIUzI1NiJ9"
    + "."
    + "eyJzdWIiOiIxMjM0NTY3ODkwIn0"
    + "."
    + "dozjgNryP4J3jVmNHl0w5N_XgL0n"
)
PASSWORD = "Tr0ub4dor" + "&3horse"
DISCORD_HOOK = "https://discord.com/api/webhooks/" + "1187654321098765432/" + "aB3dE6gH9jK2" * 6
DISCORD_BOT = "MTE4NzY1NDMyMTA5ODc2NTQz" + ".GhT2xQ." + "kL9mN2pQ5sT8vW1yZ4bC7eF0hJ3k"
GOOGLE_SECRET = "GOCSPX-" + "Xk9mP2qL5vR8tW1zB4cD7fG0hJ3n"
HF_TOKEN = "hf_" + "kQzRtYpLmNvBxWcJhGfDsAeUiOoPqRsTuV"
NPM_TOKEN = "npm_" + "aB3dE6gH9jK2mN5pQ8sT1vW4yZ7bC0eF3hI6"
PYPI_TOKEN = "pypi-" + "AgEIcHlwaS5vcmc" + "CJDk3ZjE2NzQ4LWE5MmMtNGQ5Zi05YjFhLTY4ZGQ0ZTljNzBmMwAC"
SENDGRID_KEY = (
    "SG." + "aB3dE6gH9jK2mN5pQ8sT1v" + "." + "wX4yZ7bC0eF3hI6kL9nO2qR5tU8wX1zA4cD7fG0iJ3k"
)
TWILIO_SID = "AC" + "3f9b2c7d1e4a8b6c0d9e2f5a7b1c4d8e"
MAILGUN_KEY = "key-" + "8f2a9c4e1b7d3f6a0c5e8b2d9f4a1c7e"
MAILCHIMP_KEY = "3f9a2c8e1b7d4f6a0c5e9b2d8f1a4c7e" + "-us14"
SQUARE_TOKEN = "sq0atp-" + "Xk9mP2qL5vR8tW1zB4cD7f"
DO_TOKEN = "dop_v1_" + "3f9a2c8e1b7d4f6a0c5e9b2d8f1a4c7e" * 2
SHOPIFY_TOKEN = "shpat_" + "3f9a2c8e1b7d4f6a0c5e9b2d8f1a4c7e"
VAULT_TOKEN = "hvs." + "CAESIJx7Qk2pLmN9vRt4Wz8YbC1dFg3Hj5Kl0Mn6Pq"
TELEGRAM_TOKEN = "5839204761" + ":AAH3kLm9QpR2sT5vWx8Yz1Bc4Df7Gh0JkLm"
HEROKU_KEY = "4f8e2a1c-" + "9b3d-4e7f-a6c5-0d1b2e3f4a5b"
AZURE_KEY = "Xk9mP2qL5vR8tW1zB4cD7fG0hJ3n" * 3 + "Ab=="
BASIC_CREDENTIALS = "ZGVwbG95On" + "M0Y3IzdFBhc3M5OQ=="
HEX_API_KEY = "3f9a2c8e1b7d4f6a" + "0c5e9b2d8f1a4c7e"
PEM_HEADER = "-----BEGIN RSA " + "PRIVATE KEY-----"
PEM_FOOTER = "-----END RSA " + "PRIVATE KEY-----"

# kind, added line, the secret that must not survive redaction
EXAMPLES = [
    ("aws-access-key-id", f'AWS_ACCESS_KEY_ID = "{AWS_KEY}"', AWS_KEY),
    ("aws-secret-access-key", f"aws_secret_access_key = {AWS_SECRET}", AWS_SECRET),
    ("github-token", f'headers = {{"Authorization": "token {GITHUB_TOKEN}"}}', GITHUB_TOKEN),
    ("github-fine-grained-token", f"export GH_TOKEN={GITHUB_PAT}", GITHUB_PAT),
    ("gitlab-token", f"gl = gitlab.Gitlab(url, private_token='{GITLAB_TOKEN}')", GITLAB_TOKEN),
    ("slack-token", f"client = WebClient({SLACK_TOKEN!r})", SLACK_TOKEN),
    ("slack-webhook", f"WEBHOOK: {SLACK_WEBHOOK}", SLACK_WEBHOOK),
    ("google-api-key", f"maps_key: {GOOGLE_KEY}", GOOGLE_KEY),
    ("stripe-live-key", f"stripe.api_key = '{STRIPE_KEY}'", STRIPE_KEY),
    ("anthropic-key", f"client = Anthropic(api_key={ANTHROPIC_KEY!r})", ANTHROPIC_KEY),
    ("openai-key", f"OPENAI_API_KEY={OPENAI_PROJECT_KEY}", OPENAI_PROJECT_KEY),
    ("openai-legacy-key", f"openai.api_key = '{OPENAI_LEGACY_KEY}'", OPENAI_LEGACY_KEY),
    ("private-key", f'KEY = """{PEM_HEADER}', PEM_HEADER),
    ("jwt", f"curl -H 'Authorization: Bearer {JWT}' $URL", JWT),
    ("url-password", f"DATABASE_URL = 'postgres://app:{PASSWORD}@db.internal:5432/app'", PASSWORD),
    ("generic-secret", f'db_password = "{PASSWORD}"', PASSWORD),
    ("discord-webhook", f"hook = '{DISCORD_HOOK}'", DISCORD_HOOK),
    ("discord-bot-token", f"client.run('{DISCORD_BOT}')", DISCORD_BOT),
    ("google-oauth-secret", f'"client_secret": "{GOOGLE_SECRET}"', GOOGLE_SECRET),
    ("huggingface-token", f"HF_TOKEN={HF_TOKEN}", HF_TOKEN),
    ("npm-token", f"//registry.npmjs.org/:_authToken={NPM_TOKEN}", NPM_TOKEN),
    ("pypi-token", f"password = {PYPI_TOKEN}", PYPI_TOKEN),
    ("sendgrid-key", f"SENDGRID_API_KEY={SENDGRID_KEY}", SENDGRID_KEY),
    ("twilio-key", f"TWILIO_ACCOUNT_SID={TWILIO_SID}", TWILIO_SID),
    ("mailgun-key", f"auth=('api', '{MAILGUN_KEY}')", MAILGUN_KEY),
    ("mailchimp-key", f"client.set_config({{'api_key': '{MAILCHIMP_KEY}'}})", MAILCHIMP_KEY),
    ("square-token", f'const squareToken = "{SQUARE_TOKEN}";', SQUARE_TOKEN),
    ("digitalocean-token", f'token = "{DO_TOKEN}"', DO_TOKEN),
    ("shopify-token", f"accessToken: '{SHOPIFY_TOKEN}'", SHOPIFY_TOKEN),
    ("vault-token", f"export VAULT_TOKEN={VAULT_TOKEN}", VAULT_TOKEN),
    ("telegram-bot-token", f'bot = Bot("{TELEGRAM_TOKEN}")', TELEGRAM_TOKEN),
    ("heroku-key", f"HEROKU_API_KEY={HEROKU_KEY}", HEROKU_KEY),
    ("azure-storage-key", f"conn = 'AccountName=shop;AccountKey={AZURE_KEY};'", AZURE_KEY),
    (
        "authorization-header",
        f"extraheader = AUTHORIZATION: basic {BASIC_CREDENTIALS}",
        BASIC_CREDENTIALS,
    ),
    ("hex-secret", f"ALGOLIA_API_KEY = '{HEX_API_KEY}'", HEX_API_KEY),
]


def make_diff(*lines: str, path: str = "app/settings.py", start: int = 10) -> Diff:
    """A one-hunk diff of the given lines (each with its +, - or space marker)."""
    old = sum(1 for line in lines if line[0] in " -")
    new = sum(1 for line in lines if line[0] in " +")
    return parse_diff(
        f"diff --git a/{path} b/{path}\n--- a/{path}\n+++ b/{path}\n"
        f"@@ -{start},{old} +{start},{new} @@\n" + "\n".join(lines) + "\n"
    )


def all_lines(diff: Diff) -> list[DiffLine]:
    return [line for file in diff.files for hunk in file.hunks for line in hunk.lines]


def test_the_examples_cover_every_pattern() -> None:
    assert {kind for kind, _, _ in EXAMPLES} == {pattern.kind for pattern in SECRET_PATTERNS}


@pytest.mark.parametrize(("kind", "text", "secret"), EXAMPLES, ids=[e[0] for e in EXAMPLES])
def test_each_secret_kind_on_an_added_line_is_a_critical_finding(
    kind: str, text: str, secret: str
) -> None:
    diff = make_diff(" import os", "+" + text, " ", start=41)

    [finding] = builtin_findings(diff)

    assert (finding.path, finding.line, finding.end_line, finding.new_line) == (
        "app/settings.py",
        42,
        42,
        42,
    )
    assert (finding.severity, finding.category, finding.side) == ("critical", "security", "RIGHT")
    assert (finding.source, finding.line_kind, finding.fingerprint) == ("builtin", "add", "")
    assert finding.suggestion is None
    assert finding.confidence == (0.9 if kind == "generic-secret" else 1.0)
    assert finding.title.endswith("committed")
    assert finding.code == redact_text(text)
    assert f"[REDACTED:{kind}]" in finding.code
    assert secret not in finding.code + finding.body + finding.title
    assert "rotate" in finding.body
    assert "redacted" in finding.body


@pytest.mark.parametrize(("kind", "text", "secret"), EXAMPLES, ids=[e[0] for e in EXAMPLES])
def test_redaction_replaces_exactly_the_secret(kind: str, text: str, secret: str) -> None:
    [match] = find_secrets(text)

    assert match == SecretMatch(kind, text.index(secret), text.index(secret) + len(secret))
    assert redact_text(text) == text.replace(secret, f"[REDACTED:{kind}]")
    assert find_secrets(redact_text(text)) == []


def test_titles_name_the_kind_of_secret() -> None:
    [aws] = builtin_findings(make_diff(f"+key = '{AWS_KEY}'"))
    [pem] = builtin_findings(make_diff(f"+{PEM_HEADER}"))

    assert aws.title == "Possible AWS access key committed"
    assert pem.title == "Private key committed"


def test_overlapping_matches_are_one_secret_named_by_the_more_specific_pattern() -> None:
    token_line = f'token = "{GITHUB_TOKEN}"'
    url_line = f"https://x:{GITHUB_TOKEN}@github.com/org/repo.git"

    assert [m.kind for m in find_secrets(token_line)] == ["github-token"]
    assert [m.kind for m in find_secrets(f"key={ANTHROPIC_KEY}")] == ["anthropic-key"]
    assert redact_text(url_line) == "https://x:[REDACTED:github-token]@github.com/org/repo.git"


def test_two_secrets_on_a_line_are_two_findings_and_both_redacted() -> None:
    text = f"creds = ('{AWS_KEY}', '{GITHUB_TOKEN}')"

    findings = builtin_findings(make_diff("+" + text))

    assert [f.title for f in findings] == [
        "Possible AWS access key committed",
        "Possible GitHub token committed",
    ]
    assert (
        redact_text(text) == "creds = ('[REDACTED:aws-access-key-id]', '[REDACTED:github-token]')"
    )


def test_a_secret_on_a_removed_or_context_line_is_redacted_but_not_a_finding() -> None:
    diff = make_diff(
        f" AWS_KEY = '{AWS_KEY}'",
        f"-GITHUB_TOKEN = '{GITHUB_TOKEN}'",
        "+GITHUB_TOKEN = os.environ['GITHUB_TOKEN']",
    )

    redacted = redact_diff(diff)

    assert builtin_findings(diff) == []
    assert [line.text for line in all_lines(redacted)] == [
        "AWS_KEY = '[REDACTED:aws-access-key-id]'",
        "GITHUB_TOKEN = '[REDACTED:github-token]'",
        "GITHUB_TOKEN = os.environ['GITHUB_TOKEN']",
    ]
    assert [(ln.kind, ln.old, ln.new) for ln in all_lines(redacted)] == [
        (ln.kind, ln.old, ln.new) for ln in all_lines(diff)
    ]


def test_redact_diff_returns_the_same_objects_when_nothing_needs_redacting() -> None:
    clean = make_diff(" def f():", "-    return 1", "+    return 2")
    diff = Diff(files=(*clean.files, *make_diff(f"+key = '{AWS_KEY}'", path="b.py").files))

    assert redact_diff(clean) is clean
    redacted = redact_diff(diff)
    assert redacted is not diff
    assert redacted.files[0] is diff.files[0]
    assert all_lines(redacted)[-1].text == "key = '[REDACTED:aws-access-key-id]'"


def test_a_secret_in_the_hunk_header_section_is_redacted() -> None:
    diff = parse_diff(
        "diff --git a/x b/x\n--- a/x\n+++ b/x\n"
        f"@@ -5,1 +5,1 @@ API_TOKEN = '{GITHUB_TOKEN}'\n-a\n+b\n"
    )

    assert redact_diff(diff).files[0].hunks[0].section == "API_TOKEN = '[REDACTED:github-token]'"


@st.composite
def lines_with_a_secret(draw: st.DrawFn) -> tuple[str, str]:
    aws = st.text(string.ascii_uppercase + string.digits, min_size=16, max_size=16).map(
        lambda body: "AKIA" + body
    )
    github = st.text(string.ascii_letters + string.digits, min_size=36, max_size=60).map(
        lambda body: "ghp_" + body
    )
    secret = draw(st.one_of(aws.filter(lambda key: not key.endswith("EXAMPLE")), github))
    separators = st.sampled_from([" ", "=", ":", "'", '"', "/", "(", ",", "\t", "@"])
    text = draw(st.text()) + draw(separators) + secret + draw(separators) + draw(st.text())
    return text, secret


@settings(database=None, max_examples=300)
@given(lines_with_a_secret())
def test_no_secret_survives_redaction_whatever_surrounds_it(case: tuple[str, str]) -> None:
    text, secret = case
    file = FileDiff(
        path="x",
        old_path="x",
        status="modified",
        hunks=(
            Hunk(1, 2, 1, 2, text, (DiffLine("ctx", text, 1, 1), DiffLine("del", text, 2, None))),
        ),
    )

    redacted = redact_diff(Diff(files=(file,)))

    assert secret not in redact_text(text)
    assert secret not in redacted.files[0].hunks[0].section
    assert all(secret not in line.text for line in all_lines(redacted))


@pytest.mark.parametrize(
    "text",
    [
        "url = 'https://user:${PASSWORD}@host/path'",
        "url = 'https://user:$PASSWORD@host'",
        "url = 'https://user:<password>@host'",
        "url = 'https://user:***@host'",
        "url = 'https://user:xxx@host'",
        "url = 'https://user:password@host'",
        "url = 'https://user:pass@example.com'",
        "url = f'postgresql://{user}:{password}@{host}/{db}'",
        "url = 'redis://%s:%s@%s' % (user, password, host)",
        "services: postgres://postgres:postgres@localhost:5432/test",
        "git clone git@github.com:org/repo.git",
        "url = 'http://localhost:8080/path'",
    ],
)
def test_placeholders_and_plain_urls_are_not_flagged(text: str) -> None:
    assert find_secrets(text) == []
    assert builtin_findings(make_diff("+" + text)) == []


@pytest.mark.parametrize(
    "text",
    [
        'token = request.headers["X-Token"]',
        "password = getpass()",
        'api_key = os.environ["API_KEY"]',
        'x = "sk-abc123"',
        'name = "sk-a-long-kebab-case-identifier-that-goes-on-and-on"',
        'sha = "da39a3ee5e6b4b0d3255bfef95601890afd80709"',
        'token = "da39a3ee5e6b4b0d3255bfef95601890afd80709"',
        'secret_name = "prod/Db-Credentials-2"',
        'PASSWORD_FIELD = "password"',
        'password = "correcthorsebatterystaple"',
        'token: "${{ secrets.GITHUB_TOKEN }}"',
        'api_key = "your-api-key-here"',
        'password = "<your password here>"',
        'if password == "Hunter2-Hunter2!":',
        "class TokenizerConfig:",
        'api_key_hash = "' + "9f86d081884c7d659a2feaa0c55ad015" * 2 + '"',  # a SHA-256, not a key
        "def sign(self, private_key: Ed25519PrivateKey) -> bytes:",
        "aws_session_token=s3_aws_session_token,",
        "LANGFUSE_SECRET_KEY: Required. Langfuse secret key for authentication.",
        'client_credentials = "m2m-client-credentials"',
        '"vertex_credentials": "os.environ/GOOGLE_CREDS"',
        "jsonnet_token = r'[^\\W\\d]\\w*'",
        "credentials: Base64-encoded credentials (client_id:client_secret)",
        "providing a more secure alternative to Basic Authentication. It supports all",
        "AKIA" + "IOSFODNN7EXAMPLE",
        "x = AKIA" + "Q3EGWDKYZ7N4PLRTQ",  # 17 characters: not an access key id
    ],
)
def test_ordinary_code_is_not_flagged(text: str) -> None:
    assert find_secrets(text) == []
    assert redact_diff(make_diff("+" + text)) == make_diff("+" + text)


def test_conflict_markers_at_line_start_are_high_severity_bugs() -> None:
    diff = make_diff(
        " def f():",
        "+<<<<<<< HEAD",
        "+    return 1",
        "+=======",
        "+    return 2",
        "+>>>>>>> feature/x",
        start=3,
    )

    findings = builtin_findings(diff)

    # one conflict, one finding, spanning its markers
    assert [(f.line, f.end_line, f.code) for f in findings] == [(4, 8, "<<<<<<< HEAD")]
    assert {(f.severity, f.category, f.title) for f in findings} == {
        ("high", "bug", "Unresolved merge-conflict marker")
    }


def test_diff3_conflict_is_one_finding_over_all_its_markers() -> None:
    diff = make_diff("+<<<<<<< ours", "+a", "+||||||| base", "+b", "+=======", "+c", "+>>>>>>> x")

    assert [(f.line, f.end_line, f.code) for f in builtin_findings(diff)] == [
        (10, 16, "<<<<<<< ours")
    ]


def test_stray_markers_without_a_pair_are_flagged_one_by_one() -> None:
    diff = make_diff("+=======", "+x", "+>>>>>>> theirs", "+<<<<<<< ours", "+y")

    assert [(f.line, f.end_line, f.code) for f in builtin_findings(diff)] == [
        (10, 10, "======="),
        (12, 12, ">>>>>>> theirs"),
        (13, 13, "<<<<<<< ours"),
    ]


@pytest.mark.parametrize(
    "value", ["$" + "ecr3tPassw0rd", "<" + "Adm1n-Passw0rd", "{" + "Adm1n-Passw0rd"]
)
def test_a_secret_that_merely_starts_like_a_template_is_still_flagged(value: str) -> None:
    text = f'password = "{value}"'

    assert find_secrets(text) == [SecretMatch("generic-secret", 12, 12 + len(value))]


@pytest.mark.parametrize(
    "lines",
    [
        ["+    <<<<<<< HEAD", "+  =======", "+ >>>>>>> feature"],  # not at line start
        ["+<<<<<<<< HEAD", "+========", "+>>>>>>>> feature"],  # eight characters
        ["+<<<<<<<HEAD", "+>>>>>>>feature"],  # no space after the marker
        ["+Install", "+=======", "+", "+Run ``pip install ai-review``."],  # an RST heading
        [" <<<<<<< HEAD", "-=======", " >>>>>>> feature"],  # not added lines
    ],
)
def test_marker_look_alikes_are_not_flagged(lines: list[str]) -> None:
    assert builtin_findings(make_diff(*lines, path="README.rst")) == []


def test_a_private_key_block_body_is_redacted_and_reported_once() -> None:
    diff = make_diff(
        " import ssl",
        f'+KEY = """{PEM_HEADER}',
        "+MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun",
        "+VTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxK",
        f'+{PEM_FOOTER}"""',
        " context = ssl.create_default_context()",
        start=1,
    )

    redacted = redact_diff(diff)

    assert [(ln.new, ln.text) for ln in all_lines(redacted)] == [
        (1, "import ssl"),
        (2, 'KEY = """[REDACTED:private-key]'),
        (3, "[REDACTED:private-key]"),
        (4, "[REDACTED:private-key]"),
        (5, f'{PEM_FOOTER}"""'),
        (6, "context = ssl.create_default_context()"),
    ]
    [finding] = builtin_findings(diff)
    assert (finding.title, finding.line, finding.code) == (
        "Private key committed",
        2,
        'KEY = """[REDACTED:private-key]',
    )


def test_a_key_cut_by_the_hunk_edges_is_redacted_up_to_the_edge() -> None:
    tail = make_diff(" bodyline1", "-bodyline2", "+bodyline3", f" {PEM_FOOTER}", " after")
    head = make_diff(" before", f" {PEM_HEADER}", "-bodyline1", "+bodyline2", " bodyline3")

    assert [ln.text for ln in all_lines(redact_diff(tail))] == [
        *["[REDACTED:private-key]"] * 3,
        PEM_FOOTER,
        "after",
    ]
    assert [ln.text for ln in all_lines(redact_diff(head))] == [
        "before",
        "[REDACTED:private-key]",
        *["[REDACTED:private-key]"] * 3,
    ]


def test_keys_replaced_in_a_hunk_are_redacted_in_the_old_and_the_new_file() -> None:
    ec_header, ec_footer = (m.replace("RSA", "EC") for m in (PEM_HEADER, PEM_FOOTER))
    diff = make_diff(
        f"-{PEM_HEADER}", "-oldbody", f"-{PEM_FOOTER}", f"+{ec_header}", "+newbody", f"+{ec_footer}"
    )

    texts = [ln.text for ln in all_lines(redact_diff(diff))]

    assert "oldbody" not in texts
    assert "newbody" not in texts
    assert texts.count(PEM_FOOTER) == texts.count(ec_footer) == 1


def test_a_key_on_one_line_is_redacted_whole() -> None:
    body = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC"
    text = f'"private_key": "-----BEGIN PRIVATE KEY-----\\n{body}\\n-----END PRIVATE KEY-----\\n",'
    diff = make_diff(' "type": "service_account",', "+" + text, ' "client_id": "1"')

    lines = all_lines(redact_diff(diff))

    assert lines[1].text == '"private_key": "[REDACTED:private-key]\\n",'
    assert [ln.text for ln in lines[::2]] == ['"type": "service_account",', '"client_id": "1"']
    assert [f.title for f in builtin_findings(diff)] == ["Private key committed"]


def test_redact_diff_of_a_large_clean_diff_is_the_same_object() -> None:
    lines = [f"+    value_{i} = compute(items[{i}], right_side=True)" for i in range(5000)]
    diff = make_diff(*lines)

    assert redact_diff(diff) is diff
    assert builtin_findings(diff) == []
