"""One check's outcome as `doctor` prints it (one line, with the fix when it fails), and GitLab errors in words."""

from __future__ import annotations

from dataclasses import dataclass

import aiohttp

from bot.clients.gitlab_errors import GitLabAuthError, GitLabError, GitLabNotFound, GitLabUnavailable

OK, WARN, FAIL, SKIP = "ok", "warn", "FAIL", "skip"
# The set-up commands are run by a person who waits: bounded, and short on connecting.
HTTP_TIMEOUT = aiohttp.ClientTimeout(total=60, sock_connect=10, sock_read=20)
LINE = "{status:<4}  {name:<9} {detail}"
FIX = "; fix: {fix}"

ROLE_NAMES = {
    0: "not a member",
    5: "Minimal access",
    10: "Guest",
    15: "Planner",
    20: "Reporter",
    30: "Developer",
    40: "Maintainer",
    50: "Owner",
}

FIX_NETWORK = (
    "check GITLAB_BASE_URL, DNS and firewalls; behind a proxy set HTTPS_PROXY (and NO_PROXY for "
    "an internal GitLab); a private CA goes in SSL_CERT_FILE"
)
FIX_TOKEN = "GITLAB_API_TOKEN is wrong, expired or revoked: create a token for the bot user with scope api"
FIX_CA = "GitLab's certificate is not trusted: point SSL_CERT_FILE at a bundle that holds your CA (docs/deploy.md)"
# aiohttp 3.10 names DNS failures; before that they are connector errors around a gaierror.
DNS_ERROR = getattr(aiohttp, "ClientConnectorDNSError", ())
FIX_BASE_URL = "GITLAB_BASE_URL must be GitLab's own address (https://, no path unless GitLab lives under one)"


@dataclass(frozen=True)
class Check:
    status: str  # ok | warn | FAIL | skip
    name: str
    detail: str
    fix: str = ""

    @property
    def failed(self) -> bool:
        return self.status == FAIL

    def line(self) -> str:
        text = LINE.format(status=self.status, name=self.name, detail=self.detail)
        return text + FIX.format(fix=self.fix) if self.fix and self.status in (FAIL, WARN) else text


def role_name(level: int) -> str:
    return f"{ROLE_NAMES.get(level, 'role')} ({level})"


def _transport_cause(exc: BaseException) -> BaseException | None:
    """The aiohttp error under a GitLabUnavailable (kept as the context of the transient error)."""
    current: BaseException | None = exc
    seen = 0
    while current is not None and seen < 6:
        if isinstance(current, (aiohttp.ClientError, TimeoutError)):
            return current
        current = getattr(current, "last", None) or current.__cause__ or current.__context__
        seen += 1
    return None


def gitlab_failure(exc: GitLabError, base_url: str) -> tuple[str, str]:
    """(what happened, the fix) for a GitLab call that failed."""
    if isinstance(exc, GitLabAuthError):
        return f"GitLab at {base_url} refused the token ({exc.status})", FIX_TOKEN
    if isinstance(exc, GitLabNotFound):
        return f"{exc}", FIX_BASE_URL
    if isinstance(exc, GitLabUnavailable):
        cause = _transport_cause(exc)
        if isinstance(cause, aiohttp.ClientConnectorCertificateError):
            return f"cannot reach {base_url}: {cause.certificate_error}", FIX_CA
        if isinstance(cause, DNS_ERROR):
            return f"cannot resolve the host of {base_url}", FIX_NETWORK
        if isinstance(cause, aiohttp.ClientConnectorError):
            reason = cause.os_error.strerror or type(cause.os_error).__name__
            return f"cannot reach {base_url}: {reason}", FIX_NETWORK
        return f"no answer from {base_url}: {exc.last}", FIX_NETWORK
    if exc.status is not None and 300 <= exc.status < 400:
        return str(exc), FIX_BASE_URL
    return str(exc), ""
