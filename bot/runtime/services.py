"""The things a job or a door may use, built once per process from the settings."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import aiohttp

from bot.runtime.metrics import Metrics
from config.settings import Settings
from storage.db import Database
from storage.queue import Queue


@dataclass
class BotIdentity:
    """The bot's GitLab username, for mentions and for ignoring its own notes."""

    username: str = "cicd-bot"
    user_id: int | None = None


@dataclass
class Services:
    settings: Settings
    db: Database
    queue: Queue
    metrics: Metrics
    identity: BotIdentity = field(default_factory=BotIdentity)
    http: aiohttp.ClientSession | None = None
    gitlab: Any = None  # bot.clients.gitlab.GitLabClient when GITLAB_API_TOKEN is set
    router: Any = None  # bot.providers.router.ProviderRouter
    on_dead_job: Any = None  # async (services, job, exc) -> None: tell people the bot gave up
    redactor: Any = None  # bot.core.redact.Redactor for text that doors store (questions, notes)
    extras: dict[str, Any] = field(default_factory=dict)
    wakers: list[Any] = field(default_factory=list)  # callables that tell local workers to look now

    def wake_workers(self) -> None:
        for wake in self.wakers:
            wake()

    @classmethod
    def build(cls, settings: Settings, *, metrics: Metrics | None = None, db: Database | None = None) -> "Services":
        db = db or Database(settings.database_url)
        queue = Queue(db, lease_seconds=settings.queue_lease_seconds,
                      backoff_base=settings.queue_backoff_base_seconds, backoff_cap=settings.queue_backoff_max_seconds)
        from bot.core.redact import Redactor

        return cls(settings=settings, db=db, queue=queue, metrics=metrics or Metrics(),
                   identity=BotIdentity(username=settings.gitlab_bot_username or "cicd-bot"),
                   redactor=Redactor.from_settings(settings))

    async def start(self) -> None:
        if self.http is None:
            self.http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None, sock_connect=10, sock_read=60))

    async def close(self) -> None:
        if self.router is not None:
            await self.router.aclose()
        if self.http is not None:
            await self.http.close()
            self.http = None
        await self.db.dispose()
