"""The things a job or a door may use, built once per process from the settings (app.py fills in the clients)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import aiohttp

from bot.clients.baseline_logs import BaselineLogs
from bot.clients.bot_flags import BotFlags
from bot.clients.gitlab import BotIdentity, GitLabClient
from bot.clients.gitlab_notes import MrNotes
from bot.clients.log_fetch import excerpt_from_stream
from bot.clients.ports import GitLab, LogExcerpter, MrNoteWriter, SlackPoster
from bot.clients.slack import SlackPublisher
from bot.core.redact import Redactor
from bot.providers import catalog
from bot.providers.router import ProviderRouter
from bot.runtime.intake import Intake
from bot.runtime.metrics import Metrics
from config.settings import Settings
from storage.db import Database
from storage.queue import ClaimedJob, Queue

# Called when the worker gives a job up for good: tell people where they look (the MR note, Slack).
DeadJobHook = Callable[["Services", ClaimedJob, BaseException], Awaitable[None]]


@dataclass
class Services:
    settings: Settings
    db: Database
    queue: Queue
    metrics: Metrics
    redactor: Redactor  # for text that doors store (questions, notes); logs get a fresh one each
    identity: BotIdentity
    http: aiohttp.ClientSession | None = None
    gitlab: GitLab | None = None  # None without GITLAB_API_TOKEN
    notes: MrNoteWriter | None = None  # set with gitlab
    router: ProviderRouter | None = None
    slack: SlackPoster | None = None  # None when Slack is off
    excerpt_log: LogExcerpter = excerpt_from_stream  # scans a CI job's log off the event loop
    on_dead_job: DeadJobHook | None = None
    baseline_logs: BaselineLogs = field(default_factory=BaselineLogs)  # passing logs, cached per process
    # (project id, user id) -> (access level, monotonic expiry): members' roles, asked at most once a minute
    access_cache: dict[tuple[int, int], tuple[int, float]] = field(default_factory=dict)
    bot_flags: BotFlags = field(default_factory=BotFlags)  # which GitLab users are bots, asked once an hour at most
    wakers: list[Callable[[], None]] = field(default_factory=list)  # tell local workers to look now
    intake: Intake = field(init=False)  # the doors' group commit and spool; set by build()

    def wake_workers(self) -> None:
        for wake in self.wakers:
            wake()

    @classmethod
    def build(
        cls, settings: Settings, *, metrics: Metrics | None = None, db: Database | None = None, slot: int = 0
    ) -> Services:
        """Everything a process needs; `slot` numbers the serving processes of `serve --processes` (its spool)."""
        db = db or Database(settings.database_url)
        queue = Queue(
            db,
            lease_seconds=settings.queue_lease_seconds,
            backoff_base=settings.queue_backoff_base_seconds,
            backoff_cap=settings.queue_backoff_max_seconds,
        )
        metrics = metrics or Metrics()
        services = cls(
            settings=settings,
            db=db,
            queue=queue,
            metrics=metrics,
            redactor=Redactor.from_settings(settings),
            identity=BotIdentity(username=settings.gitlab_bot_username or "cicd-bot"),
        )
        services.intake = Intake(db, settings, metrics, on_jobs=services.wake_workers, slot=slot)
        return services

    def use_gitlab(self, gitlab: GitLabClient) -> None:
        """Use this GitLab client, and write MR notes through it."""
        self.gitlab = gitlab
        self.notes = MrNotes(
            gitlab,
            self.db,
            self.identity,
            base_url=self.settings.gitlab_base_url,
            configured_username=self.settings.gitlab_bot_username,
        )

    def use_slack(self) -> SlackPublisher:
        """Post to Slack with this process's settings, database, HTTP session and GitLab client."""
        self.slack = SlackPublisher(
            self.settings, self.db, http=self.http, gitlab=self.gitlab, providers=catalog.configured(self.settings)
        )
        return self.slack

    async def start(self) -> None:
        if self.http is None:
            self.http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None, sock_connect=10, sock_read=60))

    async def close(self) -> None:
        if self.router is not None:
            await self.router.aclose()
        if self.http is not None:
            await self.http.close()
            self.http = None
        await self.intake.close()
        await self.db.dispose()
