"""Dialplan applications in the emulator, each against the FreeSWITCH behaviour it copies."""

from __future__ import annotations

import wave

import pytest

from fsapps.sim.dialplan import StaticDialplan
from fsapps.sim.endpoints import CallerScript, Endpoint
from fsapps.sim.events import SimEvent
from fsapps.sim.switch import Switch


def run_call(actions, script: CallerScript | None = None, users=None, speed: float = 20.0, **kw):
    """Run one inbound call through ``actions``; return (switch, channel, events seen)."""
    dp = StaticDialplan().add("public", r"^100$", actions)
    sw = Switch(dialplan=dp, speed=speed, **kw).start()
    events: list[SimEvent] = []
    sw.watchers.append(events.append)
    for user, ep in (users or {}).items():
        sw.register_user(user, ep)
    ch = sw.place_call("100", script=script or CallerScript())
    assert ch.destroyed.wait(30), sw.call_log(ch.uuid)
    return sw, ch, events


def names(events, uuid, wanted=None):
    return [e.name for e in events if e.uuid == uuid and (wanted is None or e.name in wanted)]


@pytest.fixture(autouse=True)
def _stop_switches(monkeypatch):
    started: list[Switch] = []
    orig = Switch.start

    def start(self):
        started.append(self)
        return orig(self)

    monkeypatch.setattr(Switch, "start", start)
    yield
    for sw in started:
        sw.stop()


def test_playback_lasts_as_long_as_the_tone_and_reports_it() -> None:
    _sw, _ch, ev = run_call([("answer", ""), ("playback", "tone_stream://L=2;%(500,500,440)")])
    stop = next(e for e in ev if e.name == "PLAYBACK_STOP")
    start = next(e for e in ev if e.name == "PLAYBACK_START")
    took = (int(stop.get("Event-Date-Timestamp")) - int(start.get("Event-Date-Timestamp"))) / 1e6
    assert 1.95 <= took <= 2.3
    done = next(e for e in ev if e.name == "CHANNEL_EXECUTE_COMPLETE" and e.get("Application") == "playback")
    assert done.get("Application-Response") == "FILE PLAYED"
    assert done.get("variable_playback_ms") == "2000"
    assert start.get("Playback-File-Type") == "tone_stream"


def test_playback_of_a_wav_file_uses_its_real_length(tmp_path) -> None:
    path = tmp_path / "prompt.wav"
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\x00\x00" * 12000)  # 1.5 s
    _sw, _ch, ev = run_call([("answer", ""), ("playback", str(path))])
    done = next(e for e in ev if e.name == "CHANNEL_EXECUTE_COMPLETE" and e.get("Application") == "playback")
    assert done.get("variable_playback_samples") == "12000"
    assert "Playback-File-Type" not in dict(next(e for e in ev if e.name == "PLAYBACK_START").headers)


def test_missing_file_is_file_not_found_without_playback_events() -> None:
    _sw, _ch, ev = run_call([("answer", ""), ("playback", "/nonexistent/prompt.wav")])
    done = next(e for e in ev if e.name == "CHANNEL_EXECUTE_COMPLETE" and e.get("Application") == "playback")
    assert done.get("Application-Response") == "FILE NOT FOUND"
    assert not [e for e in ev if e.name.startswith("PLAYBACK_")]


def test_playback_star_terminates_and_other_digits_are_eaten() -> None:
    _sw, ch, ev = run_call(
        [("answer", ""), ("playback", "tone_stream://%(10000,0,440)"), ("read", "1 1 silence d 1500 #")],
        CallerScript(dtmf=[(1.0, "5"), (2.0, "*")]),
    )
    done = next(e for e in ev if e.name == "CHANNEL_EXECUTE_COMPLETE" and e.get("Application") == "playback")
    assert done.get("variable_playback_terminator_used") == "*"
    assert int(done.get("variable_playback_ms")) < 10000
    # "5" was taken by playback (a DTMF event) and is not there for read.
    assert [e.get("DTMF-Digit") for e in ev if e.name == "DTMF"] == ["5", "*"]
    assert ch.variables.get("read_result") == "failure"


@pytest.mark.parametrize(
    ("dtmf", "want_var", "want_result"),
    [
        ([(0.5, "1"), (0.8, "2"), (1.0, "#")], "12", "success"),  # terminator
        ([(0.5, "1"), (0.7, "2"), (0.9, "3"), (1.1, "4")], "1234", "success"),  # max digits
        ([(0.5, "1")], "1", "timeout"),  # fewer than max, no terminator
        ([], None, "failure"),  # nothing: too small
    ],
)
def test_read_results(dtmf, want_var, want_result) -> None:
    _sw, ch, _ev = run_call(
        [("answer", ""), ("read", "1 4 tone_stream://%(2000,0,350) acct 3000 #")], CallerScript(dtmf=dtmf)
    )
    assert ch.variables.get("read_result") == want_result
    assert ch.variables.get("acct") == want_var


def test_play_and_get_digits_retries_with_the_invalid_prompt() -> None:
    sw, ch, _ev = run_call(
        [
            ("answer", ""),
            (
                "play_and_get_digits",
                "1 1 3 2000 # tone_stream://%(1000,0,350) tone_stream://%(700,0,620) choice ^[12]$ 1000",
            ),
        ],
        CallerScript(dtmf=[(0.3, "9"), (2.3, "2")]),
    )
    log = sw.call_log(ch.uuid)
    heard = [x for x in log if x.startswith("heard")]
    assert heard == [
        "heard tone_stream://%(1000,0,350)",
        "heard tone_stream://%(700,0,620)",
        "heard tone_stream://%(1000,0,350)",
    ]
    assert ch.variables.get("choice") == "2"
    assert ch.variables.get("choice_invalid") == "9"


def test_play_and_get_digits_gives_up_and_transfers() -> None:
    sw, ch, _ev = run_call(
        [
            ("answer", ""),
            (
                "play_and_get_digits",
                "1 1 2 1000 # silence_stream://200 silence_stream://100 x \\d 1000 'failed XML public'",
            ),
        ]
    )
    assert ch.hangup_cause == "NO_ROUTE_DESTINATION"  # extension 'failed' does not exist
    assert "transferred to failed" in sw.call_log(ch.uuid)


def test_unknown_application_hangs_up_without_execute_events() -> None:
    _sw, ch, ev = run_call([("answer", ""), ("no_such_app", "x"), ("playback", "silence_stream://100")])
    assert ch.hangup_cause == "DESTINATION_OUT_OF_ORDER"
    assert [e.get("Application") for e in ev if e.name == "CHANNEL_EXECUTE" and e.uuid == ch.uuid] == [
        "answer"
    ]


def test_set_export_unset_and_expansion() -> None:
    _sw, ch, _ev = run_call(
        [
            ("set", "greeting=hello"),
            ("set", "copy=${greeting} world"),
            ("export", "tenant=acme"),
            ("unset", "greeting"),
            ("set", "dest=${destination_number:1:2}"),
        ]
    )
    assert ch.variables.get("copy") == "hello world"
    assert "greeting" not in ch.variables
    assert ch.variables.get("export_vars") == "tenant"
    assert ch.variables.get("dest") == "00"


def test_transfer_reroutes_through_the_dialplan() -> None:
    dp = StaticDialplan()
    dp.add("public", r"^100$", [("answer", ""), ("transfer", "200 XML other")])
    dp.add("other", r"^200$", [("playback", "silence_stream://100"), ("hangup", "USER_BUSY")])
    sw = Switch(dialplan=dp, speed=20).start()
    ch = sw.place_call("100")
    assert ch.destroyed.wait(10)
    assert ch.hangup_cause == "USER_BUSY"
    assert ch.profile.context == "other"


@pytest.mark.parametrize(
    ("endpoint", "cause", "dialstatus", "a_cause"),
    [
        (Endpoint(answer_after=None), "NO_ANSWER", "NOANSWER", "NORMAL_CLEARING"),
        (Endpoint(reject="USER_BUSY"), "USER_BUSY", "BUSY", "USER_BUSY"),
        (Endpoint(reject="CALL_REJECTED"), "CALL_REJECTED", "DONTCALL", "CALL_REJECTED"),
        (None, "USER_NOT_REGISTERED", "USER_NOT_REGISTERED", "USER_NOT_REGISTERED"),
    ],
)
def test_bridge_failures(endpoint, cause, dialstatus, a_cause) -> None:
    users = {"1001": endpoint} if endpoint else {}
    _sw, ch, _ev = run_call(
        [("set", "call_timeout=3"), ("answer", ""), ("bridge", "user/1001"), ("hangup", "NORMAL_CLEARING")],
        users=users,
    )
    assert ch.variables.get("originate_disposition") == cause
    assert ch.variables.get("DIALSTATUS") == dialstatus
    # NO_ANSWER lets the dialplan go on (switch_channel_handle_cause); the others end the call.
    assert ch.hangup_cause == a_cause


def test_bridge_answered_then_callee_hangs_up() -> None:
    phone = Endpoint(answer_after=1.0, hangup_after=2.0)
    _sw, ch, ev = run_call(
        [("answer", ""), ("set", "hangup_after_bridge=true"), ("bridge", "user/1001")], users={"1001": phone}
    )
    b_uuid = phone.calls[0]
    assert names(ev, ch.uuid, {"CHANNEL_BRIDGE", "CHANNEL_UNBRIDGE"}) == [
        "CHANNEL_BRIDGE",
        "CHANNEL_UNBRIDGE",
    ]
    assert names(ev, b_uuid, {"CHANNEL_BRIDGE"}) == []  # BRIDGE fires on the A leg only
    b_create = next(e for e in ev if e.uuid == b_uuid and e.name == "CHANNEL_CREATE")
    assert b_create.get("Call-Direction") == "outbound"
    assert ch.variables.get("DIALSTATUS") == "SUCCESS"
    assert ch.variables.get("last_bridge_to") == b_uuid
    b_done = next(e for e in ev if e.uuid == b_uuid and e.name == "CHANNEL_HANGUP_COMPLETE")
    # billsec is whole seconds between the answer and end epochs (switch_ivr.c), so 2 s of
    # talk reads 2 or 3 by where the second boundaries fall: check the formula and the talk.
    answer, end = int(b_done.get("variable_answer_epoch")), int(b_done.get("variable_end_epoch"))
    assert b_done.get("variable_billsec") == str(end - answer)
    talk = (int(b_done.get("variable_end_uepoch")) - int(b_done.get("variable_answer_uepoch"))) / 1e6
    assert abs(talk - 2.0) < 0.2


def test_ring_all_first_answer_wins_others_lose_race() -> None:
    slow, fast = Endpoint(answer_after=3.0), Endpoint(answer_after=1.0)
    _sw, ch, ev = run_call(
        [("answer", ""), ("bridge", "user/2001,user/2002"), ("hangup", "")],
        users={"2001": slow, "2002": fast},
        script=CallerScript(hangup_after=2.0),
    )
    assert ch.variables.get("last_bridge_to") == fast.calls[0]
    slow_done = next(e for e in ev if e.uuid == slow.calls[0] and e.name == "CHANNEL_HANGUP_COMPLETE")
    assert slow_done.get("Hangup-Cause") == "LOSE_RACE"


def test_failover_group_after_a_busy_phone() -> None:
    busy, free = Endpoint(reject="USER_BUSY"), Endpoint(answer_after=0.5, hangup_after=0.5)
    _sw, ch, _ev = run_call(
        [("answer", ""), ("bridge", "user/3001|user/3002")], users={"3001": busy, "3002": free}
    )
    assert ch.variables.get("last_bridge_to") == free.calls[0]


def test_record_session_writes_a_wav_as_long_as_the_call(tmp_path) -> None:
    path = tmp_path / "rec.wav"
    _sw, _ch, ev = run_call(
        [
            ("answer", ""),
            ("record_session", str(path)),
            ("playback", "tone_stream://%(3000,0,440)"),
            ("hangup", ""),
        ]
    )
    with wave.open(str(path)) as w:
        seconds = w.getnframes() / w.getframerate()
    assert 2.9 <= seconds <= 3.3
    stop = next(e for e in ev if e.name == "RECORD_STOP")
    assert stop.get("Record-File-Path") == str(path)
    assert stop.get("variable_record_completion_cause") == "no-input-timeout"  # ended by hangup


def test_record_until_terminator(tmp_path) -> None:
    path = tmp_path / "vm.wav"
    _sw, ch, _ev = run_call(
        [("answer", ""), ("set", "playback_terminators=#"), ("record", f"{path} 30"), ("hangup", "")],
        CallerScript(dtmf=[(1.0, "1"), (2.0, "#")]),  # "1" is not a terminator: recording goes on
    )
    with wave.open(str(path)) as w:
        assert 1.8 <= w.getnframes() / 8000 <= 2.3
    assert ch.variables.get("playback_terminator_used") == "#"


def test_profile_start_is_the_transferred_profiles() -> None:
    # switch_channel.c:4602, 4670-4674: profile_start_* come from the profile a transfer made
    # (switch_ivr.c:2293), start_* from the channel's creation, which the new profile keeps.
    dp = StaticDialplan().add("public", r"^100$", [("sleep", "1500"), ("transfer", "200 XML public")])
    dp.add("public", r"^200$", [("hangup", "")])
    sw = Switch(dialplan=dp, speed=5.0).start()
    events: list[SimEvent] = []
    sw.watchers.append(events.append)
    ch = sw.place_call("100", script=CallerScript())
    assert ch.destroyed.wait(30), sw.call_log(ch.uuid)
    done = next(e for e in events if e.name == "CHANNEL_HANGUP_COMPLETE" and e.uuid == ch.uuid)
    start, profile_start = (int(done.get(f"variable_{n}_uepoch")) for n in ("start", "profile_start"))
    assert profile_start == int(done.get("Caller-Profile-Created-Time"))
    assert start == int(done.get("Caller-Channel-Created-Time"))
    assert 1.5 <= (profile_start - start) / 1e6 < 2.0
    assert done.get("Caller-Profile-Index") == "2"


def test_cdr_durations_on_hangup_complete() -> None:
    # Whole seconds are compared: a slower virtual clock keeps a busy machine from adding one.
    _sw, _ch, ev = run_call(
        [("ring_ready", ""), ("sleep", "2000"), ("answer", ""), ("playback", "silence_stream://3000")],
        speed=5.0,
    )
    done = next(e for e in ev if e.name == "CHANNEL_HANGUP_COMPLETE")
    start, answer, end = (int(done.get(f"variable_{n}_uepoch")) for n in ("start", "answer", "end"))
    # switch_channel.c's whole seconds: differences of epoch seconds, not rounded spans.
    assert done.get("variable_duration") == str(end // 1_000_000 - start // 1_000_000)
    assert done.get("variable_billsec") == str(end // 1_000_000 - answer // 1_000_000)
    assert 5.0 <= (end - start) / 1e6 < 5.5 and 3.0 <= (end - answer) / 1e6 < 3.5
    assert int(done.get("variable_answermsec")) >= 2000
    assert done.get("variable_hangup_cause_q850") == "16"
