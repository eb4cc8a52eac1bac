"""The outline rules that let the acceptance scenarios compare the real switch's
conversations with the emulator's (tests/support/sequences.py): each removes
exactly its deliberate difference and nothing else."""

from __future__ import annotations

from fsapps.esl import codec
from fsapps.testing.conversation import Conversation, Entry
from tests.support import sequences
from tests.support.replay import DELIBERATE

MOH = "> execute playback tone_stream://L=2;%(300,700,523)"


def test_every_rule_names_a_deliberate_difference() -> None:
    assert set(sequences.RULES) <= set(DELIBERATE)
    assert all(DELIBERATE[name] for name in sequences.RULES)


def test_a_broken_hold_clip_goes_and_what_arrived_meanwhile_stays() -> None:
    lines = [
        MOH, "< +OK", "< DTMF", "> api uuid_break <uuid>", "< +OK", "> api uuid_break <uuid>", "< +OK",
        "< CHANNEL_EXECUTE_COMPLETE playback", "> execute bridge x", "< +OK",
    ]  # fmt: skip
    assert sequences.RULES["hold music between offers"](lines) == ["< DTMF", "> execute bridge x", "< +OK"]


def test_a_clip_that_played_to_its_end_stays() -> None:
    lines = [MOH, "< +OK", "< CHANNEL_EXECUTE_COMPLETE playback", "> execute bridge x"]
    assert sequences.RULES["hold music between offers"](lines) == lines


def test_break_retries_count_once() -> None:
    lines = [MOH, "< +OK", "> api uuid_break <uuid>", "< +OK", "> api uuid_break <uuid>", "< +OK", "< X"]
    assert sequences.RULES["uuid_break retries"](lines) == [
        MOH,
        "< +OK",
        "> api uuid_break <uuid>",
        "< +OK",
        "< X",
    ]


def test_the_hangup_tail_is_put_in_one_order() -> None:
    real = [
        "< CHANNEL_HANGUP", "< disconnect (linger)", "< CHANNEL_UNBRIDGE",
        "< CHANNEL_EXECUTE_COMPLETE bridge", "> exit", "< +OK bye", "< disconnect",
    ]  # fmt: skip
    sim = [
        "< CHANNEL_HANGUP", "< CHANNEL_UNBRIDGE", "< CHANNEL_EXECUTE_COMPLETE bridge",
        "< CHANNEL_EXECUTE_COMPLETE socket", "< CHANNEL_HANGUP_COMPLETE", "< disconnect (linger)",
        "> exit", "< +OK bye", "< disconnect",
    ]  # fmt: skip
    # The linger notice can come before the CHANNEL_HANGUP event too (the listener saw the
    # channel down before the event was queued for it).
    early = [
        "< disconnect (linger)", "< CHANNEL_HANGUP", "< CHANNEL_UNBRIDGE",
        "< CHANNEL_EXECUTE_COMPLETE bridge", "> exit", "< +OK bye", "< disconnect",
    ]  # fmt: skip
    rule = sequences.RULES["the hangup's tail"]
    assert rule(real) == rule(sim) == rule(early) == [
        "< CHANNEL_HANGUP", "< CHANNEL_UNBRIDGE", "< CHANNEL_EXECUTE_COMPLETE bridge",
        "< disconnect (linger)", "> exit", "< +OK bye", "< disconnect",
    ]  # fmt: skip


def test_digits_are_kept_before_the_hangup_only() -> None:
    lines = ["< DTMF", "< CHANNEL_HANGUP", "< DTMF", "< CHANNEL_EXECUTE_COMPLETE bridge"]
    assert sequences.RULES["digits after the hangup"](lines) == lines[:2] + lines[3:]


def _conversation(*entries: tuple[str, codec.Command | codec.Message]) -> Conversation:
    return Conversation("outbound", entries=[Entry(d, m, 0.0) for d, m in entries])


def test_outline_normalises_run_values_and_keeps_only_what_fsapps_reads() -> None:
    uuid = "0b6f2c1e-8a5d-4f3b-9c2e-1d7a6b5c4e3f"
    execute = codec.Command(
        "sendmsg",
        (("call-command", "execute"), ("execute-app-name", "multiset"),
         ("execute-app-arg", f"fsapps_member={uuid} fsapps_queue_entered=1795452370.611")),
    )  # fmt: skip
    complete = codec.event_from_fields([
        ("Event-Name", "CHANNEL_EXECUTE_COMPLETE"), ("Unique-ID", uuid), ("Application", "multiset"),
        ("Application-UUID", uuid), ("Event-Date-Timestamp", "1795452370611730"),
    ])  # fmt: skip
    state = codec.event_from_fields([("Event-Name", "CHANNEL_STATE"), ("Unique-ID", uuid)])
    dtmf = codec.event_from_fields([("Event-Name", "DTMF"), ("Unique-ID", uuid)])  # no digit, no time
    lines = sequences.outline(
        _conversation(("sent", execute), ("heard", complete), ("heard", state), ("heard", dtmf))
    )
    assert lines == [
        "[outbound]",
        "> execute multiset fsapps_member=<uuid> fsapps_queue_entered=<time>",
        "< CHANNEL_EXECUTE_COMPLETE multiset",
        "< DTMF (no DTMF-Digit, Event-Date-Timestamp)",
    ]


def test_differences_name_the_line_that_differs() -> None:
    a = _conversation(("sent", codec.Command("myevents")))
    b = _conversation(("sent", codec.Command("linger")))
    assert sequences.differences([a], [a]) == ""
    diff = sequences.differences([a], [b])
    assert "-> myevents" in diff and "+> linger" in diff


def test_completions_move_up_to_their_own_execute_over_commands_only() -> None:
    real = [
        "> execute set a", "< +OK", "> execute set b", "< +OK", "> execute bridge x", "< +OK",
        "< CHANNEL_EXECUTE_COMPLETE set", "< CHANNEL_EXECUTE_COMPLETE set", "< CHANNEL_BRIDGE",
        "< CHANNEL_EXECUTE_COMPLETE bridge",
    ]  # fmt: skip
    sim = [
        "> execute set a", "< +OK", "< CHANNEL_EXECUTE_COMPLETE set", "> execute set b", "< +OK",
        "< CHANNEL_EXECUTE_COMPLETE set", "> execute bridge x", "< +OK", "< CHANNEL_BRIDGE",
        "< CHANNEL_EXECUTE_COMPLETE bridge",
    ]  # fmt: skip
    rule = sequences.RULES["completions of queued executes"]
    assert rule(real) == rule(sim) == sim
    # An event in between is a fence: the completion does not move above it.
    fenced = [
        "> execute set a",
        "< +OK",
        "< DTMF",
        "> execute bridge x",
        "< +OK",
        "< CHANNEL_EXECUTE_COMPLETE set",
    ]
    assert rule(fenced) == ["> execute set a", "< +OK", "< DTMF", "< CHANNEL_EXECUTE_COMPLETE set",
                            "> execute bridge x", "< +OK"]  # fmt: skip


def test_the_bridged_callers_socket_resume_goes_right_after_the_bridge() -> None:
    lines = ["< +OK", "< CHANNEL_BRIDGE", "< DTMF", "> api uuid_setvar <uuid> socket_resume false", "< +OK",
             "< CHANNEL_UNBRIDGE"]  # fmt: skip
    assert sequences.RULES["the bridged caller's socket_resume"](lines) == [
        "< +OK", "< CHANNEL_BRIDGE", "> api uuid_setvar <uuid> socket_resume false", "< +OK", "< DTMF",
        "< CHANNEL_UNBRIDGE",
    ]  # fmt: skip
    unbridged = ["< CHANNEL_UNBRIDGE", "> api uuid_setvar <uuid> socket_resume true", "< +OK"]
    assert sequences.RULES["the bridged caller's socket_resume"](unbridged) == unbridged
