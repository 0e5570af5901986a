"""The SSRF guard: which resolved addresses discovery and adapters may connect to."""

from __future__ import annotations

import pytest

from mailport.core.netpolicy import check_addresses, check_host, is_public_address
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
