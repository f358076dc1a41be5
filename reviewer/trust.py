"""What the change under review may decide: nothing. Everything it brings is data.

On `--github`/`--gitlab` runs the repository's config file is read at the **base** revision
(the target branch before the change), from the checkout only when the checkout is that
commit, else through the platform API; the change's own copy is never used. The keys in
TRUSTED_ONLY_KEYS decide where data and secrets go or what runs: they come only from flags,
the environment, an explicit `--config` outside the repository, or that base config.
`--diff` runs read the checkout's config, as the user's own. Whatever the source, paths the
config names (prompts_dir, cache_dir, the config file itself) stay inside the repository and
out of `.git/`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from reviewer.config import Config, build_config, parse_config_text, read_config_file
from reviewer.context import ContextSource, LocalCheckout, OutsideRepository, confine
from reviewer.diff import Diff
from reviewer.errors import ConfigError

# Keys that choose the model endpoint, the headers and models that receive the prompt, what
# runs (MCP servers, templates) or where files are written. Some belong to other parts of
# the config (pass_models, verifier_model, mcp_servers, gateway_metadata): named here all
# the same.
TRUSTED_ONLY_KEYS = frozenset(
    {
        "model",
        "fallback_models",
        "api_base",
        "extra_headers",
        "arms",
        "pass_models",
        "verifier_model",
        "mcp_servers",
        "prompts_dir",
        "cache_dir",
        "gateway_metadata",  # changes the headers and body the endpoint receives
    }
)
CONFIG_FILES = (".ai-review.toml", "pyproject.toml")
# (paths) -> the base commit and each path's text there (None: absent), read via the API.
FetchAtBase = Callable[[Sequence[str]], tuple[str, dict[str, str | None]]]


@dataclass(frozen=True)
class BaseRevision:
    """Where the trusted config of a platform run is read: the base commit, the commits a
    checkout may be at to be read directly, and the API read for any other case."""

    checkout_sha: str | None  # the commit checked out in the repository root, if known
    trusted_shas: frozenset[str]  # the base commit as the CI job names it
    fetch: FetchAtBase = field(repr=False)


@dataclass(frozen=True)
class TrustedConfig:
    config: Config
    base_texts: Mapping[str, str | None] = field(default_factory=dict)  # platform runs only


def load_trusted_config(
    checkout: Path | None,
    config_path: str | None,
    flags: Mapping[str, Any],
    base: BaseRevision | None,
    env: Mapping[str, str] = os.environ,
) -> TrustedConfig:
    """The run's Config: on platform runs (`base` given) the repository's file as the base
    revision has it; on `--diff` runs the checkout's. An explicit `--config` outside the
    checkout is the workflow's own file. Paths are confined to the repository root (the
    checkout, else the working directory)."""
    root = checkout or Path.cwd()
    explicit = _outside(checkout, config_path) if config_path is not None else None
    texts: dict[str, str | None] = {}
    if explicit is not None:
        values, source = _explicit_values(explicit)
    else:
        paths = (_relative(root, config_path),) if config_path is not None else CONFIG_FILES
        texts = _repository_texts(root, paths, base)
        if config_path is not None and texts[paths[0]] is None:
            where = " at the base revision" if base is not None else ""
            raise ConfigError(f"config file {config_path} does not exist{where}")
        values, source = values_from_texts(texts)
        if base is not None:
            source = f"{source} (base revision)"
    config = build_config(values, env, flags, source=source)
    repository_values = values if explicit is None else {}
    return TrustedConfig(
        _confined(config, root, repository_values), texts if base is not None else {}
    )


def values_from_texts(texts: Mapping[str, str | None]) -> tuple[dict[str, Any], str]:
    """The config a set of files holds, chosen as in a checkout: `.ai-review.toml`, else a
    pyproject.toml with a [tool.ai-review] table, else an explicitly named file."""
    for path, text in texts.items():
        if text is None:
            continue
        pyproject = Path(path).name == "pyproject.toml"
        if pyproject and "ai-review" not in text:
            continue
        return parse_config_text(text, path, pyproject=pyproject), path
    return {}, "config file"


def not_used_notes(diff: Diff, source: ContextSource, trusted: TrustedConfig) -> list[str]:
    """What the change brought that the review did not use, for the summary: its config
    edits, and files of the checkout that were not read (a symlink loop, a path into .git/)."""
    notes = [changed_config_note(diff, source.read, trusted)]
    if isinstance(source, LocalCheckout) and source.skipped:
        skipped = "; ".join(f"{path} ({why})" for path, why in sorted(source.skipped.items()))
        notes.append(f"Not read from the checkout: {skipped}.")
    return [note for note in notes if note]


def changed_config_note(
    diff: Diff, read_head: Callable[[str], str | None], base: TrustedConfig
) -> str:
    """One line for the summary when the change edits the config it would have been read
    from: its edits were not used, and which trusted-only keys it tried to set."""
    touched = [
        f.path for f in diff.files if f.path in base.base_texts or f.old_path in base.base_texts
    ]
    if not touched:
        return ""
    before = _values_or_none(dict(base.base_texts))
    after = _values_or_none({path: read_head(path) for path in base.base_texts})
    if after == before:
        return ""
    keys = sorted(k for k in TRUSTED_ONLY_KEYS if (after or {}).get(k) != (before or {}).get(k))
    tried = f" (it would set {', '.join(keys)})" if keys else ""
    return (
        f"The change edits {', '.join(touched)}: its config was not used{tried}; settings come "
        "from the base branch, flags and environment."
    )


def without_edited_templates(config: Config, diff: Diff, root: Path) -> tuple[Config, str]:
    """On a platform run the checkout may hold the change's own templates: when the change
    edits a file under prompts_dir, the shipped templates are used instead, with a note."""
    if not config.prompts_dir:
        return config, ""
    templates = Path(config.prompts_dir)
    base = root.resolve()
    for file in diff.files:
        for path in {file.path, file.old_path}:
            if (base / path).is_relative_to(templates):
                note = (
                    f"The change edits {path} under prompts_dir: the shipped templates were used."
                )
                return replace(config, prompts_dir=None), note
    return config, ""


def _values_or_none(texts: dict[str, str | None]) -> dict[str, Any] | None:
    try:
        return values_from_texts(texts)[0]
    except ConfigError:
        return None


def _repository_texts(
    root: Path, paths: Sequence[str], base: BaseRevision | None
) -> dict[str, str | None]:
    if base is not None and base.checkout_sha not in base.trusted_shas:
        return base.fetch(paths)[1]
    checkout = LocalCheckout(root)
    texts = {path: checkout.read(path) for path in paths}
    for path, why in checkout.skipped.items():
        # A config file that is a symlink out of the repository (or into .git/) is refused.
        raise ConfigError(f"config file {path} is refused: it is {why}")
    return texts


def _outside(checkout: Path | None, config_path: str) -> Path | None:
    """An explicit --config outside the checkout, read as it is (the workflow author's own
    file); None when it lies inside, where it is read like the repository's own."""
    path = Path(config_path)
    if checkout is None or not path.resolve().is_relative_to(checkout.resolve()):
        return path
    return None


def _relative(root: Path, config_path: str) -> str:
    return Path(config_path).resolve().relative_to(root.resolve()).as_posix()


def _explicit_values(path: Path) -> tuple[dict[str, Any], str]:
    if not path.is_file():
        raise ConfigError(f"config file {path} does not exist")
    return read_config_file(path, pyproject=path.name == "pyproject.toml"), str(path)


def _confined(config: Config, root: Path, repository_values: Mapping[str, Any]) -> Config:
    """prompts_dir, whatever its source, and a cache_dir the repository's own file chose, as
    paths inside the repository; an absolute path out of it is a config error."""
    if config.prompts_dir:
        config = replace(config, prompts_dir=str(_inside(root, config.prompts_dir, "prompts_dir")))
    if config.cache_dir and repository_values.get("cache_dir") == config.cache_dir:
        config = replace(config, cache_dir=str(_inside(root, config.cache_dir, "cache_dir")))
    return config


def _inside(root: Path, value: str, key: str) -> Path:
    try:
        return confine(root, value)
    except OutsideRepository as exc:
        raise ConfigError(f"`{key}` {value!r} is refused: it is {exc}") from exc


def load_config(repo_root: Path, config_path: str | None, flags: Mapping[str, Any]) -> Config:
    """Read the config file (explicit, or found in the checkout), the environment and flags,
    as a local run does: paths confined to the checkout (a --github/--gitlab run reads its
    config at the base commit instead: `load_trusted_config` with a BaseRevision)."""
    return load_trusted_config(repo_root, config_path, flags, None).config
