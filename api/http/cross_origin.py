"""Writes from a browser page on another origin are refused before they reach the app.

CORS (Starlette's middleware, CORS_ORIGINS) decides what a page on another origin may read.
It does not stop a "simple" request, a form POST for one, from running on the server: the
browser sends it without asking first and only hides the answer from the page. Sign-in
takes a form, so without this any page could make its visitors' browsers try passwords
here, spending their addresses' throttle and the workers' hashing. The edge answers such
a write 403, on the signals browsers send (the rules of Go's `CrossOriginProtection`):

- `Sec-Fetch-Site`, sent by every current browser: `same-origin`, or `none` (an address
  typed or bookmarked), passes; `same-site` and `cross-site` are another origin's;
- without it (older browsers), an `Origin` naming another host or port than `Host` is
  another origin's (compared as URLs compare them: the host in any case, a default port
  written or not);
- a request with neither is no browser's (curl, a server, a generated client): it passes;
- a page on an origin in CORS_ORIGINS passes, whatever it says: those pages may write
  (`*` lists them all, as it does for CORS).

GET, HEAD and OPTIONS change nothing and are never refused: reading is CORS's to allow.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

from starlette.responses import JSONResponse

from api.http.errors import Forbidden, problem

ORIGIN = b"origin"
SEC_FETCH_SITE = b"sec-fetch-site"
HOST = b"host"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
THIS_ORIGIN = frozenset({b"same-origin", b"none"})
DEFAULT_PORTS = {"http": 80, "https": 443}
ANY = "*"
DETAIL = "A page on another origin may not write here."


class Trusted:
    """CORS_ORIGINS as the edge compares them: the bytes of each `Origin` header, or any."""

    __slots__ = ("any", "origins")

    def __init__(self, origins: Iterable[str]) -> None:
        listed = list(origins)
        self.any = ANY in listed
        self.origins = frozenset(origin.encode("latin-1") for origin in listed)


def refused(method: str, headers: Iterable[tuple[bytes, bytes]], trusted: Trusted) -> bool:
    """Whether this request is a write from a page on an origin that may not write. Its headers
    are read only for a write: reads never pay for this."""
    if method in SAFE_METHODS or trusted.any:
        return False
    origin = site = host = None
    for name, value in headers:
        if name == ORIGIN:
            origin = value
        elif name == SEC_FETCH_SITE:
            site = value
        elif name == HOST:
            host = value
    if origin is not None and origin in trusted.origins:
        return False
    if site is not None:
        return site not in THIS_ORIGIN
    return origin is not None and not _same_origin(origin, host)


def _same_origin(origin: bytes, host: bytes | None) -> bool:
    """Whether `Origin` names the host and port the request was sent to. "null" (a sandboxed
    page, a file) names none."""
    try:
        sent = urlsplit(origin.decode("latin-1"))
        asked = urlsplit(f"//{host.decode('latin-1')}") if host is not None else None
        if asked is None or sent.hostname is None or sent.scheme not in DEFAULT_PORTS:
            return False
        default = DEFAULT_PORTS[sent.scheme]
        return sent.hostname == asked.hostname and (sent.port or default) == (asked.port or default)
    except ValueError:  # a port that is no number, or out of range
        return False


def refusal() -> JSONResponse:
    return problem(Forbidden.status, DETAIL)
