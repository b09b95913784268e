"""Prometheus metrics: deliveries, queue, job durations, analyses, tokens and cost."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily


class _HistoryCollector:
    """Analyses, tokens and cost come from the database, so every replica reports the same totals."""

    def __init__(self) -> None:
        self.snapshot: list[dict] = []

    def collect(self):
        analyses = CounterMetricFamily(
            "cicdbot_analyses", "Analyses stored, by provider and outcome", labels=["provider", "outcome"]
        )
        tokens = CounterMetricFamily(
            "cicdbot_model_tokens", "Model tokens used, by provider and direction", labels=["provider", "direction"]
        )
        cost = CounterMetricFamily("cicdbot_model_cost_usd", "Model cost in USD, by provider", labels=["provider"])
        for row in self.snapshot:
            analyses.add_metric([row["provider"], row["outcome"]], row["count"])
        by_provider: dict[str, dict] = {}
        for row in self.snapshot:
            agg = by_provider.setdefault(row["provider"], {"in": 0, "out": 0, "cached": 0, "cost": 0.0})
            agg["in"] += row["tokens_in"]
            agg["out"] += row["tokens_out"]
            agg["cached"] += row["tokens_cached"]
            agg["cost"] += row["cost_usd"]
        for provider, agg in by_provider.items():
            for direction in ("in", "out", "cached"):
                tokens.add_metric([provider, direction], agg[direction])
            cost.add_metric([provider], agg["cost"])
        yield analyses
        yield tokens
        yield cost


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.deliveries = Counter(
            "cicdbot_deliveries",
            "Incoming deliveries by source and result",
            ["source", "result"],
            registry=self.registry,
        )
        self.queue_jobs = Gauge("cicdbot_queue_jobs", "Queue jobs by state", ["state"], registry=self.registry)
        self.job_duration = Histogram(
            "cicdbot_job_duration_seconds",
            "Time to run a queue job, by kind and outcome",
            ["kind", "outcome"],
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300),
            registry=self.registry,
        )
        self.spool_deliveries = Gauge(
            "cicdbot_spool_deliveries",
            "Deliveries in the local spool, waiting for the database",
            registry=self.registry,
        )
        self.spool_bytes = Gauge("cicdbot_spool_bytes", "Size of the local spool", registry=self.registry)
        self.history = _HistoryCollector()
        self.registry.register(self.history)

    def render(self) -> bytes:
        return generate_latest(self.registry)
