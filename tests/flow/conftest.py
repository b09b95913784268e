"""Fixtures the flow tests share: a real IMAP server (pymap) on 127.0.0.1 for the mail fallback."""

from __future__ import annotations

import pytest

from tests.fakes.imap_server import ImapServer


@pytest.fixture
def imap(tmp_path):
    server = ImapServer(tmp_path).start()
    try:
        yield server
    finally:
        server.stop()
