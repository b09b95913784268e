"""How a queue job can end other than done: the exceptions jobs and clients raise and the worker understands."""

from __future__ import annotations


class RetryLater(Exception):
    """A named transient problem: try the job again after backoff."""


class Defer(Exception):
    """Not ready yet (e.g. the pipeline still runs): look again later without using an attempt."""

    def __init__(self, seconds: float, reason: str):
        super().__init__(reason)
        self.seconds = seconds


class PermanentFailure(Exception):
    """Retrying cannot help (bad payload, project gone): dead-letter at once."""
