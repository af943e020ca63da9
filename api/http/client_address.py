"""Who is asking, by network address: the socket's peer, or behind a trusted proxy the
client it forwarded for.

`X-Forwarded-For` is believed only from a peer in TRUSTED_PROXIES, and then only as far as
the hops are trusted: each proxy appends the address it received from, so reading from the
right, the first hop that is not a trusted proxy is the client. What a client writes at the
left of the header itself is never taken. (The server is run with its own proxy-header
handling off: uvicorn's would believe any peer on 127.0.0.1.)

An IPv6 client counts as its /64, the block one host is usually given: counting single
addresses would let it try from 2^64 of them.
"""

from collections.abc import Sequence
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network
from typing import Annotated

from fastapi import Depends, Request

Network = IPv4Network | IPv6Network
Address = IPv4Address | IPv6Address

FORWARDED_FOR = b"x-forwarded-for"
# A request with no peer (a Unix socket, a test transport without one) counts as this one.
NO_PEER = IPv4Address("0.0.0.0")  # noqa: S104  (a placeholder, not an address bound to)


def _parsed(text: str) -> Address | None:
    try:
        address = ip_address(text.strip().removeprefix("[").split("]", 1)[0])
    except ValueError:
        return None
    if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _trusted(address: Address, proxies: Sequence[Network]) -> bool:
    return any(address in proxy for proxy in proxies)


def client_address(peer: str | None, forwarded_for: Sequence[str], proxies: Sequence[Network]) -> Network:
    """The client's network: its IPv4 address as a /32, or its IPv6 /64.

    `forwarded_for` holds each X-Forwarded-For header's value, in order."""
    client = _parsed(peer) if peer else None
    if client is None:
        client = NO_PEER
    if proxies and _trusted(client, proxies):
        hops = [hop for value in forwarded_for for hop in value.split(",")]
        for hop in reversed(hops):
            forwarded = _parsed(hop)
            if forwarded is None:  # garbage: trust stops at the proxy that passed it on
                break
            client = forwarded
            if not _trusted(forwarded, proxies):
                break
    prefix = 64 if isinstance(client, IPv6Address) else 32
    return ip_network(f"{client}/{prefix}", strict=False)


async def _client_address(request: Request) -> Network:
    peer = request.client.host if request.client else None
    forwarded = [value.decode("latin-1") for name, value in request.scope["headers"] if name == FORWARDED_FOR]
    return client_address(peer, forwarded, request.app.state.settings.trusted_proxies)


ClientAddress = Annotated[Network, Depends(_client_address)]
