"""Which channels are an agent's phone's (skip-agents-with-external-calls): the addresses a
contact and a channel carry, as FreeSWITCH names and marks the phone's calls."""

from __future__ import annotations

from fsapps.acd.phones import channel_addresses, contact_addresses


def test_a_user_contact_is_the_legs_the_user_endpoint_rings_and_the_phones_own_calls() -> None:
    phone = contact_addresses("{ignore_early_media=true}[leg_timeout=20]user/1001@Cablenet.example")
    # mod_dptools.c:4411-4412: presence_id dialled_user@domain on the leg it rings.
    rung = channel_addresses("sofia/internal/1001@192.0.2.7:5062", "1001@cablenet.example")
    # sofia.c:2576-2586: a call from the registered phone is named after its From.
    own = channel_addresses("sofia/internal/1001@cablenet.example", "")
    other = channel_addresses("sofia/internal/1002@cablenet.example", "1002@cablenet.example")
    assert phone & rung and phone & own
    assert not phone & other


def test_a_sofia_contact_is_the_channel_of_that_name() -> None:
    phone = contact_addresses("sofia/external/cn_li@127.0.0.1:5080;transport=udp")
    assert phone & channel_addresses("sofia/external/cn_li@127.0.0.1:5080", "")
    assert not phone & channel_addresses("sofia/external/cn_wang@127.0.0.1:5080", "")


def test_gateways_and_other_endpoints_name_no_phone() -> None:
    for contact in ("sofia/gateway/carrier/0755123", "loopback/1000", "user/1001", "error/busy", ""):
        assert contact_addresses(contact) == frozenset(), contact


def test_every_target_of_a_dial_string_counts() -> None:
    phone = contact_addresses("user/1001@a.example,sofia/internal/desk@192.0.2.9|user/1002@a.example")
    assert {"addr:1001@a.example", "chan:sofia/internal/desk@192.0.2.9", "addr:1002@a.example"} == phone
