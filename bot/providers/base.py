"""The provider contract: errors, one raw model call, the usage record and the ledger that keeps it."""

from __future__ import annotations

import abc
import asyncio
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol, runtime_checkable

from bot.core.retry_after import parse_retry_after as _parse_retry_after
from bot.core.types import ProviderCall

# How long we are willing to honour a server's Retry-After; a longer one is treated as this.
RETRY_AFTER_CAP_SECONDS = 30.0


# --- errors -------------------------------------------------------------------
class ProviderError(Exception):
    """A provider call failed; `outcome` is the word stored in the usage ledger."""

    outcome = "error"

    def __init__(self, message: str, *, status: int | None = None, usage: Completion | None = None):
        super().__init__(message)
        self.status = status
        self.usage = usage  # tokens the failed call still consumed, if the server said


class TransientError(ProviderError):
    """Timeouts, connection errors, 429, 5xx, overloaded: worth another attempt."""

    outcome = "transient_error"

    def __init__(self, message: str, *, status: int | None = None, retry_after: float | None = None):
        super().__init__(message, status=status)
        self.retry_after = retry_after


class AuthError(ProviderError):
    outcome = "auth_error"


class BadRequestError(ProviderError):
    outcome = "bad_request"


class InvalidOutputError(ProviderError):
    outcome = "invalid_output"


class NotConfiguredError(ProviderError):
    outcome = "not_configured"


class OverBudgetError(ProviderError):
    outcome = "over_budget"


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """A model API's Retry-After, capped at RETRY_AFTER_CAP_SECONDS."""
    return _parse_retry_after(value, cap=RETRY_AFTER_CAP_SECONDS, now=now)


# --- one raw call -------------------------------------------------------------
@dataclass(slots=True)
class Completion:
    """What one HTTP call to a model returned: parsed JSON (structured) or text, and the usage."""

    text: str = ""
    data: dict[str, Any] | None = None
    model: str = ""
    tokens_in: int = 0  # includes cached input tokens
    tokens_out: int = 0
    tokens_cached: int = 0


class ModelBackend(abc.ABC):
    """One remote model. `complete` makes exactly one HTTP request and raises ProviderError subclasses."""

    name: str = ""
    model: str = ""

    @abc.abstractmethod
    async def complete(
        self, system: str, messages: list[dict[str, str]], schema: dict[str, Any] | None = None
    ) -> Completion:
        """Send one request; with a schema, the answer is asked for as JSON matching it."""

    async def aclose(self) -> None:  # noqa: B027  (a default: backends without connections keep it)
        """Release connections."""


_JSON_BLOCK = re.compile(r"```(?:json)?\s*(\{.*\})\s*```", re.DOTALL)


def extract_json_object(text: str) -> dict[str, Any]:
    """The JSON object in a model's text reply (bare, fenced or surrounded by prose); raises ValueError."""
    text = (text or "").strip()
    candidates = [text]
    match = _JSON_BLOCK.search(text)
    if match:
        candidates.append(match.group(1))
    start, end = text.find("{"), text.rfind("}")
    if 0 <= start < end:
        candidates.append(text[start : end + 1])
    for candidate in candidates:
        try:
            value = json.loads(candidate)
        except (json.JSONDecodeError, RecursionError):
            continue
        if isinstance(value, dict):
            return value
    raise ValueError("the reply is not a JSON object")


# --- usage ----------------------------------------------------------------------
# The outcome of a call recorded before it was sent and not (yet) completed: in flight, or its process died. Its
# row carries an upper estimate of the call's tokens and cost, so spend is never under-counted and budgets see it.
SENT = "sent"


@runtime_checkable
class UsageLedger(Protocol):
    async def record(self, call: ProviderCall) -> None: ...

    async def begin(self, call: ProviderCall) -> Any:
        """Record a call about to be sent (outcome "sent", estimated usage); returns what complete() needs."""
        ...

    async def complete(self, handle: Any, call: ProviderCall) -> None:
        """Replace the "sent" record with what the call really used and how it ended."""
        ...

    async def spent_today(self, provider: str, project_path: str | None) -> tuple[int, float]:
        """(tokens, usd) since UTC midnight; project_path None = all projects."""
        ...


class InMemoryLedger:
    """A UsageLedger kept in a list; for the CLI and tests."""

    def __init__(self, clock: Callable[[], datetime] | None = None):
        self.calls: list[ProviderCall] = []
        self._clock = clock or (lambda: datetime.now(UTC))
        self._lock = asyncio.Lock()

    async def record(self, call: ProviderCall) -> None:
        async with self._lock:
            self.calls.append(call)

    async def begin(self, call: ProviderCall) -> int:
        async with self._lock:
            self.calls.append(call)
            return len(self.calls) - 1

    async def complete(self, handle: int, call: ProviderCall) -> None:
        async with self._lock:
            self.calls[handle] = call

    async def spent_today(self, provider: str, project_path: str | None) -> tuple[int, float]:
        midnight = self._clock().astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        tokens, usd = 0, 0.0
        for call in self.calls:
            if call.provider != provider or call.at < midnight:
                continue
            if project_path is not None and call.project_path != project_path:
                continue
            tokens += call.tokens_in + call.tokens_out
            usd += call.cost_usd
        return tokens, usd


# --- shared pieces of the adapters ------------------------------------------------
ANSWER_SCHEMA_NAME = "pipeline_failure_analysis"


def strict_schema(model: type) -> dict[str, Any]:
    """The pydantic model's JSON schema made strict-compatible: refs inlined, no defaults, all properties required, no extras."""
    raw = model.model_json_schema()  # type: ignore[attr-defined]
    defs = raw.pop("$defs", {})

    def fix(node: Any) -> Any:
        if isinstance(node, list):
            return [fix(item) for item in node]
        if not isinstance(node, dict):
            return node
        if "$ref" in node:
            target = defs[node["$ref"].rsplit("/", 1)[-1]]
            merged = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
            return fix(merged)
        out = {k: fix(v) for k, v in node.items() if k not in ("default", "title")}
        if out.get("type") == "object" or "properties" in out:
            out["type"] = "object"
            out["additionalProperties"] = False
            out["required"] = list(out.get("properties", {}))
        if "allOf" in out and len(out["allOf"]) == 1:
            only = out.pop("allOf")[0]
            out = {**only, **out}
        return out

    return fix(raw)


def error_for_status(
    status: int, message: str, *, retry_after: float | None = None, error_type: str = "", error_code: str = ""
) -> ProviderError:
    """Our error for an HTTP error status, so that only named transient failures are retried."""
    text = f"HTTP {status}: {message}"[:500]
    if error_code == "insufficient_quota":
        return QuotaError(text, status=status)
    if status == 429 or status == 408 or status >= 500 or error_type == "overloaded_error":
        return TransientError(text, status=status, retry_after=retry_after)
    if status in (401, 403):
        return AuthError(text, status=status)
    if status in (400, 404, 413, 422):
        return BadRequestError(text, status=status)
    return ProviderError(text, status=status)


class QuotaError(ProviderError):
    """The account is out of credit; retrying will not help."""

    outcome = "quota_exceeded"
