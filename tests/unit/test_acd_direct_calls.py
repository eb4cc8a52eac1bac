"""Which answered channels are an agent's direct calls (fsapps.acd.direct_calls.direct_call),
and the floor's activity for an agent on one (fsapps.acd.figures.activity)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from fsapps.acd.direct_calls import DirectCall, answer_fields, direct_call, phones_by_address
from fsapps.acd.figures import activity
from fsapps.esl import codec

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


ANSWERED = {"Event-Name": "CHANNEL_ANSWER", "Unique-ID": "L5", "Channel-Name": "sofia/internal/1002@10.0.0.5",
            "Channel-Presence-ID": "1002@acme.example", "Call-Direction": "outbound",
            "Caller-Caller-ID-Number": "+86 10 5555:01", "variable_fsapps_dial_out": "true",
            "Caller-Destination-Number": "9%1"}  # fmt: skip


@given(
    # Header names travel unencoded (only values are URL-encoded): no ': ' or line break in them.
    others=st.dictionaries(st.text(st.characters(exclude_characters="\n\r: ", exclude_categories=["Cs"]), min_size=1, max_size=20)
                           .map(lambda k: "variable_" + k), st.text(st.characters(exclude_categories=["Cs"]), max_size=30), max_size=30),
    member=st.sampled_from(["", "M1"]),
    dropped=st.sets(st.sampled_from(sorted(ANSWERED))),
)
def test_the_fields_handed_on_decide_as_the_whole_event_would(
    others: dict[str, str], member: str, dropped: set[str]
) -> None:
    """The reader decodes only what direct_call reads, from the switch's encoded event,
    and the answer is the one the whole event gives."""
    whole = {**others, **{k: v for k, v in ANSWERED.items() if k not in dropped}}
    if member:
        whole["variable_fsapps_member"] = member
    else:
        whole.pop("variable_fsapps_member", None)
    event = codec.event_from_fields(list(whole.items()))
    handed = answer_fields(event.fields)
    if member:
        assert handed is None  # a queue's offer: the ACD's state has it
    else:
        assert handed is not None
        assert direct_call(handed, PHONES) == direct_call(whole, PHONES)
        assert set(handed) <= set(ANSWERED)


def test_an_encoded_answer_reaches_the_floor_decoded() -> None:
    event = codec.event_from_fields(list(ANSWERED.items()))
    handed = answer_fields(event.fields)
    assert handed is not None
    assert direct_call(handed, PHONES) == DirectCall("L5", "bob", "+86 10 5555:01", "outbound")
