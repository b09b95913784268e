"""Who is calling the GitLab webhook: secret token or Standard Webhooks signature (pure)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Mapping
from enum import StrEnum

SIGNATURE_WINDOW_SECONDS = 300
MAX_TIMESTAMP_DIGITS = 12  # Unix seconds until the year 33658: longer is not a timestamp


class AuthResult(StrEnum):
    ok = "ok"
    unsigned_allowed = "unsigned_allowed"
    not_configured = "not_configured"
    missing_token = "missing_token"
    bad_token = "bad_token"
    missing_signature = "missing_signature"
    bad_signature = "bad_signature"
    stale_signature = "stale_signature"

    @property
    def accepted(self) -> bool:
        return self in (AuthResult.ok, AuthResult.unsigned_allowed)


def _same(a: str | bytes, b: str | bytes) -> bool:
    a = a.encode() if isinstance(a, str) else a
    b = b.encode() if isinstance(b, str) else b
    return hmac.compare_digest(a, b)


def signing_key(token: str) -> bytes:
    """Standard Webhooks secrets are 'whsec_' + base64; anything else is used as raw bytes."""
    if token.startswith("whsec_"):
        try:
            return base64.b64decode(token[len("whsec_") :], validate=True)
        except (binascii.Error, ValueError):
            pass
    return token.encode()


def sign(token: str, webhook_id: str, timestamp: str, body: bytes) -> str:
    """The webhook-signature value a sender computes: v1,<base64 HMAC-SHA256 of id.timestamp.body>."""
    mac = hmac.new(signing_key(token), f"{webhook_id}.{timestamp}.".encode() + body, hashlib.sha256)
    return "v1," + base64.b64encode(mac.digest()).decode()


def _timestamp(value: str) -> int | None:
    """A Unix time in plain digits (no sign, exponent, spaces or absurd length), else None."""
    if not (value.isascii() and value.isdigit() and len(value) <= MAX_TIMESTAMP_DIGITS):
        return None
    return int(value)


def signature_headers_problem(headers: Mapping[str, str], now: float) -> AuthResult | None:
    """What the signature headers alone refuse (absent, malformed, stale); None when the body must be checked."""
    if not (
        headers.get("webhook-id", "") and headers.get("webhook-timestamp", "") and headers.get("webhook-signature", "")
    ):
        return AuthResult.missing_signature
    ts = _timestamp(headers["webhook-timestamp"])
    if ts is None:
        return AuthResult.bad_signature
    if abs(now - ts) > SIGNATURE_WINDOW_SECONDS:
        return AuthResult.stale_signature
    return None


def verify_signature(token: str, headers: Mapping[str, str], body: bytes, now: float) -> AuthResult:
    problem = signature_headers_problem(headers, now)
    if problem is not None:
        return problem
    expected = sign(token, headers["webhook-id"], headers["webhook-timestamp"], body)
    # Several space-separated signatures may be sent while a key is being rotated.
    for candidate in headers["webhook-signature"].split():
        if _same(candidate, expected):
            return AuthResult.ok
    return AuthResult.bad_signature


def authenticate_headers(
    headers: Mapping[str, str],
    *,
    secret: str | None,
    signing_token: str | None,
    allow_unsigned: bool,
    now: float,
) -> AuthResult | None:
    """What the headers decide before any body is read; None when only the body's signature can tell.

    Fail closed: with nothing configured every delivery is refused, unless explicitly allowed."""
    if signing_token and headers.get("webhook-signature"):
        return signature_headers_problem(headers, now)
    if secret:
        given = headers.get("x-gitlab-token")
        if given is None:
            return AuthResult.missing_signature if signing_token else AuthResult.missing_token
        return AuthResult.ok if _same(given, secret) else AuthResult.bad_token
    if signing_token:
        return AuthResult.missing_signature
    return AuthResult.unsigned_allowed if allow_unsigned else AuthResult.not_configured


def authenticate(
    headers: Mapping[str, str],
    body: bytes,
    *,
    secret: str | None,
    signing_token: str | None,
    allow_unsigned: bool,
    now: float,
) -> AuthResult:
    """The headers' decision, or the body's signature when the headers cannot decide."""
    early = authenticate_headers(
        headers, secret=secret, signing_token=signing_token, allow_unsigned=allow_unsigned, now=now
    )
    if early is not None:
        return early
    assert signing_token  # the headers defer to the body only for a signed delivery
    return verify_signature(signing_token, headers, body, now)
