"""Whether a browser request that changes something comes from our own pages.

A browser sends the session cookie with whatever request a page makes of our host, whichever
site the page is on (SameSite=Strict narrows that to our own site, not to our own origin). So a
request known only by that cookie may change something (POST, PUT, PATCH, DELETE) only when it
says it comes from our origin: its `Origin` header, which every current browser sends with
such requests, or failing that its `Referer`. A request with neither is refused: a page of
ours always sends one (`web.security_headers` keeps `Referrer-Policy` at `same-origin`, under
which our own pages' `Origin` is never `null`). API-key callers are not browsers riding on a
cookie, and are not asked.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from urllib.parse import urlsplit

CHANGING_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_DEFAULT_PORTS = {"http": 80, "https": 443}


def origin_of(url: str) -> str | None:
    """`scheme://host[:port]` of a URL, as browsers write an origin (lower case, default port
    left out); None for anything that is not an http(s) URL with a host."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme, host = parts.scheme.lower(), parts.hostname
    if scheme not in _DEFAULT_PORTS or not host:
        return None
    if ":" in host:
        host = f"[{host}]"
    return f"{scheme}://{host}" + (f":{port}" if port is not None and port != _DEFAULT_PORTS[scheme] else "")


def own_origins(public_url: str, request_url: str) -> set[str]:
    """Our origin: the one the app is published at (VRM_PUBLIC_URL), and the one the request
    itself was addressed to (its scheme and `Host`)."""
    return {origin for origin in (origin_of(public_url), origin_of(request_url)) if origin}


def from_own_origin(method: str, headers: Mapping[str, str], own: Iterable[str]) -> bool:
    """True when the request changes nothing, or says it comes from one of `own` origins."""
    if method.upper() not in CHANGING_METHODS:
        return True
    claimed = headers.get("origin")
    if claimed is None:
        claimed = headers.get("referer")
    return claimed is not None and origin_of(claimed) in set(own)
