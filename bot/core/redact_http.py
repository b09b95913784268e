"""Secrets in HTTP headers as tools print them: Authorization, token and API-key headers, cookies (pure)."""

from __future__ import annotations

from bot.core.redact_tokens import TokenRule, looks_random, not_masked, rule

COOKIE_ATTRIBUTES = frozenset({"path", "domain", "expires", "max-age", "samesite", "secure", "httponly", "priority"})


def cookie_values(header: str) -> list[str]:
    """The values of a cookie header's cookies that look generated (a session id), not its attributes."""
    values = []
    for part in header.split(";"):
        name, _, value = part.strip().partition("=")
        if value and name.lower() not in COOKIE_ATTRIBUTES and looks_random(value):
            values.append(value.strip("\"'"))
    return values


HEADER_VALUE = r"([^\s\"',;\\]+)"  # not a backslash: Python's http.client debug prints b'...\r\nHeader: X\r\n'
# A header's name starts a word, or follows a printed "\r\n" escape (http.client's `send: b'GET / ...\r\nAuth...`).
HEADER_START = r"(?:\b|(?<=\\[rn]))"

HTTP_RULES: tuple[TokenRule, ...] = (
    rule(
        "authorization",
        # The name may be quoted, as in a JSON or Python dump of the headers ({"Authorization": "Bearer ..."}). A
        # vendor's own scheme word (Okta's `SSWS X`, `ShippoToken X`, `GenieKey X`) only before a token-like value.
        r"(?i)" + HEADER_START + r"(?:proxy-)?authorization[\"']?\s*[:=]\s*[\"']?(?:(?:bearer|basic|token|bot|digest|"
        r"negotiate|apikey|sso-key|gitlab-ci-token)\s+|[A-Za-z][\w\-]{1,40}\s+(?=[0-9A-Za-z+/_\-=.~]{16}))?"
        + HEADER_VALUE,
        ("authorization",),
        group=1,
        needs_lower=("authorization",),  # "auth" lines run it otherwise
        # Not a parameter's name: Digest's `username="ci", realm=...` (its `response=` is the rule below).
        check=lambda v: not_masked(v) and not (v.endswith("=") and v[:-1].isalpha() and v[:-1].islower()),
    ),
    # HTTP Digest's response: a hash of the password with the server's nonce, enough to try passwords offline.
    rule(
        "authorization",
        r"(?i)\bdigest\s[^\n]{0,400}?\bresponse=\"?([0-9a-f]{32,128})\b",
        ("authorization",),
        group=1,
        needs=("response=",),
    ),
    rule(
        "token",
        r"(?i)\b(?:private|job|deploy)-token\s*:\s*" + HEADER_VALUE,
        ("private", "-token"),
        group=1,
        check=not_masked,
    ),
    rule(
        "api-key",
        # Honeycomb's key goes in X-Honeycomb-Team, a header named for neither.
        r"(?i)"
        + HEADER_START
        + r"(?:x-api-key|api-key|x-auth-token|x-gitlab-token|x-vault-token|x-access-token|x-honeycomb-team)\s*:\s*"
        + HEADER_VALUE,
        ("key", "token", "honeycomb"),
        group=1,
        check=not_masked,
        needs=(":",),
        needs_lower=("api-key", "-token", "honeycomb-team"),
    ),
    rule(
        "cookie",
        r"(?i)\b(?:set-)?cookie\s*:\s*([^\"'\n]+?)\s*(?=[\"']|$)",
        ("cookie",),
        group=1,
        check=not_masked,
        pieces=lambda header: cookie_values(header),
    ),
)
