"""The repository as tools (read_file, search_code), and the session that answers a model's
tool calls from a sequence of ToolBoxes: confined, redacted, capped and counted.

Paths are repository-relative: absolute paths, `..`, anything under `.git/` and symlinks
resolving outside the root are refused with a ToolError before a byte is read.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from fnmatch import fnmatchcase
from pathlib import Path, PurePosixPath
from typing import Any

from reviewer.context import (
    VCS_METADATA,
    ContextSource,
    LocalCheckout,
    OutsideRepository,
    confine,
)
from reviewer.errors import ReviewError
from reviewer.prompt import neutralize_tags
from reviewer.redact import redact_lines, redact_text
from reviewer.toolbox import ToolBox, ToolError, ToolReportedError, ToolSpec

MAX_READ_LINES = 400
MAX_SEARCH_HITS = 50
MAX_SEARCH_FILES = 5000
MAX_SEARCH_BYTES = 20_000_000  # what one search reads at most
MAX_SCANNED_LINE = 500  # longer lines are cut before matching: bounds regex backtracking
MAX_PATTERN = 200
MAX_QUANTIFIERS = 3
_QUANTIFIED_GROUP = re.compile(r"\)\s*[*+?{]")
_BACKREFERENCE = re.compile(r"\\[1-9]|\(\?P=")
_QUANTIFIER = re.compile(r"(?<!\\)(?:[*+]|\{\d*,?\d*\})")
# Files that hold credentials rather than code: a CI workspace may have them next to the
# checkout (written by an earlier step) and a model steered by the diff could ask for them.
CREDENTIAL_FILES = (
    ".env", ".env.*", "*.pem", "*.key", "*.p12", "*.pfx", "*.jks", "*.keystore", "id_rsa*",
    "id_dsa*", "id_ecdsa*", "id_ed25519*", ".npmrc", ".pypirc", ".netrc", "_netrc",
    ".git-credentials", ".dockercfg", "credentials", "credentials.json", ".htpasswd",
    "service-account*.json", "*-credentials.json", "*.tfvars", "*.tfstate",
)  # fmt: skip
RESULT_BYTES = 16_000  # per tool result
REVIEW_BYTES = 400_000  # all tool results of one review together

READ_FILE = ToolSpec(
    "read_file",
    "Read lines of a repository file at the reviewed commit, numbered.",
    {
        "type": "object",
        "properties": {
            "path": {"type": "string", "description": "repository-relative path"},
            "start_line": {"type": "integer", "minimum": 1},
            "end_line": {"type": "integer", "minimum": 1},
        },
        "required": ["path"],
    },
)
SEARCH_CODE = ToolSpec(
    "search_code",
    "Search the repository's files for a literal string or regular expression; returns "
    "matching lines as `path:line: text`.",
    {
        "type": "object",
        "properties": {
            "pattern": {"type": "string"},
            "path_glob": {"type": "string", "description": "e.g. src/**/*.py"},
        },
        "required": ["pattern"],
    },
)


def checked_path(path: Any) -> str:
    """The repository-relative path, or ToolError for anything that could leave the root."""
    if not isinstance(path, str) or not path.strip() or "\0" in path:
        raise ToolError("`path` must be a repository-relative file path")
    text = path.strip().replace("\\", "/")
    if text.startswith("/") or re.match(r"^[A-Za-z]:", text):
        raise ToolError(f"refused: {path!r} is absolute; paths are relative to the repository")
    parts = [part for part in PurePosixPath(text).parts if part != "."]
    if ".." in parts:
        raise ToolError(f"refused: {path!r} leaves the repository")
    if ".git" in parts:
        raise ToolError(f"refused: {path!r} is under .git/")
    if not parts:
        raise ToolError("`path` must name a file")
    if is_credential_file(parts[-1]):
        raise ToolError(f"refused: {path!r} is a credentials file")
    return "/".join(parts)


def is_credential_file(name: str) -> bool:
    return any(fnmatchcase(name.lower(), pattern) for pattern in CREDENTIAL_FILES)


class RepositoryTools:
    """read_file and search_code over the reviewed commit. With a checkout (`root`), files
    are read from disk with the confinement checks here; without one, through the context
    source (a platform's file API), and search_code is not offered (no tree listing yet)."""

    def __init__(
        self, source: ContextSource, root: Path | None = None, *,
        search_bytes: int = MAX_SEARCH_BYTES,
    ) -> None:  # fmt: skip
        self._source = source
        self._root = root.resolve() if root is not None else None
        self._checkout = LocalCheckout(self._root) if self._root is not None else None
        self._search_bytes = search_bytes

    def specs(self) -> tuple[ToolSpec, ...]:
        return (READ_FILE, SEARCH_CODE) if self._root is not None else (READ_FILE,)

    def call(self, name: str, arguments: Mapping[str, Any]) -> str:
        if name == READ_FILE.name:
            return self._read_file(arguments)
        if name == SEARCH_CODE.name and self._root is not None:
            return self._search(arguments)
        raise ToolError(f"unknown tool {name!r}")

    def _text(self, path: str) -> str:
        """The file redacted as a whole, before any line is cut or numbered: a key's body
        lines are only recognisable between its BEGIN and END lines."""
        try:
            text = self._local(path) if self._root is not None else self._source.read(path)
        except (ReviewError, OSError) as exc:  # the platform's file API failed: a tool error
            raise ToolError(f"{path}: could not be read ({exc})") from exc
        if text is None:
            raise ToolError(f"{path}: no such text file at the reviewed commit")
        return "\n".join(redact_lines(text))

    def _local(self, path: str) -> str | None:
        # The one confined reader of the checkout (symlinks resolved, never under .git/).
        assert self._root is not None and self._checkout is not None
        try:
            confine(self._root, path)
        except OutsideRepository as exc:
            raise ToolError(f"refused: {path!r} resolves {exc}") from exc
        return self._checkout.read(path)

    def _read_file(self, arguments: Mapping[str, Any]) -> str:
        path = checked_path(arguments.get("path"))
        lines = self._text(path).splitlines()
        first = _positive(arguments.get("start_line"), 1)
        last = min(_positive(arguments.get("end_line"), first + MAX_READ_LINES - 1), len(lines))
        last = min(last, first + MAX_READ_LINES - 1)
        if first > len(lines):
            return f"{path} has {len(lines)} lines"
        last = max(last, first)  # an end before the start: the start line alone
        numbered = (f"{n:>5}  {lines[n - 1]}" for n in range(first, last + 1))
        return f"{path} lines {first}-{last} of {len(lines)}:\n" + "\n".join(numbered)

    def _search(self, arguments: Mapping[str, Any]) -> str:
        pattern = arguments.get("pattern")
        if not isinstance(pattern, str) or not pattern or len(pattern) > MAX_PATTERN:
            raise ToolError(f"`pattern` must be a non-empty string of at most {MAX_PATTERN}")
        glob = arguments.get("path_glob")
        match = _matcher(pattern)
        hits: list[str] = []
        scanned = 0
        for path in self._files(glob if isinstance(glob, str) and glob else None):
            try:
                raw = self._local(path) or ""
            except ToolError:  # refused or unreadable: one file less to search, not a failure
                continue
            scanned += len(raw)
            if scanned > self._search_bytes:
                hits.append(
                    f"(search stopped after {self._search_bytes:,} bytes: narrow path_glob)"
                )
                break
            if not any(match(line[:MAX_SCANNED_LINE]) for line in raw.splitlines()):
                continue  # redacting costs more than matching: only files with a hit
            # Matched again once redacted, so a pattern can never probe a secret's value.
            for number, line in enumerate(redact_lines(raw), start=1):
                if match(line[:MAX_SCANNED_LINE]):
                    hits.append(f"{path}:{number}: {line.strip()[:MAX_SCANNED_LINE]}")
                if len(hits) >= MAX_SEARCH_HITS:
                    return "\n".join(hits) + f"\n(first {MAX_SEARCH_HITS} matches)"
        return "\n".join(hits) or "no match"

    def _files(self, glob: str | None) -> Iterator[str]:
        """Regular files under the root, sorted, never under .git nor through symlinks."""
        assert self._root is not None
        seen = 0
        for folder, dirs, names in os.walk(self._root):
            dirs[:] = sorted(
                d
                for d in dirs
                if d.lower() not in VCS_METADATA and not Path(folder, d).is_symlink()
            )
            for name in sorted(names):
                full = Path(folder, name)
                path = full.relative_to(self._root).as_posix()
                skipped = full.is_symlink() or is_credential_file(name)
                if skipped or (glob and not _glob(path, glob)):
                    continue
                seen += 1
                if seen > MAX_SEARCH_FILES:
                    return
                yield path


def _positive(value: Any, default: int) -> int:
    return (
        value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else default
    )


def _glob(path: str, glob: str) -> bool:
    return fnmatchcase(path, glob) or (glob.startswith("**/") and fnmatchcase(path, glob[3:]))


def _matcher(pattern: str) -> Callable[[str], bool]:
    """A literal string (anything that is not a valid regular expression) or a regular
    expression without the shapes that backtrack exponentially: the pattern comes from a
    model that read untrusted text, and a search must not hang the review."""
    try:
        compiled = re.compile(pattern)
    except re.error:
        compiled = re.compile(re.escape(pattern))
    else:
        if _QUANTIFIED_GROUP.search(pattern) or _BACKREFERENCE.search(pattern):
            raise ToolError("refused: no repeated groups or backreferences in `pattern`")
        if len(_QUANTIFIER.findall(pattern)) > MAX_QUANTIFIERS:
            raise ToolError(f"refused: at most {MAX_QUANTIFIERS} repetitions in `pattern`")
    return lambda line: compiled.search(line) is not None


class ToolSession:
    """Answers one review's tool calls: each call goes to the box whose specs name it.
    Results are redacted like the diff, capped per result and per review, tagged as
    untrusted data; refused calls are results too. Thread-safe: conversations overlap."""

    def __init__(
        self,
        boxes: Sequence[ToolBox],
        *,
        result_bytes: int = RESULT_BYTES,
        review_bytes: int = REVIEW_BYTES,
    ) -> None:
        self._owners: dict[str, ToolBox] = {}
        self._specs: list[ToolSpec] = []
        for box in boxes:
            for spec in box.specs():
                if spec.name not in self._owners:  # the first box to name a tool answers it
                    self._owners[spec.name] = box
                    self._specs.append(spec)
        self._result_bytes = result_bytes
        self._left = review_bytes
        self._lock = threading.Lock()
        self.calls = 0
        self.refused = 0

    def openai_specs(self) -> tuple[dict[str, Any], ...]:
        return tuple(
            {
                "type": "function",
                "function": {
                    "name": s.name,
                    "description": s.description,
                    "parameters": dict(s.parameters),
                },
            }
            for s in self._specs
        )

    def dispatch(self, name: str, arguments: str) -> str:
        """The result text the model reads; never raises."""
        try:
            text = redact_text(self._answer(name, arguments))
        except ToolReportedError as exc:  # the tool's own words: data, like a result
            with self._lock:
                self.refused += 1
            return _tagged(self._capped(redact_text(f"error: {exc}")))
        except ToolError as exc:
            with self._lock:
                self.calls += 1
                self.refused += 1
            return f"error: {exc}"
        return _tagged(self._capped(text))

    def _answer(self, name: str, arguments: str) -> str:
        box = self._owners.get(name)
        if box is None:
            raise ToolError(f"unknown tool {name!r}; offered: {', '.join(self._owners)}")
        try:
            parsed = json.loads(arguments or "{}")
        except json.JSONDecodeError as exc:
            raise ToolError("the arguments are not valid JSON") from exc
        if not isinstance(parsed, dict):
            raise ToolError("the arguments must be a JSON object")
        return box.call(name, parsed)

    def _capped(self, text: str) -> str:
        data = text.encode("utf-8", errors="replace")
        with self._lock:
            self.calls += 1
            room = min(self._result_bytes, self._left)
            self._left -= min(len(data), room)
        if len(data) <= room:
            return text
        if room <= 0:
            return "(the review's tool output budget is spent)"
        return data[:room].decode("utf-8", errors="ignore") + "\n(truncated)"


def _tagged(text: str) -> str:
    # Data from the repository, like the diff: tag-like text inside is made inert and the
    # closing tag carries a nonce derived from the text, so it cannot close its own tag.
    text = neutralize_tags(text)
    nonce = hashlib.sha256(text.encode("utf-8", errors="replace")).hexdigest()[:12]
    return f"<untrusted-tool-result-{nonce}>\n{text}\n</untrusted-tool-result-{nonce}>"


def repository_tools(source: ContextSource) -> RepositoryTools:
    """The repository ToolBox of a review: over the checkout's files when there is one (so
    search_code can walk it), else over the platform's file API (read_file only)."""
    root = source.root if isinstance(source, LocalCheckout) else None
    return RepositoryTools(source, root)
