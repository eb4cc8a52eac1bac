"""Which answered channels are an agent's direct calls (fsapps.acd.direct_calls.direct_call),
and the floor's activity for an agent on one (fsapps.acd.figures.activity)."""

from __future__ import annotations

from fsapps.acd.direct_calls import DirectCall, direct_call, phones_by_address
from fsapps.acd.figures import activity

PHONES = phones_by_address({"ann": "sofia/external/ann@127.0.0.1:5080", "bob": "user/1002@acme.example",
                            "twin1": "user/9@x", "twin2": "user/9@x"})  # fmt: skip


def test_a_leg_rung_at_the_phone_with_no_queue_is_a_call_in_from_its_caller_id() -> None:
    fields = {"Unique-ID": "L1", "Channel-Name": "sofia/external/ann@127.0.0.1:5080",
              "Call-Direction": "outbound", "Caller-Caller-ID-Number": "13800000031"}  # fmt: skip
    assert direct_call(fields, PHONES) == DirectCall("L1", "ann", "13800000031", "inbound")


def test_a_dial_out_leg_is_a_call_out_and_a_call_from_the_phone_names_its_destination() -> None:
    out = {"Unique-ID": "L2", "Channel-Name": "sofia/internal/1002@10.0.0.5",
           "Channel-Presence-ID": "1002@acme.example", "Call-Direction": "outbound",
           "Caller-Caller-ID-Number": "95555", "variable_fsapps_dial_out": "true"}  # fmt: skip
    assert direct_call(out, PHONES) == DirectCall("L2", "bob", "95555", "outbound")
    dialled = {"Unique-ID": "L3", "Channel-Name": "sofia/internal/1002@acme.example",
               "Call-Direction": "inbound", "Caller-Caller-ID-Number": "1002",
               "Caller-Destination-Number": "4008001234"}  # fmt: skip
    assert direct_call(dialled, PHONES) == DirectCall("L3", "bob", "4008001234", "outbound")


def test_a_queues_offer_another_phone_and_a_shared_address_are_no_direct_call() -> None:
    base = {"Unique-ID": "L4", "Channel-Name": "sofia/external/ann@127.0.0.1:5080", "Call-Direction": "outbound"}
    assert direct_call({**base, "variable_fsapps_member": "M1"}, PHONES) is None
    assert direct_call({**base, "Channel-Name": "sofia/external/carl@127.0.0.1:5080"}, PHONES) is None
    assert direct_call({**base, "Channel-Name": "loopback/9", "Channel-Presence-ID": "9@x"}, PHONES) is None
    assert direct_call({**base, "Unique-ID": ""}, PHONES) is None


def test_an_agent_on_a_direct_call_is_talking_since_its_answer_unless_a_queue_call_holds_them() -> None:
    row = {"status": "On Break", "state": "Waiting", "last_status_change": 100.0}
    assert activity(row, 200.0) == ("on_break", 100.0)
    assert activity({**row, "direct_call_since": 190.0}, 200.0) == ("talking", 10.0)
    queued = {**row, "status": "Available", "state": "Receiving", "last_offered_call": 195.0}
    assert activity({**queued, "direct_call_since": 190.0}, 200.0) == ("ringing", 5.0)
