"""How deep a change is reviewed, decided from its risk: a pure function of the diff.

- trivial: a few changed lines, no security-sensitive path: one pass, no verifier;
- lite: a small change: one pass, then the verifier;
- full: a large or security-sensitive change: the specialist passes, then the verifier.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the command line imports DEPTHS: nothing heavy (unidiff) at start-up
    from reviewer.diff import FileDiff

DEPTHS = ("auto", "trivial", "lite", "full")
SINGLE_PASS = "review"  # noqa: S105 - the general prompt (system.j2) that trivial and lite changes get
DEFAULT_PASSES = ("correctness", "security", "performance")
# Paths whose change is security-sensitive whatever its size, matched case-insensitively
# against the whole path (`*` crosses directories): auth, crypto, secrets handling,
# permissions, payments, migrations, CI and deployment files, dependency manifests.
DEFAULT_RISK_PATHS = (
    "*auth*", "*login*", "*passw*", "*session*", "*crypt*", "*secret*", "*credential*",
    "*token*", "*permission*", "*rbac*", "*acl*", "*payment*", "*billing*", "*migration*",
    ".github/workflows/*", "*.gitlab-ci.yml", "*jenkinsfile", "*dockerfile*", "*.tf",
    "*deploy*", "*helm/*", "*k8s/*", "*requirements*.txt", "*pyproject.toml", "*setup.py",
    "*package.json", "*go.mod", "*cargo.toml", "*gemfile", "*pom.xml", "*build.gradle*",
)  # fmt: skip


@dataclass(frozen=True)
class DepthPlan:
    """The tier of one review, why, the passes it runs and whether the verifier runs."""

    tier: str
    reason: str
    passes: tuple[str, ...]
    verify: bool


@dataclass(frozen=True)
class DepthPolicy:
    depth: str = "auto"
    verify: bool = True
    passes: tuple[str, ...] = DEFAULT_PASSES
    trivial_max_lines: int = 10
    full_min_lines: int = 200
    risk_paths: tuple[str, ...] = DEFAULT_RISK_PATHS


def plan_depth(files: Sequence[FileDiff], policy: DepthPolicy) -> DepthPlan:
    """The tier `policy.depth` names, or for "auto" the one the change's risk calls for."""
    tier, reason = _auto(files, policy) if policy.depth == "auto" else (policy.depth, "")
    reason = reason or "chosen with --depth or depth in the config"
    passes = policy.passes if tier == "full" else (SINGLE_PASS,)
    return DepthPlan(tier, reason, passes, policy.verify and tier != "trivial")


def risky_path(files: Sequence[FileDiff], patterns: Sequence[str]) -> str | None:
    """The first security-sensitive path of the change, or None."""
    lowered = tuple(pattern.lower() for pattern in patterns)
    for file in files:
        for path in dict.fromkeys((file.path, file.old_path)):
            if any(_matches(path.lower(), pattern) for pattern in lowered):
                return path
    return None


def _matches(path: str, pattern: str) -> bool:
    # as `exclude` patterns match (reviewer.select): `**/x` also matches `x` at the root
    return fnmatchcase(path, pattern) or (
        pattern.startswith("**/") and fnmatchcase(path, pattern[3:])
    )


def _auto(files: Sequence[FileDiff], policy: DepthPolicy) -> tuple[str, str]:
    from reviewer.budget import DOCS, path_kind  # not at start-up: it imports the diff parser

    changed = sum(file.changed for file in files)
    lines = f"{changed} changed line{'s' if changed != 1 else ''}"
    risky = risky_path(files, policy.risk_paths)
    if risky is not None:
        return "full", f"security-sensitive path {risky}"
    # Prose is not code: a long documentation change gets one pass, not the specialists.
    code = sum(file.changed for file in files if path_kind(file.path) != DOCS)
    if code >= policy.full_min_lines:
        return "full", f"{lines} (full_min_lines = {policy.full_min_lines})"
    if changed >= policy.full_min_lines:
        return "lite", f"{lines}, {code} outside documentation"
    if changed <= policy.trivial_max_lines:
        return "trivial", f"{lines} (trivial_max_lines = {policy.trivial_max_lines})"
    return "lite", f"{lines}, under full_min_lines = {policy.full_min_lines}"
