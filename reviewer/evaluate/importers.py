"""`ai-review eval import aacr|martian`: public benchmarks into a cases file.

Neither benchmark ships diffs, and the importer never downloads anything: it reads what the
user already has (an AACR file plus local git clones that hold the commits; Martian files
plus a folder of `.diff` files) and names exactly what is missing and where to fetch it.
Cases that can be built are written; the others are listed on stderr, one line each.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reviewer.errors import InputError, UsageError
from reviewer.model import SEVERITIES
from reviewer.usage import Parser

SOURCES = {
    "aacr": "https://github.com/alibaba/aacr-bench (dataset/*.json)",
    "martian": "https://github.com/withmartian/code-review-benchmark (offline/golden_comments/)",
}
_PR_URL = re.compile(r"^https://github\.com/([\w.-]+)/([\w.-]+)/pull/(\d+)/?$")


@dataclass
class Imported:
    cases: list[dict[str, Any]] = field(default_factory=list)
    diffs: dict[str, str] = field(default_factory=dict)  # case id -> diff text
    missing: list[str] = field(default_factory=list)  # one line each: what to fetch


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="ai-review eval import", description="Turn a benchmark into cases.")
    kinds = parser.add_subparsers(
        dest="kind", required=True, parser_class=Parser, metavar="aacr|martian"
    )
    aacr = kinds.add_parser("aacr", help="AACR-Bench (github.com/alibaba/aacr-bench)")
    aacr.add_argument("positive", metavar="POSITIVE.json", help="dataset/positive_samples.json")
    aacr.add_argument("--negatives", metavar="NEGATIVE.json",
                      help="dataset/negative_samples.json: known-wrong comments")  # fmt: skip
    aacr.add_argument("--clones", required=True, metavar="DIR",
                      help="folder of git clones, as DIR/OWNER/REPO or DIR/REPO")  # fmt: skip
    aacr.add_argument("--out", required=True, metavar="DIR", help="where cases.jsonl goes")
    martian = kinds.add_parser("martian", help="Martian Code Review Bench golden comments")
    martian.add_argument("golden", nargs="+", metavar="GOLDEN.json",
                         help="offline/golden_comments/*.json")  # fmt: skip
    martian.add_argument("--diffs", required=True, metavar="DIR",
                         help="folder of downloaded diffs, as REPO-NUMBER.diff")  # fmt: skip
    martian.add_argument("--out", required=True, metavar="DIR", help="where cases.jsonl goes")
    return parser


def import_main(argv: Sequence[str]) -> int:
    args = build_parser().parse_args(list(argv))
    if args.kind == "aacr":
        negatives = _json_list(Path(args.negatives), "aacr") if args.negatives else []
        positive = _json_list(Path(args.positive), "aacr")
        imported = import_aacr(positive, negatives, Path(args.clones))
    else:
        entries = [entry for name in args.golden for entry in _json_list(Path(name), "martian")]
        imported = import_martian(entries, Path(args.diffs))
    for line in imported.missing:
        print(f"ai-review: missing: {line}", file=sys.stderr)
    if not imported.cases:
        raise InputError("nothing imported: every pull request lacks its diff (listed above)")
    written = write_cases(imported, Path(args.out))
    skipped = f", {len(imported.missing)} skipped" if imported.missing else ""
    print(f"ai-review: wrote {len(imported.cases)} cases to {written}{skipped}", file=sys.stderr)
    return 0


def _json_list(path: Path, kind: str) -> list[Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"benchmark file {path} does not exist; clone {SOURCES[kind]}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read benchmark file {path}: {exc}") from None
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}: not valid JSON (line {exc.lineno}: {exc.msg})") from None
    if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
        raise InputError(f"{path}: expected a JSON array of pull requests")
    return data


def _pull(url: Any, where: str) -> tuple[str, str, str]:
    match = _PR_URL.match(url) if isinstance(url, str) else None
    if match is None:
        raise InputError(f"{where}: {url!r} is not a GitHub pull request URL")
    owner, repo, number = match.groups()
    return owner, repo, number


def _case_id(owner: str, repo: str, number: str) -> str:
    return f"{owner}-{repo}-{number}".lower()


def import_aacr(positive: list[Any], negative: list[Any], clones: Path) -> Imported:
    """One case per pull request; valid comments are golden, negative samples `negatives`."""
    known_wrong: dict[str, list[Any]] = {}
    for entry in negative:
        known_wrong.setdefault(str(entry.get("githubPrUrl")), []).extend(_items(entry))
    urls = {str(e.get("githubPrUrl")): e for e in positive}
    urls.update({u: e for e in negative if (u := str(e.get("githubPrUrl"))) not in urls})
    imported = Imported()
    for index, (url, entry) in enumerate(urls.items(), start=1):
        owner, repo, number = _pull(url, f"AACR pull request {index}")
        case_id = _case_id(owner, repo, number)
        diff = _aacr_diff(entry, clones, (owner, repo), url, imported.missing)
        if diff is None:
            continue
        golden = _aacr_comments(_items(entry) if entry in positive else [], "g")
        imported.diffs[case_id] = diff
        imported.cases.append({
            "id": case_id, "diff_path": f"diffs/{case_id}.diff", "title": "",
            "description": url, "golden": golden,
            "negatives": _aacr_comments(known_wrong.get(url, []), "n"), "clean": False,
        })  # fmt: skip
    return imported


def _items(entry: dict[str, Any]) -> list[Any]:
    comments = entry.get("comments", [])
    return [c for c in comments if isinstance(c, dict)] if isinstance(comments, list) else []


def _aacr_comments(items: list[Any], prefix: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for item in items:
        note, path = item.get("note"), item.get("path")
        if not isinstance(note, str) or not note.strip():
            continue
        comment: dict[str, Any] = {"id": f"{prefix}{len(out) + 1}", "comment": note.strip()}
        if isinstance(path, str) and path:
            comment["path"] = path
            comment.update(_aacr_lines(item.get("from_line"), item.get("to_line")))
            comment["side"] = "LEFT" if str(item.get("side")).lower() == "left" else "RIGHT"
        if prefix == "n":
            comment.pop("id")
        out.append(comment)
    return out


def _aacr_lines(start: Any, end: Any) -> dict[str, int]:
    numbers = [n for n in (start, end) if isinstance(n, int) and not isinstance(n, bool) and n > 0]
    if not numbers:
        return {}
    return {"line": min(numbers), "end_line": max(numbers)}  # the data has some reversed


def _aacr_diff(
    entry: dict[str, Any], clones: Path, name: tuple[str, str], pr_url: str, missing: list[str]
) -> str | None:
    base, head = entry.get("target_commit"), entry.get("source_commit")
    owner, repo = name
    url = f"https://github.com/{owner}/{repo}"
    clone = next((p for p in (clones / owner / repo, clones / repo) if (p / ".git").exists()), None)
    if clone is None:
        missing.append(f"{pr_url}: no clone; run `git clone {url} {clones / owner / repo}`")
        return None
    if not all(isinstance(c, str) and re.fullmatch(r"[0-9a-f]{7,40}", c) for c in (base, head)):
        missing.append(f"{pr_url}: the entry has no valid source_commit/target_commit")
        return None
    absent = [str(c) for c in (base, head) if not _has_commit(clone, str(c))]
    if absent:
        missing.append(f"{pr_url}: {clone} lacks {', '.join(absent)}; run "
                       f"`git -C {clone} fetch origin {' '.join(absent)}`")  # fmt: skip
        return None
    return _git(clone, "diff", "--no-color", "--no-ext-diff", "--no-textconv", str(base), str(head))


def _has_commit(clone: Path, commit: str) -> bool:
    try:
        _git(clone, "cat-file", "-e", f"{commit}^{{commit}}")
    except InputError:
        return False
    return True


def _git(clone: Path, *args: str) -> str:
    try:
        done = subprocess.run(["git", "-C", str(clone), *args], capture_output=True, check=False)
    except OSError as exc:
        raise UsageError(f"cannot run git: {exc.strerror}; install git to import AACR") from exc
    if done.returncode != 0:
        raise InputError(f"git {args[0]} failed in {clone}")
    return done.stdout.decode("utf-8", errors="replace")


def import_martian(entries: list[Any], diffs: Path) -> Imported:
    """One case per pull request, golden comments without location: only a model judge can
    match them (`--judge MODEL`)."""
    imported = Imported()
    for index, entry in enumerate(entries, start=1):
        owner, repo, number = _pull(entry.get("url"), f"Martian pull request {index}")
        case_id = _case_id(owner, repo, number)
        path = diffs / f"{repo}-{number}.diff"
        if not path.is_file():
            url = f"https://github.com/{owner}/{repo}/pull/{number}.diff"
            imported.missing.append(f"{path}: download {url} to it")
            continue
        imported.diffs[case_id] = path.read_text(encoding="utf-8", errors="replace")
        title = entry.get("pr_title")
        imported.cases.append({
            "id": case_id, "diff_path": f"diffs/{case_id}.diff",
            "title": title if isinstance(title, str) else "",
            "golden": _martian_comments(_items(entry)), "clean": False,
        })  # fmt: skip
    return imported


def _martian_comments(items: list[Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for item in items:
        text, severity = item.get("comment"), str(item.get("severity", "")).lower()
        if isinstance(text, str) and text.strip():
            comment: dict[str, Any] = {"id": f"g{len(out) + 1}", "comment": text.strip()}
            if severity in SEVERITIES:
                comment["severity"] = severity
            out.append(comment)
    return out


def write_cases(imported: Imported, out: Path) -> Path:
    try:
        (out / "diffs").mkdir(parents=True, exist_ok=True)
        for case_id, text in imported.diffs.items():
            (out / "diffs" / f"{case_id}.diff").write_text(text, encoding="utf-8")
        target = out / "cases.jsonl"
        lines = [json.dumps(case, ensure_ascii=False) for case in imported.cases]
        target.write_text("\n".join(lines) + "\n", encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write to --out {out}: {exc.strerror}") from exc
    return target
