"""Which files are reviewed, and the reason given for each one that is not."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from reviewer.diff import Diff, FileDiff, Hunk, parse_file_patch
from reviewer.report.reasons import skipped_reason
from reviewer.select import select_files

PATCH = "@@ -1,1 +1,2 @@\n a\n+b\n"


def changed(path: str, **changes: Any) -> FileDiff:
    return replace(parse_file_patch(PATCH, path), **changes)


def reasons(
    *files: FileDiff, exclude: tuple[str, ...] = (), include: tuple[str, ...] = ()
) -> dict[str, str | None]:
    selected, skipped = select_files(Diff(files), exclude, include)
    out: dict[str, str | None] = {f.path: None for f in selected}
    out.update({s.path: skipped_reason(s) for s in skipped})
    return out


def test_default_rules_skip_what_nobody_reviews_by_hand() -> None:
    files = [
        changed("src/app.py"),
        changed("web/package-lock.json"),
        changed("go.sum"),
        changed("api/service_pb2.py"),
        changed("vendor/lib/x.go"),
        changed("static/app.min.js"),
        changed("img/logo.png", binary=True, hunks=()),
        changed("old.py", status="deleted"),
        changed("bin/run", hunks=(), old_mode="100644", new_mode="100755"),
        changed("pkg/py.typed", status="added", hunks=()),
        changed("docs/new.md", status="renamed", old_path="docs/old.md", hunks=()),
    ]
    assert reasons(*files) == {
        "src/app.py": None,
        "web/package-lock.json": "lock file",
        "go.sum": "lock file",
        "api/service_pb2.py": "generated",
        "vendor/lib/x.go": "vendored",
        "static/app.min.js": "minified",
        "img/logo.png": "binary",
        "old.py": "deleted",
        "bin/run": "mode change only",
        "pkg/py.typed": "empty new file",
        "docs/new.md": "renamed without changes",
    }


def test_exclude_wins_and_include_narrows_and_overrides_defaults() -> None:
    files = [changed("src/app.py"), changed("docs/a.md"), changed("go.sum")]
    assert reasons(*files, exclude=("docs/**",)) == {
        "src/app.py": None,
        "docs/a.md": "excluded by config",
        "go.sum": "lock file",
    }
    assert reasons(*files, include=("go.sum", "src/**")) == {
        "src/app.py": None,
        "go.sum": None,
        "docs/a.md": "not in include",
    }


def test_double_star_prefix_matches_top_level_files() -> None:
    assert reasons(changed("snapshot.snap"), changed("a/b/c.snap")) == {
        "snapshot.snap": "generated",
        "a/b/c.snap": "generated",
    }


def test_order_of_selected_files_is_the_diff_order() -> None:
    names = [f"m{i}.py" for i in (3, 1, 2)]
    selected, _ = select_files(Diff(tuple(changed(n) for n in names)))
    assert [f.path for f in selected] == names
    assert isinstance(selected[0].hunks[0], Hunk)
