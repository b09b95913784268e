"""`cicd-bot webhook install | status`: create or update the bot's GitLab webhook (idempotent), and show it."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any, TextIO

HELP = "create or update the bot's GitLab webhook, or show it"
INSTALL_HELP = "create the bot's webhook in a group (or a project), or bring the existing one up to date"
STATUS_HELP = "show the bot's webhook in each group or project (default: GITLAB_GROUPS and GITLAB_PROJECTS)"
INSTALL_EPILOG = (
    "The hook gets the events the bot handles (pipeline, job, note, merge request), the secret token from "
    "GITLAB_WEBHOOK_SECRET (never printed) and SSL verification on. Running it again changes nothing more. "
    "Managing a group's hooks needs the Owner role (a project's: Maintainer), which the bot itself does not "
    "need: run it once with an owner's token, GITLAB_API_TOKEN=<token> cicd-bot webhook install ..."
)


def add_parsers(subparsers: Any) -> None:
    """Add `webhook install` and `webhook status` (their work is imported only when they run)."""
    parser = subparsers.add_parser("webhook", help=HELP, description=HELP)
    actions = parser.add_subparsers(dest="webhook_command", metavar="ACTION")
    actions.required = True
    install = actions.add_parser("install", help=INSTALL_HELP, description=INSTALL_HELP, epilog=INSTALL_EPILOG)
    _target(install, required=True)
    install.add_argument(
        "--url",
        help="the bot's public address (.../webhooks/gitlab is added when missing); "
        "needed only when the hook does not exist yet",
    )
    install.set_defaults(run=run_install)
    status = actions.add_parser("status", help=STATUS_HELP, description=STATUS_HELP)
    _target(status, required=False)
    status.set_defaults(run=run_status)


def _target(parser: argparse.ArgumentParser, *, required: bool) -> None:
    where = parser.add_mutually_exclusive_group(required=required)
    where.add_argument("--group", help="group path or id (group webhooks need GitLab Premium)")
    where.add_argument("--project", help="project path or id (GitLab Free: one hook per project)")


def run_install(args: argparse.Namespace, settings: Any, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """0 when the hook exists as the bot needs it, 1 when GitLab said no, 2 when the command cannot start."""
    from bot.cli.webhook_setup import install

    return asyncio.run(install(args, settings, out or sys.stdout, err or sys.stderr))


def run_status(args: argparse.Namespace, settings: Any, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """0 when every group or project has one sound hook for the bot, 1 otherwise."""
    from bot.cli.webhook_setup import status

    return asyncio.run(status(args, settings, out or sys.stdout, err or sys.stderr))
