"""Slack's v0 request signature, checked on the raw bytes before anything in the body is parsed (pure)."""

from __future__ import annotations

import hashlib
import hmac
import re
from enum import StrEnum

WINDOW_SECONDS = 300  # Slack's and Bolt's replay window
_TIMESTAMP = re.compile(r"[0-9]{1,12}")  # Unix seconds in plain digits: no sign, exponent, spaces or absurd length
_SIGNATURE = re.compile(r"v0=[0-9a-fA-F]{64}")


class SlackAuth(StrEnum):
    ok = "ok"
    missing = "missing_signature"
    bad_timestamp = "bad_timestamp"
    stale = "stale_signature"
    bad_signature = "bad_signature"


def check_headers(timestamp: str | None, signature: str | None, now: float) -> SlackAuth | None:
    """What the headers alone refuse; None when they are well formed and the body's signature must decide."""
    if not timestamp or not signature:
        return SlackAuth.missing
    if not _TIMESTAMP.fullmatch(timestamp):
        return SlackAuth.bad_timestamp
    if abs(now - int(timestamp)) > WINDOW_SECONDS:
        return SlackAuth.stale
    if not _SIGNATURE.fullmatch(signature):
        return SlackAuth.bad_signature
    return None


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """v0=<hex HMAC-SHA256 of "v0:<timestamp>:<body>">, computed over the bytes as received."""
    mac = hmac.new(secret.encode(), f"v0:{timestamp}:".encode(), hashlib.sha256)
    mac.update(body)
    return "v0=" + mac.hexdigest()


def verify(secret: str, timestamp: str | None, given: str | None, body: bytes, now: float) -> SlackAuth:
    problem = check_headers(timestamp, given, now)
    if problem is not None:
        return problem
    assert timestamp is not None and given is not None  # check_headers refused them otherwise
    expected = signature(secret, timestamp, body)
    return SlackAuth.ok if hmac.compare_digest(expected, given.lower()) else SlackAuth.bad_signature
