"""`cicd-bot doctor`: check the set-up end to end, one line per check with the fix when it fails; exit 0 when all pass."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any, TextIO

HELP = "check the set-up: GitLab, the token, roles, webhooks, Slack, the database, IMAP (and models with --providers)"
DESCRIPTION = (
    "Check everything the bot depends on and print one line per check, with the fix when it fails. "
    "Exit status 0 only when no check failed (warnings do not fail it)."
)


def add_parsers(subparsers: Any) -> None:
    """Add the `doctor` subcommand (the checks are imported only when it runs: other commands start faster)."""
    parser = subparsers.add_parser("doctor", help=HELP, description=DESCRIPTION)
    parser.add_argument(
        "--providers",
        action="store_true",
        help="also send each configured model provider a one-token request (it costs a little)",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace, settings: Any, out: TextIO | None = None) -> int:
    """Print every check; 0 when none failed, 1 otherwise."""
    from bot.cli.doctor_checks import diagnose

    return asyncio.run(diagnose(settings, providers=args.providers, out=out or sys.stdout))
