"""Writes from a browser page on another origin are refused before they reach the app.

CORS (Starlette's middleware, CORS_ORIGINS) decides what a page on another origin may read.
It does not stop a "simple" request, a form POST for one, from running on the server: the
browser sends it without asking first and only hides the answer from the page. Sign-in
takes a form, so without this any page could make its visitors' browsers try passwords
here, spending their addresses' throttle and the workers' hashing. The edge answers such
a write 403, on the signals browsers send (the rules of Go's `CrossOriginProtection`):

- `Sec-Fetch-Site`, sent by every current browser: `same-origin`, or `none` (an address
  typed or bookmarked), passes; `same-site` and `cross-site` are another origin's;
- without it (older browsers), an `Origin` naming another host than `Host` is another
  origin's;
- a request with neither is no browser's (curl, a server, a generated client): it passes;
- a page on an origin in CORS_ORIGINS passes, whatever it says: those pages may write.

GET, HEAD and OPTIONS change nothing and are never refused: reading is CORS's to allow.
"""

from __future__ import annotations

from collections.abc import Iterable

from starlette.responses import JSONResponse

from api.http.errors import Forbidden, problem

ORIGIN = b"origin"
SEC_FETCH_SITE = b"sec-fetch-site"
HOST = b"host"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
THIS_ORIGIN = frozenset({b"same-origin", b"none"})
DETAIL = "A page on another origin may not write here."


def trusted(origins: Iterable[str]) -> frozenset[bytes]:
    """CORS_ORIGINS as the edge compares them: the bytes of each `Origin` header."""
    return frozenset(origin.encode("latin-1") for origin in origins)


def refused(
    method: str, origin: bytes | None, site: bytes | None, host: bytes | None, allowed: frozenset[bytes]
) -> bool:
    """Whether this request is a write from a page on an origin that may not write."""
    if method in SAFE_METHODS or (origin is not None and origin in allowed):
        return False
    if site is not None:
        return site not in THIS_ORIGIN
    if origin is None:
        return False
    return origin.partition(b"://")[2] != host  # "null" (a sandboxed page) names no host at all


def refusal() -> JSONResponse:
    return problem(Forbidden.status, DETAIL)
