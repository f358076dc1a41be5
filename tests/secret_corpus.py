"""The fake secret corpus in tests/data/secrets: `leaks/` holds credentials, `clean/` none.

In `leaks/` the marker «» splits every secret value (so the stored files match no scanner
until it is stripped) and labels its line: a labelled line must be detected or redacted, every
other line must not be.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from reviewer.diff import Diff, DiffLine, FileDiff, Hunk, parse_diff

CORPUS = Path(__file__).parent / "data" / "secrets"
MARKER = "«»"


@dataclass(frozen=True)
class CorpusFile:
    name: str
    lines: tuple[str, ...]
    labelled: frozenset[int]  # 1-based numbers of the lines holding a secret


def load(kind: str) -> list[CorpusFile]:
    files = []
    for path in sorted((CORPUS / kind).iterdir()):
        raw = path.read_text(encoding="utf-8").splitlines()
        labelled = frozenset(n for n, line in enumerate(raw, 1) if MARKER in line)
        lines = tuple(line.replace(MARKER, "") for line in raw)
        files.append(CorpusFile(path.name, lines, labelled))
    return files


def added_file_diff(file: CorpusFile) -> Diff:
    """The file as a diff that adds it whole."""
    body = "".join(f"+{line}\n" for line in file.lines)
    return parse_diff(
        f"diff --git a/{file.name} b/{file.name}\nnew file mode 100644\n--- /dev/null\n"
        f"+++ b/{file.name}\n@@ -0,0 +1,{len(file.lines)} @@\n{body}"
    )


def one_hunk_diff(path: str, lines: list[DiffLine]) -> Diff:
    old = [line for line in lines if line.kind != "add"]
    new = [line for line in lines if line.kind != "del"]
    start = lines[0].old or 1
    hunk = Hunk(start, len(old), start, len(new), "", tuple(lines))
    return Diff(files=(FileDiff(path, path, "modified", (hunk,)),))
