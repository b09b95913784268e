"""`cicd-bot test-email` against a real IMAP server on 127.0.0.1: what it shows and how it reports problems."""

from __future__ import annotations

import io
import socket

from app import build_parser
from bot.cli import test_email
from tests.fakes.imap_server import ImapServer, free_port
from tests.helpers import DATA, make_settings

EMAILS = DATA / "email"


def run_cli(server: ImapServer | None = None, argv: list[str] | None = None, **overrides) -> tuple[int, str, str]:
    settings = make_settings(**((server.settings(**overrides)) if server else overrides))
    args = build_parser().parse_args(["test-email", *(argv or [])])
    out, err = io.StringIO(), io.StringIO()
    code = args.run(args, settings, out, err)
    return code, out.getvalue(), err.getvalue()


def test_lists_the_failures_it_would_process_and_leaves_them_unread(imap):
    imap.append(
        (EMAILS / "failed_mr.eml").read_bytes(),
        (EMAILS / "other_sender.eml").read_bytes(),
        (EMAILS / "failed_branch.eml").read_bytes(),
    )
    imap.append(b"From: someone@example.com\r\nSubject: lunch?\r\n\r\nnoon\r\n")
    code, out, err = run_cli(imap)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == f"Connecting to 127.0.0.1:{imap.port} as ci-alerts@example.com (no TLS) ..."
    assert lines[1] == "Folder INBOX: 4 messages"
    assert lines[2].startswith("Unread GitLab pipeline-failure mail since ") and lines[2].endswith(": 3")
    assert lines[3] == "The last 3:"
    assert lines[4] == (
        "  2024-05-14 09:14  acme/platform/api  pipeline #9017  main  "
        "failed: compile: linux/amd64 [go 1.22], unit-tests & coverage"
    )
    assert lines[5].startswith("  <forged-1@evil.example.net>  would be skipped: not from IMAP_GITLAB_EMAIL")
    assert lines[6] == (
        "  2024-05-14 09:14  acme/platform/api  pipeline #9001  refs/merge-requests/17/head (MR !17)  "
        "failed: integration-tests, lint"
    )
    assert lines[-1] == test_email.MSG_OK
    assert len(imap.unseen()) == 4  # only looked


def test_limit_shows_only_the_newest(imap):
    imap.append((EMAILS / "failed_mr.eml").read_bytes(), (EMAILS / "failed_branch.eml").read_bytes())
    code, out, _ = run_cli(imap, ["--limit", "1"])
    assert code == 0
    assert "pipeline #9017" in out and "pipeline #9001" not in out


def test_no_gitlab_mail_is_a_problem(imap):
    imap.append(b"From: someone@example.com\r\nSubject: lunch?\r\n\r\nnoon\r\n")
    code, out, err = run_cli(imap)
    assert code == 1
    assert "Folder INBOX: 1 messages" in out
    assert err.startswith("cicd-bot test-email: no unread GitLab pipeline-failure mail in INBOX since ")


def test_only_foreign_mail_says_to_check_the_sender(imap):
    imap.append((EMAILS / "other_sender.eml").read_bytes())
    code, _, err = run_cli(imap)
    assert code == 1
    assert err.strip() == (
        "cicd-bot test-email: none of these would start an analysis; check IMAP_GITLAB_EMAIL "
        "(now gitlab@gitlab.example.com)"
    )


def test_login_refused_is_said_plainly(imap):
    code, _, err = run_cli(imap, IMAP_APP_PASSWORD="wrong-" + "x" * 8)
    assert code == 1
    assert err.startswith("cicd-bot test-email: login refused for 'ci-alerts@example.com': ")
    assert "IMAP_APP_PASSWORD" in err


def test_missing_folder_lists_the_folders(imap):
    code, _, err = run_cli(imap, IMAP_FOLDER="GitLab")
    assert code == 1
    assert (
        err.strip()
        == f"cicd-bot test-email: folder 'GitLab' does not exist on 127.0.0.1:{imap.port}; folders there: INBOX"
    )


def test_tls_against_a_plain_server_is_a_tls_error(imap):
    code, out, err = run_cli(imap, IMAP_USE_SSL=True)
    assert code == 1
    assert "(SSL)" in out
    assert err.startswith(f"cicd-bot test-email: TLS error talking to 127.0.0.1:{imap.port}: ")


def test_starttls_not_offered_is_said_plainly(imap):
    code, _, err = run_cli(imap, IMAP_STARTTLS=True)
    assert code == 1
    assert err.strip() == (
        f"cicd-bot test-email: 127.0.0.1:{imap.port} does not offer STARTTLS; use IMAP_USE_SSL=true "
        "with port 993, or another server"
    )


def test_connection_refused_and_timeout(imap):
    port = free_port()
    code, _, err = run_cli(imap, IMAP_PORT=port)
    assert code == 1
    assert err.strip() == (
        f"cicd-bot test-email: connection refused by 127.0.0.1:{port}; is the IMAP server running and IMAP_PORT right?"
    )
    with socket.socket() as silent:  # listens, never greets
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        port = silent.getsockname()[1]
        code, _, err = run_cli(imap, IMAP_PORT=port, IMAP_TIMEOUT_SECONDS=0.5)
    assert code == 1
    assert err.strip() == (
        f"cicd-bot test-email: no answer from 127.0.0.1:{port} within 0.5s (timeout); "
        "check IMAP_SERVER, IMAP_PORT and firewalls"
    )


def test_not_configured_exits_2():
    code, out, err = run_cli(None)
    assert code == 2 and out == ""
    assert err.strip() == "cicd-bot test-email: IMAP is not configured: set IMAP_SERVER, IMAP_USER, IMAP_APP_PASSWORD"
