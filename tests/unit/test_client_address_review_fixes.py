"""The client address as the abuse limits see it, after the second security review
(issue 15): IPv6 counted per /64 and per wider network, 6to4 as its IPv4 address; and
X-Forwarded-For read hop by hop from the right."""

from __future__ import annotations

from mallnet.client_address import TrustedProxies, limit_key, limit_keys


def test_an_ipv6_address_is_counted_under_its_64_56_and_48() -> None:
    assert limit_keys("2001:db8:1:2aa:bb::1") == (
        "2001:db8:1:2aa::/64",
        "2001:db8:1:200::/56",
        "2001:db8:1::/48",
    )
    assert limit_key("2001:db8:1:2aa:bb::1") == "2001:db8:1:2aa::/64"


def test_a_6to4_or_teredo_address_is_counted_as_its_ipv4_address() -> None:
    assert limit_keys("2002:c633:6401:7::1") == ("198.51.100.1",)
    assert limit_keys("2001:0:4136:e378:8000:63bf:3fff:fdd2") == ("192.0.2.45",)


def test_ipv4_and_other_peers_are_counted_alone() -> None:
    assert limit_keys("198.51.100.1") == ("198.51.100.1",)
    assert limit_keys("::ffff:198.51.100.1") == ("198.51.100.1",)
    assert limit_keys("testclient") == ("testclient",)


PROXIES = TrustedProxies.parse("10.0.0.0/8, fd00::/8")


def test_a_malformed_hop_left_of_the_client_changes_nothing() -> None:
    # The client wrote garbage; our proxy appended the address it saw.
    assert PROXIES.client_of("10.0.0.2", ["garbage, 198.51.100.7"]) == "198.51.100.7"
    assert PROXIES.client_of("10.0.0.2", ["not-an-ip", "198.51.100.7, 10.0.0.3"]) == (
        "198.51.100.7"
    )


def test_a_malformed_hop_right_of_the_client_stops_at_the_last_proxy() -> None:
    # Nothing our proxies vouch for names a client: the nearest proxy is the address.
    assert PROXIES.client_of("10.0.0.2", ["198.51.100.7, bogus, 10.0.0.3"]) == "10.0.0.3"


def test_hops_with_ports_are_read() -> None:
    assert PROXIES.client_of("10.0.0.2", ["198.51.100.7:51234"]) == "198.51.100.7"
    assert PROXIES.client_of("10.0.0.2", ["[2001:db8::7]:443, 10.0.0.3:80"]) == "2001:db8::7"
    assert PROXIES.client_of("10.0.0.2", ['"[2001:db8::7]"']) == "2001:db8::7"
    assert PROXIES.client_of("10.0.0.2", ["2001:db8::7"]) == "2001:db8::7"


def test_what_is_no_hop_is_refused() -> None:
    for hop in ("198.51.100.7:port", "[2001:db8::7", "[2001:db8::7]x", "2001:db8::7]:1", ""):
        assert PROXIES.client_of("10.0.0.2", [hop]) == "10.0.0.2", hop
