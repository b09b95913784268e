"""`cicd-bot test-email`: check the IMAP settings and show the GitLab failure mail the poll would pick up."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime, timedelta
from typing import Any, TextIO

from bot.core.email_parse import REASON_TOO_LARGE, PipelineFailureEmail, parse_email
from config.settings import Settings

HELP = "connect to the IMAP inbox with the configured settings and show the GitLab failure emails it would process"
DEFAULT_LIMIT = 5

MSG_NOT_CONFIGURED = "IMAP is not configured: set {missing}"
MSG_CONNECTING = "Connecting to {host}:{port} as {user} ({security}) ..."
MSG_FOLDER = "Folder {folder}: {count} messages"
MSG_FOUND = "Unread GitLab pipeline-failure mail since {since}: {count}"
MSG_SHOWING = "The last {shown}:"
MSG_LINE = "  {date}  {project}  pipeline #{pipeline}  {ref}{mr}  {jobs}"
MSG_SKIPPED_LINE = "  {key}  would be {status}: {reason}"
MSG_NONE = (
    "no unread GitLab pipeline-failure mail in {folder} since {since}; check that GitLab sends pipeline "
    "emails to {user} and that they stay in this folder"
)
MSG_NONE_USABLE = "none of these would start an analysis; check IMAP_GITLAB_EMAIL (now {sender})"
MSG_OK = "OK: the email trigger can read this inbox"
MSG_PROBLEM = "cicd-bot test-email: {problem}"
SECURITY = {(True, False): "SSL", (False, True): "STARTTLS", (False, False): "no TLS"}


def add_parsers(subparsers: Any) -> None:
    """Add the `test-email` subcommand."""
    parser = subparsers.add_parser("test-email", help=HELP, description=HELP)
    parser.add_argument(
        "--limit", type=int, default=DEFAULT_LIMIT, help=f"how many recent emails to show (default {DEFAULT_LIMIT})"
    )
    parser.set_defaults(run=run)


def _missing(settings: Settings) -> list[str]:
    missing = [
        name for name, value in (("IMAP_SERVER", settings.imap_server), ("IMAP_USER", settings.imap_user)) if not value
    ]
    if settings.imap_app_password is None:
        missing.append("IMAP_APP_PASSWORD")
    return missing


def describe(parsed: Any, key: str) -> str:
    """One line about one message: what the poll would do with it."""
    if isinstance(parsed, PipelineFailureEmail):
        jobs = ", ".join(j.name or f"#{j.id}" for j in parsed.failed_jobs[:5])
        return MSG_LINE.format(
            date=parsed.date[:16].replace("T", " ") or "(no date)",
            project=parsed.project_path,
            pipeline=parsed.pipeline_id,
            ref=parsed.ref,
            mr=f" (MR !{parsed.mr_iid})" if parsed.mr_iid else "",
            jobs=f"failed: {jobs}" if jobs else "",
        )
    return MSG_SKIPPED_LINE.format(key=key, status=parsed.status, reason=parsed.reason)


def run(args: argparse.Namespace, settings: Settings, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Exit 0 when the inbox is readable and holds GitLab failure mail, 1 on a problem, 2 when not configured."""
    from bot.clients.mailbox import ImapMailbox, classify_error

    out = out or sys.stdout
    err = err or sys.stderr
    missing = _missing(settings)
    if missing:
        print(MSG_PROBLEM.format(problem=MSG_NOT_CONFIGURED.format(missing=", ".join(missing))), file=err)
        return 2
    print(
        MSG_CONNECTING.format(
            host=settings.imap_server,
            port=settings.imap_port,
            user=settings.imap_user,
            security=SECURITY.get((settings.imap_use_ssl, settings.imap_starttls), "SSL"),
        ),
        file=out,
    )
    mailbox = ImapMailbox(settings)
    since = datetime.now(UTC).date() - timedelta(days=settings.imap_since_days)
    try:
        info = mailbox.open()
        print(MSG_FOLDER.format(folder=settings.imap_folder, count=info.messages), file=out)
        uids = mailbox.failure_uids(after_uid=0, since=since)
        print(MSG_FOUND.format(since=since.isoformat(), count=len(uids)), file=out)
        if not uids:
            print(
                MSG_PROBLEM.format(
                    problem=MSG_NONE.format(
                        folder=settings.imap_folder, since=since.isoformat(), user=settings.imap_user
                    )
                ),
                file=err,
            )
            return 1
        recent = uids[-max(1, args.limit) :]
        sizes = mailbox.sizes(recent)
        small = [uid for uid in recent if sizes.get(uid, 0) <= settings.imap_max_message_bytes]
        raws = mailbox.fetch_raw(small) if small else {}
        print(MSG_SHOWING.format(shown=len(recent)), file=out)
        usable = 0
        for uid in reversed(recent):
            if uid not in raws:
                reason = REASON_TOO_LARGE.format(size=sizes.get(uid, 0), limit=settings.imap_max_message_bytes)
                print(MSG_SKIPPED_LINE.format(key=f"UID {uid}", status="malformed", reason=reason), file=out)
                continue
            parsed = parse_email(
                raws[uid], gitlab_sender=settings.imap_gitlab_email, max_bytes=settings.imap_max_message_bytes
            )
            usable += isinstance(parsed, PipelineFailureEmail)
            print(describe(parsed, parsed.message_id), file=out)
    except Exception as exc:
        print(MSG_PROBLEM.format(problem=classify_error(exc, settings)), file=err)
        return 1
    finally:
        mailbox.close()
    if not usable:
        print(MSG_PROBLEM.format(problem=MSG_NONE_USABLE.format(sender=settings.imap_gitlab_email)), file=err)
        return 1
    print(MSG_OK, file=out)
    return 0
