"""The IMAP mailbox: one synchronous imapclient session on the configured folder, and its errors in plain words."""

from __future__ import annotations

import imaplib
import re
import socket
import ssl
from dataclasses import dataclass
from datetime import date
from typing import Any

from imapclient import SEEN, IMAPClient
from imapclient.exceptions import CapabilityError, LoginError

from config.settings import Settings
from storage.db import DatabaseError

FAILED_SEARCH = ["HEADER", "X-GitLab-Pipeline-Status", "failed"]
HEADER_PEEK = "BODY.PEEK[HEADER]<0.65536>"  # enough header to find a Message-ID without reading a huge body
HEADER_KEY = b"BODY[HEADER]<0>"
FAILED_SEARCH = ["HEADER", "X-GitLab-Pipeline-Status", "failed"]

ERR_REFUSED = "connection refused by {where}; is the IMAP server running and IMAP_PORT right?"
ERR_TIMEOUT = "no answer from {where} within {timeout:g}s (timeout); check IMAP_SERVER, IMAP_PORT and firewalls"
ERR_DNS = "cannot resolve IMAP_SERVER {host!r}"
ERR_TLS = (
    "TLS error talking to {where}: {detail}; check IMAP_USE_SSL / IMAP_STARTTLS and the port "
    "(993 for SSL, 143 for STARTTLS)"
)
ERR_NO_STARTTLS = "{where} does not offer STARTTLS; use IMAP_USE_SSL=true with port 993, or another server"
ERR_LOGIN = "login refused for {user!r}: {detail}; check IMAP_USER and use an app password in IMAP_APP_PASSWORD"
ERR_FOLDER = "folder {folder!r} does not exist on {where}; folders there: {folders}"
ERR_DROPPED = "the IMAP server closed the connection: {detail}"
ERR_PROTOCOL = "the IMAP server said no: {detail}"
ERR_NETWORK = "network error talking to {where}: {detail}"
ERR_DATABASE = "database error while recording email: {detail}"
ERR_UNEXPECTED = "unexpected error: {detail}"

_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


class MailboxError(Exception):
    """An IMAP problem in plain words; kind is one of refused, timeout, dns, tls, starttls, login, folder,
    dropped, protocol, network, database, unexpected."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind


def _detail(exc: BaseException) -> str:
    text = exc.args[0] if exc.args else str(exc)
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    text = _CONTROL.sub(" ", str(text)).strip() or type(exc).__name__
    return text[:200]


def classify_error(exc: BaseException, settings: Settings) -> MailboxError:
    """The plain-words MailboxError for anything an IMAP session or the recording can raise."""
    if isinstance(exc, MailboxError):
        return exc
    where = f"{settings.imap_server}:{settings.imap_port}"
    if isinstance(exc, LoginError):
        return MailboxError("login", ERR_LOGIN.format(user=settings.imap_user, detail=_detail(exc)))
    if isinstance(exc, ssl.SSLError):
        return MailboxError("tls", ERR_TLS.format(where=where, detail=getattr(exc, "reason", None) or _detail(exc)))
    if isinstance(exc, ConnectionRefusedError):
        return MailboxError("refused", ERR_REFUSED.format(where=where))
    if isinstance(exc, (socket.timeout, TimeoutError)):
        return MailboxError("timeout", ERR_TIMEOUT.format(where=where, timeout=settings.imap_timeout_seconds))
    if isinstance(exc, socket.gaierror):
        return MailboxError("dns", ERR_DNS.format(host=settings.imap_server))
    if isinstance(exc, imaplib.IMAP4.abort):
        return MailboxError("dropped", ERR_DROPPED.format(detail=_detail(exc)))
    if isinstance(exc, imaplib.IMAP4.error):
        return MailboxError("protocol", ERR_PROTOCOL.format(detail=_detail(exc)))
    if isinstance(exc, OSError):
        return MailboxError("network", ERR_NETWORK.format(where=where, detail=exc.strerror or _detail(exc)))
    if isinstance(exc, DatabaseError):
        return MailboxError("database", ERR_DATABASE.format(detail=_detail(exc)))
    return MailboxError("unexpected", ERR_UNEXPECTED.format(detail=f"{type(exc).__name__}: {_detail(exc)}"))


@dataclass(frozen=True)
class FolderInfo:
    uidvalidity: int
    messages: int


class ImapMailbox:
    """One synchronous IMAP session on the configured folder; use it from one thread only."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.client: IMAPClient | None = None

    def open(self) -> FolderInfo:
        s = self.settings
        context = ssl.create_default_context()
        client = IMAPClient(
            s.imap_server, port=s.imap_port, ssl=s.imap_use_ssl, ssl_context=context, timeout=s.imap_timeout_seconds
        )
        self.client = client
        if s.imap_starttls:
            try:
                client.starttls(context)
            except CapabilityError:
                raise MailboxError("starttls", ERR_NO_STARTTLS.format(where=f"{s.imap_server}:{s.imap_port}")) from None
        password = s.imap_app_password.get_secret_value() if s.imap_app_password else ""
        client.login(s.imap_user, password)
        try:
            selected = client.select_folder(s.imap_folder)
        except imaplib.IMAP4.error:
            if client.folder_exists(s.imap_folder):
                raise
            names = [str(name) for _flags, _sep, name in client.list_folders()][:20]
            raise MailboxError(
                "folder",
                ERR_FOLDER.format(
                    folder=s.imap_folder, where=f"{s.imap_server}:{s.imap_port}", folders=", ".join(names) or "(none)"
                ),
            ) from None
        return FolderInfo(uidvalidity=int(selected.get(b"UIDVALIDITY", 0)), messages=int(selected.get(b"EXISTS", 0)))

    def failure_uids(self, *, after_uid: int, since: date, unseen: bool = True) -> list[int]:
        """UIDs above after_uid of failure mails since the date, oldest first."""
        criteria: list[Any] = (["UNSEEN"] if unseen else []) + FAILED_SEARCH + ["SINCE", since]
        if after_uid:
            criteria += ["UID", f"{after_uid + 1}:*"]
        # "n:*" matches the last message even when its UID is below n, so filter again.
        return sorted(uid for uid in self._client().search(criteria) if uid > after_uid)

    def sizes(self, uids: list[int]) -> dict[int, int]:
        data = self._client().fetch(uids, ["RFC822.SIZE"])
        return {uid: int(item.get(b"RFC822.SIZE", 0)) for uid, item in data.items()}

    def fetch_raw(self, uids: list[int]) -> dict[int, bytes]:
        data = self._client().fetch(uids, ["BODY.PEEK[]"])
        return {uid: item.get(b"BODY[]") or b"" for uid, item in data.items()}

    def fetch_headers(self, uids: list[int]) -> dict[int, bytes]:
        data = self._client().fetch(uids, [HEADER_PEEK])
        return {uid: item.get(HEADER_KEY) or b"" for uid, item in data.items()}

    def mark_seen(self, uids: list[int]) -> None:
        if uids:
            self._client().add_flags(uids, [SEEN], silent=True)

    def close(self) -> None:
        client, self.client = self.client, None
        if client is None:
            return
        try:
            client.logout()
        except Exception:  # the session is over either way; a dead socket must not hide the real error
            try:
                client.shutdown()
            except Exception:
                pass

    def _client(self) -> IMAPClient:
        if self.client is None:
            raise MailboxError("unexpected", ERR_UNEXPECTED.format(detail="mailbox not open"))
        return self.client
