"""The diff of a local git checkout's change: read-only git commands, argv lists, no shell.

`git diff` runs with external diff drivers, textconv filters and fsmonitor hooks off, so a
repository's configuration cannot make reading a diff run a program.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from reviewer.errors import InputError

GIT_TIMEOUT_S = 60.0
_SAFE = ("-c", "core.fsmonitor=false", "-c", "diff.external=", "--no-pager")


def git_diff(repo_root: Path, base: str | None, *, staged: bool) -> bytes:
    """The change to review: the working tree (or, `staged`, the index) against `base`,
    by default the merge base of HEAD with the default branch."""
    _git(repo_root, "rev-parse", "--git-dir")  # a clear error outside a repository
    commit = _commit(repo_root, base) if base is not None else _merge_base(repo_root)
    args = ["diff", "--no-color", "--no-ext-diff", "--no-textconv", "--find-renames"]
    if staged:
        args.append("--cached")
    return _git(repo_root, *args, commit, "--")


def _commit(repo_root: Path, ref: str) -> str:
    if not ref or ref.startswith("-"):  # never an option to git
        raise InputError(f"base {ref!r} is not a commit")
    argv = ("rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}")
    try:
        out = _git(repo_root, *argv)
    except InputError as exc:
        raise InputError(f"{ref!r} is not a commit in {repo_root}") from exc
    return out.decode().strip()


def _merge_base(repo_root: Path) -> str:
    branch = default_branch(repo_root)
    if branch is None:
        raise InputError(
            f"cannot tell the default branch of {repo_root}: pass `base` (a commit or branch)"
        )
    head = _commit(repo_root, "HEAD")
    return _git(repo_root, "merge-base", head, _commit(repo_root, branch)).decode().strip()


def default_branch(repo_root: Path) -> str | None:
    """origin's HEAD when the clone knows it, else a local or remote main or master."""
    try:
        ref = _git(repo_root, "symbolic-ref", "--quiet", "refs/remotes/origin/HEAD")
        return ref.decode().strip()
    except InputError:
        pass
    for candidate in ("main", "master", "origin/main", "origin/master"):
        try:
            _commit(repo_root, candidate)
        except InputError:
            continue
        return candidate
    return None


def _git(repo_root: Path, *args: str) -> bytes:
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_OPTIONAL_LOCKS": "0"}
    try:
        done = subprocess.run(
            ["git", *_SAFE, "-C", str(repo_root), *args],
            capture_output=True,
            stdin=subprocess.DEVNULL,
            env=env,
            timeout=GIT_TIMEOUT_S,
            check=False,
        )
    except FileNotFoundError as exc:
        raise InputError("git is not installed (needed to read the change)") from exc
    except subprocess.TimeoutExpired as exc:  # pragma: no cover - a hung filesystem
        raise InputError(f"git {args[0]} took longer than {GIT_TIMEOUT_S:.0f} s") from exc
    if done.returncode != 0:
        message = done.stderr.decode(errors="replace").strip().splitlines()
        detail = message[-1] if message else f"exit status {done.returncode}"
        raise InputError(f"git {args[0]} failed in {repo_root}: {detail}")
    return done.stdout
