"""A case set whose right answers are known by construction, and a scripted model that
answers both the review and the judge protocols over HTTP (tests/fakes/model_server.py)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from tests.fakes.model_server import (
    FakeModelServer,
    Reply,
    findings_reply,
    tool_call_reply,
    verdicts_reply,
)

MODEL = "openai/gpt-4.1-mini"
JUDGE = "openai/gpt-4.1"


def new_file_diff(path: str, lines: list[str]) -> str:
    head = [f"diff --git a/{path} b/{path}", "new file mode 100644", "--- /dev/null",
            f"+++ b/{path}", f"@@ -0,0 +1,{len(lines)} @@"]  # fmt: skip
    return "\n".join(head + [f"+{line}" for line in lines]) + "\n"


def program(name: str, count: int = 20) -> list[str]:
    return [f"{name}_{n} = compute({n})  # step {n}" for n in range(1, count + 1)]


def finding(path: str, line: int, title: str, body: str = "") -> dict[str, Any]:
    return {
        "path": path, "line": line, "end_line": line, "quote": f"{_stem(path)}_{line} = "
        f"compute({line})  # step {line}", "severity": "high", "category": "bug",
        "title": title, "body": body or title, "suggestion": None, "confidence": 0.9,
    }  # fmt: skip


def _stem(path: str) -> str:
    return Path(path).stem


# Case "bug": one finding at the right place and issue (tp), one at the right place but
# about another issue (fp), one elsewhere (fp), and a golden comment nobody found (fn).
# Case "clean": a clean change with one false alarm. Case "negative": a golden comment
# found (tp) and a known-wrong comment made (fp, negative hit). Case "twice": two findings
# fit one golden comment: one tp, one fp.
REVIEWS: dict[str, list[dict[str, Any]]] = {
    "src/bug.py": [
        finding("src/bug.py", 5, "Division by zero when the list is empty"),
        finding("src/bug.py", 6, "Variable name is unclear"),
        finding("src/bug.py", 15, "Loop never terminates"),
    ],
    "src/clean.py": [finding("src/clean.py", 2, "Possible race condition")],
    "src/neg.py": [
        finding("src/neg.py", 3, "Use an f-string here"),
        finding("src/neg.py", 8, "SQL injection through the name parameter"),
    ],
    "src/twice.py": [
        finding("src/twice.py", 10, "Off by one in the range end"),
        finding("src/twice.py", 11, "Off by one: the last item is skipped"),
    ],
}


def write_cases(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    cases = [
        {"id": "bug", "diff_path": "bug.diff", "golden": [
            {"id": "g1", "path": "src/bug.py", "line": 5, "comment": "Division by zero: "
             "average() divides by len(items), which is 0 for an empty list"},
            {"id": "g2", "path": "src/bug.py", "line": 19, "comment": "Resource leak: the "
             "file is never closed"}]},
        {"id": "clean", "diff_path": "clean.diff", "clean": True},
        {"id": "negative", "diff_path": "neg.diff",
         "golden": [{"id": "g1", "path": "src/neg.py", "line": 9, "comment": "SQL injection "
                     "in the query built from name"}],
         "negatives": [{"path": "src/neg.py", "line": 3, "comment": "Use an f-string "
                        "instead of format() (wrong: the project targets Python 2)"}]},
        {"id": "twice", "diff_path": "twice.diff", "golden": [
            {"id": "g1", "path": "src/twice.py", "line": 10, "comment": "Off by one: "
             "range(1, n) skips the last element"}]},
    ]  # fmt: skip
    for name in ("bug", "clean", "neg", "twice"):
        diff = new_file_diff(f"src/{name}.py", program(name))
        (folder / f"{name}.diff").write_text(diff, encoding="utf-8")
    path = folder / "cases.jsonl"
    path.write_text("\n".join(json.dumps(case) for case in cases) + "\n", encoding="utf-8")
    return path


# What the scripted verifier rejects: a naming nit and the clean case's false alarm, neither
# a golden comment's finding (the known-wrong f-string comment stays: the verifier misses it).
NOISE = {"Variable name is unclear", "Possible race condition"}


def scripted(body: dict[str, Any]) -> Reply:
    """The review answer for the file in the prompt, the judge's verdict (a candidate
    matches when its title starts with the reference comment's first two words), or the
    verifier's (NOISE rejected). A security pass offered tools reads the file once first."""
    messages = body["messages"]
    system = str(messages[0]["content"])
    user = str(messages[1]["content"])
    if "judge of a code-review benchmark" in system:
        return Reply(content=json.dumps(_verdict(user)))
    if "You are the verifier" in system:
        return verdicts_reply(*_verify(user))
    if "**security** pass" in system and body.get("tools") and len(messages) == 2:
        path = next((p for p in REVIEWS if p in user), "src/none.py")
        return tool_call_reply(("read_file", {"path": path}))
    for path, findings in REVIEWS.items():
        if f"{path}" in user:
            return findings_reply(*findings)
    return findings_reply()


def _verify(user: str) -> list[dict[str, Any]]:
    candidates = json.loads(re.findall(r"```json\n(.*?)\n```", user, re.DOTALL)[0])
    return [
        {"id": c["id"], "verdict": "rejected" if c["title"] in NOISE else "confirmed",
         "reason": "scripted"}
        for c in candidates
    ]  # fmt: skip


def _verdict(user: str) -> dict[str, Any]:
    blocks = re.findall(r"`{3,}\w*\n(.*?)\n`{3,}", user, re.DOTALL)
    reference, candidates = blocks[0], json.loads(blocks[1])
    key = " ".join(reference.lower().replace(":", "").split()[:2])
    for candidate in candidates:
        if candidate["title"].lower().replace(":", "").startswith(key):
            return {"match": candidate["id"], "confidence": 0.8, "reason": "same issue"}
    return {"match": None, "confidence": 0.9, "reason": "another issue"}


def serve(server: FakeModelServer) -> FakeModelServer:
    server.respond_with(scripted)
    return server
