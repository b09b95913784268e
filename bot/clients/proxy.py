"""The outbound proxy for a URL, read from HTTPS_PROXY, HTTP_PROXY and NO_PROXY the way curl and urllib read them."""

from __future__ import annotations

from urllib.parse import urlsplit
from urllib.request import getproxies_environment, proxy_bypass_environment


def proxy_for(url: str) -> str | None:
    """The proxy URL to reach `url` through, or None to go direct (no proxy set, or the host is in NO_PROXY)."""
    parts = urlsplit(url)
    proxies = getproxies_environment()
    proxy = proxies.get(parts.scheme)
    if not proxy or not parts.hostname:
        return None
    host = f"{parts.hostname}:{parts.port}" if parts.port else parts.hostname
    if proxy_bypass_environment(host, proxies):
        return None
    return proxy
