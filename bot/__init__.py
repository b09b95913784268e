"""What the bot knows how to do: analysis, logs, providers, rendering; no HTTP framework code."""
