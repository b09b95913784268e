"""AI providers behind one interface: ProviderRouter.analyze(request) and .answer(conversation)."""
from bot.providers.base import (
    Completion,
    InMemoryLedger,
    ModelBackend,
    ProviderCall,
    ProviderError,
    UsageLedger,
)
from bot.providers.router import ProviderRouter, build_backends, choose_chain

__all__ = [
    "Completion",
    "InMemoryLedger",
    "ModelBackend",
    "ProviderCall",
    "ProviderError",
    "ProviderRouter",
    "UsageLedger",
    "build_backends",
    "choose_chain",
]
