"""Secret detection: recall on the fake corpus, false positives and speed on real code, and
the time a long line takes. Run: python -m benchmarks.bench_secrets [TREE ...]

Each TREE (default: this interpreter's site-packages) is scanned as if every line of every
`.py` file were an added line; the flagged lines are printed, then one line of totals.
"""

from __future__ import annotations

import argparse
import sysconfig
import time
from collections.abc import Iterator
from pathlib import Path

from reviewer.builtin import builtin_findings
from reviewer.redact import find_secrets, redact_diff
from tests.secret_corpus import CorpusFile, added_file_diff, load


def corpus_figures() -> str:
    found = labelled = false = 0
    for file in load("leaks") + load("clean"):
        detected = _detected(file)
        found += len(detected & file.labelled)
        labelled += len(file.labelled)
        false += len(detected - file.labelled)
    return f"corpus: {found}/{labelled} labelled lines detected, {false} false positives"


def _detected(file: CorpusFile) -> set[int]:
    diff = added_file_diff(file)
    lines = redact_diff(diff).files[0].hunks[0].lines
    changed = {n for n, line in enumerate(lines, 1) if line.text != file.lines[n - 1]}
    return changed | {finding.line for finding in builtin_findings(diff)}


def scan_tree(root: Path) -> str:
    lines = flagged = 0
    start = time.perf_counter()
    for path, number, text in _python_lines(root):
        lines += 1
        if find_secrets(text):
            flagged += 1
            print(f"{path}:{number}: {text.strip()[:120]}")
    took = time.perf_counter() - start
    return f"{root}: {lines:,} lines, {flagged} flagged, {took:.1f} s"


def _python_lines(root: Path) -> Iterator[tuple[Path, int, str]]:
    for path in sorted(root.rglob("*.py")):
        text = path.read_text(encoding="utf-8", errors="replace")
        for number, line in enumerate(text.splitlines(), 1):
            yield path, number, line


def long_line_seconds() -> str:
    figures = []
    for name, line in (("200 KB url-like", "a" * 200_000 + "://"), ("10 MB", "a" * 10**7)):
        start = time.perf_counter()
        find_secrets(line)
        figures.append(f"{name} line {time.perf_counter() - start:.2f} s")
    return ", ".join(figures)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("trees", nargs="*", type=Path)
    trees = parser.parse_args().trees or [Path(sysconfig.get_paths()["purelib"])]
    totals = [scan_tree(tree) for tree in trees]
    print(corpus_figures())
    print(long_line_seconds())
    print("\n".join(totals))


if __name__ == "__main__":
    main()
