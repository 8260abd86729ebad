"""The price table: lookups by family, user registrations, cost arithmetic."""

from __future__ import annotations

import pytest

from muster.models.pricing import estimate_cost, get_model_price, register_model_price


def test_dated_snapshots_use_the_longest_family_entry() -> None:
    assert get_model_price("gpt-4o-2024-08-06") == get_model_price("gpt-4o")
    assert get_model_price("gpt-4o-mini-2024-07-18") == get_model_price("gpt-4o-mini")
    assert get_model_price("claude-3-5-sonnet-20241022") == get_model_price("claude-3-5-sonnet")
    assert get_model_price("gpt-4o") != get_model_price("gpt-4")


def test_unknown_models_have_no_price() -> None:
    assert get_model_price("my-llama") is None
    assert estimate_cost("my-llama", input_tokens=10, output_tokens=10) is None


def test_registered_price_is_used_and_cached_rate_defaults_to_input_rate() -> None:
    register_model_price("house-model-xyz", input_per_mtok=2.0, output_per_mtok=4.0)
    cost = estimate_cost(
        "house-model-xyz-v2", input_tokens=500_000, output_tokens=250_000, cached_input_tokens=500_000
    )
    assert cost == pytest.approx(1.0 + 1.0 + 1.0)
    register_model_price("house-model-xyz", 2.0, 4.0, 0.5)
    assert (
        estimate_cost("house-model-xyz", input_tokens=0, output_tokens=0, cached_input_tokens=1_000_000)
        == 0.5
    )


def test_anthropic_cache_reads_and_writes() -> None:
    cost = estimate_cost(
        "claude-sonnet-4-20250514",
        input_tokens=1_000_000,
        output_tokens=0,
        cached_input_tokens=1_000_000,
        cache_write_tokens=1_000_000,
    )
    assert cost == pytest.approx(3.0 + 0.3 + 3.75)


def test_negative_prices_are_rejected() -> None:
    with pytest.raises(ValueError):
        register_model_price("bad", -1.0, 1.0)


def test_registering_a_family_reprices_dated_names_already_looked_up() -> None:
    # Lookups are remembered per name; a registration must not leave a stale answer behind.
    assert get_model_price("house-family-qq-2025-01-01") is None
    register_model_price("house-family-qq", input_per_mtok=1.0, output_per_mtok=2.0)
    price = get_model_price("house-family-qq-2025-01-01")
    assert price is not None and price.input_per_mtok == 1.0
    register_model_price("house-family-qq-2025", input_per_mtok=3.0, output_per_mtok=4.0)
    price = get_model_price("house-family-qq-2025-01-01")
    assert price is not None and price.input_per_mtok == 3.0
