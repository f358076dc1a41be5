"""Where a GitHub review runs: the Actions variables and event JSON, or the flags."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reviewer.cli import main
from reviewer.errors import UsageError
from reviewer.platforms.github.env import (
    DEFAULT_API_URL,
    base_shas,
    detect,
    refuse_fork_checkout,
)

REPO = "octo/shop"


def actions_env(tmp_path: Path, event: object, name: str = "pull_request") -> dict[str, str]:
    path = tmp_path / "event.json"
    path.write_text(json.dumps(event))
    return {
        "GITHUB_ACTIONS": "true",
        "GITHUB_EVENT_NAME": name,
        "GITHUB_EVENT_PATH": str(path),
        "GITHUB_REPOSITORY": REPO,
        "GITHUB_TOKEN": "ghs_secret",
    }


def test_pull_request_event(tmp_path: Path) -> None:
    env = actions_env(tmp_path, {"number": 7, "pull_request": {"number": 7}})
    env["GITHUB_STEP_SUMMARY"] = str(tmp_path / "summary.md")
    target = detect(None, None, env)
    assert (target.repo, target.number, target.api_url) == (REPO, 7, DEFAULT_API_URL)
    assert target.in_actions and target.event_name == "pull_request"
    assert target.step_summary == tmp_path / "summary.md" and target.output is None
    assert target.identity == "github:octo/shop#7"
    assert "ghs_secret" not in repr(target)


def test_comment_on_a_pull_request_and_enterprise_api(tmp_path: Path) -> None:
    event = {"issue": {"number": 12, "pull_request": {"url": "x"}}}
    env = actions_env(tmp_path, event, name="issue_comment")
    env["GITHUB_API_URL"] = "https://ghe.example/api/v3/"
    target = detect(None, None, env)
    assert target.number == 12 and target.api_url == "https://ghe.example/api/v3"


def test_flags_win_over_the_environment(tmp_path: Path) -> None:
    env = actions_env(tmp_path, {"pull_request": {"number": 7}})
    target = detect("other/repo", 9, env)
    assert (target.repo, target.number) == ("other/repo", 9)
    laptop = detect(REPO, 3, {"GITHUB_TOKEN": "t"})
    assert not laptop.in_actions and laptop.step_summary is None


@pytest.mark.parametrize(
    ("repo", "number", "env", "message"),
    [
        (None, 1, {"GITHUB_TOKEN": "t"}, "pass --repo OWNER/NAME --pr N"),
        ("nonsense", 1, {"GITHUB_TOKEN": "t"}, "not of the form OWNER/NAME"),
        (REPO, None, {"GITHUB_TOKEN": "t"}, "pass --repo OWNER/NAME --pr N"),
        (REPO, 1, {}, "GITHUB_TOKEN is not set"),
        (REPO, 1, {"GITHUB_TOKEN": "t", "GITHUB_API_URL": "ftp://x"}, "not an http(s) URL"),
        (REPO, 1, {"GITHUB_TOKEN": "t", "GITHUB_EVENT_PATH": "/nope.json"}, "cannot be read"),
    ],
)
def test_what_is_missing_is_named(
    repo: str | None, number: int | None, env: dict[str, str], message: str
) -> None:
    with pytest.raises(UsageError, match=message.replace("(", r"\(").replace(")", r"\)")):
        detect(repo, number, env)


def test_push_event_has_no_pull_request(tmp_path: Path) -> None:
    env = actions_env(tmp_path, {"ref": "refs/heads/main"}, name="push")
    with pytest.raises(UsageError, match="'push' event, which has no pull request"):
        detect(None, None, env)


def test_event_file_that_is_not_json(tmp_path: Path) -> None:
    env = actions_env(tmp_path, {})
    Path(env["GITHUB_EVENT_PATH"]).write_text("{not json")
    with pytest.raises(UsageError, match="does not hold JSON"):
        detect(None, None, env)


def test_cli_usage_errors_exit_2_with_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name, value in actions_env(tmp_path, {"pull_request": {"number": 7}}).items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("GITHUB_TOKEN")
    assert main(["--github"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "GITHUB_TOKEN is not set" in err
    monkeypatch.setenv("GITHUB_TOKEN", "ghs_secret")
    monkeypatch.setenv("GITHUB_EVENT_NAME", "push")
    Path(tmp_path / "event.json").write_text("{}")
    assert main(["--github"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no pull request" in err and "ghs_secret" not in err


def test_action_passes_inputs_as_environment_only() -> None:
    yaml = pytest.importorskip("yaml")
    root = Path(__file__).resolve().parent.parent
    action = yaml.safe_load((root / "action.yml").read_text())
    steps = action["runs"]["steps"]
    scripts = [step["run"] for step in steps if "run" in step]
    assert scripts and all("${{" not in script for script in scripts)  # no template injection
    env_values = " ".join(str(v) for step in steps for v in (step.get("env") or {}).values())
    assert all(f"inputs.{name}" in env_values for name in action["inputs"])
    [install] = [script for script in scripts if "pip install" in script]
    # The lock file is chosen by the key step (test_ci_caching runs it): hash-pinned either way.
    assert "--require-hashes" in install and '-r "$GITHUB_ACTION_PATH/$LOCK"' in install
    assert (root / "ci" / "requirements.lock").is_file()
    assert set(action["outputs"]) == {"findings", "cost-usd"}
    assert action["inputs"]["github-token"]["default"] == "${{ github.token }}"


def fork_event(head_sha: str) -> dict[str, object]:
    return {
        "pull_request": {
            "number": 9,
            "head": {"sha": head_sha, "repo": {"full_name": "mallory/fork"}},
            "base": {"sha": "b" * 40, "repo": {"full_name": REPO}},
        }
    }


def checkout_at(root: Path, sha: str) -> Path:
    (root / ".git").mkdir(parents=True)
    (root / ".git" / "HEAD").write_text(sha + "\n")
    (root / ".ai-review.toml").write_text('api_base = "https://attacker.example/v1"\n')
    return root


def test_fork_head_checkout_under_pull_request_target_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    head = "f" * 40
    for name, value in actions_env(tmp_path, fork_event(head), "pull_request_target").items():
        monkeypatch.setenv(name, value)
    root = checkout_at(tmp_path / "fork", head)
    assert main(["--github", "--repo-root", str(root)]) == 2
    err = capsys.readouterr().err
    assert "pull_request_target with the fork's head checked out" in err
    assert err.count("\n") == 1


def test_base_checkout_under_pull_request_target_is_fine(tmp_path: Path) -> None:
    env = actions_env(tmp_path, fork_event("f" * 40), "pull_request_target")
    refuse_fork_checkout(env, checkout_at(tmp_path / "base", "b" * 40))  # no error
    refuse_fork_checkout({**env, "GITHUB_EVENT_NAME": "pull_request"}, tmp_path / "base")


def test_pull_request_target_refuses_every_checkout_but_the_base(tmp_path: Path) -> None:
    env = actions_env(tmp_path, fork_event("f" * 40), "pull_request_target")
    merge = checkout_at(tmp_path / "merge", "e" * 40)  # refs/pull/9/merge
    with pytest.raises(UsageError, match="a commit checked out that is not the base commit"):
        refuse_fork_checkout(env, merge)
    unknown = tmp_path / "unknown"  # no .git: which commit it holds cannot be told
    unknown.mkdir()
    with pytest.raises(UsageError, match="not the base commit"):
        refuse_fork_checkout(env, unknown)
    same_repo = actions_env(
        tmp_path, {"pull_request": {"base": {"sha": "b" * 40}}}, "pull_request_target"
    )
    with pytest.raises(UsageError):
        refuse_fork_checkout(same_repo, merge)  # not only forks: any change's checkout
    # The base branch's tip as the runner names it (GITHUB_SHA) is the base too.
    tip = checkout_at(tmp_path / "tip", "c" * 40)
    refuse_fork_checkout({**env, "GITHUB_SHA": "c" * 40}, tip)
    assert base_shas({**env, "GITHUB_SHA": "c" * 40}) == {"b" * 40, "c" * 40}
    assert base_shas({**env, "GITHUB_EVENT_NAME": "pull_request", "GITHUB_SHA": "e" * 40}) == {
        "b" * 40
    }
