"""Events as FreeSWITCH builds them, and the names it knows.

Header order follows the switch: switch_event_prep_for_delivery_detailed
(switch_event.c:1972) adds the base headers when an event is *created*, then
whoever creates it adds its own headers, then channel data
(switch_channel.c:2657 basic data, 2758 extended data) where the creator
asks for it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from email.utils import formatdate

# switch_event.c:137 EVENT_NAMES, in order; "ALL" subscribes to every one.
EVENT_NAMES: tuple[str, ...] = (
    "CUSTOM", "CLONE", "CHANNEL_CREATE", "CHANNEL_DESTROY", "CHANNEL_STATE",
    "CHANNEL_CALLSTATE", "CHANNEL_ANSWER", "CHANNEL_HANGUP", "CHANNEL_HANGUP_COMPLETE",
    "CHANNEL_EXECUTE", "CHANNEL_EXECUTE_COMPLETE", "CHANNEL_HOLD", "CHANNEL_UNHOLD",
    "CHANNEL_BRIDGE", "CHANNEL_UNBRIDGE", "CHANNEL_PROGRESS", "CHANNEL_PROGRESS_MEDIA",
    "CHANNEL_OUTGOING", "CHANNEL_PARK", "CHANNEL_UNPARK", "CHANNEL_APPLICATION",
    "CHANNEL_ORIGINATE", "CHANNEL_UUID", "API", "LOG", "INBOUND_CHAN", "OUTBOUND_CHAN",
    "STARTUP", "SHUTDOWN", "PUBLISH", "UNPUBLISH", "TALK", "NOTALK", "SESSION_CRASH",
    "MODULE_LOAD", "MODULE_UNLOAD", "DTMF", "MESSAGE", "PRESENCE_IN", "NOTIFY_IN",
    "PRESENCE_OUT", "PRESENCE_PROBE", "MESSAGE_WAITING", "MESSAGE_QUERY", "ROSTER", "CODEC",
    "BACKGROUND_JOB", "DETECTED_SPEECH", "DETECTED_TONE", "PRIVATE_COMMAND", "HEARTBEAT",
    "TRAP", "ADD_SCHEDULE", "DEL_SCHEDULE", "EXE_SCHEDULE", "RE_SCHEDULE", "RELOADXML",
    "NOTIFY", "PHONE_FEATURE", "PHONE_FEATURE_SUBSCRIBE", "SEND_MESSAGE", "RECV_MESSAGE",
    "REQUEST_PARAMS", "CHANNEL_DATA", "GENERAL", "COMMAND", "SESSION_HEARTBEAT",
    "CLIENT_DISCONNECTED", "SERVER_DISCONNECTED", "SEND_INFO", "RECV_INFO",
    "RECV_RTCP_MESSAGE", "SEND_RTCP_MESSAGE", "CALL_SECURE", "NAT", "RECORD_START",
    "RECORD_STOP", "PLAYBACK_START", "PLAYBACK_STOP", "CALL_UPDATE", "FAILURE", "SOCKET_DATA",
    "MEDIA_BUG_START", "MEDIA_BUG_STOP", "CONFERENCE_DATA_QUERY", "CONFERENCE_DATA",
    "CALL_SETUP_REQ", "CALL_SETUP_RESULT", "CALL_DETAIL", "DEVICE_STATE", "TEXT",
    "SHUTDOWN_REQUESTED", "ALL",
)  # fmt: skip
EVENT_NAME_SET = frozenset(EVENT_NAMES)

# switch_channel.c:2767 — the events that carry every channel variable.
EXTENDED_EVENTS = frozenset(
    {
        "CHANNEL_CREATE", "CHANNEL_ORIGINATE", "CHANNEL_UUID", "CHANNEL_ANSWER",
        "CHANNEL_PARK", "CHANNEL_UNPARK", "CHANNEL_BRIDGE", "CHANNEL_UNBRIDGE",
        "CHANNEL_PROGRESS", "CHANNEL_PROGRESS_MEDIA", "CHANNEL_HANGUP",
        "CHANNEL_HANGUP_COMPLETE", "REQUEST_PARAMS", "CHANNEL_DATA", "CHANNEL_EXECUTE",
        "CHANNEL_EXECUTE_COMPLETE", "CHANNEL_DESTROY", "SESSION_HEARTBEAT", "API",
        "RECORD_START", "RECORD_STOP", "PLAYBACK_START", "PLAYBACK_STOP", "CALL_UPDATE",
        "MEDIA_BUG_START", "MEDIA_BUG_STOP", "CHANNEL_HOLD", "CHANNEL_UNHOLD", "TEXT", "CUSTOM",
    }
)  # fmt: skip

# Where the real switch creates each event (Event-Calling-File/Function/Line),
# as recorded in ../shared/fs-traces and read off the 1.10.12 source.
CALLING: dict[str, tuple[str, str, int]] = {
    "API": ("switch_loadable_module.c", "switch_api_execute", 2954),
    "BACKGROUND_JOB": ("mod_event_socket.c", "api_exec", 1572),
    "CHANNEL_ANSWER": ("switch_channel.c", "switch_channel_perform_mark_answered", 3846),
    "CHANNEL_BRIDGE": ("switch_ivr_bridge.c", "switch_ivr_multi_threaded_bridge", 1689),
    "CHANNEL_CALLSTATE": ("switch_channel.c", "switch_channel_perform_set_callstate", 301),
    "CHANNEL_CREATE": ("switch_core_state_machine.c", "switch_core_session_run", 626),
    "CHANNEL_DATA": ("mod_event_socket.c", "parse_command", 2021),
    "CHANNEL_DESTROY": ("switch_core_session.c", "switch_core_session_perform_destroy", 1584),
    "CHANNEL_EXECUTE": ("switch_core_session.c", "switch_core_session_exec", 2944),
    "CHANNEL_EXECUTE_COMPLETE": ("switch_core_session.c", "switch_core_session_exec", 2967),
    "CHANNEL_HANGUP": ("switch_channel.c", "switch_channel_perform_hangup", 3445),
    "CHANNEL_HANGUP_COMPLETE": (
        "switch_core_state_machine.c",
        "switch_core_session_reporting_state",
        943,
    ),
    "CHANNEL_ORIGINATE": ("switch_core_state_machine.c", "switch_core_session_run", 632),
    "CHANNEL_OUTGOING": ("switch_core_session.c", "switch_core_session_outgoing_channel", 768),
    "CHANNEL_PARK": ("switch_ivr.c", "switch_ivr_park", 1002),
    "CHANNEL_PROGRESS": ("switch_channel.c", "switch_channel_perform_mark_ring_ready_value", 3406),
    "CHANNEL_PROGRESS_MEDIA": (
        "switch_channel.c",
        "switch_channel_perform_mark_pre_answered",
        3560,
    ),
    "CHANNEL_STATE": ("switch_channel.c", "switch_channel_perform_set_running_state", 2408),
    "CHANNEL_UNBRIDGE": ("switch_ivr_bridge.c", "switch_ivr_multi_threaded_bridge", 1879),
    "CHANNEL_UNPARK": ("switch_ivr.c", "switch_ivr_park", 1213),
    "CODEC": ("switch_core_codec.c", "switch_core_session_set_real_read_codec", 168),
    "DTMF": ("switch_channel.c", "switch_channel_dequeue_dtmf", 677),
    "HEARTBEAT": ("switch_core.c", "send_heartbeat", 95),
    "PLAYBACK_START": ("switch_ivr_play_say.c", "switch_ivr_play_file", 1646),
    "PLAYBACK_STOP": ("switch_ivr_play_say.c", "switch_ivr_play_file", 2020),
    "RECORD_START": ("switch_ivr_async.c", "record_callback", 1222),
    "RECORD_STOP": ("switch_ivr_async.c", "record_callback", 1354),
    "CUSTOM": ("mod_event_socket.c", "parse_command", 2248),
}


@dataclass
class SimEvent:
    """An event inside the emulator: ordered headers (duplicates allowed) and a body.

    Every listener looks headers up (subscriptions, filters, myevents), so
    lookups go through an index built once the event is complete; the wire
    form is cached per format for listeners that share it.
    """

    name: str
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: str | None = None
    subclass: str | None = None
    _index: dict[str, str] | None = field(default=None, repr=False, compare=False)
    _wire: dict[str, bytes] = field(default_factory=dict, repr=False, compare=False)

    def add(self, name: str, value: str | None) -> None:
        # switch_event_add_header_string ignores NULL but keeps "" (sent as _undef_).
        if value is not None:
            self.headers.append((name, value))
            self._index = None

    def extend(self, pairs: Iterable[tuple[str, str]]) -> None:
        self.headers.extend(pairs)
        self._index = None

    def get(self, name: str, default: str | None = None) -> str | None:
        """First header of that name; FreeSWITCH's own lookups ignore case."""
        index = self._index
        if index is None:
            index = {}
            for k, v in self.headers:
                index.setdefault(k, v)
                index.setdefault(k.lower(), v)
            self._index = index
        value = index.get(name)
        if value is None:
            value = index.get(name.lower(), default)
        return value

    @property
    def uuid(self) -> str | None:
        return self.get("Unique-ID")

    def wire(self, fmt: str, encode: Callable[[list[tuple[str, str]], str | None, str], bytes]) -> bytes:
        data = self._wire.get(fmt)
        if data is None:
            data = self._wire[fmt] = encode(self.headers, self.body, fmt)
        return data


def local_date(ts: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts))


def gmt_date(ts: float) -> str:
    return formatdate(ts, usegmt=True)


def base_headers(
    event: SimEvent,
    *,
    core_uuid: str,
    hostname: str,
    ipv4: str,
    ipv6: str,
    now: float,
    sequence: int,
    calling: tuple[str, str, int],
) -> None:
    """switch_event_prep_for_delivery_detailed, switch_event.c:1985-2001."""
    event.add("Event-Name", event.name)
    event.add("Core-UUID", core_uuid)
    event.add("FreeSWITCH-Hostname", hostname)
    event.add("FreeSWITCH-Switchname", hostname)
    event.add("FreeSWITCH-IPv4", ipv4)
    event.add("FreeSWITCH-IPv6", ipv6)
    event.add("Event-Date-Local", local_date(now))
    event.add("Event-Date-GMT", gmt_date(now))
    event.add("Event-Date-Timestamp", str(int(now * 1_000_000)))
    event.add("Event-Calling-File", calling[0])
    event.add("Event-Calling-Function", calling[1])
    event.add("Event-Calling-Line-Number", str(calling[2]))
    event.add("Event-Sequence", str(sequence))
    if event.subclass:
        event.add("Event-Subclass", event.subclass)
