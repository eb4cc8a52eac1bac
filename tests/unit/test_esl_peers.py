"""Which peers the outbound server admits (controller.allow_from)."""

from __future__ import annotations

import re

import pytest

from fsapps.esl.server import LOOPBACK, networks, peer_allowed


@pytest.mark.parametrize(
    ("host", "allowed"),
    [
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("::1", True),
        ("::ffff:127.0.0.1", True),  # an IPv4 peer on a dual-stack socket
        ("10.0.0.1", False),
        ("::ffff:10.0.0.1", False),
        ("fe80::1%eth0", False),
        ("not-an-address", False),
        ("", False),
    ],
)
def test_loopback_is_the_default(host: str, allowed: bool) -> None:
    assert peer_allowed(host, networks(LOOPBACK)) is allowed


def test_single_addresses_and_networks_of_both_families() -> None:
    allow = networks(["10.1.2.3", "192.168.0.0/16", "2001:db8::/32"])
    assert peer_allowed("10.1.2.3", allow)
    assert not peer_allowed("10.1.2.4", allow)
    assert peer_allowed("192.168.77.1", allow)
    assert peer_allowed("2001:db8::5", allow)
    assert not peer_allowed("127.0.0.1", allow)


def test_a_bad_entry_is_named() -> None:
    with pytest.raises(ValueError, match=re.escape("not an address or network: '10.0.0.300'")):
        networks(["127.0.0.1", "10.0.0.300"])
