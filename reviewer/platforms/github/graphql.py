"""What ai-review asks GitHub's GraphQL API, and its answers as our values: who the token is
(`viewer`, which answers an app's token too), the review threads of a pull request, and
resolving one. REST has no threads and no resolution. Plain data: the client is api.py's."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

MAX_THREADS = 100  # the newest review threads read per run (one request)
THREADS_QUERY = """
query($owner: String!, $name: String!, $number: Int!) {
  repository(owner: $owner, name: $name) {
    pullRequest(number: $number) {
      reviewThreads(last: 100) {
        nodes {
          id path isResolved isOutdated
          comments(first: 50) { nodes { databaseId body author { login } } }
        }
      }
    }
  }
}
"""
RESOLVE_MUTATION = """
mutation($id: ID!) { resolveReviewThread(input: {threadId: $id}) { thread { id isResolved } } }
"""


@dataclass(frozen=True)
class ThreadNote:
    """One comment of a review thread, as GraphQL lists it."""

    id: int
    author: str
    body: str


@dataclass(frozen=True)
class ReviewThread:
    id: str  # the thread's node id, for resolveReviewThread
    path: str
    resolved: bool
    outdated: bool
    notes: tuple[ThreadNote, ...]


def viewer_login(data: Any) -> str:
    login = _dig(data, "data", "viewer", "login")
    return login if isinstance(login, str) else ""


def parse_threads(data: Any) -> list[ReviewThread]:
    nodes = _dig(data, "data", "repository", "pullRequest", "reviewThreads", "nodes")
    return [_thread(node) for node in nodes or () if isinstance(node, dict)]


def forbidden(data: Any) -> bool:
    """A GraphQL answer refusing the token (GitHub answers HTTP 200 with `errors`)."""
    errors = _dig(data, "errors")
    first = errors[0] if isinstance(errors, list) and errors else None
    return _dig(first, "type") in ("FORBIDDEN", "UNAUTHORIZED")


def _dig(data: Any, *keys: str) -> Any:
    for key in keys:
        data = data.get(key) if isinstance(data, dict) else None
    return data


def _thread(node: dict[str, Any]) -> ReviewThread:
    notes = tuple(
        ThreadNote(c["databaseId"], str(_dig(c, "author", "login") or ""), str(c.get("body") or ""))
        for c in _dig(node, "comments", "nodes") or ()
        if isinstance(c, dict) and isinstance(c.get("databaseId"), int)
    )
    return ReviewThread(
        str(node.get("id") or ""),
        str(node.get("path") or ""),
        bool(node.get("isResolved")),
        bool(node.get("isOutdated")),
        notes,
    )
