"""GitLab reruns end to end: a discussion of ours is resolved once its finding is fixed, the
other kept, the addressed rate counts each comment once, and a person's marker is ignored."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from reviewer.cli import main
from reviewer.platforms.common import fingerprint_marker
from tests.fakes.gitlab_server import FakeGitLab
from tests.fakes.model_server import FakeModelServer, findings_reply
from tests.test_gitlab import (
    HEAD,
    HEAD2,
    HUNK1,
    HUNK2,
    IID,
    ON_ADDED,
    ON_RANGE,
    PATH,
    PROJECT,
    _diffs,
    fake,
    posts,
    run,
    summary_notes,
)

__all__ = ["fake"]  # the fixture shared with test_gitlab
HUNK1_FIXED = HUNK1.replace("+    total = qty * rate\n", "+    total = qty * abs(rate)\n")


def ours(fake: FakeGitLab) -> dict[str, dict[str, Any]]:
    """Our diff discussions by the title their first note carries."""
    found = {}
    for discussion in fake.discussions(PROJECT, IID):
        for finding in (ON_ADDED, ON_RANGE):
            if finding["title"] in discussion["notes"][0]["body"]:
                found[finding["title"]] = discussion
    return found


def resolved(discussion: dict[str, Any]) -> bool:
    return bool(discussion["notes"][0].get("resolved"))


def push_the_fix(fake: FakeGitLab) -> None:
    fake.push(PROJECT, IID, head_sha=HEAD2, diffs=_diffs(HUNK1_FIXED, HUNK2))
    fake.set_compare(PROJECT, HEAD, HEAD2, _diffs(HUNK1_FIXED))
    fake.set_files(PROJECT, HEAD2, {PATH: "import os\n"})


def test_a_push_that_fixes_one_finding_resolves_its_discussion_and_keeps_the_other(
    capsys: pytest.CaptureFixture[str],
    fake: FakeGitLab,
    model_server: FakeModelServer,
    tmp_path: Path,
) -> None:
    telemetry = tmp_path / "t.jsonl"
    model_server.queue(findings_reply(ON_ADDED, ON_RANGE))
    assert run(capsys, model_server, "--telemetry", str(telemetry))[0] == 0
    assert len(ours(fake)) == 2 and not any(resolved(d) for d in ours(fake).values())
    push_the_fix(fake)
    model_server.queue(findings_reply())  # the fixed hunk, reviewed again: nothing left
    code, _, err = run(capsys, model_server, "--telemetry", str(telemetry))
    assert code == 0, err
    assert resolved(ours(fake)[ON_ADDED["title"]])
    assert not resolved(ours(fake)[ON_RANGE["title"]])
    assert "1 earlier thread resolved: fixed since." in summary_notes(fake)[0]
    assert "1 thread resolved" in err
    code, _, err = run(capsys, model_server, "--telemetry", str(telemetry))  # same head again
    assert code == 0, err
    puts = [r for r in fake.requests if r.method == "PUT" and "/discussions/" in r.path]
    assert len(puts) == 1  # resolved once
    capsys.readouterr()
    assert main(["stats", str(telemetry), "--format", "json", "--group-by", "repo"]) == 0
    groups = json.loads(capsys.readouterr().out)["groups"]
    assert groups["group/demo"]["addressed_rate"] == 0.5  # one of two addressed, counted once


def test_a_fixed_finding_whose_discussion_someone_answered_stays_open(
    capsys: pytest.CaptureFixture[str], fake: FakeGitLab, model_server: FakeModelServer
) -> None:
    model_server.queue(findings_reply(ON_ADDED))
    assert run(capsys, model_server)[0] == 0
    discussion = ours(fake)[ON_ADDED["title"]]
    fake.add_reply(PROJECT, IID, discussion["id"], "Is abs() right here?", username="reviewer")
    push_the_fix(fake)
    model_server.queue(findings_reply())
    assert run(capsys, model_server)[0] == 0
    assert not resolved(ours(fake)[ON_ADDED["title"]])


def test_a_persons_note_with_our_fingerprint_is_not_ours(
    capsys: pytest.CaptureFixture[str], fake: FakeGitLab, model_server: FakeModelServer
) -> None:
    model_server.queue(findings_reply(ON_ADDED), findings_reply(ON_ADDED))
    code, report, _ = run(capsys, model_server, "--dry-run")
    assert code == 0
    marker = fingerprint_marker(report["findings"][0]["fingerprint"])
    fake.merge_request(PROJECT, IID).discussions.append(
        {
            "id": "e" * 40,
            "individual_note": True,
            "notes": [
                {
                    "id": 7,
                    "body": f"done {marker}",
                    "author": {"username": "mallory"},
                    "system": False,
                }
            ],
        }
    )
    code, _, err = run(capsys, model_server)
    assert code == 0, err
    assert len(posts(fake)) == 1  # posted: mallory's marker does not make it "already posted"


def test_a_discussion_gitlab_will_not_resolve_leaves_the_review_whole(
    capsys: pytest.CaptureFixture[str], fake: FakeGitLab, model_server: FakeModelServer
) -> None:
    model_server.queue(findings_reply(ON_ADDED, ON_RANGE))
    assert run(capsys, model_server)[0] == 0
    push_the_fix(fake)
    fake.fail_next("PUT", r"/discussions/", status=403)
    model_server.queue(findings_reply())
    code, _, err = run(capsys, model_server)
    assert code == 0, err
    assert not resolved(ours(fake)[ON_ADDED["title"]])
    summary = summary_notes(fake)[0]
    assert "1 fixed thread(s) left open: GitLab" in summary and "resolved: fixed" not in summary
