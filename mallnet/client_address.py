"""The real client address of a request, for abuse limits.

The address is the connection's peer, unless that peer is one of the reverse proxies the
operator listed (``MALLNET_TRUSTED_PROXIES``): only then is ``X-Forwarded-For`` read, from
the right, skipping the listed proxies, and the first address no proxy of ours added is
the client. Anything to the left of it was written by the client and is never believed: a
hop that is no address (ports allowed: ``1.2.3.4:5678``, ``[2001:db8::1]:443``) ends the
walk there, at the last hop our proxies vouched for.

Serve the apps with uvicorn's own proxy handling off (``proxy_headers=False``): it trusts
``127.0.0.1`` by default and would rewrite the peer before this module sees it.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from starlette.requests import HTTPConnection

UNKNOWN = "unknown"
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class InvalidTrustedProxies(ValueError):
    """``MALLNET_TRUSTED_PROXIES`` holds something that is not an IP address or network."""


def _address(text: str) -> IPAddress | None:
    try:
        address = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped  # a dual-stack socket's view of an IPv4 client
    return address


class TrustedProxies:
    """The networks whose forwarded headers are believed."""

    def __init__(self, networks: tuple[IPNetwork, ...] = ()) -> None:
        self.networks = networks

    @classmethod
    def parse(cls, text: str) -> TrustedProxies:
        """From a comma-separated list of addresses and CIDR networks (``10.0.0.0/8``)."""
        networks: list[IPNetwork] = []
        for part in (p.strip() for p in text.split(",")):
            if not part:
                continue
            try:
                networks.append(ipaddress.ip_network(part, strict=False))
            except ValueError:
                raise InvalidTrustedProxies(
                    f"MALLNET_TRUSTED_PROXIES: {part!r} is not an IP address or network "
                    "(write e.g. 10.0.0.5, 10.0.0.0/8 or fd00::/8, comma-separated)"
                ) from None
        return cls(tuple(networks))

    def trusts(self, address: IPAddress) -> bool:
        return any(address in network for network in self.networks)

    def client_of(self, peer: str | None, forwarded_for: list[str]) -> str:
        """The client's address, given the connection's peer and the ``X-Forwarded-For``
        header values (in the order received)."""
        if peer is None:
            return UNKNOWN
        peer_address = _address(peer)
        if peer_address is None:
            return peer  # not an IP connection (a test client, a unix socket)
        if not self.trusts(peer_address) or not forwarded_for:
            return str(peer_address)
        hops = [hop for value in forwarded_for for hop in value.split(",")]
        nearest: IPAddress = peer_address
        for hop in reversed(hops):
            address = _hop_address(hop)
            if address is None:
                # Our proxies write addresses: what cannot be read was written by the
                # client, left of the last hop our proxies vouch for.
                return str(nearest)
            if not self.trusts(address):
                return str(address)
            nearest = address
        # Every hop is one of our proxies: the leftmost is where the request came from.
        return str(nearest)


def _hop_address(hop: str) -> IPAddress | None:
    """The address of one ``X-Forwarded-For`` hop: ``ip``, ``ipv4:port``, ``[ipv6]`` or
    ``[ipv6]:port`` (some proxies add the port); None when it is none of these."""
    text = hop.strip().strip('"')
    port = ""
    if text.startswith("["):
        host, bracket, port = text[1:].partition("]")
        if not bracket or (port and not port.startswith(":")):
            return None
        port = port[1:] if port else ""
        text = host
    elif text.count(":") == 1:  # IPv4 with a port (a bare IPv6 has several colons)
        text, port = text.split(":")
        if not isinstance(_address(text), ipaddress.IPv4Address):
            return None
    if port and not (port.isascii() and port.isdigit()):
        return None
    return _address(text)


@lru_cache(maxsize=16)
def trusted_proxies(text: str) -> TrustedProxies:
    """``TrustedProxies.parse``, once per configured value."""
    return TrustedProxies.parse(text)


def client_address(conn: HTTPConnection, trusted: str | TrustedProxies) -> str:
    """The real client address of ``conn`` (see the module's docstring)."""
    proxies = trusted_proxies(trusted) if isinstance(trusted, str) else trusted
    peer = conn.client.host if conn.client else None
    return proxies.client_of(peer, conn.headers.getlist("x-forwarded-for"))


# The IPv6 networks an address is also counted under, each with larger limits (see
# ``limit_keys``): one subscriber usually holds a /64, often a /56 or a /48.
IPV6_TIERS = (64, 56, 48)


def _counted_address(address: str) -> IPAddress | None:
    """The address limits count: a 6to4 address (2002::/16) is its embedded IPv4 address
    (anyone with that IPv4 address holds the whole 2002:xxxx:xxxx::/48), a Teredo address
    its client's IPv4 address."""
    parsed = _address(address)
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.sixtofour is not None:
            return parsed.sixtofour
        if parsed.teredo is not None:
            return parsed.teredo[1]
    return parsed


def limit_keys(address: str) -> tuple[str, ...]:
    """The keys abuse limits count an address under, narrowest first: an IPv4 address
    alone; an IPv6 address's /64, /56 and /48 networks (a line can change address at will
    within its prefix, and a /56 holds 256 /64s: the wider keys get larger limits so one
    subscriber cannot spend the network's budgets by walking its /64s)."""
    parsed = _counted_address(address)
    if parsed is None:
        return (address,)
    if isinstance(parsed, ipaddress.IPv4Address):
        return (str(parsed),)
    return tuple(str(ipaddress.IPv6Network((parsed, bits), strict=False)) for bits in IPV6_TIERS)


def limit_key(address: str) -> str:
    """The narrowest of ``limit_keys``: the address itself, or for IPv6 its /64 network."""
    return limit_keys(address)[0]
