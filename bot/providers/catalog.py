"""The providers the bot knows, which ones the settings make callable, and the checks on their settings."""

from __future__ import annotations

from config.settings import Settings, SettingsError

PROVIDERS = ("openai", "anthropic", "azure_openai", "heuristic")


def configured(settings: Settings) -> list[str]:
    """Providers that have what they need to be called, in the order they are preferred; heuristic always."""
    found = []
    if settings.openai_api_key is not None:
        found.append("openai")
    if settings.anthropic_api_key is not None:
        found.append("anthropic")
    if (
        settings.azure_openai_api_key is not None
        and settings.azure_openai_endpoint
        and settings.azure_openai_deployment
    ):
        found.append("azure_openai")
    found.append("heuristic")
    return found


def default_provider(settings: Settings) -> str:
    """DEFAULT_AI_PROVIDER, else the first configured provider."""
    return settings.default_ai_provider or configured(settings)[0]


def check_settings(settings: Settings) -> None:
    """Provider names and the keys they need; raises SettingsError naming the variable."""
    name = settings.default_ai_provider
    if name and name not in PROVIDERS:
        raise SettingsError("DEFAULT_AI_PROVIDER", f"unknown provider {name!r}; use one of {', '.join(PROVIDERS)}")
    for fallback in settings.ai_fallback:
        if fallback not in PROVIDERS:
            raise SettingsError("AI_FALLBACK", f"unknown provider {fallback!r}; use one of {', '.join(PROVIDERS)}")
    needs = {
        "openai": ("OPENAI_API_KEY", settings.openai_api_key),
        "anthropic": ("ANTHROPIC_API_KEY", settings.anthropic_api_key),
        "azure_openai": ("AZURE_OPENAI_API_KEY", settings.azure_openai_api_key),
    }
    if name in needs and needs[name][1] is None:
        raise SettingsError("DEFAULT_AI_PROVIDER", f"{name} needs {needs[name][0]}")
    if settings.azure_openai_api_key is not None and not (
        settings.azure_openai_endpoint and settings.azure_openai_deployment
    ):
        raise SettingsError(
            "AZURE_OPENAI_ENDPOINT",
            "AZURE_OPENAI_API_KEY is set but AZURE_OPENAI_ENDPOINT or AZURE_OPENAI_DEPLOYMENT is empty",
        )
    if settings.openai_structured_output not in ("json_schema", "json_object", "none"):
        raise SettingsError("OPENAI_STRUCTURED_OUTPUT", "use json_schema, json_object or none")
