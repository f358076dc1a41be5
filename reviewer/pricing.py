"""Token counts, prices and key variables, without importing litellm.

Importing litellm takes seconds and hundreds of MB; a run that sends nothing (no model, or every
chunk answered by the cache) must not pay it. The data litellm ships is read as data instead:
its bundled price map (JSON) and its bundled tiktoken files. Nothing here reaches the network.
"""

from __future__ import annotations

import importlib.util
import json
import os
from functools import cache
from pathlib import Path
from typing import Any

PRICE_MAP = "model_prices_and_context_window_backup.json"
ENCODING = "o200k_base"
ENCODING_FILE = "fb374d419588a4632f3f557e76b4b70aebbca790"  # sha1 of its URL, tiktoken's cache key
CHARS_PER_TOKEN = 4  # the estimate when no tokenizer file is at hand
SLICE_CHARS = 1024  # litellm's TIKTOKEN_ENCODE_CHUNK_SIZE_CHARS default

# Providers whose only credential is one key variable; others (local servers, cloud roles) can
# work with nothing in the environment and are not checked before sending.
KEY_VARIABLES = {
    "openai": "OPENAI_API_KEY",
    "anthropic": "ANTHROPIC_API_KEY",
    "openrouter": "OPENROUTER_API_KEY",
    "gemini": "GEMINI_API_KEY",
    "mistral": "MISTRAL_API_KEY",
    "groq": "GROQ_API_KEY",
    "deepseek": "DEEPSEEK_API_KEY",
    "xai": "XAI_API_KEY",
    "together_ai": "TOGETHERAI_API_KEY",
    "fireworks_ai": "FIREWORKS_AI_API_KEY",
    "cohere": "COHERE_API_KEY",
}


def provider(model: str) -> str:
    return model.split("/", 1)[0] if "/" in model else "openai"


def missing_key(model: str) -> str | None:
    """The key variable `model` needs and the environment lacks, if any."""
    variable = KEY_VARIABLES.get(provider(model))
    return variable if variable and not os.environ.get(variable) else None


@cache
def _litellm_dir() -> Path | None:
    spec = importlib.util.find_spec("litellm")  # locates the package without importing it
    locations = spec.submodule_search_locations if spec is not None else None
    return Path(next(iter(locations))) if locations else None


@cache
def _price_map() -> dict[str, Any]:
    folder = _litellm_dir()
    if folder is None or not (folder / PRICE_MAP).is_file():
        return {}
    data = json.loads((folder / PRICE_MAP).read_text(encoding="utf-8"))
    return data if isinstance(data, dict) else {}


def price_per_token(model: str) -> tuple[float, float] | None:
    """(input, output) USD per token from litellm's bundled price map, or None if unknown."""
    prices = _price_map()
    entry = prices.get(model) or prices.get(model.split("/", 1)[-1])
    if not isinstance(entry, dict) or "input_cost_per_token" not in entry:
        return None
    return float(entry["input_cost_per_token"]), float(entry.get("output_cost_per_token", 0.0))


@cache
def _encoding() -> Any:
    """tiktoken's o200k encoding from the file litellm bundles; None when it is absent (then
    tiktoken would download it, and the tool reaches no host but the model endpoint)."""
    folder = _litellm_dir()
    tokenizers = folder / "litellm_core_utils" / "tokenizers" if folder else None
    custom = os.environ.get("CUSTOM_TIKTOKEN_CACHE_DIR")
    where = Path(custom) if custom else tokenizers
    if where is None or not (where / ENCODING_FILE).is_file():
        return None
    os.environ["TIKTOKEN_CACHE_DIR"] = str(where)  # what litellm itself sets on import
    import tiktoken

    return tiktoken.get_encoding(ENCODING)


def count_tokens(model: str, text: str) -> int:
    """Tokens of `text`: an estimate for budgets and chunk sizes, the same for every model.
    Counted as litellm's token_counter counts (o200k, in 1,024-character slices), so chunk
    boundaries, and the prompts recorded from them, stay what they were."""
    encoding = _encoding()
    if encoding is None:
        return (len(text) + CHARS_PER_TOKEN - 1) // CHARS_PER_TOKEN
    slices = range(0, len(text), SLICE_CHARS)
    return sum(
        len(encoding.encode(text[i : i + SLICE_CHARS], disallowed_special=())) for i in slices
    )
