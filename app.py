"""The aiohttp application (routes, start-up, shutdown) and the cicd-bot command line."""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import logging
import os
import signal
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import uvloop
from aiohttp import web

from bot.cli import errors as cli_errors
from bot.clients.gitlab import GitLabClient, resolve_identity
from bot.jobs import registry
from bot.jobs.analyze_pipeline import notify_dead_job
from bot.providers import catalog
from bot.providers.router import ProviderRouter
from bot.runtime.processes import run_processes
from bot.runtime.services import Services
from bot.runtime.spool import SpoolBusy
from bot.runtime.worker import Worker
from config.logging import setup_logging
from config.settings import Settings, SettingsError, load_settings, retired_variables, unsigned_webhooks_problem
from handlers import (
    analysis_api,
    auth,
    dashboard,
    gitlab_webhooks,
    health,
    openapi,
    reconcile,
    templating,
    webhook_tools,
)
from handlers import email as email_door
from handlers import slack as slack_door
from handlers.appkeys import GITLAB_BODIES, SERVICES, SLACK_BODIES
from handlers.body import BodyReader, read_other_bodies_in_time
from storage import migrate
from storage.db import Database
from storage.errors import DatabaseProblem, check_connection
from storage.ledger import DatabaseLedger

log = logging.getLogger("cicd_bot")

DESCRIPTION = """\
cicd-bot explains failed GitLab CI/CD pipelines: it reads the failed jobs' logs,
asks a model (or its offline analyzer) why they failed and how to fix it, and
posts the answer on the merge request and in Slack.

Settings come from the environment and an optional .env file; see
config/example.env or run `cicd-bot config`."""


class StartupError(Exception):
    """The bot cannot start as configured; the message says what to do."""


# --- application -------------------------------------------------------------

# The routes that read their own bodies with a BodyReader (size, deadline, concurrent reads).
SELF_READING_ROUTES = frozenset({"/webhooks/gitlab", "/webhooks/gitlab/test", "/slack/events"})
# The collector's thresholds for a serving process (Python's defaults: 700, 10, 10); see serve.
GC_THRESHOLDS = (20_000, 50, 50)
STOPPED_DURING_STARTUP = "stopped during start-up (SIGTERM/SIGINT while waiting for the database); nothing was started"

T = TypeVar("T")


def create_app(services: Services) -> web.Application:
    settings = services.settings
    # The limit here is a backstop; the webhook reads with its own limit and answers 413.
    app = web.Application(
        client_max_size=settings.gitlab_webhook_max_body_bytes + 1024,
        middlewares=[
            auth.require_auth,
            read_other_bodies_in_time(settings.http_body_timeout_seconds, SELF_READING_ROUTES),
        ],
    )
    app[SERVICES] = services
    app[GITLAB_BODIES] = body_reader(settings)
    app[SLACK_BODIES] = body_reader(settings)
    app.router.add_post("/webhooks/gitlab", gitlab_webhooks.gitlab_webhook)
    app.router.add_get("/health", health.health)
    app.router.add_get("/health/detailed", health.health_detailed)
    app.router.add_get("/metrics", health.metrics_view)
    app.router.add_get("/analysis", analysis_api.list_analyses)
    app.router.add_get("/analysis/stats/summary", analysis_api.stats_summary)
    app.router.add_get("/analysis/{id}", analysis_api.get_analysis)
    app.router.add_post("/webhooks/gitlab/test", webhook_tools.webhook_test)
    app.router.add_get("/webhooks/gitlab/info", webhook_tools.webhook_info)
    app.router.add_get("/dashboard", dashboard.dashboard_page)
    app.router.add_get("/dashboard/data", dashboard.dashboard_data)
    app.router.add_get("/dashboard/login", dashboard.login_form)
    app.router.add_post("/dashboard/login", dashboard.login)
    app.router.add_post("/dashboard/logout", dashboard.logout)
    app.router.add_get("/openapi.json", openapi.openapi_json)
    app.router.add_get("/docs", openapi.docs_page)
    app.router.add_get("/static/{name}", templating.static_asset)
    if services.slack is not None:
        slack_door.mount(app, services)
    openapi.attach(app)  # last: it describes every route mounted above
    return app


def body_reader(settings: Settings) -> BodyReader:
    return BodyReader(max_reads=settings.http_max_body_reads, timeout=settings.http_body_timeout_seconds)


def runner_for(app: web.Application, settings: Settings) -> web.AppRunner:
    """The server: aiohttp's keep-alive timer also closes a connection still sending its request headers when it
    runs out (it is not reset by arriving bytes), which is what closes slowloris connections; its default is an hour."""
    return web.AppRunner(app, access_log=None, keepalive_timeout=settings.http_keepalive_seconds)


def load(env_file: str | Path | None = ".env", **overrides) -> Settings:
    """The settings, checked as a whole: config's own checks and the providers' (names, keys)."""
    settings = load_settings(env_file, **overrides)
    catalog.check_settings(settings)
    return settings


async def attach(services: Services) -> None:
    """GitLab client, provider router, Slack publisher, the dead-job notice: whatever the settings enable."""
    settings = services.settings
    if settings.gitlab_api_configured:
        gitlab = GitLabClient.from_settings(settings, services.http)
        await resolve_identity(gitlab, services.identity, settings.gitlab_bot_username)
        services.use_gitlab(gitlab)
    services.router = ProviderRouter(settings, ledger=DatabaseLedger(services.db))
    services.on_dead_job = notify_dead_job
    if settings.slack_enabled:
        services.use_slack()


async def ensure_schema(db: Database) -> None:
    """SQLite (one machine) is brought up to date; PostgreSQL must be migrated on purpose."""
    await check_connection(db)  # raises DatabaseProblem: one line that says what is wrong and what to do
    status = await migrate.status(db)
    if status.up_to_date:
        return
    if db.dialect == "sqlite":
        log.info("bringing the SQLite database to schema %s", status.head)
        await migrate.upgrade(db)
        return
    raise StartupError(
        f"the database schema is at {status.current or 'nothing'} but this version needs {status.head}; "
        "run `cicd-bot db upgrade`"
    )


async def _start_components(services: Services, *, workers: int, background: bool = True) -> list[Callable]:
    """Start what runs beside the HTTP server; returns stop callables, in stop order. `background`: the email
    poller and the reconciliation sweep too (one serving process of several runs them)."""
    settings = services.settings
    await services.start()
    stops: list[Callable] = []
    await attach(services)
    if workers > 0:
        worker = Worker(
            services,
            registry.HANDLERS,
            concurrency=workers,
            poll_seconds=settings.queue_poll_seconds,
            grace_seconds=settings.shutdown_grace_seconds,
        )
        services.wakers.append(worker.wake)
        task = asyncio.create_task(worker.run(), name="workers")

        async def stop_worker() -> None:
            worker.stop()
            await task

        stops.append(stop_worker)
    if background and settings.email_enabled:
        stops.append(email_door.start_email_poller(services).stop)
    if background:
        stops.append(reconcile.start_reconciler(services).stop)  # logs once why it is off, if it is
    return stops


class StoppedDuringStartup(Exception):
    """SIGTERM/SIGINT came while start-up waited for the database: nothing was started, the process ends cleanly."""


def _listen_for_stop() -> asyncio.Event:
    """An event SIGTERM/SIGINT sets, listened for from the first step of start-up: a stop asked for before the
    process is ready (a deploy rolled back, `docker stop` while the database is down) ends it with exit code 0
    instead of the signal's default death halfway through start-up."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    return stop


async def _unless_stopped(stop: asyncio.Event, step: Awaitable[T]) -> T:
    """The step's result; StoppedDuringStartup (the step cancelled) when a stop is asked for before it ends."""
    task = asyncio.ensure_future(step)
    stopped = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({task, stopped}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopped.cancel()
        if not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
    if task.cancelled():
        raise StoppedDuringStartup
    return task.result()


def serve_checks(settings: Settings) -> None:
    """What stops `serve` before anything starts: StartupError with the one line to print."""
    refusal = unsigned_webhooks_problem(settings) or cli_errors.port_problem(settings.host, settings.port)
    if refusal:
        raise StartupError(refusal)


def serve_processes(settings: Settings, *, workers: int | None = None) -> int:
    """`serve` as WEB_PROCESSES processes on one port; the first also runs the workers, the poller and the sweep."""
    serve_checks(settings)

    async def schema_once() -> None:  # before the children start, so that they do not race to create it
        db = Database(settings.database_url)
        try:
            await ensure_schema(db)
        finally:
            await db.dispose()

    asyncio.run(schema_once())
    log.info("starting %d serving processes on port %s", settings.web_processes, settings.port)

    def child(slot: int) -> int:
        try:
            run_loop(serve(settings, workers=workers if slot == 0 else 0, slot=slot, checked=True))
        except (StartupError, DatabaseProblem) as exc:
            print(cli_errors.MSG_PREFIX.format(line=exc), file=sys.stderr)
            return 2
        return 0

    return run_processes(settings.web_processes, child)


async def serve(settings: Settings, *, workers: int | None = None, slot: int = 0, checked: bool = False) -> None:
    """The HTTP server with the workers beside it, until SIGTERM/SIGINT. `slot` > 0: one of several processes
    (serve_processes), which serves the doors only; `checked`: serve_checks was done by the parent."""
    if not checked:
        serve_checks(settings)
    stop = _listen_for_stop()
    services = Services.build(settings, slot=slot)
    runner = None
    stops: list[Callable] = []
    try:
        await _unless_stopped(stop, ensure_schema(services.db))
        try:
            services.intake.start()  # this process's spool: what an earlier run left is replayed
        except (SpoolBusy, OSError) as exc:
            raise StartupError(f"cannot use the delivery spool: {exc}") from exc
        stops = await _start_components(
            services, workers=settings.worker_concurrency if workers is None else workers, background=slot == 0
        )
        app = create_app(services)
        runner = runner_for(app, settings)
        await runner.setup()
        site = web.TCPSite(runner, settings.host, settings.port, reuse_port=settings.web_processes > 1 or None)
        try:
            await site.start()
        except OSError as exc:
            raise StartupError(cli_errors.listen_problem(exc, settings.host, settings.port)) from exc
        log.info(
            "cicd-bot listening on http://%s:%s (database %s, providers %s, slack %s, email %s)",
            settings.host,
            settings.port,
            services.db.dialect,
            ",".join(catalog.configured(settings)),
            "on" if settings.slack_enabled else "off",
            "on" if settings.email_enabled else "off",
        )
        if not settings.webhook_auth_configured and not settings.gitlab_webhook_allow_unsigned:
            log.warning(health.WEBHOOK_SECRET_HELP)
        if not settings.gitlab_api_configured:
            log.warning(health.API_TOKEN_HELP)
        # What start-up built lives as long as the process: out of the collector's sight, a full collection no
        # longer walks it, which was most of the door's slowest answers (p99 at 32 connections 94 -> 31 ms).
        gc.freeze()
        # A delivery's objects are freed by reference counting, not by the collector; collecting the young
        # generation every 700 allocations only walks the deliveries in flight (4-9% of the door's CPU in four
        # same-run comparisons, either order, intake_wrk at 32 connections).
        gc.set_threshold(*GC_THRESHOLDS)
        await stop.wait()
        log.info("shutting down: no new jobs are claimed; running jobs get %ss", settings.shutdown_grace_seconds)
    except StoppedDuringStartup:
        log.info(STOPPED_DURING_STARTUP)
    finally:
        for stop in stops:
            await stop()
        if runner is not None:
            await runner.cleanup()
        await services.close()


async def run_worker(settings: Settings, concurrency: int) -> None:
    stop = _listen_for_stop()
    services = Services.build(settings)
    stops: list[Callable] = []
    try:
        await _unless_stopped(stop, ensure_schema(services.db))
        stops = await _start_components(services, workers=concurrency)
        log.info("cicd-bot worker running %d job loops", concurrency)
        gc.freeze()  # as in serve: what start-up built is not walked by every full collection
        await stop.wait()
    except StoppedDuringStartup:
        log.info(STOPPED_DURING_STARTUP)
    finally:
        for stop in stops:
            await stop()
        await services.close()


# --- command line ------------------------------------------------------------


async def _db_command(settings: Settings, args) -> int:
    db = Database(settings.database_url)
    try:
        await check_connection(db)
        if args.db_command == "status":
            st = await migrate.status(db)
            state = "up to date" if st.up_to_date else ("empty" if st.empty else "behind")
            print(f"database: {db.dialect}\ncurrent: {st.current or '-'}\nhead: {st.head}\nstate: {state}")
            return 0 if st.up_to_date else 1
        if args.db_command == "upgrade":
            await migrate.upgrade(db, args.revision)
        elif args.db_command == "downgrade":
            if args.revision is None and not args.yes:
                print(f"cicd-bot: {cli_errors.MSG_DOWNGRADE_CONFIRM}", file=sys.stderr)
                return 2
            await migrate.downgrade(db, args.revision or "-1")
        elif args.db_command == "reset":
            if not args.yes:
                print(
                    "db reset drops every table and all history; run it again with --yes to go ahead", file=sys.stderr
                )
                return 2
            await migrate.reset(db)
        st = await migrate.status(db)
        print(f"database now at {st.current or 'base'} (head {st.head})")
        return 0
    finally:
        await db.dispose()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cicd-bot", description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--env-file", help="settings file to read besides the environment (default: ./.env if it exists)"
    )
    parser.add_argument(
        "--debug", action="store_true", help="on an error, print the full traceback instead of one line"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    p = sub.add_parser("serve", help="run the HTTP server and the workers (the usual way to run the bot)")
    p.add_argument("--host", help="override HOST")
    p.add_argument("--port", type=int, help="override PORT")
    p.add_argument("--workers", type=int, help="job loops in this process (default WORKER_CONCURRENCY; 0 = none)")
    p.add_argument("--processes", type=int, help="serving processes sharing the port (default WEB_PROCESSES)")

    p = sub.add_parser("worker", help="run only workers, e.g. extra replicas sharing one PostgreSQL")
    p.add_argument("--concurrency", type=int, help="job loops (default WORKER_CONCURRENCY)")

    p = sub.add_parser("db", help="database schema: upgrade, status, downgrade, reset")
    dbsub = p.add_subparsers(dest="db_command", metavar="ACTION")
    dbsub.required = True
    up = dbsub.add_parser("upgrade", help="apply migrations (default: to the newest)")
    up.add_argument("revision", nargs="?", default="head")
    dbsub.add_parser("status", help="show the schema revision; exit 1 when behind")
    down = dbsub.add_parser("downgrade", help="undo migrations: to REVISION, or the last one with --yes")
    down.add_argument("revision", nargs="?", help="e.g. -1 (the last migration) or base (everything)")
    down.add_argument("--yes", action="store_true", help="confirm undoing the last migration when no revision is named")
    reset = dbsub.add_parser("reset", help="drop everything and recreate the schema")
    reset.add_argument("--yes", action="store_true", help="confirm that all history may be deleted")

    p = sub.add_parser("config", help="show the effective settings, secrets masked")
    p.add_argument("--json", action="store_true", help="print JSON")

    # Commands that live with the code they expose; each adds its subparser(s) with a `run` default.
    from bot.cli import doctor, excerpt, explain, test_email, webhook

    excerpt.add_parser(sub)
    sub.choices["excerpt"].set_defaults(run=excerpt.run)
    explain.add_parsers(sub)
    test_email.add_parsers(sub)
    doctor.add_parsers(sub)
    webhook.add_parsers(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return _run(args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # `cicd-bot config | head`: the reader left; say nothing, and keep Python from complaining at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


def run_loop(main_task) -> None:
    """Run the long-lived processes on uvloop: the same asyncio, with a faster loop and transports."""
    uvloop.run(main_task)


def _run(args: argparse.Namespace) -> int:
    problem = cli_errors.env_file_problem(args.env_file)
    if problem:
        print(cli_errors.MSG_PREFIX.format(line=problem), file=sys.stderr)
        return 2
    env_file = args.env_file if args.env_file is not None else ".env"
    overrides = {}
    if args.command == "serve":
        if args.host:
            overrides["HOST"] = args.host
        if args.port is not None:
            overrides["PORT"] = args.port
        if args.processes is not None:
            overrides["WEB_PROCESSES"] = args.processes
    try:
        settings = load(env_file, **overrides)
    except SettingsError as exc:
        print(cli_errors.MSG_CONFIG.format(error=exc), file=sys.stderr)
        return 2
    setup_logging(settings.log_level, settings.log_format)
    for warning in retired_variables(env_file):
        log.warning(warning)
    try:
        if args.command == "serve" and settings.web_processes > 1:
            return serve_processes(settings, workers=args.workers)
        if args.command == "serve":
            run_loop(serve(settings, workers=args.workers))
            return 0
        if args.command == "worker":
            run_loop(run_worker(settings, args.concurrency or max(1, settings.worker_concurrency)))
            return 0
        if args.command == "db":
            return asyncio.run(_db_command(settings, args))
        if args.command == "config":
            masked = settings.masked()
            if args.json:
                print(json.dumps(masked, indent=2, default=str))
            else:
                for key in sorted(masked):
                    print(f"{key}={masked[key]}")
            return 0
        return args.run(args, settings)
    except (StartupError, DatabaseProblem) as exc:
        if args.debug:
            raise
        print(cli_errors.MSG_PREFIX.format(line=exc), file=sys.stderr)
        return 2
    except BrokenPipeError:
        raise
    except Exception as exc:
        if args.debug:
            raise
        known = cli_errors.database_line(exc, settings.database_url)
        print(cli_errors.MSG_PREFIX.format(line=known or cli_errors.unexpected_line(exc)), file=sys.stderr)
        return 2 if known else 1


if __name__ == "__main__":
    sys.exit(main())
