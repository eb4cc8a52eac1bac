"""A channel: its states, variables, caller profile and the events it emits.

Modelled on switch_channel.c and switch_core_state_machine.c. Each channel
runs in its own greenlet (FreeSWITCH's session thread); dialplan
applications run in that greenlet and wait on the channel, so a hangup,
a DTMF digit, a uuid_break or a queued sendmsg wakes them as it would wake
the real media loop.
"""

from __future__ import annotations

import dataclasses
import logging
import uuid as uuidlib
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import gevent
from gevent.event import Event as GEvent

from fsapps.esl.codec import Command
from fsapps.sim.events import EXTENDED_EVENTS, SimEvent
from fsapps.sim.expand import expand as expand_variables

if TYPE_CHECKING:
    from fsapps.sim.switch import Switch

log = logging.getLogger("fsapps.sim")

# switch_types.h switch_channel_state_t, in numeric order.
STATES = (
    "CS_NEW", "CS_INIT", "CS_ROUTING", "CS_SOFT_EXECUTE", "CS_EXECUTE", "CS_EXCHANGE_MEDIA",
    "CS_PARK", "CS_CONSUME_MEDIA", "CS_HIBERNATE", "CS_RESET", "CS_HANGUP", "CS_REPORTING",
    "CS_DESTROY", "CS_NONE",
)  # fmt: skip
STATE_NUMBER = {name: i for i, name in enumerate(STATES)}

# switch_channel.c callstate names (switch_channel_callstate2str).
CALLSTATES = (
    "DOWN",
    "DIALING",
    "RINGING",
    "EARLY",
    "ACTIVE",
    "HELD",
    "RING_WAIT",
    "HANGUP",
    "UNHELD",
)

from fsapps.causes import CAUSES  # noqa: E402  (re-exported for the emulator)


class Hangup(Exception):
    """Raised inside the emulator when a channel is gone under an application."""


_CLEANED_FIELDS = (
    "username", "dialplan", "caller_id_name", "caller_id_number", "orig_caller_id_name",
    "orig_caller_id_number", "network_addr", "ani",
)  # fmt: skip


def clean_profile_field(text: str) -> str:
    """switch_clean_string (switch_utils.h:809) then switch_var_clean_string (l.803)."""
    text = "".join(" " if ord(c) < 32 and c not in "\r\n" else c for c in text)
    out, dollar = list(text), None
    for i, c in enumerate(text):
        if c == "$":
            dollar = i
        elif dollar is not None:
            if c == "{":
                out[dollar] = "%"
                dollar = None
            elif c != "\\":
                dollar = None
    return "".join(out)


@dataclass
class CallerProfile:
    """switch_caller.h switch_caller_profile_t; event headers per switch_caller.c:320."""

    uuid: str
    chan_name: str
    destination_number: str
    context: str = "default"
    caller_id_name: str = ""
    caller_id_number: str = ""
    orig_caller_id_name: str = ""
    orig_caller_id_number: str = ""
    callee_id_name: str = ""
    callee_id_number: str = ""
    network_addr: str = ""
    ani: str = ""
    aniii: str = ""
    username: str = ""
    dialplan: str = "XML"
    source: str = "mod_sofia"
    transfer_source: str = ""
    rdnis: str = ""
    direction: str = "inbound"
    logical_direction: str = "inbound"
    profile_index: str = "1"
    times: dict[str, int] = field(default_factory=dict)
    # The profile's own id (switch_caller.c:54-55, a fresh one per clone, l.118-119): a
    # transfer names it in Transfer-Source, not the channel's UUID.
    uuid_str: str = field(default_factory=lambda: str(uuidlib.uuid4()))

    def __post_init__(self) -> None:
        # switch_caller_profile_new copies these with profile_dup_clean (switch_caller.h:61):
        # control characters become blanks and a "$" opening "{" becomes "%".
        for name in _CLEANED_FIELDS:
            setattr(self, name, clean_profile_field(getattr(self, name)))

    TIME_FIELDS = (
        ("Profile-Created-Time", "profile_created"),
        ("Channel-Created-Time", "created"),
        ("Channel-Answered-Time", "answered"),
        ("Channel-Progress-Time", "progress"),
        ("Channel-Progress-Media-Time", "progress_media"),
        ("Channel-Hangup-Time", "hangup"),
        ("Channel-Transfer-Time", "transferred"),
        ("Channel-Resurrect-Time", "resurrected"),
        ("Channel-Bridged-Time", "bridged"),
        ("Channel-Last-Hold", "last_hold"),
        ("Channel-Hold-Accum", "hold_accum"),
    )

    def headers(self, prefix: str, *, other: bool = False) -> list[tuple[str, str]]:
        """switch_caller_profile_event_set_data: empty fields are left out.

        An Other-Leg profile is a clone (switch_caller_profile_clone), which
        does not carry the profile index.
        """
        out: list[tuple[str, str]] = []

        def put(name: str, value: str) -> None:
            if value:
                out.append((f"{prefix}-{name}", value))

        put("Direction", self.direction)
        put("Logical-Direction", self.logical_direction)
        put("Username", self.username)
        put("Dialplan", self.dialplan)
        put("Caller-ID-Name", self.caller_id_name)
        put("Caller-ID-Number", self.caller_id_number)
        put("Orig-Caller-ID-Name", self.orig_caller_id_name)
        put("Orig-Caller-ID-Number", self.orig_caller_id_number)
        put("Callee-ID-Name", self.callee_id_name)
        put("Callee-ID-Number", self.callee_id_number)
        put("Network-Addr", self.network_addr)
        put("ANI", self.ani)
        put("ANI-II", self.aniii)
        put("Destination-Number", self.destination_number)
        put("Unique-ID", self.uuid)
        put("Source", self.source)
        put("Transfer-Source", self.transfer_source)
        put("Context", self.context)
        put("RDNIS", self.rdnis)
        put("Channel-Name", self.chan_name)
        if not other:
            put("Profile-Index", self.profile_index)
        for hname, key in self.TIME_FIELDS:
            out.append((f"{prefix}-{hname}", str(self.times.get(key, 0))))
        out.append((f"{prefix}-Screen-Bit", "true"))
        out.append((f"{prefix}-Privacy-Hide-Name", "false"))
        out.append((f"{prefix}-Privacy-Hide-Number", "false"))
        return out

    def clone(self) -> CallerProfile:
        """switch_caller_profile_dup (switch_caller.c:110-181), what switch_caller_profile_clone returns.

        A new profile id; the fields l.122-150 list are copied, and nothing else: no
        transfer source, no profile index, and the logical direction left zero
        (SWITCH_CALL_DIRECTION_INBOUND). The times are a snapshot (old_times, l.152-154),
        which events show while the clone has no timetable of its own (l.415-417).
        """
        return dataclasses.replace(
            self,
            uuid_str=str(uuidlib.uuid4()),
            transfer_source="",
            profile_index="",
            logical_direction="inbound",
            times=dict(self.times),
        )

    def originator_clone(self) -> CallerProfile:
        """A clone as switch_channel_set_originator_caller_profile keeps it: it gives a
        clone without a timetable a zeroed one (switch_channel.c:2932-2934), so an
        originator's Other-Leg times are all 0 (seen on 1.10.12 after uuid_bridge)."""
        twin = self.clone()
        twin.times = {}
        return twin

    def flip_caller_id(self, ch: Channel) -> None:
        """switch_channel_sort_cid on an outbound leg (switch_channel.c:3236)."""
        ch.set_var("pre_transfer_caller_id_number", self.caller_id_number)
        ch.set_var("channel_cid_flipped", "yes")
        self.caller_id_name, self.callee_id_name = self.callee_id_name, self.caller_id_name
        self.caller_id_number, self.callee_id_number = self.callee_id_number, self.caller_id_number


@dataclass
class Codec:
    name: str = "PCMU"
    rate: int = 8000
    bit_rate: int = 64000



class Channel:
    def __init__(
        self,
        switch: Switch,
        *,
        name: str,
        direction: str,
        profile: CallerProfile,
        uuid: str | None = None,
        variables: Iterable[tuple[str, str]] = (),
    ) -> None:
        self.switch = switch
        self.uuid = uuid or str(uuidlib.uuid4())
        self.name = name
        self.direction = direction
        self.profile = profile
        self.profile.uuid = self.uuid
        self.profile.chan_name = name
        self.has_profile = False  # FreeSWITCH attaches the profile on CS_INIT
        self.running_state = "CS_NEW"
        self.state_number = 0
        self.callstate = "DOWN"
        self.answered = False
        self.early_media = False
        self.ring_ready = False
        self.hangup_cause: str | None = None
        self.hangup_cause_number: int | None = None
        self.codec: Codec | None = None
        self.variables: dict[str, str] = {}
        for k, v in variables:
            self.set_var(k, v)
        self.dialplan_hit = direction == "inbound"
        self.profile_count = 1  # channel->profile_index: profiles this channel has had
        self.other_type: str | None = None  # "originator" / "originatee"
        self.other_profile: CallerProfile | None = None
        self.bridged_to: Channel | None = None
        self.dtmf: deque[tuple[str, int]] = deque()
        self.digits_dialed = ""
        self.private_events: deque[Command] = deque()
        self.event_lock_depth = 0
        self.break_flag = False
        self.broadcasting = False  # CF_BROADCAST: a queued execute (uuid_broadcast, hold music) runs
        self.stop_broadcast = False  # CF_STOP_BROADCAST: switch_channel_stop_broadcast asked it to end
        self.parked = False
        self.reset_requested = False
        self.transfer_to: tuple[str, str, str] | None = None
        self.controlled = False
        self.read_locks = 0  # outbound listeners keep the session alive (listener_run)
        self._kick = GEvent()
        self._unlocked = GEvent()
        self._unlocked.set()
        self.greenlet: gevent.Greenlet | None = None
        self.destroyed = GEvent()
        self.hungup = GEvent()
        self.answered_event = GEvent()
        self.bridge_ready = GEvent()
        self.log: list[tuple[float, str]] = []  # the per-channel log the control API reads
        self.media_bugs: dict[str, Any] = {}  # record_session recordings by path
        self.displaced: dict[str, Any] = {}  # uuid_displace media bugs by file (sim.apps.displace)
        self.endpoint: Any = None  # caller/agent behaviour attached by the switch
        self.watchers: set[Channel] = set()  # channels waiting on this one (originate)
        self.loopback_partner: Channel | None = None
        self.is_b_leg = False  # originated for a bridge: leaves with its A leg
        self.uuid_bridged = False
        self.exported: dict[str, str] = {}  # export: copied onto legs this one originates
        self.unpark_requested = False
        # What the session thread runs next in CS_SOFT_EXECUTE (uuid_bridge):
        # the current application and extension are abandoned for it.
        self.soft_execute: Callable[[Channel], None] | None = None
        self.bridge_side: str | None = None  # "a" runs the bridge, "b" is bridged to
        self.busy = 0  # applications (or an A-side bridge) running on the session thread
        self.answer_hooks: list[Callable[[], None]] = []
        self.prompt_listeners: list[Callable[[str], None]] = []
        self.input_listeners: list[Callable[[], None]] = []  # an application starts reading digits
        self.speech_seconds = 0.0  # what the far end says into a recording (no audio is carried)
        self.created_at = switch.clock.now()
        self.profile.times["profile_created"] = self.profile.times["created"] = int(
            self.created_at * 1_000_000
        )

    # --- variables -----------------------------------------------------------

    def set_var(self, name: str, value: str | None) -> None:
        # switch_channel_set_variable removes then appends: a re-set variable
        # moves to the end of the list events carry.
        self.variables.pop(name, None)
        if value is not None:
            self.variables[name] = str(value)

    def push_var(self, name: str, value: str) -> None:
        """switch_channel_add_variable_var_check with SWITCH_STACK_PUSH (switch_channel.c:1562):
        a second value turns the variable into an array in place (switch_event.c:1108-1170),
        which reads as ``ARRAY::first|:second``."""
        old = self.variables.get(name)
        if not value:
            self.variables.pop(name, None)
        elif old is None:
            self.variables[name] = value
        elif old.startswith("ARRAY::"):
            self.variables[name] = f"{old}|:{value}"
        else:
            self.variables[name] = f"ARRAY::{old}|:{value}"

    def get_var(self, name: str) -> str | None:
        value = self.variables.get(name)
        if value is None:
            value = self._builtin_var(name)
        if value is None:
            # switch_channel_get_variable_dup (switch_channel.c): then the global variables.
            value = self.switch.globals.get(name)
        return value

    def _builtin_var(self, name: str) -> str | None:
        # switch_channel_get_variable_dup falls back to the caller profile fields.
        p = self.profile
        return {
            "uuid": self.uuid,
            "channel_name": self.name,
            "destination_number": p.destination_number,
            "caller_id_number": p.caller_id_number,
            "caller_id_name": p.caller_id_name,
            "context": p.context,
            "dialplan": p.dialplan,
            "network_addr": p.network_addr,
            "ani": p.ani,
        }.get(name)

    def expand(self, text: str) -> str:
        """switch_channel_expand_variables, as fsapps.sim.expand copies it."""

        def lookup(name: str, idx: int) -> str | None:
            return self.get_var(name)

        def api(command: str, args: str) -> str | None:
            # switch_api_execute strips both (switch_loadable_module.c); an unknown command
            # fails, and a failed command adds nothing to the expansion.
            command, args = command.strip(), args.strip()
            if command.lower() not in self.switch.api_commands:
                return None
            return self.switch.api(command, args)

        return expand_variables(text, lookup, api)

    # --- caller profile ---------------------------------------------------------

    @property
    def logical_direction(self) -> str:
        """channel->logical_direction: setting CF_DIALPLAN on an outbound leg makes it
        logically inbound, clearing it outbound again (switch_channel.c:1976-1984, 2169-2172).
        An inbound leg keeps what its profile says."""
        if self.direction == "outbound":
            return "inbound" if self.dialplan_hit else "outbound"
        return self.profile.logical_direction

    def step_profile(self) -> CallerProfile:
        """switch_channel_step_caller_profile (switch_channel.c:2851): a clone of the
        profile becomes the channel's, as switch_channel_set_caller_profile (l.2863) sets it.

        The new profile starts a timetable of its own (l.2887-2890) with only the call's
        created, answered, progress and hangup times (l.2894-2898), so its transfer and
        bridged times read 0; the transfer time goes to the previous profile (l.2893),
        which only the CDR's callflow shows and the emulator does not keep. Its index is
        the next one (l.2909). The Other-Leg profiles hang off the old profile
        (l.2666-2668): the new one has none.
        """
        old = self.profile
        new = old.clone()
        new.direction = self.direction
        new.logical_direction = self.logical_direction
        new.times = {"profile_created": self.switch.clock.micros()}
        for key in ("answered", "progress", "progress_media", "created", "hangup"):
            if key in old.times:
                new.times[key] = old.times[key]
        self.profile_count += 1
        new.profile_index = str(self.profile_count)
        self.profile = new
        self.other_type = self.other_profile = None
        return new

    # --- events --------------------------------------------------------------

    def basic_data(self) -> list[tuple[str, str]]:
        """switch_channel_event_set_basic_data, switch_channel.c:2657."""
        h = [
            ("Channel-State", self.running_state),
            ("Channel-Call-State", self.callstate),
            ("Channel-State-Number", str(self.state_number)),
            ("Channel-Name", self.name),
            ("Unique-ID", self.uuid),
            ("Call-Direction", self.direction),
            ("Presence-Call-Direction", self.direction),
            ("Channel-HIT-Dialplan", "true" if self.dialplan_hit else "false"),
        ]
        for var, hdr in (
            ("presence_id", "Channel-Presence-ID"),
            ("presence_data", "Channel-Presence-Data"),
        ):
            if var in self.variables:
                h.append((hdr, self.variables[var]))
        h.append(("Channel-Call-UUID", self.variables.get("call_uuid", self.uuid)))
        if self.hangup_cause is not None:
            answer_state = "hangup"
        elif self.answered:
            answer_state = "answered"
        elif self.early_media:
            answer_state = "early"
        else:
            answer_state = "ringing"
        h.append(("Answer-State", answer_state))
        if self.hangup_cause:
            h.append(("Hangup-Cause", self.hangup_cause))
        if self.codec:
            c = self.codec
            h += [
                ("Channel-Read-Codec-Name", c.name),
                ("Channel-Read-Codec-Rate", str(c.rate)),
                ("Channel-Read-Codec-Bit-Rate", str(c.bit_rate)),
                ("Channel-Write-Codec-Name", c.name),
                ("Channel-Write-Codec-Rate", str(c.rate)),
                ("Channel-Write-Codec-Bit-Rate", str(c.bit_rate)),
            ]
        if self.has_profile:
            h += self.profile.headers("Caller")
            if self.other_profile is not None and self.other_type:
                h.append(("Other-Type", self.other_type))
                h += self.other_profile.headers("Other-Leg", other=True)
        return h

    def event(
        self,
        name: str,
        before: Iterable[tuple[str, str]] = (),
        after: Iterable[tuple[str, str]] = (),
        *,
        calling: tuple[str, str, int] | None = None,
        extended: bool | None = None,
        subclass: str | None = None,
    ) -> SimEvent:
        ev = self.switch.new_event(name, calling=calling, subclass=subclass)
        ev.extend(before)
        ev.extend(self.basic_data())
        if extended if extended is not None else name in EXTENDED_EVENTS:
            ev.extend((f"variable_{k}", v) for k, v in self.variables.items())
        ev.extend(after)
        return ev

    def fire(self, name: str, *args: Any, **kw: Any) -> SimEvent:
        ev = self.event(name, *args, **kw)
        self.switch.fire(ev)
        return ev

    def note(self, text: str) -> None:
        self.log.append((self.switch.clock.now(), text))

    def heard(self, what: str) -> None:
        """A prompt starts playing to this channel's far end."""
        self.note(f"heard {what}")
        for listener in list(self.prompt_listeners):
            listener(what)

    def reading_digits(self) -> None:
        """An application starts one attempt at reading digits (switch_ivr_read)."""
        for listener in list(self.input_listeners):
            listener()

    # --- state ---------------------------------------------------------------

    def set_running_state(self, state: str, number: int | None = None) -> None:
        """switch_channel_perform_set_running_state (switch_channel.c:2408)."""
        self.running_state = state
        if number is not None:
            self.state_number = number
        self.fire("CHANNEL_STATE")

    def set_callstate(self, callstate: str) -> None:
        """switch_channel_perform_set_callstate (switch_channel.c:301)."""
        old = self.callstate
        if old == callstate:
            return
        self.callstate = callstate
        self.fire(
            "CHANNEL_CALLSTATE",
            before=[
                ("Original-Channel-Call-State", old),
                ("Channel-Call-State-Number", str(CALLSTATES.index(callstate))),
            ],
            extended=False,
        )

    @property
    def up(self) -> bool:
        """switch_channel_ready: not hung up."""
        return self.hangup_cause is None

    def ensure_codec(self) -> None:
        if self.codec is None:
            self.codec = Codec()
            # switch_core_codec.c:168/450: the read codec's event carries
            # lower-case duplicates of its own headers.
            low = [
                ("channel-read-codec-name", "PCMU"),
                ("channel-read-codec-rate", "8000"),
                ("channel-read-codec-bit-rate", "64000"),
            ]
            self.fire("CODEC", after=low, extended=False)
            self.fire(
                "CODEC",
                after=[
                    ("Channel-Write-Codec-Name", "PCMU"),
                    ("Channel-Write-Codec-Rate", "8000"),
                    ("Channel-Write-codec-bit-rate", "64000"),  # sic, switch_core_codec.c
                ],
                calling=("switch_core_codec.c", "switch_core_session_set_write_codec", 450),
                extended=False,
            )

    def mark_ring_ready(self) -> None:
        if self.ring_ready or not self.up:
            return
        self.ring_ready = True
        self.profile.times["progress"] = self.switch.clock.micros()
        self.fire("CHANNEL_PROGRESS")
        self.kick()

    def mark_pre_answered(self) -> None:
        """switch_channel_perform_mark_pre_answered (switch_channel.c:3560)."""
        if self.early_media or self.answered or not self.up:
            return
        self.ensure_codec()
        self.early_media = True
        self.profile.times["progress_media"] = self.switch.clock.micros()
        self.set_var("endpoint_disposition", "EARLY MEDIA")
        self.fire("CHANNEL_PROGRESS_MEDIA")
        self.set_callstate("EARLY")
        self.kick()

    def mark_answered(self) -> None:
        """switch_channel_perform_mark_answered (switch_channel.c:3846)."""
        if self.answered or not self.up:
            return
        self.mark_pre_answered()
        self.answered = True
        self.profile.times["answered"] = self.switch.clock.micros()
        self.set_var("endpoint_disposition", "ANSWER")
        self.fire("CHANNEL_ANSWER")
        self.set_callstate("ACTIVE")
        self.answered_event.set()
        self.note("answered")
        for hook in self.answer_hooks:
            hook()
        self.kick()

    # --- waiting ---------------------------------------------------------------

    def kick(self) -> None:
        self._kick.set()
        for w in self.watchers:
            w._kick.set()

    def wait(self, seconds: float, until: Callable[[], Any], *, stop_on_hangup: bool = True) -> Any:
        """Sleep up to ``seconds`` of virtual time or until ``until()`` is truthy.

        A hung-up channel wakes its waiter ("hangup") unless ``stop_on_hangup``
        is false (a waiter watching other channels through ``watchers``).
        """
        clock = self.switch.clock
        deadline = clock.now() + seconds
        while True:
            self._kick.clear()
            reason = until()
            if reason:
                return reason
            if stop_on_hangup and not self.up:
                return "hangup"
            left = deadline - clock.now()
            if left <= 0:
                return None
            self._kick.wait(clock.to_wall(left) if left != float("inf") else None)

    def sleep(self, seconds: float, *, dtmf_breaks: bool = False) -> str | None:
        """switch_ivr_sleep: returns why it stopped early (hangup, break, dtmf)."""
        return self.wait(seconds, lambda: self.interruption(dtmf=dtmf_breaks))

    def interruption(self, *, dtmf: bool = False) -> str | None:
        if not self.up:
            return "hangup"
        if self.break_flag:
            return "break"
        if self.reset_requested or self.transfer_to or self.soft_execute:
            return "reset"
        if dtmf and self.dtmf:
            return "dtmf"
        if self.private_events and self.event_lock_depth == 0:
            self.parse_all_events()
            return self.interruption(dtmf=dtmf)
        return None

    # --- DTMF ----------------------------------------------------------------

    def queue_dtmf(self, digits: str, duration_ms: int = 280) -> None:
        """Digits arrive from the far end (RFC 2833) into the channel's queue.

        No event yet: DTMF fires when an application takes the digit off the
        queue (switch_channel_dequeue_dtmf, switch_channel.c:677), so digits
        nobody reads raise no event, as on the real switch.
        """
        for d in digits:
            if not self.up or not (self.answered or self.early_media):
                return
            self.dtmf.append((d, duration_ms))
            self.digits_dialed += d
            self.note(f"caller pressed {d}")
        self.kick()

    def take_dtmf(self) -> str | None:
        """switch_channel_dequeue_dtmf: the digit, and its DTMF event."""
        if not self.dtmf:
            return None
        d, duration_ms = self.dtmf.popleft()
        self.fire(
            "DTMF",
            after=[
                ("DTMF-Digit", d),
                ("DTMF-Duration", str(duration_ms * 8)),
                ("DTMF-Source", "RTP"),
            ],
            extended=False,
        )
        return d

    def flush_dtmf(self) -> None:
        """switch_channel_flush_dtmf: discarded silently."""
        self.dtmf.clear()

    # --- sendmsg ---------------------------------------------------------------

    def queue_private_event(self, cmd: Command) -> None:
        """switch_core_session_queue_private_event: for the session thread to run."""
        self.private_events.append(cmd)
        self.kick()

    def parse_all_events(self) -> None:
        """switch_ivr_parse_all_events (switch_ivr.c): run queued sendmsg commands."""
        while self.private_events and self.event_lock_depth == 0:
            cmd = self.private_events.popleft()
            self.switch.parse_private_event(self, cmd)

    # --- hangup ----------------------------------------------------------------

    def hangup(self, cause: str = "NORMAL_CLEARING") -> None:
        """switch_channel_perform_hangup (switch_channel.c:3445)."""
        if not self.up:
            return
        if cause not in CAUSES:
            cause = "NORMAL_CLEARING"
        self.hangup_cause = cause
        self.hangup_cause_number = CAUSES[cause]
        self.state_number = STATE_NUMBER["CS_HANGUP"]
        self.profile.times["hangup"] = self.switch.clock.micros()
        self.set_var("hangup_cause", cause)
        # switch_channel_cause_q850 (switch_channel.c:405): causes past 127 are
        # FreeSWITCH's own and map to 16.
        self.set_var("hangup_cause_q850", str(CAUSES[cause] if CAUSES[cause] <= 127 else 16))
        self.fire("CHANNEL_HANGUP")
        self.note(f"hangup {cause}")
        self.hungup.set()
        self.switch.on_channel_hangup(self)
        self.kick()
        if self.greenlet is None:
            # A channel never started (originate failed before routing) still
            # reports and is destroyed.
            self.greenlet = gevent.spawn(self._finish)

    def lock(self) -> None:
        self.read_locks += 1
        self._unlocked.clear()

    def unlock(self) -> None:
        self.read_locks = max(self.read_locks - 1, 0)
        if self.read_locks == 0:
            self._unlocked.set()

    # --- the session thread ----------------------------------------------------

    def start(self, runner: Callable[[Channel], None]) -> None:
        self.greenlet = gevent.spawn(self._run, runner)

    def _run(self, runner: Callable[[Channel], None]) -> None:
        try:
            runner(self)
            while self.up and (self.soft_execute is not None or self.transfer_to):
                if self.soft_execute is None:
                    # Transferred from where a uuid_bridge left it (parked after the bridge):
                    # CS_ROUTING again, as any transfer.
                    from fsapps.sim.session import route_and_execute

                    route_and_execute(self)
                    continue
                step, self.soft_execute = self.soft_execute, None
                step(self)
        except Hangup:
            pass
        except Exception:  # the switch survives a bug in one channel
            log.exception("channel %s crashed", self.uuid)
            self.hangup("CRASH")
        if self.up:
            self.hangup("NORMAL_CLEARING")
        self._finish()

    def _finish(self) -> None:
        """CS_HANGUP -> CS_REPORTING -> CS_DESTROY (switch_core_state_machine.c)."""
        if self.running_state in ("CS_REPORTING", "CS_DESTROY"):
            return
        self.switch.stop_media_bugs(self)
        self.set_running_state("CS_HANGUP", STATE_NUMBER["CS_HANGUP"])
        partner = self.loopback_partner
        if partner is not None and partner.up:
            # mod_loopback.c channel_on_hangup (l.558): the other leg follows
            # when this one reaches CS_HANGUP. A leg that was busy gets here a
            # media frame after its partner saw the link drop (Switch.on_channel_hangup).
            if partner.break_flag:
                self.switch.clock.sleep(0.02)
            if partner.up:
                partner.hangup(self.hangup_cause or "NORMAL_CLEARING")
        self.set_callstate("HANGUP")
        self.set_running_state("CS_REPORTING", STATE_NUMBER["CS_REPORTING"])
        self.switch.set_cdr_variables(self)
        cause = self.hangup_cause or "NORMAL_CLEARING"
        self.fire("CHANNEL_HANGUP_COMPLETE", before=[("Hangup-Cause", cause)])
        # Outbound listeners hold a read lock on the session until they close.
        self._unlocked.wait()
        self.state_number = STATE_NUMBER["CS_DESTROY"]
        self.fire("CHANNEL_DESTROY")
        self.set_running_state("CS_DESTROY")
        self.destroyed.set()
        self.switch.remove_channel(self)
