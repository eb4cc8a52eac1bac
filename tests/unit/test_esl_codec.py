"""The Event Socket codec against recorded FreeSWITCH bytes and its own encoders."""

from __future__ import annotations

import itertools
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fsapps.esl import codec
from fsapps.esl.codec import (
    ApiResponse,
    AuthRequest,
    Command,
    CommandReader,
    CommandReply,
    DisconnectNotice,
    Event,
    LogData,
    MessageReader,
    ProtocolError,
    RudeRejection,
)
from tests.support import traces

# --- Decoding: table of frames as FreeSWITCH 1.10.12 writes them ----------

DECODE_TABLE = [
    (b"Content-Type: auth/request\n\n", AuthRequest, {}),
    (
        b"Content-Type: command/reply\nReply-Text: +OK accepted\n\n",
        CommandReply,
        {"reply_text": "+OK accepted", "ok": True},
    ),
    (
        b"Content-Type: command/reply\nReply-Text: -ERR invalid\n\n",
        CommandReply,
        {"reply_text": "-ERR invalid", "ok": False},
    ),
    (
        b"Content-Type: command/reply\nReply-Text: +OK Job-UUID: 7e9b\nJob-UUID: 7e9b\n\n",
        CommandReply,
        {"job_uuid": "7e9b"},
    ),
    (
        b"Content-Type: api/response\nContent-Length: 38\n\n-ERR bogus_command Command not found!\n",
        ApiResponse,
        {"text": "-ERR bogus_command Command not found!\n", "ok": False},
    ),
    (
        b"Content-Type: text/disconnect-notice\nContent-Length: 67\n\n" + codec.GOODBYE.encode(),
        DisconnectNotice,
        {"lingering": False},
    ),
    (
        b"Content-Type: text/disconnect-notice\nControlled-Session-UUID: u\n"
        b"Content-Disposition: linger\nChannel-Name: sofia/external/sipp@127.0.0.1:5072\n"
        b"Linger-Time: -1\nContent-Length: 0\n\n",
        DisconnectNotice,
        {"lingering": True},
    ),
    (
        b"Content-Type: text/rude-rejection\nContent-Length: 5\n\nnope\n",
        RudeRejection,
        {"text": "nope\n"},
    ),
    (
        b"Content-Type: log/data\nContent-Length: 6\nLog-Level: 7\n\nhello\n",
        LogData,
        {"text": "hello\n"},
    ),
]


@pytest.mark.parametrize(("raw", "cls", "attrs"), DECODE_TABLE)
def test_decode_table(raw: bytes, cls: type, attrs: dict) -> None:
    msgs = MessageReader().feed(raw)
    assert len(msgs) == 1
    msg = msgs[0]
    assert type(msg) is cls
    for name, want in attrs.items():
        assert getattr(msg, name) == want, name


def test_plain_event_values_are_decoded_one_by_one() -> None:
    inner = (
        "Event-Name: DTMF\nUnique-ID: u1\n"
        "Caller-Caller-ID-Name: evil%0AEvent-Name: CHANNEL_HANGUP\n"
        "DTMF-Digit: %23\nEmpty: _undef_\n\n"
    )
    raw = f"Content-Length: {len(inner)}\nContent-Type: text/event-plain\n\n{inner}".encode()
    (ev,) = MessageReader().feed(raw)
    assert isinstance(ev, Event)
    assert ev.name == "DTMF"
    assert ev["DTMF-Digit"] == "#"
    # The encoded newline stays inside its own value: no forged header.
    assert ev["Caller-Caller-ID-Name"] == "evil\nEvent-Name: CHANNEL_HANGUP"
    assert list(ev.fields).count("Event-Name") == 1
    assert ev.uuid == "u1"


def test_plain_event_with_its_own_body() -> None:
    out = "+OK a25e8235\n"
    inner = (
        "Event-Name: BACKGROUND_JOB\nJob-UUID: j1\nJob-Command: originate\n"
        f"Content-Length: {len(out)}\n\n{out}"
    )
    raw = f"Content-Length: {len(inner)}\nContent-Type: text/event-plain\n\n{inner}".encode()
    (ev,) = MessageReader().feed(raw)
    assert ev.name == "BACKGROUND_JOB"
    assert ev.payload == out
    assert ev["Job-UUID"] == "j1"
    assert "Content-Length" in ev.fields


def test_duplicate_headers_first_wins_all_kept() -> None:
    inner = "Event-Name: CHANNEL_HANGUP_COMPLETE\nHangup-Cause: A\nHangup-Cause: B\n\n"
    raw = f"Content-Length: {len(inner)}\nContent-Type: text/event-plain\n\n{inner}".encode()
    (ev,) = MessageReader().feed(raw)
    assert ev["Hangup-Cause"] == "A"
    assert [v for k, v in ev.fields.items_raw() if k == "Hangup-Cause"] == ["A", "B"]


def test_json_event() -> None:
    body = json.dumps({"Event-Name": "BACKGROUND_JOB", "Job-UUID": "j", "_body": "+OK x\n"})
    raw = f"Content-Length: {len(body)}\nContent-Type: text/event-json\n\n{body}".encode()
    (ev,) = MessageReader().feed(raw)
    assert ev.name == "BACKGROUND_JOB"
    assert ev.payload == "+OK x\n"


def test_xml_event_round_trip() -> None:
    fields = [("Event-Name", "CUSTOM"), ("Event-Subclass", "fsapps::test"), ("Note", "a<b & c")]
    (ev,) = MessageReader().feed(codec.encode_event(fields, "body text", fmt="xml"))
    assert ev.name == "CUSTOM"
    assert ev.subclass == "fsapps::test"
    assert ev["Note"] == "a<b & c"
    assert ev.payload == "body text"


def test_outbound_connect_reply_has_no_content_length() -> None:
    raw = (traces.traces_dir() / "s04_connect_reply.txt").read_bytes()
    reader = MessageReader()
    (reply,) = reader.feed(raw)
    assert isinstance(reply, CommandReply)
    assert reply.reply_text == "+OK\n"
    assert reply.ok
    assert reply.headers["Channel-Name"] == "sofia/external/sipp@127.0.0.1:5072"
    assert reply.headers["Caller-Destination-Number"] == "9998"
    assert reply.headers["Socket-Mode"] == "async"
    assert reader.buffered == 0


MALFORMED = [
    b"Content-Type: api/response\nContent-Length: abc\n\nxx",
    b"Content-Type: api/response\nContent-Length: -3\n\n",
    b"Reply-Text: +OK\n\n",  # no Content-Type
    b"Content-Type: command/reply\nthis is not a header\n\n",
    b"Content-Type: api/response\nContent-Length: 999999999999\n\n",
]


@pytest.mark.parametrize("raw", MALFORMED)
def test_malformed_frames_raise_protocol_error(raw: bytes) -> None:
    with pytest.raises(ProtocolError):
        MessageReader().feed(raw)


def test_malformed_event_body_raises_protocol_error_on_access() -> None:
    inner = "Event-Name: X\nno colon here\n\n"
    raw = f"Content-Length: {len(inner)}\nContent-Type: text/event-plain\n\n{inner}".encode()
    (ev,) = MessageReader().feed(raw)
    with pytest.raises(ProtocolError):
        _ = ev.name


def test_endless_header_block_is_refused() -> None:
    reader = MessageReader()
    with pytest.raises(ProtocolError):
        reader.feed(b"Content-Type: x\n" + b"A" * (codec.MAX_HEADER_BLOCK + 10))


def test_a_complete_header_block_over_the_cap_is_refused() -> None:
    """The cap holds when the block arrives whole with its blank line, not only while waiting for it."""
    pad = b"A" * (codec.MAX_HEADER_BLOCK + 10)
    with pytest.raises(ProtocolError, match="header block longer than"):
        MessageReader().feed(b"Content-Type: command/reply\nX-Pad: " + pad + b"\n\n")


def test_a_reader_takes_its_own_limits() -> None:
    reader = MessageReader(max_header=1024, max_body=4096)
    (ok,) = reader.feed(b"Content-Type: api/response\nContent-Length: 4096\n\n" + b"x" * 4096)
    assert len(ok.body) == 4096
    # Refused on the header, before a byte of the body is waited for.
    with pytest.raises(ProtocolError, match="Content-Length 4097 out of range"):
        MessageReader(max_header=1024, max_body=4096).feed(
            b"Content-Type: api/response\nContent-Length: 4097\n\n"
        )
    with pytest.raises(ProtocolError, match="header block longer than 1024"):
        MessageReader(max_header=1024, max_body=4096).feed(b"Content-Type: x\nX-Pad: " + b"a" * 1100)
    (small,) = MessageReader(max_header=1024).feed(b"Content-Type: auth/request\n\n")
    assert isinstance(small, codec.AuthRequest)


def test_close_mid_frame_is_an_error() -> None:
    reader = MessageReader()
    reader.feed(b"Content-Type: api/response\nContent-Length: 10\n\nabc")
    with pytest.raises(ProtocolError):
        reader.close()
    done = MessageReader()
    done.feed(b"Content-Type: auth/request\n\n")
    done.close()  # a clean end of stream raises nothing


# --- Encoding: table of commands as the controller writes them ------------

ENCODE_TABLE = [
    (Command("auth ClueCon"), b"auth ClueCon\n\n"),
    (Command("api status"), b"api status\n\n"),
    (
        Command("sendmsg", (("call-command", "execute"), ("execute-app-name", "answer"))),
        b"sendmsg\ncall-command: execute\nexecute-app-name: answer\n\n",
    ),
    (
        Command("sendevent CUSTOM", (("x", "y"),), "hi"),
        b"sendevent CUSTOM\nx: y\nContent-Length: 2\n\nhi",
    ),
]


@pytest.mark.parametrize(("cmd", "raw"), ENCODE_TABLE)
def test_encode_table(cmd: Command, raw: bytes) -> None:
    assert cmd.encode() == raw
    assert CommandReader().feed(raw) == [cmd]


def test_sendmsg_moves_multiline_argument_to_body() -> None:
    raw = codec.encode_sendmsg("execute", [("execute-app-name", "speak")], app_arg="a\nb")
    (cmd,) = CommandReader().feed(raw)
    assert cmd.header("content-type") == "text/plain"
    assert cmd.header("execute-app-arg") is None
    assert cmd.body == "a\nb"


def test_line_breaks_in_values_are_refused() -> None:
    with pytest.raises(ValueError):
        codec.encode_command("api originate x\nexit")
    with pytest.raises(ValueError):
        codec.encode_command("sendmsg", [("execute-app-arg", "x\nevent-lock: false")])


def test_command_reader_tolerates_cr_and_leading_blank_lines() -> None:
    cmds = CommandReader().feed(b"\r\n\napi status\r\n\r\nexit\n\n")
    assert [c.line for c in cmds] == ["api status", "exit"]
    assert cmds[0].name == "api"
    assert cmds[0].arg == "status"


ENCODE_VALUES = [
    ("tone_stream://%(1000,0,440)", "tone_stream%3A//%25(1000,0,440)"),
    ("2026-11-22 20:19:19", "2026-11-22%2020%3A19%3A19"),
    ("fd00::2", "fd00%3A%3A2"),
    ("+OK\n", "%2BOK%0A"),
    ("already %2F encoded", "already%20%2F%20encoded"),
    ("", "_undef_"),
    ("é", "%C3%A9"),
]


@pytest.mark.parametrize(("value", "wire"), ENCODE_VALUES)
def test_url_encode_matches_switch_url_encode(value: str, wire: str) -> None:
    assert codec.url_encode(value) == wire


# --- Properties ------------------------------------------------------------

header_name = st.from_regex(r"[A-Za-z][A-Za-z0-9_-]{0,20}", fullmatch=True).filter(
    lambda n: n.lower() != "content-length"
)
# Values that survive switch_url_encode: a literal "%XX" is not re-encoded, so
# FreeSWITCH itself cannot carry it; leave those out of the round trip.
header_value = st.text(min_size=1, max_size=40).filter(
    lambda v: "%" not in v and v != "_undef_" and "\x00" not in v
)
fields_st = st.lists(st.tuples(header_name, header_value), min_size=1, max_size=12)


@given(
    fields=fields_st,
    body=st.one_of(st.none(), st.text(min_size=1, max_size=50)),
    fmt=st.sampled_from(["plain", "json", "xml"]),
)
@settings(max_examples=300)
def test_event_round_trip(fields, body, fmt) -> None:
    if fmt == "xml":
        # XML 1.0 cannot carry most control characters at all.
        fields = [(k, v) for k, v in fields if v.isprintable()]
        body = body if body is None or body.isprintable() else None
        if not fields:
            return
    if fmt == "json":
        # JSON objects collapse duplicate names.
        seen: dict[str, str] = {}
        for k, v in fields:
            seen.setdefault(k, v)
        fields = list(seen.items())
    raw = codec.encode_event(fields, body, fmt)
    (ev,) = MessageReader().feed(raw)
    got = [(k, v) for k, v in ev.fields.items_raw() if k != "Content-Length"]
    assert got == fields
    assert ev.payload == (body or "")


@given(
    line=st.from_regex(r"[a-z]+( [ -~]{1,30})?", fullmatch=True),
    headers=st.lists(st.tuples(header_name, st.from_regex(r"[!-~][ -~]{0,30}", fullmatch=True)), max_size=5),
    body=st.text(max_size=40),
)
def test_command_round_trip(line, headers, body) -> None:
    cmd = Command(line, tuple(headers), body)
    assert CommandReader().feed(cmd.encode()) == [cmd]


def _chunks(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({0, len(data), *[c % (len(data) + 1) for c in cuts]})
    return [data[a:b] for a, b in itertools.pairwise(points)]


def _messages(chunks) -> list[codec.Message]:
    reader = MessageReader()
    out = []
    for c in chunks:
        out += reader.feed(c)
    reader.close()
    return out


@pytest.mark.parametrize("name", traces.ALL)
@given(cuts=st.lists(st.integers(min_value=0), max_size=60))
@settings(max_examples=40, deadline=None)
def test_recorded_stream_any_chunking(name: str, cuts: list[int]) -> None:
    trace = traces.load(name)
    for conn in sorted({ln.conn for ln in trace.lines if ln.dir == "from_fs"}):
        stream = trace.stream(conn)
        whole = _messages([stream])
        assert len(whole) == len(trace.from_fs(conn))
        assert _messages(_chunks(stream, cuts)) == whole


def test_recorded_stream_split_at_every_offset() -> None:
    trace = traces.load("s01_inbound_auth_api")
    stream = trace.stream(2)
    whole = _messages([stream])
    assert [type(m).__name__ for m in whole][:3] == ["AuthRequest", "CommandReply", "ApiResponse"]
    for k in range(len(stream) + 1):
        assert _messages([stream[:k], stream[k:]]) == whole, k


@pytest.mark.parametrize("name", ["s04_outbound_ivr", "s06_originate_bridge"])
def test_recorded_stream_split_around_every_boundary(name: str) -> None:
    trace = traces.load(name)
    frames = trace.from_fs()
    stream = b"".join(frames)
    whole = _messages([stream])
    boundary = 0
    for f in frames:
        for k in range(max(boundary - 24, 0), min(boundary + 24, len(stream))):
            assert _messages([stream[:k], stream[k:]]) == whole, k
        boundary += len(f)


def test_recorded_events_match_what_the_recorder_saw() -> None:
    trace = traces.load("s04_outbound_ivr")
    msgs = _messages([trace.stream()])
    events = [m for m in msgs if isinstance(m, Event)]
    dtmf = [e["DTMF-Digit"] for e in events if e.name == "DTMF"]
    assert dtmf == ["1", "2", "#"]
    pagd = [
        e
        for e in events
        if e.name == "CHANNEL_EXECUTE_COMPLETE" and e["Application"] == "play_and_get_digits"
    ]
    assert pagd[0].variable("fsapps_digits") == "12"
    assert pagd[0]["Application-Data"].startswith("1 3 1 5000 # tone_stream://%(3000,0,350)")
