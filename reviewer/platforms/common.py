"""What GitHub and GitLab posting share: hidden markers, comment bodies, the checkout's head.

Markers are HTML comments: invisible on both platforms, and found again on the next run so
the summary is edited in place, reruns know the last reviewed commit, and no finding is
posted twice.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from reviewer.model import Finding
from reviewer.sanitize import MAX_COMMENT_CHARS, fenced, sanitize_markdown, truncate

SUMMARY_TAG = "<!-- ai-review:summary"
_SUMMARY = re.compile(r"<!-- ai-review:summary(?: head=([0-9a-f]{7,64}))? -->")
_FINGERPRINT = re.compile(r"<!-- ai-review:fp=([0-9a-f]{8,64}) -->")
MAX_SUGGESTION_CHARS = 20_000


def summary_marker(head_sha: str | None) -> str:
    return f"{SUMMARY_TAG} head={head_sha} -->" if head_sha else f"{SUMMARY_TAG} -->"


def is_summary(body: str | None) -> bool:
    return bool(body) and _SUMMARY.search(body or "") is not None


def reviewed_head(body: str | None) -> str | None:
    """The head commit the summary comment says was reviewed last, if any."""
    match = _SUMMARY.search(body or "")
    return match.group(1) if match else None


def fingerprint_marker(fingerprint: str) -> str:
    return f"<!-- ai-review:fp={fingerprint} -->"


def fingerprints_in(bodies: Iterable[str | None]) -> set[str]:
    """Fingerprints of findings already posted, read from existing comment bodies."""
    return {fp for body in bodies for fp in _FINGERPRINT.findall(body or "")}


def comment_body(finding: Finding, suggestion: str | None = None) -> str:
    """An inline comment: severity, category and title, the body, an optional suggestion
    block (platform syntax, built by the caller), and the hidden fingerprint marker.
    Model text is sanitized: no mentions, no raw HTML, no images, bounded length."""
    head = f"**{finding.severity.capitalize()} · {finding.category}:** "
    head += sanitize_markdown(finding.title)
    marker = fingerprint_marker(finding.fingerprint)
    room = MAX_COMMENT_CHARS - len(head) - len(marker) - len(suggestion or "") - 16
    text = truncate(sanitize_markdown(finding.body), max(room, 200))
    parts = [head, text, suggestion or "", marker]
    return "\n\n".join(part for part in parts if part)


def fenced_suggestion(finding: Finding, info: str) -> str | None:
    """The finding's suggested code fenced as a block opened with `info`, the platform's
    syntax; None when no platform could apply it: a suggestion replaces the commented lines
    of the new file (never removed lines), and a huge one is no longer a suggestion."""
    code = finding.suggestion
    if code is None or finding.side != "RIGHT" or len(code) > MAX_SUGGESTION_CHARS:
        return None
    return fenced(code, info)


_SHA = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")


def read_until_found(
    read: Callable[[str, str], str | None], paths: Sequence[str], ref: str
) -> dict[str, str | None]:
    """Each path's text at `ref` (None: absent), in order, until one exists: the first
    config file found wins, and no file after it is asked for."""
    texts: dict[str, str | None] = {}
    for path in paths:
        texts[path] = read(path, ref)
        if texts[path] is not None:
            break
    return texts


def checkout_head(root: Path) -> str | None:
    """The commit checked out in `root`, read from .git without running git; None if unknown.
    Repository context is read from a checkout only when this is the reviewed head commit."""
    git = _git_dir(root)
    if git is None:
        return None
    head = _read(git / "HEAD")
    if head is not None and head.startswith("ref: "):
        return _resolve_ref(git, head.removeprefix("ref: ").strip())
    return head if head is not None and _SHA.fullmatch(head) else None


def _git_dir(root: Path) -> Path | None:
    dot_git = root / ".git"
    if dot_git.is_dir():
        return dot_git
    pointer = _read(dot_git)  # a worktree or submodule: "gitdir: PATH"
    if pointer is None or not pointer.startswith("gitdir: "):
        return None
    return (root / pointer.removeprefix("gitdir: ").strip()).resolve()


def _resolve_ref(git: Path, ref: str) -> str | None:
    common = _read(git / "commondir")
    for where in (git, (git / common).resolve() if common else git):
        sha = _read(where / ref)
        if sha is not None and _SHA.fullmatch(sha):
            return sha
        for line in (_read(where / "packed-refs") or "").splitlines():
            sha, _, name = line.partition(" ")
            if name == ref and _SHA.fullmatch(sha):
                return sha
    return None


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return None
