"""The SSRF guard: which resolved addresses discovery and adapters may connect to."""

from __future__ import annotations

import pytest

from mailport.core.netpolicy import PrivateNetworks, check_addresses, check_host, is_public_address
from mailport.errors import HostNotAllowed


@pytest.mark.parametrize("ip", ["8.8.8.8", "1.1.1.1", "2a00:1450:4001:81c::200e", "[2606:4700::1111]"])
def test_global_unicast_is_public(ip: str) -> None:
    assert is_public_address(ip)


@pytest.mark.parametrize(
    "ip",
    [
        "127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "100.64.1.1",
        "0.0.0.0", "224.0.0.1", "255.255.255.255", "::1", "::", "fe80::1%eth0", "fd00::1",
        "fd00:ec2::254", "::ffff:127.0.0.1", "::ffff:10.0.0.1", "2002:7f00:1::1", "64:ff9b::a00:1",
        "not-an-ip", "",
    ],
)
def test_private_loopback_linklocal_and_embedded_are_not_public(ip: str) -> None:
    assert not is_public_address(ip)


def test_check_addresses_refuses_any_private_member() -> None:
    with pytest.raises(HostNotAllowed) as err:
        check_addresses(["8.8.8.8", "10.0.0.5"], allow_private=False)
    assert err.value.code == "net.host_not_allowed"
    assert err.value.address == "10.0.0.5"


def test_check_addresses_allows_private_when_configured() -> None:
    check_addresses(["127.0.0.1", "::1"], allow_private=True)


def test_check_addresses_refuses_empty_and_garbage() -> None:
    with pytest.raises(HostNotAllowed) as err:
        check_addresses([], allow_private=True)
    assert err.value.code == "net.host_not_found"
    with pytest.raises(HostNotAllowed):
        check_addresses(["localhost"], allow_private=True)


def test_public_addresses_pass() -> None:
    check_addresses(["8.8.8.8", "2606:4700::1111"], allow_private=False)


@pytest.mark.parametrize(("host", "address"), [
    ("localhost", "localhost"), ("localhost.", "localhost"), ("LOCALHOST", "localhost"),
    ("mail.localhost", "mail.localhost"), ("nas.local", "nas.local"), ("smtp.corp.internal", "smtp.corp.internal"),
    ("box.home.arpa", "box.home.arpa"), ("mailserver", "mailserver"),
    ("127.1", "127.0.0.1"), ("0", "0.0.0.0"), ("2130706433", "127.0.0.1"), ("0x7f000001", "127.0.0.1"),
    ("0177.0.0.1", "127.0.0.1"), ("0x7f.1", "127.0.0.1"), ("10.1", "10.0.0.1"), ("3232235777", "192.168.1.1"),
    ("[::1]", "::1"), ("::ffff:127.0.0.1", "::ffff:7f00:1"), ("169.254.169.254", "169.254.169.254"),
])
def test_check_host_refuses_local_names_and_every_spelling_of_a_private_address(host: str, address: str) -> None:
    with pytest.raises(HostNotAllowed) as err:
        check_host(host, allow_private=False)
    assert err.value.code == "net.host_not_allowed" and err.value.address == address


@pytest.mark.parametrize(("host", "expected"), [
    ("smtp.example.com", "smtp.example.com"), ("SMTP.Example.COM.", "smtp.example.com"),
    ("8.8.8.8", "8.8.8.8"), ("[2606:4700::1111]", "2606:4700::1111"), ("mail.localhost.example.com",
                                                                      "mail.localhost.example.com"),
    # A shorthand of a public address passes here; the endpoint's syntax check refuses it.
    ("134744072", "134744072"),
])
def test_check_host_passes_public_names_and_addresses(host: str, expected: str) -> None:
    assert check_host(host, allow_private=False) == expected


@pytest.mark.parametrize("host", ["localhost", "127.1", "[::1]", "mailserver", "nas.local", "10.0.0.5"])
def test_check_host_admits_everything_when_the_operator_allows_private_hosts(host: str) -> None:
    check_host(host, allow_private=True)


# The operator's own networks (MAILPORT_ALLOW_PRIVATE_NETWORKS): an on-premises mail server is
# reachable, the rest of the inside is not.
OWN = PrivateNetworks.parse(["10.1.2.0/24", "192.168.5.20", "fd12:3456::/48"])


@pytest.mark.parametrize("ip", ["10.1.2.3", "10.1.2.254", "192.168.5.20", "::ffff:10.1.2.3", "fd12:3456::25",
                                "8.8.8.8"])
def test_the_operators_own_networks_and_public_addresses_pass(ip: str) -> None:
    check_addresses([ip], allow_private=OWN)


@pytest.mark.parametrize("ip", ["10.1.3.1", "192.168.5.21", "127.0.0.1", "169.254.169.254", "::1", "fd12:3457::1",
                                "100.64.1.1", "2002:a01:203::1"])  # the last: 6to4 of 10.1.2.3, not in the list
def test_every_other_private_address_is_still_refused(ip: str) -> None:
    with pytest.raises(HostNotAllowed):
        check_addresses([ip], allow_private=OWN)


def test_one_address_outside_the_networks_refuses_the_name() -> None:
    with pytest.raises(HostNotAllowed):
        check_addresses(["10.1.2.3", "10.9.9.9"], allow_private=OWN)


@pytest.mark.parametrize(("host", "allowed"), [
    ("10.1.2.3", True), ("[fd12:3456::25]", True), ("0x0a010203", True),  # 10.1.2.3 spelt in hex
    ("127.0.0.1", False), ("127.1", False), ("10.9.9.9", False), ("[::1]", False),
    # names only a local resolver knows pass by spelling: their addresses decide at each connection
    ("exchange.corp", True), ("mail", True), ("mail.bakkerij.internal", True),
    ("localhost", False), ("smtp.localhost", False),  # always the loopback, which is not listed
])
def test_check_host_with_the_operators_networks(host: str, allowed: bool) -> None:
    if allowed:
        check_host(host, allow_private=OWN)
    else:
        with pytest.raises(HostNotAllowed):
            check_host(host, allow_private=OWN)


def test_localhost_passes_only_when_the_loopback_is_listed() -> None:
    assert check_host("localhost", allow_private=PrivateNetworks.parse(["127.0.0.0/8"])) == "localhost"


@pytest.mark.parametrize("entry", ["10.1.2.3/24", "mail.corp", "10.1.2.0/33", ""])
def test_a_network_that_is_not_one_is_refused_with_its_entry_named(entry: str) -> None:
    with pytest.raises(ValueError, match="is not an IP network"):
        PrivateNetworks.parse([entry])
