"""Token counts, prices and key checks from litellm's bundled data, without importing it."""

from __future__ import annotations

from pathlib import Path

import pytest

from reviewer import pricing


def test_prices_and_tokens_come_from_the_bundled_data() -> None:
    # That nothing here imports litellm is checked end to end: a fully cached rerun
    # (tests/test_cli_errors.py) counts tokens and never loads it.
    assert pricing.price_per_token("openai/gpt-4.1-mini") == (4e-7, 1.6e-6)
    assert pricing.price_per_token("gpt-4.1-mini") == (4e-7, 1.6e-6)
    assert pricing.count_tokens("openai/gpt-4.1-mini", "hello world") == 2


def test_unknown_models_have_no_price_and_keys_are_checked_per_provider(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert pricing.price_per_token("openai/house-model-without-a-price") is None
    assert pricing.missing_key("anthropic/claude-sonnet-4-5") == "ANTHROPIC_API_KEY"
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant")
    assert pricing.missing_key("anthropic/claude-sonnet-4-5") is None
    assert pricing.missing_key("ollama/qwen2.5-coder") is None  # a local server needs none
    assert pricing.provider("gpt-4.1") == "openai"


def test_without_the_bundled_tokenizer_tokens_are_estimated_not_downloaded(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("CUSTOM_TIKTOKEN_CACHE_DIR", str(tmp_path))  # holds no encoding file
    pricing._encoding.cache_clear()
    try:
        assert pricing.count_tokens("openai/gpt-4.1-mini", "x" * 40) == 10
    finally:
        pricing._encoding.cache_clear()


def test_counts_match_litellms_token_counter_so_chunks_stay_where_they_were() -> None:
    from reviewer.gateway import _litellm

    text = (Path(__file__).resolve().parent.parent / "examples" / "sample.diff").read_text() * 3
    assert len(text) > 2 * pricing.SLICE_CHARS
    for part in (text, text[:1500], "def f(x):\n    return x + 1\n"):
        expected = _litellm().token_counter(model="gpt-4o", text=part)
        assert pricing.count_tokens("openai/gpt-4.1-mini", part) == expected
