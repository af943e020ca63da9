"""Read your own writes on a replica: the consistency token.

An answer to a request that committed a write carries `Consistency-Token`: the primary's
WAL position read right after the commit. A read that sends it back (the header, or the
cookie when CONSISTENCY_COOKIE is on) is served by the replica only once the replica has
replayed that far, waiting CONSISTENCY_WAIT at most, and by the primary otherwise
(api/data/db.py). Nothing is kept in a worker: the token holds all there is to know, so it
works across workers and hosts.

The token is opaque to clients: base64url of a version byte and the position, 12
characters. One this service did not make (malformed, or of another version) is ignored,
and the read is served as one without a token: it only ever asks for fresher data, never
for other data, and a stale cookie must not turn a browser's every read into an error. It
is not a secret, and forging one gains nothing but slower reads of one's own.
"""

from __future__ import annotations

import base64
import binascii

HEADER = b"consistency-token"
HEADER_NAME = "Consistency-Token"  # as declared in the document and the README
COOKIE = "consistency_token"
COOKIE_HEADER = b"cookie"
# A replica lags by milliseconds to seconds; a token older than this has long been replayed.
COOKIE_MAX_AGE = 300
SCOPE_KEY = "api.consistency"  # the request's slot (Consistency) in the ASGI scope

VERSION = 1
_TOKEN_BYTES = 9  # the version, then the position: 8 bytes, big-endian
_TOKEN_LENGTH = 12  # base64 of 9 bytes, which needs no padding
_ALPHABET = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def token(position: int) -> str:
    """The token for a WAL position (bytes since the start of the WAL)."""
    return base64.urlsafe_b64encode(bytes((VERSION,)) + position.to_bytes(8, "big")).decode()


def position(sent: bytes | str | None) -> int | None:
    """The WAL position a token holds, or None for anything but a token of this version."""
    if sent is None:
        return None
    raw = sent.encode("latin-1", "replace") if isinstance(sent, str) else sent
    if len(raw) != _TOKEN_LENGTH or not _ALPHABET.issuperset(raw):
        return None
    try:
        decoded = base64.urlsafe_b64decode(raw)
    except (binascii.Error, ValueError):
        return None
    if len(decoded) != _TOKEN_BYTES or decoded[0] != VERSION:
        return None
    return int.from_bytes(decoded[1:], "big")


def _from_cookies(cookies: bytes) -> bytes | None:
    for pair in cookies.split(b";"):
        name, _, value = pair.strip().partition(b"=")
        if name == COOKIE.encode():
            return value.strip(b'"')
    return None


class Consistency:
    """One request's token: what it sent (read lazily, only when a replica could serve it) and
    the WAL position after its last commit, if it committed anything."""

    __slots__ = ("committed", "cookies", "sent")

    def __init__(self, sent: bytes | None, cookies: bytes | None) -> None:
        self.sent = sent
        self.cookies = cookies
        self.committed: int | None = None

    def wanted(self, *, cookie: bool) -> int | None:
        """The position a read must see: the header's, else the cookie's (when cookies are on)."""
        if self.sent is not None:
            return position(self.sent)
        if cookie and self.cookies is not None:
            return position(_from_cookies(self.cookies))
        return None

    def commit(self, wal_position: int) -> None:
        if self.committed is None or wal_position > self.committed:
            self.committed = wal_position

    def headers(self, *, cookie: bool) -> list[tuple[bytes, bytes]]:
        """What an answer carries once the request committed: the header, and the cookie if on."""
        if self.committed is None:
            return []
        value = token(self.committed).encode()
        headers = [(HEADER, value)]
        if cookie:
            attributes = f"; Max-Age={COOKIE_MAX_AGE}; Path=/; HttpOnly; SameSite=Lax".encode()
            headers.append((b"set-cookie", COOKIE.encode() + b"=" + value + attributes))
        return headers
