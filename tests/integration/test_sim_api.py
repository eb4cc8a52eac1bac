"""API commands over the emulator's Event Socket, with mod_commands.c's replies."""

from __future__ import annotations

import json

import pytest

from fsapps.esl.client import Connection
from fsapps.sim.dialplan import StaticDialplan
from fsapps.sim.endpoints import CallerScript, Endpoint
from fsapps.sim.switch import Switch

NO_SUCH = "-ERR No such channel!\n"


@pytest.fixture
def sw():
    dp = StaticDialplan()
    dp.add("public", r"^park$", [("answer", ""), ("park", "")])
    dp.add("public", r"^hold$", [("answer", ""), ("playback", "tone_stream://%(60000,0,440)")])
    dp.add("public", r"^moved$", [("answer", ""), ("set", "arrived=yes"), ("park", "")])
    s = Switch(dialplan=dp, speed=20.0).start()
    yield s
    s.stop()


@pytest.fixture
def esl(sw):
    c = Connection("127.0.0.1", sw.port, "ClueCon")
    c.connect()
    yield c
    c.stop()


def parked(sw: Switch, number: str = "park"):
    ch = sw.place_call(number)
    sw.wait_for(lambda: ch.parked or (ch.running_state == "CS_EXECUTE" and ch.answered), timeout=5)
    return ch


@pytest.mark.parametrize(
    "command",
    [
        "uuid_kill nope",
        "uuid_break nope",
        "uuid_transfer nope 100",
        "uuid_setvar nope a b",
        "uuid_getvar nope a",
        "uuid_dump nope",
        "uuid_broadcast nope x",
        "uuid_record nope start /tmp/x.wav",
    ],
)
def test_commands_on_a_missing_channel(esl, command: str) -> None:
    assert esl.api(command) == NO_SUCH


def test_usage_errors(esl) -> None:
    assert esl.api("uuid_kill").startswith("-USAGE: <uuid> [cause]")
    assert esl.api("originate").startswith("-USAGE: <call url>")
    assert esl.api("uuid_bridge a").startswith("-USAGE")


def test_show_channels_json_and_plain(sw, esl) -> None:
    assert esl.api("show channels as json") == '{"row_count": 0}\n'
    ch = parked(sw)
    data = json.loads(esl.api("show channels as json"))
    assert data["row_count"] == 1
    row = data["rows"][0]
    assert (row["uuid"], row["dest"], row["callstate"]) == (ch.uuid, "park", "ACTIVE")
    plain = esl.api("show channels")
    assert plain.splitlines()[0].startswith("uuid,direction,created,created_epoch,name,state")
    assert plain.endswith("\n1 total.\n")


def test_setvar_getvar_exists_dump(sw, esl) -> None:
    ch = parked(sw)
    assert esl.api(f"uuid_setvar {ch.uuid} tenant acme") == "+OK\n"
    assert esl.api(f"uuid_getvar {ch.uuid} tenant") == "acme"
    assert esl.api(f"uuid_getvar {ch.uuid} missing") == "_undef_"
    assert esl.api(f"uuid_exists {ch.uuid}") == "true"
    dump = esl.api(f"uuid_dump {ch.uuid} json")
    assert json.loads(dump)["variable_tenant"] == "acme"
    assert "variable_tenant: acme\n" in esl.api(f"uuid_dump {ch.uuid}")


def test_uuid_kill_with_cause(sw, esl) -> None:
    ch = parked(sw)
    assert esl.api(f"uuid_kill {ch.uuid} USER_BUSY") == "+OK\n"
    assert ch.destroyed.wait(5)
    assert ch.hangup_cause == "USER_BUSY"
    assert esl.api(f"uuid_exists {ch.uuid}") == "false"


def test_uuid_break_stops_a_playback(sw, esl) -> None:
    ch = sw.place_call("hold")
    sw.wait_for(lambda: any(x.startswith("heard") for x in sw.call_log(ch.uuid)), timeout=5)
    assert esl.api(f"uuid_break {ch.uuid}") == "+OK\n"
    assert ch.destroyed.wait(5)
    assert ch.variables.get("playback_ms") != "60000"


def test_uuid_transfer_to_another_extension(sw, esl) -> None:
    ch = parked(sw)
    assert esl.api(f"uuid_transfer {ch.uuid} moved XML public") == "+OK\n"
    sw.wait_for(lambda: ch.variables.get("arrived") == "yes", timeout=5)


def test_uuid_broadcast_plays_to_a_parked_call(sw, esl) -> None:
    ch = parked(sw)
    assert esl.api(f"uuid_broadcast {ch.uuid} tone_stream://%(500,0,440) aleg") == "+OK Message sent\n"
    sw.wait_for(lambda: "heard tone_stream://%(500,0,440)" in sw.call_log(ch.uuid), timeout=5)


def test_uuid_record_start_stop(sw, esl, tmp_path) -> None:
    ch = parked(sw)
    path = tmp_path / "r.wav"
    assert esl.api(f"uuid_record {ch.uuid} start {path}") == "+OK Success\n"
    sw.clock.sleep(1.0)
    assert esl.api(f"uuid_record {ch.uuid} stop {path}") == "+OK Success\n"
    assert path.stat().st_size > 44
    assert esl.api(f"uuid_record {ch.uuid} stop {path}") == "-ERR Cannot execute command\n"


def test_originate_to_users(sw, esl) -> None:
    sw.register_user("1001", Endpoint(answer_after=0.5))
    sw.register_user("1002", Endpoint(reject="USER_BUSY"))
    ok = esl.api("originate {origination_caller_id_number=555}user/1001 &park()")
    assert ok.startswith("+OK ")
    uuid = ok.split()[1]
    assert esl.api(f"uuid_exists {uuid}") == "true"
    assert esl.api("originate user/1002 &park()") == "-ERR USER_BUSY\n"
    assert esl.api("originate user/1999 &park()") == "-ERR USER_NOT_REGISTERED\n"
    assert esl.api("originate error/CALL_REJECTED &park()") == "-ERR CALL_REJECTED\n"


def test_originate_through_a_gateway(sw, esl) -> None:
    """sofia/gateway/<gw>/<number>: the leg is the gateway's profile and the number (mod_sofia.c)."""
    sw.register_gateway("carrier", Endpoint(answer_after=0.2))
    ok = esl.api("originate sofia/gateway/carrier/075512345678 &park()")
    assert ok.startswith("+OK "), ok
    leg = sw.channels[ok.split()[1]]
    assert (leg.name, leg.get_var("sip_gateway_name")) == ("sofia/external/075512345678", "carrier")
    assert leg.profile.destination_number == "075512345678"
    assert esl.api("originate sofia/gateway/nowhere/1 &park()") == "-ERR INVALID_GATEWAY\n"
    assert esl.api("originate sofia/gateway/carrier &park()") == "-ERR INVALID_URL\n"


def test_originate_and_uuid_bridge_two_calls(sw, esl) -> None:
    a, b = parked(sw), parked(sw)
    assert esl.api(f"uuid_bridge {a.uuid} {b.uuid}") == f"+OK {b.uuid}\n"
    sw.wait_for(lambda: a.bridged_to is b, timeout=5)
    esl.api(f"uuid_kill {b.uuid}")
    assert a.destroyed.wait(5) and b.destroyed.wait(5)


def test_hupall_with_a_variable(sw, esl) -> None:
    keep, drop = parked(sw), parked(sw)
    esl.api(f"uuid_setvar {drop.uuid} campaign spring")
    assert esl.api("hupall MANAGER_REQUEST campaign spring") == (
        "+OK hangup all channels matching [campaign]=[spring] with cause: MANAGER_REQUEST\n"
    )
    assert drop.destroyed.wait(5)
    assert keep.up
    assert esl.api("hupall") == "+OK hangup all channels with cause MANAGER_REQUEST\n"
    assert keep.destroyed.wait(5)


def test_globals_eval_reloadxml(sw, esl) -> None:
    assert esl.api("global_setvar region=north") == "+OK\n"
    assert esl.api("global_getvar region") == "north"
    assert esl.api("eval $${region}") == "north"
    assert esl.api("reloadxml") == "+OK [Success]\n"


def test_caller_id_reaches_the_dialplan(sw, esl) -> None:
    ch = sw.place_call("park", caller_id_number="5551234", script=CallerScript())
    sw.wait_for(lambda: ch.parked, timeout=5)
    assert esl.api(f"uuid_getvar {ch.uuid} caller_id_number") == "5551234"


def test_uuid_displace_start_stop_and_its_refusals(sw, esl) -> None:
    """mod_commands.c:4826-4877: one bug per file and channel; a file that does not open, a
    bug that is not there and a channel that is not there each have their -ERR."""
    from fsapps.sim.apps.displace import heard_from

    a = parked(sw)
    tone = "tone_stream://%(1000,0,440)"
    assert esl.api("uuid_displace nope start x").startswith("-ERR Cannot locate session!")
    assert esl.api(f"uuid_displace {a.uuid} start").startswith("-USAGE: <uuid> [start|stop] <path>")
    assert esl.api(f"uuid_displace {a.uuid} start {tone} 0 rl") == "+OK Success\n"
    assert heard_from(a) == [tone] and a.displaced[tone].loop and not a.displaced[tone].mux
    assert esl.api(f"uuid_displace {a.uuid} start {tone}") == "-ERR Cannot displace session!\n"
    assert esl.api(f"uuid_displace {a.uuid} start /no/such.wav") == "-ERR Cannot displace session!\n"
    assert esl.api(f"uuid_displace {a.uuid} stop {tone}") == "+OK Success\n"
    assert heard_from(a) == []
    assert esl.api(f"uuid_displace {a.uuid} stop {tone}") == "-ERR Cannot stop displace session!\n"


def test_a_read_displace_silences_what_the_channel_is_sent(sw, esl) -> None:
    """switch_ivr_async.c:902-921: a read-side displace that replaces also blanks every frame
    written to the channel (on 1.10.12 an agent whose caller is held this way hears nothing
    of them); mixed in, or write-side, it does not."""
    from fsapps.sim.apps.displace import silenced

    a = parked(sw)
    tone, other = "tone_stream://%(1000,0,440)", "tone_stream://%(1000,0,880)"
    assert esl.api(f"uuid_displace {a.uuid} start {tone} 0 rml") == "+OK Success\n"
    assert esl.api(f"uuid_displace {a.uuid} start {other} 0 l") == "+OK Success\n"
    assert not silenced(a)
    assert esl.api(f"uuid_displace {a.uuid} stop {tone}") == "+OK Success\n"
    assert esl.api(f"uuid_displace {a.uuid} start {tone} 0 rl") == "+OK Success\n"
    assert silenced(a)
    assert esl.api(f"uuid_displace {a.uuid} stop {tone}") == "+OK Success\n"
    assert not silenced(a)


def test_uuid_buglist_names_each_media_bug(sw, esl, tmp_path) -> None:
    """mod_commands.c:4085-4122, switch_core_media_bug.c:1210-1235: XML, a <media-bug> with
    function and target per bug in the order they were added; a channel that is not there
    answers nothing, which the Event Socket sends as "-ERR no reply" (mod_event_socket.c:1587);
    no argument, the usage."""
    a = parked(sw)
    tone, wav = "tone_stream://%(1000,0,440)", str(tmp_path / "a.wav")
    assert esl.api(f"uuid_buglist {a.uuid}") == "<media-bugs>\n</media-bugs>\n"
    assert esl.api(f"uuid_record {a.uuid} start {wav}") == "+OK Success\n"
    sw.clock.sleep(0.1)
    assert esl.api(f"uuid_displace {a.uuid} start {tone} 0 rl") == "+OK Success\n"
    bug = (
        " <media-bug>\n  <function>{}</function>\n  <target>{}</target>\n"
        "  <thread-locked>0</thread-locked>\n </media-bug>\n"
    )
    assert esl.api(f"uuid_buglist {a.uuid}") == (
        "<media-bugs>\n"
        + bug.format("session_record", wav)
        + bug.format("displace", tone)
        + "</media-bugs>\n"
    )
    assert esl.api(f"uuid_displace {a.uuid} stop {tone}") == "+OK Success\n"
    assert esl.api(f"uuid_record {a.uuid} stop {wav}") == "+OK Success\n"
    assert esl.api(f"uuid_buglist {a.uuid}") == "<media-bugs>\n</media-bugs>\n"
    assert esl.api("uuid_buglist 00000000-0000-0000-0000-000000000000") == "-ERR no reply\n"
    assert esl.api("uuid_buglist").startswith("-USAGE: <uuid>")


def test_uuid_hold_loops_the_held_legs_music_to_its_partner_until_unheld(sw, esl) -> None:
    """switch_ivr_hold (switch_ivr.c:1525-1564): the held leg's hold_music broadcast to its
    partner, looped; held twice: -ERR; unhold stops it (l.1603-1643). A UUID that is not
    there answers +OK (switch_ivr_hold_uuid keeps its initial SUCCESS)."""
    a, b = parked(sw), parked(sw)
    assert esl.api(f"uuid_bridge {a.uuid} {b.uuid}") == f"+OK {b.uuid}\n"
    sw.wait_for(lambda: a.bridged_to is b, timeout=5)
    tone = "tone_stream://%(1000,0,440)"
    esl.api(f"uuid_setvar {b.uuid} hold_music {tone}")

    def rounds() -> int:
        return sum(1 for _, text in a.log if text == f"playback({tone})")

    assert esl.api(f"uuid_hold {b.uuid}") == "+OK Success\n"
    assert b.callstate == "HELD"
    assert sw.wait_for(lambda: rounds() >= 3, timeout=5), a.log[-5:]
    assert esl.api(f"uuid_hold {b.uuid}") == "-ERR Operation failed\n"
    assert esl.api(f"uuid_hold off {b.uuid}") == "+OK Success\n"
    assert b.callstate == "UNHELD"
    assert sw.wait_for(lambda: not a.broadcasting, timeout=5)
    heard = rounds()
    sw.clock.sleep(3)
    assert rounds() == heard and a.bridged_to is b
    assert esl.api(f"uuid_hold off {b.uuid}") == "-ERR Operation failed\n"
    assert esl.api("uuid_hold nope") == "+OK Success\n"
    assert esl.api("uuid_hold").startswith("-USAGE: [off|toggle] <uuid>")
