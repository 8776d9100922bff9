"""The real client address: forwarded headers believed only from trusted proxies."""

from __future__ import annotations

import pytest
from starlette.requests import Request

from mallnet.client_address import (
    InvalidTrustedProxies,
    TrustedProxies,
    client_address,
    limit_key,
)

PROXIES = "10.0.0.0/8, 192.168.1.5, fd00::/8"


def _request(peer: str | None, *forwarded: str) -> Request:
    headers = [(b"x-forwarded-for", value.encode()) for value in forwarded]
    scope = {
        "type": "http",
        "method": "GET",
        "path": "/",
        "headers": headers,
        "client": None if peer is None else (peer, 1234),
    }
    return Request(scope)


def test_without_trusted_proxies_the_peer_is_the_client() -> None:
    assert client_address(_request("203.0.113.9"), "") == "203.0.113.9"
    assert client_address(_request("203.0.113.9", "198.51.100.1"), "") == "203.0.113.9"


def test_a_trusted_proxy_forwards_the_client_address() -> None:
    assert client_address(_request("10.0.0.2", "198.51.100.1"), PROXIES) == "198.51.100.1"
    # Two of our proxies in a row.
    request = _request("10.0.0.2", "198.51.100.1, 192.168.1.5")
    assert client_address(request, PROXIES) == "198.51.100.1"


def test_a_spoofed_header_from_an_untrusted_peer_is_ignored() -> None:
    assert client_address(_request("203.0.113.9", "10.0.0.7"), PROXIES) == "203.0.113.9"
    assert client_address(_request("203.0.113.9", "198.51.100.1"), PROXIES) == "203.0.113.9"


def test_what_the_client_wrote_left_of_its_own_address_is_not_believed() -> None:
    # The client sent "X-Forwarded-For: 1.2.3.4"; our proxy appended the real address.
    request = _request("10.0.0.2", "1.2.3.4, 198.51.100.1")
    assert client_address(request, PROXIES) == "198.51.100.1"
    # The header repeated: values are read as one list, in order.
    request = _request("10.0.0.2", "1.2.3.4", "198.51.100.1")
    assert client_address(request, PROXIES) == "198.51.100.1"


@pytest.mark.parametrize("header", ["not-an-ip", "198.51.100.1:port", "198.51.100.1,,", ""])
def test_a_malformed_last_hop_falls_back_to_the_peer(header: str) -> None:
    assert client_address(_request("10.0.0.2", header), PROXIES) == "10.0.0.2"


def test_only_proxies_in_the_chain_gives_the_leftmost() -> None:
    assert client_address(_request("10.0.0.2", "10.0.0.9, 10.0.0.3"), PROXIES) == "10.0.0.9"


def test_ipv6_and_mapped_ipv4() -> None:
    assert client_address(_request("fd00::1", "2001:db8::5"), PROXIES) == "2001:db8::5"
    assert client_address(_request("::ffff:10.0.0.2", "198.51.100.1"), PROXIES) == ("198.51.100.1")
    assert client_address(_request("::ffff:203.0.113.9"), PROXIES) == "203.0.113.9"


def test_no_peer_and_non_ip_peers() -> None:
    assert client_address(_request(None), PROXIES) == "unknown"
    assert client_address(_request("testclient", "198.51.100.1"), PROXIES) == "testclient"


def test_a_wrong_proxy_list_is_refused_with_its_entry_named() -> None:
    with pytest.raises(InvalidTrustedProxies, match=r"'proxy\.local'"):
        TrustedProxies.parse("10.0.0.1, proxy.local")


def test_ipv6_clients_are_limited_per_64() -> None:
    assert limit_key("2001:db8:1:2:aaaa::1") == limit_key("2001:db8:1:2:bbbb::9")
    assert limit_key("2001:db8:1:2:aaaa::1") == "2001:db8:1:2::/64"
    assert limit_key("198.51.100.1") == "198.51.100.1"
    assert limit_key("testclient") == "testclient"
