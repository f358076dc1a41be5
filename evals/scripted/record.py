"""Make the scripted recording that the README's worked example replays.

There is no real model here: the test suite's fake OpenAI-compatible server answers with the
script below (a reviewer that finds most defects, misses some, rates one too low and adds a
few nits; a verifier that rejects the candidates titled as nits and confirms the others,
known-wrong ones included), and a scripted judge that knows which finding was written for
which golden comment. It shows the mechanics of `ai-review eval`, not any model's quality.

Run from the repository root after a change to the prompts (the recording is keyed by them):

    python evals/scripted/record.py
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from reviewer.cli import main  # noqa: E402
from reviewer.gateway import LiteLLMGateway  # noqa: E402
from tests.fakes.model_server import (  # noqa: E402
    FakeModelServer,
    Reply,
    findings_reply,
    verdicts_reply,
)

CASES = ROOT / "evals" / "cases.jsonl"
RECORDING = ROOT / "evals" / "recordings" / "scripted"
MISSED = {"go-ignored-error", "sql-not-null-without-default", "ts-optional-customer"}
WRONG_ISSUE = {"js-numeric-sort", "py-retry-forever"}  # right line, another issue
UNDERRATED = {"py-file-handle-leak"}  # found, but rated low
NITS = {"py-pagination-off-by-one", "py-sql-injection", "js-innerhtml-xss", "go-nil-map",
        "sh-unquoted-rm", "py-clean-rename", "js-clean-extract"}  # fmt: skip


def load() -> list[dict[str, Any]]:
    return [json.loads(line) for line in CASES.read_text().splitlines() if line.strip()]


def added_lines(case: dict[str, Any]) -> list[tuple[int, str]]:
    """(new line number, text) of the added lines of the case's diff."""
    lines, number = [], 0
    for line in (CASES.parent / case["diff_path"]).read_text().splitlines():
        if line.startswith("@@"):
            number = int(line.split("+")[1].split(",")[0].split(" ")[0]) - 1
        elif line.startswith("+") and not line.startswith("+++"):
            number += 1
            lines.append((number, line[1:]))
        elif not line.startswith(("-", "\\")):
            number += 1
    return lines


def finding(path: str, line: int, quote: str, title: str, body: str, severity: str) -> Any:  # noqa: PLR0917
    return {"path": path, "line": line, "end_line": line, "quote": quote, "severity": severity,
            "category": "bug", "title": title, "body": body, "suggestion": None,
            "confidence": 0.8}  # fmt: skip


def script(case: dict[str, Any]) -> list[Any]:
    added = added_lines(case)
    path = case.get("golden", [{}])[0].get("path") if case.get("golden") else None
    path = path or (CASES.parent / case["diff_path"]).read_text().split(" b/", 1)[1].split()[0]
    out = []
    for golden in case.get("golden", []):
        quote = next(text for number, text in added if number == golden["line"])
        if case["id"] in WRONG_ISSUE:
            out.append(finding(path, golden["line"], quote, "Nit: add a comment explaining this",
                               "A short comment would help readers.", "low"))  # fmt: skip
        elif case["id"] not in MISSED:
            severity = "low" if case["id"] in UNDERRATED else golden["severity"]
            out.append(finding(path, golden["line"], quote, "Defect: " + golden["comment"][:60],
                               golden["comment"], severity))  # fmt: skip
    for wrong in case.get("negatives", []):  # the script also makes a known-wrong comment
        number, text = added[0]
        out.append(finding(path, number, text, "displayName is not exported", wrong["comment"],
                           "medium"))  # fmt: skip
    if case["id"] in NITS:
        number, text = added[-1]
        out.append(finding(path, number, text, "Nit: consider a more descriptive name",
                           "Naming could be clearer.", "low"))  # fmt: skip
    return out


def responder(cases: list[dict[str, Any]]) -> Any:
    by_path = {}
    for case in cases:
        diff = (CASES.parent / case["diff_path"]).read_text()
        by_path[diff.split(" b/", 1)[1].split()[0]] = case
    golden_text = {g["comment"] for case in cases for g in case.get("golden", [])}
    golden_text |= {n["comment"] for case in cases for n in case.get("negatives", [])}

    def answer(body: dict[str, Any]) -> Reply:
        system, user = (str(m["content"]) for m in body["messages"][:2])
        if "judge of a code-review benchmark" in system:
            return Reply(content=json.dumps(judge(user, golden_text)), delay_s=0.05)
        if "You are the verifier" in system:
            return verdicts_reply(*verify(user), delay_s=0.15)
        for path, case in by_path.items():
            if f"### {path}" in user or path in user:
                delay = 0.2 + 0.1 * (len(case["id"]) % 7)
                return findings_reply(*script(case), delay_s=delay)
        return findings_reply()

    return answer


def verify(user: str) -> list[dict[str, Any]]:
    """The verifier protocol answered by rule: a candidate titled as a nit is rejected, any
    other confirmed (it cannot tell a known-wrong comment from a real defect)."""
    candidates = json.loads(user.split("```json\n", 1)[1].split("\n```", 1)[0])
    return [
        {"id": c["id"], "reason": "a style nit, not a defect" if c["title"].startswith("Nit:")
         else "the code shown has it", "verdict": "rejected" if c["title"].startswith("Nit:")
         else "confirmed"}
        for c in candidates
    ]  # fmt: skip


def judge(user: str, golden_text: set[str]) -> dict[str, Any]:
    blocks = user.split("```")
    reference = next((t for t in golden_text if t in user), None)
    candidates = json.loads(blocks[3].removeprefix("json\n")) if len(blocks) > 3 else []
    for candidate in candidates:
        if reference and candidate["body"] == reference:
            return {"match": candidate["id"], "confidence": 0.9, "reason": "same defect"}
    return {"match": None, "confidence": 0.8, "reason": "a different concern"}


def record() -> int:
    # `ai-review eval` loads litellm and its tokenizer before its clocks start; the first
    # request still pays for litellm's HTTP client and provider set-up, which here would
    # land on whichever cases run first: one request to the fake pays it before them.
    shutil.rmtree(RECORDING, ignore_errors=True)
    os.environ.setdefault("AI_REVIEW_API_KEY", "sk-scripted")
    with FakeModelServer() as server:
        server.respond_with(responder(load()))
        LiteLLMGateway(["openai/gpt-4.1-mini"], api_base=server.base_url,
                       api_key="sk-scripted").complete("warm up", "the HTTP client")  # fmt: skip
        return main(["eval", str(CASES), "--api-base", server.base_url,
                     "--variant", f"all={ROOT / 'evals/variants/all.toml'}",
                     "--variant", f"medium={ROOT / 'evals/variants/medium.toml'}",
                     "--variant", f"verified={ROOT / 'evals/variants/verified.toml'}",
                     "--judge", "openai/gpt-4.1-mini", "--record", str(RECORDING)])  # fmt: skip


if __name__ == "__main__":
    sys.exit(record())
