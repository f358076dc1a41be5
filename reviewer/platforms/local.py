"""The local dry run: a diff from a file or standard input; nothing is posted anywhere."""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

from reviewer.context import ContextSource, LocalCheckout, NoContext
from reviewer.diff import parse_diff
from reviewer.errors import InputError
from reviewer.model import ReviewInput, ReviewResult
from reviewer.platforms.base import Change, Published


class LocalDiff:
    def __init__(self, path: str, repo_root: Path | None) -> None:
        self.path = path
        self.repo_root = repo_root

    def fetch(self, *, full: bool) -> Change:
        data = read_diff_bytes(self.path)
        source: ContextSource = LocalCheckout(self.repo_root) if self.repo_root else NoContext()
        identity = "diff:" + hashlib.sha256(data).hexdigest()[:16]
        return Change(ReviewInput(parse_diff(data)), source, identity=identity)

    def publish(self, change: Change, result: ReviewResult, *, dry_run: bool) -> Published:
        return Published()

    def close(self) -> None:
        """Nothing is held open: the diff is read whole in fetch."""


def read_diff_bytes(path: str) -> bytes:
    if path == "-":
        return sys.stdin.buffer.read()
    try:
        return Path(path).read_bytes()
    except IsADirectoryError as exc:
        raise InputError(
            f"{path} is a directory: pass a diff file, e.g. `git diff > change.diff`"
        ) from exc
    except FileNotFoundError as exc:
        raise InputError(f"diff file {path} does not exist") from exc
    except OSError as exc:
        raise InputError(f"cannot read diff file {path}: {exc.strerror}") from exc
