"""Dashboard sessions: a cookie value signed with a key derived from the API token, never the token itself (pure)."""

from __future__ import annotations

import base64
import hashlib
import hmac

SESSION_MAX_AGE_SECONDS = 12 * 3600
# A session issued this far in the future is refused (clocks of replicas differ a little, not by more).
CLOCK_SKEW_SECONDS = 300
_VERSION = "v1"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def session_key(api_token: str) -> bytes:
    """The signing key; changing CICD_BOT_API_TOKEN ends every session, which is how sessions are revoked."""
    return hmac.new(api_token.encode(), b"cicd-bot dashboard session " + _VERSION.encode(), hashlib.sha256).digest()


def _mac(key: bytes, purpose: str, payload: str) -> str:
    return _b64(hmac.new(key, f"{purpose}.{payload}".encode(), hashlib.sha256).digest())


def issue(key: bytes, *, now: int, nonce: str) -> str:
    """A cookie value: version, issue time and a random nonce, with their MAC."""
    if not nonce.isalnum():
        raise ValueError("the nonce must be letters and digits")
    payload = f"{_VERSION}.{now}.{nonce}"
    return f"{payload}.{_mac(key, 'session', payload)}"


def verify(key: bytes, value: str | None, *, now: int, max_age: int = SESSION_MAX_AGE_SECONDS) -> bool:
    """True for a value this key issued that has not expired."""
    if not value or len(value) > 200:
        return False
    parts = value.split(".")
    if len(parts) != 4 or parts[0] != _VERSION or not parts[1].isdigit():
        return False
    payload = ".".join(parts[:3])
    if not hmac.compare_digest(parts[3].encode(), _mac(key, "session", payload).encode()):
        return False
    issued = int(parts[1])
    return issued - CLOCK_SKEW_SECONDS <= now <= issued + max_age


def csrf_token(key: bytes, session_value: str) -> str:
    """The token a form posted with this session must carry (bound to the session, so it cannot be fetched)."""
    return _mac(key, "csrf", session_value)


def csrf_ok(key: bytes, session_value: str | None, given: str | None) -> bool:
    if not session_value or not given:
        return False
    return hmac.compare_digest(given.encode(), csrf_token(key, session_value).encode())
