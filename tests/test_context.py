"""Repository context: enclosing scope, nearby lines, guidelines; no escape from the checkout."""

from __future__ import annotations

from pathlib import Path

from reviewer.context import (
    MAX_FILE_BYTES,
    LocalCheckout,
    RemoteFiles,
    decode_file,
    hunk_context,
    read_guidelines,
)
from reviewer.diff import parse_file_patch

SOURCE = """import os


class Cart:
    def __init__(self):
        self.items = []

    def total(self):
        subtotal = sum(self.items)
        tax = subtotal * 0.2
        return subtotal + tax
"""
PATCH = (
    "@@ -9,3 +9,3 @@\n"
    "         subtotal = sum(self.items)\n"
    "-        tax = subtotal * 0.2\n"
    "+        tax = subtotal * 0.25\n"
    "         return subtotal + tax\n"
)


def test_scope_and_surrounding_lines() -> None:
    hunk = parse_file_patch(PATCH, "cart.py").hunks[0]
    context = hunk_context(SOURCE.splitlines(), hunk, around=2)
    assert context.scope == "8: def total(self):"
    assert context.before == ((7, ""), (8, "    def total(self):"))
    assert context.after == ()


def test_without_a_file_the_section_header_stands_in() -> None:
    hunk = parse_file_patch(
        PATCH.replace("@@ -9,3 +9,3 @@", "@@ -9,3 +9,3 @@ class Cart:"), "c.py"
    ).hunks[0]
    assert hunk_context(None, hunk, around=5).scope == "class Cart:"


def test_checkout_reads_files_and_never_escapes(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    (root / "a.py").write_text("x = 1\n")
    (root / "blob.bin").write_bytes(b"\0\1\2")
    (tmp_path / "secret.txt").write_text("outside")
    (root / "link.txt").symlink_to(tmp_path / "secret.txt")
    checkout = LocalCheckout(root)
    assert checkout.read("a.py") == "x = 1\n"
    assert checkout.read("../secret.txt") is None
    assert checkout.read("link.txt") is None
    assert checkout.read("blob.bin") is None
    assert checkout.read("missing.py") is None


def test_decode_file_drops_binary_and_oversized_files() -> None:
    assert decode_file("prix = 1 € \n".encode()) == "prix = 1 € \n"
    assert decode_file(b"caf\xe9") == "caf\ufffd"  # not UTF-8: replaced, never an error
    assert decode_file(b"\x89PNG\r\n\x1a\n\0\0") is None
    assert decode_file(b"a" * 9000 + b"\0") == "a" * 9000 + "\0"  # NUL past the sniffed start
    assert decode_file(b"a" * MAX_FILE_BYTES) is not None
    assert decode_file(b"a" * (MAX_FILE_BYTES + 1)) is None
    assert decode_file(b"") == ""


def test_checkout_skips_oversized_files(tmp_path: Path) -> None:
    (tmp_path / "big.txt").write_bytes(b"a" * (MAX_FILE_BYTES + 1))
    assert LocalCheckout(tmp_path).read("big.txt") is None


def test_guidelines_that_exist_are_read(tmp_path: Path) -> None:
    (tmp_path / "REVIEW.md").write_text("Money is integer cents.\n")
    found = read_guidelines(LocalCheckout(tmp_path), ("REVIEW.md", "docs/REVIEWING.md"))
    assert [(g.path, g.text) for g in found] == [("REVIEW.md", "Money is integer cents.")]


def test_context_around_a_pure_deletion() -> None:
    lines = [f"line {n}" for n in range(1, 11)]
    hunk = parse_file_patch("@@ -5,2 +4,0 @@\n-gone 5\n-gone 6\n", "f.py").hunks[0]
    context = hunk_context(lines, hunk, around=2)
    assert context.before == ((3, "line 3"), (4, "line 4"))
    assert context.after == ((5, "line 5"), (6, "line 6"))


def test_remote_files_are_read_at_the_reviewed_commit() -> None:
    asked: list[tuple[str, str]] = []

    def read_at(path: str, ref: str) -> str | None:
        asked.append((path, ref))
        return "text" if path == "a.py" else None

    files = RemoteFiles(read_at, "c0ffee")
    assert files.read("a.py") == "text"
    assert files.read("gone.py") is None
    assert asked == [("a.py", "c0ffee"), ("gone.py", "c0ffee")]


# ------------------------------------------------------------------ issue 8: confined reads


def test_reads_never_reach_vcs_metadata_or_leave_the_checkout(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    (root / ".git").mkdir(parents=True)
    (root / ".git" / "config").write_text("[http]\n\textraheader = AUTHORIZATION: basic x\n")
    (root / "sub" / ".hg").mkdir(parents=True)
    (root / "sub" / ".hg" / "hgrc").write_text("secret")
    (tmp_path / "outside.txt").write_text("outside")
    (root / "guide.md").symlink_to(root / ".git" / "config")
    (root / "out.md").symlink_to(tmp_path / "outside.txt")
    (root / "loop.py").symlink_to(root / "loop.py")
    (root / "ok.py").write_text("fine\n")
    checkout = LocalCheckout(root)
    for path in (".git/config", ".GIT/config", "sub/.hg/hgrc", "guide.md", "out.md", "loop.py"):
        assert checkout.read(path) is None, path
    assert checkout.read("sub/../.git/config") is None
    assert checkout.read("ok.py") == "fine\n"
    assert checkout.read("missing.py") is None
    assert checkout.skipped == {
        ".git/config": "inside VCS metadata (.git/)",
        ".GIT/config": "inside VCS metadata (.git/)",
        "sub/.hg/hgrc": "inside VCS metadata (.git/)",
        "guide.md": "inside VCS metadata (.git/)",
        "out.md": "outside the repository",
        "loop.py": "a symlink loop",
        "sub/../.git/config": "inside VCS metadata (.git/)",
    }


def test_a_path_that_cannot_be_read_is_skipped_with_the_reason(tmp_path: Path) -> None:
    (tmp_path / "dir.py").mkdir()
    checkout = LocalCheckout(tmp_path)
    assert checkout.read("dir.py") is None  # not a file: nothing to say
    long_name = "a" * 300 + ".py"  # a component over 255 bytes: stat fails
    assert checkout.read(long_name) is None
    assert checkout.skipped == {long_name: "unreadable (File name too long)"}


def test_remote_files_are_asked_for_repository_paths_only() -> None:
    asked: list[str] = []

    def read_at(path: str, ref: str) -> str | None:
        asked.append(path)
        return "text"

    remote = RemoteFiles(read_at, "a" * 40)
    for path in ("../other/x", "/etc/passwd", ".git/config", "a/.SVN/x", ""):
        assert remote.read(path) is None
    assert remote.read("src/app.py") == "text"
    assert asked == ["src/app.py"]
