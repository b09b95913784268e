"""Cost of a model call from a price table in USD per million tokens (input, output, cached input)."""

from __future__ import annotations

from collections.abc import Mapping

Prices = Mapping[str, tuple[float, float, float]]

# Default prices in USD per million tokens: (input, output, cached input).
# Operators override or extend them with AI_PRICES; unknown models cost 0 and are logged.
DEFAULT_PRICES: dict[str, tuple[float, float, float]] = {
    "gpt-4o-mini": (0.15, 0.60, 0.075),
    "gpt-4o": (2.50, 10.00, 1.25),
    "gpt-4.1": (2.00, 8.00, 0.50),
    "gpt-4.1-mini": (0.40, 1.60, 0.10),
    "gpt-5-mini": (0.25, 2.00, 0.025),
    "claude-sonnet-4-5": (3.00, 15.00, 0.30),
    "claude-sonnet-4-6": (3.00, 15.00, 0.30),
    "claude-haiku-4-5": (1.00, 5.00, 0.10),
    "claude-opus-4-1": (15.00, 75.00, 1.50),
}


def price_table(extra: Prices) -> dict[str, tuple[float, float, float]]:
    """The default table with AI_PRICES laid over it."""
    return {**DEFAULT_PRICES, **{k: tuple(v) for k, v in extra.items()}}


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
