"""Recall and false positives on the fake secret corpus (tests/data/secrets, see its README).

Every labelled line of `leaks/` must be reported or redacted, no other line may be, and the
`clean/` files (code that merely looks secret-ish) must pass untouched.
"""

from __future__ import annotations

import pytest

from reviewer.builtin import builtin_findings
from reviewer.diff import DiffLine
from reviewer.redact import redact_diff, redact_text
from tests.secret_corpus import CorpusFile, added_file_diff, load, one_hunk_diff

LEAKS = load("leaks")
CLEAN = load("clean")


def detected_lines(file: CorpusFile) -> set[int]:
    """Numbers of the lines the added file has reported or redacted."""
    diff = added_file_diff(file)
    redacted = redact_diff(diff).files[0].hunks[0].lines
    pairs = enumerate(zip(file.lines, redacted, strict=True), 1)
    changed = {n for n, (line, new) in pairs if line != new.text}
    return changed | {finding.line for finding in builtin_findings(diff)}


def test_the_corpus_holds_at_least_60_credentials_across_file_types() -> None:
    key_files = {"server.key", "id_ed25519", "tls.py"}
    credentials = sum(len(f.labelled) for f in LEAKS if f.name not in key_files)

    assert credentials >= 60
    assert {f.name.rsplit(".", 1)[-1] for f in LEAKS} >= {"env", "yaml", "json", "ini", "py", "js"}


@pytest.mark.parametrize("file", LEAKS, ids=[f.name for f in LEAKS])
def test_every_labelled_secret_is_detected_and_nothing_else(file: CorpusFile) -> None:
    assert detected_lines(file) == set(file.labelled)


@pytest.mark.parametrize("file", CLEAN, ids=[f.name for f in CLEAN])
def test_code_that_only_looks_secret_is_left_alone(file: CorpusFile) -> None:
    diff = added_file_diff(file)

    assert builtin_findings(diff) == []
    assert redact_diff(diff) is diff
    assert [redact_text(line) for line in file.lines] == list(file.lines)


def test_no_labelled_value_reaches_the_model_verbatim() -> None:
    for file in LEAKS:
        for number in file.labelled:
            line = file.lines[number - 1]
            redacted = redact_diff(added_file_diff(file)).files[0].hunks[0].lines[number - 1]
            assert redacted.text != line, (file.name, number)
            assert "[REDACTED:" in redacted.text


@pytest.mark.parametrize("name", ["server.key", "id_ed25519"])
def test_a_hunk_inside_a_key_without_its_begin_or_end_line_is_blanked_whole(name: str) -> None:
    [key] = [f for f in LEAKS if f.name == name]
    body = key.lines[2:-2]  # no marker, nor the first or the last body line, is in the hunk
    lines = [DiffLine("ctx", text, n, n) for n, text in enumerate(body[:3], 4)]
    lines += [DiffLine("del", body[3], 7, None), DiffLine("add", body[3][::-1], None, 7)]
    lines += [DiffLine("ctx", text, n, n) for n, text in enumerate(body[4:], 8)]

    redacted = redact_diff(one_hunk_diff(name, lines)).files[0].hunks[0].lines

    assert len(lines) >= 6
    assert [line.text for line in redacted] == ["[REDACTED:private-key]"] * len(lines)
