"""Arbitrary bytes through `ai-review --diff` with no model: the diff parser, the built-in
checks and the redactor. Whatever the input, the run ends with exit 0, 1 or 2 and, on 2, one
line saying what is wrong: never a traceback, never an internal error (exit 3)."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from reviewer.builtin import builtin_findings
from reviewer.cli import main
from reviewer.diff import Diff, parse_file_patch
from reviewer.redact import redact_diff

FUZZ = settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
ISSUE_PATH = b"diff --git %s\n@@ -1 +1 @@\n-a\n+b\n"
_PATH_BYTES = st.binary(min_size=1, max_size=12) | st.sampled_from(
    [b"a.py", b"\\400x", b"\\377", b"x\x00y", b"d" * 300, b"a b\t", b'"q"', b"../../etc/passwd"]
)


@st.composite
def diff_like(draw: st.DrawFn) -> bytes:
    """Bytes shaped like a diff (headers, hunks, lines) with arbitrary parts in between."""
    path = draw(_PATH_BYTES)
    quoted = b'"' + path + b'"'
    headers = [
        b"diff --git a/" + path + b" b/" + path,
        b"diff --git " + quoted + b" " + quoted,
        b"--- a/" + path,
        b"+++ b/" + path,
        b"--- " + quoted,
        b"+++ " + quoted,
        b"--- /dev/null",
        b"new file mode 100644",
        b"rename from " + path,
        b"rename to " + quoted,
        b"Binary files a/" + path + b" and b/" + path + b" differ",
        b"\\ No newline at end of file",
    ]
    numbers = st.integers(min_value=0, max_value=3) | st.integers(min_value=0, max_value=2**40)
    hunk = st.builds(
        lambda a, b, c, d, section: b"@@ -%d,%d +%d,%d @@" % (a, b, c, d) + section,
        numbers,
        numbers,
        numbers,
        numbers,
        st.binary(max_size=20),
    )
    body = st.builds(
        lambda marker, text: marker + text, st.sampled_from([b"+", b"-", b" "]), st.binary()
    )
    lines = draw(
        st.lists(st.sampled_from(headers) | hunk | body | st.binary(max_size=30), max_size=25)
    )
    return draw(st.sampled_from([b"\n", b"\r\n", b"\r"])).join(lines)


def review(data: bytes) -> tuple[int, str]:
    Path("input.diff").write_bytes(data)
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["--diff", "input.diff", "--format", "json"])
    return code, err.getvalue()


def assert_clean_exit(code: int, err: str) -> None:
    assert code in (0, 1, 2), err
    assert "Traceback" not in err
    assert "internal error" not in err
    if code == 2:
        assert err.startswith("ai-review: error: ")
        assert err.count("\n") == 1, err


@FUZZ
@given(st.binary(max_size=2000))
def test_arbitrary_bytes_end_in_a_clean_exit(data: bytes) -> None:
    assert_clean_exit(*review(data))


@FUZZ
@given(diff_like())
@example(ISSUE_PATH % b'"a/\\400.txt" "b/\\400.txt"')
@example(ISSUE_PATH % b"a/x\x00y b/x\x00y")
@example(ISSUE_PATH % (b"a/" + b"d" * 256 + b" b/" + b"d" * 256))
def test_diff_shaped_bytes_end_in_a_clean_exit(data: bytes) -> None:
    assert_clean_exit(*review(data))


def test_the_issue_paths_are_one_line_errors_not_internal_ones() -> None:
    for paths in (b'"a/\\400.txt" "b/\\400.txt"', b"a/x\x00y b/x\x00y"):
        code, err = review(ISSUE_PATH % paths)
        assert code == 2
        assert err.startswith("ai-review: error: the diff ")


@FUZZ
@given(
    st.text(alphabet=st.characters(), max_size=2000)
    | diff_like().map(lambda b: b.decode("latin-1"))
)
def test_patches_from_the_platform_apis_never_raise(patch: str) -> None:
    # GitHub and GitLab give each file's hunks without headers: the same checks run on them.
    diff = Diff(files=(parse_file_patch(patch, "src/app.py"),))

    redacted = redact_diff(diff)
    findings = builtin_findings(diff)

    assert len(redacted.files[0].hunks) == len(diff.files[0].hunks)
    assert all(f.path == "src/app.py" for f in findings)
