"""The GraphQL part of the fake GitHub (``POST /graphql``): what ai-review asks there.

- ``viewer { login }``: who the token is. It answers for every token, an app's installation
  token included (``NAME[bot]``), which REST's ``GET /user`` refuses with 403.
- ``reviewThreads`` of a pull request: threads are a review comment and its replies, with
  ``isResolved``, ``isOutdated`` (the comment's ``line`` is null) and ``viewerCanResolve``.
- ``resolveReviewThread``: GitHub allows it to a person with write access and, for an app's
  token, only with ``contents: write`` (``pull-requests: write`` is not enough, and a fork's
  read-only token never may); else the answer is HTTP 200 with a ``FORBIDDEN`` error
  "Resource not accessible by integration", as the real API does.

Errors come back as HTTP 200 with an ``errors`` list, like the real endpoint. Queries are
recognised by the fields they name: this is a fake, not a GraphQL engine.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

_THREAD_ID = re.compile(r"PRRT_(\d+)$")
FORBIDDEN = "Resource not accessible by integration"


class ThreadComment(Protocol):
    id: int
    repo: str
    number: int
    login: str
    body: str
    path: str
    line: int | None
    in_reply_to_id: int | None


@dataclass(frozen=True)
class Caller:
    login: str
    can_write: bool
    can_resolve: bool  # an app token with `contents: write`, or a person with write access


def answer(
    body: Any,
    caller: Caller,
    comments: Callable[[], Iterable[ThreadComment]],
    resolved: set[int],
) -> dict[str, Any]:
    """The JSON answer to one GraphQL request (always HTTP 200)."""
    data = body if isinstance(body, dict) else {}
    query = str(data.get("query") or "")
    raw = data.get("variables")
    variables: dict[str, Any] = raw if isinstance(raw, dict) else {}
    if "resolveReviewThread" in query:
        return _resolve(str(variables.get("id")), caller, comments(), resolved)
    if "reviewThreads" in query:
        return _threads(variables, caller, comments(), resolved)
    if "viewer" in query:
        return {"data": {"viewer": {"login": caller.login}}}
    return _error("UNSUPPORTED", "this fake does not answer that query")


def _threads(
    variables: dict[str, Any],
    caller: Caller,
    comments: Iterable[ThreadComment],
    resolved: set[int],
) -> dict[str, Any]:
    repo = f"{variables.get('owner')}/{variables.get('name')}"
    mine = [c for c in comments if c.repo == repo and c.number == variables.get("number")]
    roots = sorted((c for c in mine if c.in_reply_to_id is None), key=lambda c: c.id)[-100:]
    nodes = []
    for root in roots:
        thread = [root, *sorted((c for c in mine if c.in_reply_to_id == root.id), key=_id)]
        nodes.append(
            {
                "id": f"PRRT_{root.id}",
                "path": root.path,
                "isResolved": root.id in resolved,
                "isOutdated": root.line is None,
                "viewerCanResolve": caller.can_write and caller.can_resolve,
                "comments": {
                    "nodes": [
                        {"databaseId": c.id, "body": c.body, "author": {"login": c.login}}
                        for c in thread[:50]
                    ]
                },
            }
        )
    return {"data": {"repository": {"pullRequest": {"reviewThreads": {"nodes": nodes}}}}}


def _resolve(
    thread_id: str, caller: Caller, comments: Iterable[ThreadComment], resolved: set[int]
) -> dict[str, Any]:
    match = _THREAD_ID.match(thread_id)
    roots = {c.id for c in comments if c.in_reply_to_id is None}
    if match is None or int(match[1]) not in roots:
        message = f"Could not resolve to a node with the global id of '{thread_id}'"
        return _error("NOT_FOUND", message)
    if not (caller.can_write and caller.can_resolve):
        return {"data": {"resolveReviewThread": None}, **_error("FORBIDDEN", FORBIDDEN)}
    resolved.add(int(match[1]))
    return {"data": {"resolveReviewThread": {"thread": {"id": thread_id, "isResolved": True}}}}


def _error(kind: str, message: str) -> dict[str, Any]:
    return {"errors": [{"type": kind, "message": message, "locations": []}]}


def _id(comment: ThreadComment) -> int:
    return comment.id
