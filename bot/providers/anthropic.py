"""Anthropic Messages API through the official async SDK; typed answers come back as a forced tool call."""

from __future__ import annotations

from typing import Any

import anthropic

from bot.providers.base import (
    ANSWER_SCHEMA_NAME,
    Completion,
    InvalidOutputError,
    ModelBackend,
    ProviderError,
    TransientError,
    error_for_status,
)
from bot.providers.openai import retry_after_from

TOOL_DESCRIPTION = "Record the analysis of the failed CI job."


def translate_error(exc: Exception) -> ProviderError:
    if isinstance(exc, anthropic.APITimeoutError):
        return TransientError("timed out")
    if isinstance(exc, anthropic.APIConnectionError):
        return TransientError(f"connection error: {exc}")
    if isinstance(exc, anthropic.APIStatusError):
        return error_for_status(
            exc.status_code,
            str(getattr(exc, "api_message", None) or exc),
            retry_after=retry_after_from(exc.response),
            error_type=str(getattr(exc, "type", "") or ""),
        )
    if isinstance(exc, anthropic.APIResponseValidationError):
        return InvalidOutputError(f"unreadable response: {exc}")
    return ProviderError(f"{type(exc).__name__}: {exc}")


def alternate(messages: list[dict[str, str]]) -> list[dict[str, str]]:
    """Merge consecutive turns of one role and start with the user, as the Messages API requires."""
    out: list[dict[str, str]] = []
    for message in messages:
        role = "assistant" if message.get("role") == "assistant" else "user"
        if out and out[-1]["role"] == role:
            out[-1] = {"role": role, "content": out[-1]["content"] + "\n\n" + message["content"]}
        else:
            out.append({"role": role, "content": message["content"]})
    if out and out[0]["role"] != "user":
        out.insert(0, {"role": "user", "content": "(conversation continues)"})
    return out


class AnthropicBackend(ModelBackend):
    name = "anthropic"

    def __init__(self, settings: Any, client: anthropic.AsyncAnthropic | None = None):
        self.model = settings.anthropic_model
        self.max_output_tokens = settings.ai_max_output_tokens
        if client is None:
            key = settings.anthropic_api_key.get_secret_value() if settings.anthropic_api_key else ""
            client = anthropic.AsyncAnthropic(
                api_key=key,
                base_url=settings.anthropic_base_url or "https://api.anthropic.com",
                timeout=settings.ai_timeout_seconds,
                max_retries=0,
            )
        self.client = client

    async def complete(
        self, system: str, messages: list[dict[str, str]], schema: dict[str, Any] | None = None
    ) -> Completion:
        kwargs: dict[str, Any] = {
            "model": self.model,
            "max_tokens": self.max_output_tokens,
            "system": system,
            "messages": alternate(messages),
        }
        if schema is not None:
            kwargs["tools"] = [{"name": ANSWER_SCHEMA_NAME, "description": TOOL_DESCRIPTION, "input_schema": schema}]
            kwargs["tool_choice"] = {"type": "tool", "name": ANSWER_SCHEMA_NAME}
        try:
            response = await self.client.messages.create(**kwargs)
        except anthropic.AnthropicError as exc:
            raise translate_error(exc) from exc
        usage = getattr(response, "usage", None)
        cached = int(getattr(usage, "cache_read_input_tokens", 0) or 0)
        created = int(getattr(usage, "cache_creation_input_tokens", 0) or 0)
        out = Completion(
            model=getattr(response, "model", "") or self.model,
            # Anthropic counts cache reads and writes apart from input_tokens; we keep one total.
            tokens_in=int(getattr(usage, "input_tokens", 0) or 0) + cached + created,
            tokens_out=int(getattr(usage, "output_tokens", 0) or 0),
            tokens_cached=cached,
        )
        if getattr(response, "stop_reason", None) == "max_tokens":
            raise InvalidOutputError("the answer was cut off at the output token limit", usage=out)
        texts: list[str] = []
        for block in getattr(response, "content", None) or []:
            kind = getattr(block, "type", "")
            if kind == "tool_use" and getattr(block, "name", "") == ANSWER_SCHEMA_NAME:
                data = getattr(block, "input", None)
                out.data = data if isinstance(data, dict) else None
            elif kind == "text":
                texts.append(getattr(block, "text", "") or "")
        out.text = "\n".join(t for t in texts if t)
        if schema is not None and out.data is None:
            raise InvalidOutputError("the model did not call the answer tool", usage=out)
        return out

    async def aclose(self) -> None:
        await self.client.close()
