"""OpenAI and OpenAI-compatible servers (OpenRouter, Ollama, vLLM, LiteLLM) through the official async SDK."""

from __future__ import annotations

import json
from typing import Any

import openai

from bot.providers.base import (
    ANSWER_SCHEMA_NAME,
    Completion,
    InvalidOutputError,
    ModelBackend,
    ProviderError,
    TransientError,
    error_for_status,
    parse_retry_after,
)

OPENAI_DEFAULT_BASE_URL = "https://api.openai.com/v1"
# Servers without json_schema support are told the shape in the prompt instead.
JSON_INSTRUCTION = "\n\nReply with exactly one JSON object and nothing else. It must match this JSON schema:\n{schema}"


def retry_after_from(response: Any) -> float | None:
    headers = getattr(response, "headers", None)
    if headers is None:
        return None
    ms = headers.get("retry-after-ms")
    if ms:
        try:
            return parse_retry_after(str(float(ms) / 1000.0))
        except ValueError:
            pass
    return parse_retry_after(headers.get("retry-after"))


def translate_error(exc: Exception) -> ProviderError:
    """The SDK's exception as one of ours."""
    if isinstance(exc, openai.APITimeoutError):
        return TransientError("timed out")
    if isinstance(exc, openai.APIConnectionError):
        return TransientError(f"connection error: {exc}")
    if isinstance(exc, openai.APIStatusError):
        body = exc.body if isinstance(exc.body, dict) else {}
        return error_for_status(
            exc.status_code,
            str(getattr(exc, "message", exc)),
            retry_after=retry_after_from(exc.response),
            error_type=str(body.get("type") or ""),
            error_code=str(exc.code or ""),
        )
    if isinstance(exc, openai.APIResponseValidationError):
        return InvalidOutputError(f"unreadable response: {exc}")
    return ProviderError(f"{type(exc).__name__}: {exc}")


class OpenAIBackend(ModelBackend):
    """Chat Completions with structured output as configured by OPENAI_STRUCTURED_OUTPUT."""

    name = "openai"

    def __init__(self, settings: Any, client: openai.AsyncOpenAI | None = None):
        self.model = settings.openai_model
        self.structured = settings.openai_structured_output
        self.max_output_tokens = settings.ai_max_output_tokens
        # The official API wants max_completion_tokens; many compatible servers only know max_tokens.
        self.official = not settings.openai_base_url
        if client is None:
            key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else ""
            client = openai.AsyncOpenAI(
                api_key=key,
                base_url=settings.openai_base_url or OPENAI_DEFAULT_BASE_URL,
                timeout=settings.ai_timeout_seconds,
                max_retries=0,  # our retry loop is the only one, so attempt counts are exact
            )
        self.client = client

    def _request(self, system: str, messages: list[dict[str, str]], schema: dict[str, Any] | None) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"model": self.model}
        if schema is not None and self.structured == "json_schema":
            kwargs["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": ANSWER_SCHEMA_NAME, "strict": True, "schema": schema},
            }
        elif schema is not None:
            system = system + JSON_INSTRUCTION.format(schema=json.dumps(schema))
            if self.structured == "json_object":
                kwargs["response_format"] = {"type": "json_object"}
        kwargs["messages"] = [{"role": "system", "content": system}, *messages]
        if self.official:
            kwargs["max_completion_tokens"] = self.max_output_tokens
        else:
            kwargs["max_tokens"] = self.max_output_tokens
        return kwargs

    async def complete(
        self, system: str, messages: list[dict[str, str]], schema: dict[str, Any] | None = None
    ) -> Completion:
        try:
            response = await self.client.chat.completions.create(**self._request(system, messages, schema))
        except openai.OpenAIError as exc:
            raise translate_error(exc) from exc
        usage = getattr(response, "usage", None)
        details = getattr(usage, "prompt_tokens_details", None) if usage else None
        out = Completion(
            model=getattr(response, "model", "") or self.model,
            tokens_in=int(getattr(usage, "prompt_tokens", 0) or 0),
            tokens_out=int(getattr(usage, "completion_tokens", 0) or 0),
            tokens_cached=int(getattr(details, "cached_tokens", 0) or 0),
        )
        choices = getattr(response, "choices", None) or []
        if not choices:
            raise InvalidOutputError("the response has no choices", usage=out)
        message = choices[0].message
        if getattr(message, "refusal", None):
            raise InvalidOutputError(f"the model refused: {message.refusal}"[:300], usage=out)
        if choices[0].finish_reason == "length":
            raise InvalidOutputError("the answer was cut off at the output token limit", usage=out)
        out.text = message.content or ""
        return out

    async def aclose(self) -> None:
        await self.client.close()
