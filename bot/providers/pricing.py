"""Cost of a model call from a price table in USD per million tokens (input, output, cached input)."""
from __future__ import annotations

from collections.abc import Mapping

Prices = Mapping[str, tuple[float, float, float]]


def price_for(model: str, prices: Prices) -> tuple[float, float, float] | None:
    """Exact model name first, then the longest key the name starts with (dated snapshots such as gpt-4o-2024-08-06)."""
    if not model:
        return None
    if model in prices:
        return prices[model]
    candidates = [key for key in prices if model.startswith(key)]
    if not candidates:
        return None
    return prices[max(candidates, key=len)]


def cost_usd(model: str, tokens_in: int, tokens_out: int, tokens_cached: int, prices: Prices) -> float:
    """USD for one call; tokens_in includes the cached input tokens; unknown models cost 0."""
    price = price_for(model, prices)
    if price is None:
        return 0.0
    p_in, p_out, p_cached = price
    cached = max(0, min(tokens_cached, tokens_in))
    fresh = max(0, tokens_in - cached)
    return round((fresh * p_in + cached * p_cached + max(0, tokens_out) * p_out) / 1_000_000, 8)
