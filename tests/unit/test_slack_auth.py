"""Slack's request signature on the raw bytes: malformed headers are refused, never raised."""

from __future__ import annotations

import hashlib
import hmac

from bot.core.slack_auth import SlackAuth, check_headers, verify

SECRET = "s3cret-" + "x" * 25
NOW = 1_700_000_000


def slack_signs(body: bytes, ts: str = str(NOW)) -> str:
    """As Slack documents it: v0= + hex HMAC-SHA256 of "v0:<ts>:<body>" (computed here independently)."""
    return "v0=" + hmac.new(SECRET.encode(), b"v0:" + ts.encode() + b":" + body, hashlib.sha256).hexdigest()


def test_a_signed_body_is_accepted_and_any_change_refused():
    body = b"token=x&command=%2Fcicd&text=help"
    assert verify(SECRET, str(NOW), slack_signs(body), body, NOW) is SlackAuth.ok
    assert verify(SECRET, str(NOW), slack_signs(body).upper().replace("V0=", "v0="), body, NOW) is SlackAuth.ok
    assert verify(SECRET, str(NOW), slack_signs(body), body + b" ", NOW) is SlackAuth.bad_signature
    assert verify("other", str(NOW), slack_signs(body), body, NOW) is SlackAuth.bad_signature


def test_bytes_that_are_not_utf8_are_checked_not_decoded():
    body = b'{"a": "\xff\xfe"}'
    assert verify(SECRET, str(NOW), slack_signs(body), body, NOW) is SlackAuth.ok
    assert verify(SECRET, str(NOW), "v0=" + "0" * 64, body, NOW) is SlackAuth.bad_signature


def test_malformed_stale_and_missing_headers_are_refused_before_the_body():
    good = slack_signs(b"")
    for bad in ("abc", "1e3", " 1700000000", "+1700000000", "-5", "1700000000.0", "9" * 5000, "١٧٠٠٠٠٠٠٠٠"):
        assert check_headers(bad, good, NOW) is SlackAuth.bad_timestamp, bad
    assert check_headers("", good, NOW) is SlackAuth.missing
    assert check_headers(str(NOW), None, NOW) is SlackAuth.missing
    assert check_headers(str(NOW - 301), good, NOW) is SlackAuth.stale
    assert check_headers(str(NOW + 301), good, NOW) is SlackAuth.stale
    for bad in ("v1=" + "0" * 64, "v0=" + "g" * 64, "v0=" + "0" * 63, "v0=" + "0" * 5000):
        assert check_headers(str(NOW), bad, NOW) is SlackAuth.bad_signature, bad
    assert check_headers(str(NOW), good, NOW) is None, "well formed: the body must decide"
