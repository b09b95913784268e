"""Azure OpenAI: the OpenAI adapter pointed at a deployment with an API version."""

from __future__ import annotations

from typing import Any

import openai

from bot.providers.openai import OpenAIBackend


class AzureOpenAIBackend(OpenAIBackend):
    """Chat Completions on an Azure deployment; structured output is always json_schema there."""

    name = "azure_openai"

    def __init__(self, settings: Any, client: openai.AsyncAzureOpenAI | None = None):
        if client is None:
            key = settings.azure_openai_api_key.get_secret_value() if settings.azure_openai_api_key else ""
            client = openai.AsyncAzureOpenAI(
                api_key=key,
                azure_endpoint=settings.azure_openai_endpoint,
                azure_deployment=settings.azure_openai_deployment,
                api_version=settings.azure_openai_api_version,
                timeout=settings.ai_timeout_seconds,
                max_retries=0,
            )
        super().__init__(settings, client=client)
        # On Azure the "model" is the deployment name; the URL carries it too.
        self.model = settings.azure_openai_deployment
        self.structured = "json_schema"
        self.official = True
