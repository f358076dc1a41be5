"""Generated unified diffs of Python-like files, for tests and benchmarks that need many chunks."""

from __future__ import annotations

from collections.abc import Iterable

HUNK_SPACING = 40  # old-file lines between hunks, so hunks never touch


def added_line(path: str, hunk: int, line: int, seed: str = "") -> str:
    """The text of an added line, as a finding's `quote` would give it."""
    name = path.rsplit("/", 1)[-1].split(".", 1)[0]
    return f"    {name}_{hunk}_{line} = compute({seed!r}, {hunk}, {line})  # {name} step {line}"


def file_diff(path: str, *, hunks: int = 1, lines: int = 8, seed: str = "") -> str:
    """A modified file with `hunks` hunks of `lines` added lines between two context lines."""
    out = [f"diff --git a/{path} b/{path}", f"--- a/{path}", f"+++ b/{path}"]
    for hunk in range(hunks):
        old_start = 1 + hunk * HUNK_SPACING
        new_start = old_start + hunk * lines
        out.append(f"@@ -{old_start},2 +{new_start},{lines + 2} @@")
        out.append(f" def step_{hunk}(values):")
        out += [f"+{added_line(path, hunk, line, seed)}" for line in range(lines)]
        out.append(f"     return values  # end of step {hunk}")
    return "\n".join(out) + "\n"


def make_diff(paths: Iterable[str], *, hunks: int = 1, lines: int = 8, seed: str = "") -> str:
    return "".join(file_diff(path, hunks=hunks, lines=lines, seed=seed) for path in paths)
