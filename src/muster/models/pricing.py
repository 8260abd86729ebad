"""Model prices, to report what each call cost in USD.

The table ships list prices (USD per million tokens) for common OpenAI and Anthropic
models as known when this module was written; prices change, so treat the numbers as
estimates and register your own (negotiated rates, fine-tunes, local models at 0)::

    register_model_price("my-finetune", input_per_mtok=3.0, output_per_mtok=12.0)

A model name matches its own entry, or else the longest entry it extends with a dash,
so dated snapshots (``gpt-4o-2024-08-06``, ``claude-3-5-sonnet-20241022``) find
their family's price. Unknown models cost ``None`` (unknown), never a made-up 0.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

__all__ = ["ModelPrice", "estimate_cost", "get_model_price", "register_model_price"]


@dataclass(frozen=True, slots=True)
class ModelPrice:
    """USD per million tokens."""

    input_per_mtok: float
    """Prompt tokens billed at the normal rate."""
    output_per_mtok: float
    """Completion tokens (reasoning tokens included)."""
    cached_input_per_mtok: float | None = None
    """Prompt tokens read from the provider's prompt cache; ``None`` means the normal rate."""
    cache_write_per_mtok: float | None = None
    """Prompt tokens written to the cache (Anthropic); ``None`` means the normal rate."""


def _anthropic(input_price: float, output_price: float) -> ModelPrice:
    # Anthropic bills cache reads at a tenth of the input price and 5-minute cache
    # writes at a quarter more.
    return ModelPrice(input_price, output_price, input_price * 0.1, input_price * 1.25)


_PRICES: dict[str, ModelPrice] = {
    "gpt-5": ModelPrice(1.25, 10.0, 0.125),
    "gpt-5-mini": ModelPrice(0.25, 2.0, 0.025),
    "gpt-5-nano": ModelPrice(0.05, 0.40, 0.005),
    "gpt-4.1": ModelPrice(2.0, 8.0, 0.50),
    "gpt-4.1-mini": ModelPrice(0.40, 1.60, 0.10),
    "gpt-4.1-nano": ModelPrice(0.10, 0.40, 0.025),
    "gpt-4o": ModelPrice(2.50, 10.0, 1.25),
    "gpt-4o-mini": ModelPrice(0.15, 0.60, 0.075),
    "gpt-4-turbo": ModelPrice(10.0, 30.0),
    "gpt-4": ModelPrice(30.0, 60.0),
    "gpt-3.5-turbo": ModelPrice(0.50, 1.50),
    "o1": ModelPrice(15.0, 60.0, 7.50),
    "o1-mini": ModelPrice(1.10, 4.40, 0.55),
    "o3": ModelPrice(2.0, 8.0, 0.50),
    "o3-mini": ModelPrice(1.10, 4.40, 0.55),
    "o4-mini": ModelPrice(1.10, 4.40, 0.275),
    "claude-3-haiku": _anthropic(0.25, 1.25),
    "claude-3-5-haiku": _anthropic(0.80, 4.0),
    "claude-haiku-4-5": _anthropic(1.0, 5.0),
    "claude-3-sonnet": _anthropic(3.0, 15.0),
    "claude-3-5-sonnet": _anthropic(3.0, 15.0),
    "claude-3-7-sonnet": _anthropic(3.0, 15.0),
    "claude-sonnet-4": _anthropic(3.0, 15.0),
    "claude-sonnet-4-5": _anthropic(3.0, 15.0),
    "claude-3-opus": _anthropic(15.0, 75.0),
    "claude-opus-4": _anthropic(15.0, 75.0),
    "claude-opus-4-1": _anthropic(15.0, 75.0),
}
_lock = threading.Lock()
_resolved: dict[str, ModelPrice | None] = {}
"""``get_model_price`` answers by name: a dated name otherwise scans the whole table on
every call, and every finished call asks. Cleared whenever the table changes."""
_RESOLVED_MAX = 1024
"""Names remembered at most, so a stream of made-up model names cannot grow it forever."""


def register_model_price(
    model: str,
    input_per_mtok: float,
    output_per_mtok: float,
    cached_input_per_mtok: float | None = None,
    *,
    cache_write_per_mtok: float | None = None,
) -> None:
    """Add or replace the price of ``model`` (and of dated names that extend it)."""
    if min(input_per_mtok, output_per_mtok) < 0:
        raise ValueError("prices cannot be negative")
    price = ModelPrice(input_per_mtok, output_per_mtok, cached_input_per_mtok, cache_write_per_mtok)
    with _lock:
        _PRICES[model] = price
        # A new entry can change the answer for other names too (dated names extending it).
        _resolved.clear()


def get_model_price(model: str) -> ModelPrice | None:
    """The price for ``model``: its own entry, else the longest ``<entry>-...`` it extends."""
    try:
        return _resolved[model]
    except KeyError:
        pass
    # Resolved under the lock so that a registration cannot slip between reading the table
    # and remembering the answer (which would keep a stale price).
    with _lock:
        price = _PRICES.get(model)
        if price is None:
            best: str | None = None
            for name in _PRICES:
                if model.startswith(name + "-") and (best is None or len(name) > len(best)):
                    best = name
            price = _PRICES[best] if best is not None else None
        if len(_resolved) >= _RESOLVED_MAX:
            _resolved.clear()
        _resolved[model] = price
    return price


def estimate_cost(
    model: str,
    *,
    input_tokens: int,
    output_tokens: int,
    cached_input_tokens: int = 0,
    cache_write_tokens: int = 0,
) -> float | None:
    """USD cost of one call, or ``None`` when the model has no known price.

    Args:
        model: The model name the provider reported (or was asked for).
        input_tokens: Prompt tokens billed at the normal rate (cached ones excluded).
        output_tokens: Completion tokens.
        cached_input_tokens: Prompt tokens served from the provider's cache.
        cache_write_tokens: Prompt tokens written to the cache.
    """
    price = get_model_price(model)
    if price is None:
        return None
    cached_rate = price.input_per_mtok if price.cached_input_per_mtok is None else price.cached_input_per_mtok
    write_rate = price.input_per_mtok if price.cache_write_per_mtok is None else price.cache_write_per_mtok
    total = (
        input_tokens * price.input_per_mtok
        + output_tokens * price.output_per_mtok
        + cached_input_tokens * cached_rate
        + cache_write_tokens * write_rate
    )
    return total / 1_000_000
