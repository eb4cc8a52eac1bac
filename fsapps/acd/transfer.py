"""An agent's transfers as the caller's visit carries them out. Pure.

The operations (fsapps.acd.operations) note a transfer on the caller's queue
row and act on the agent's side; the controller holding the caller reads
the note when the caller's bridge ends and moves the caller:

- pickup (``{"pickup", "leg", "dial"}``): the ring to the first agents was
  withdrawn (PICKED_OFF): no no-answer for them, and the picking agent's
  phone is rung as the call's agent (``pickup_offer``);
- blind transfer (``{"dial"}`` or ``{"queue"}``): once the agent's part is
  over, the caller is bridged to the dial target (``blind_transfer``) or
  starts a new visit in the other queue;
- attended transfer (``{"consult", "by", "step"}``): ``AttendedTransfer``
  holds the caller with music while the agent consults, until the consult
  is completed (the caller is bridged to the consulted leg, the agent's leg
  hung up; if the consulted party went meanwhile, back to the agent) or
  cancelled (the consulted leg hung up, the caller bridged back to the agent,
  who may consult again; the agent's leg then ends with the caller again).

The caller is moved with uuid_bridge, which takes them out of the socket
application; park_after_bridge parks them when that bridge ends, and in park
the socket's commands still run (seen on 1.10.12, switch_ivr_bridge.c:1931).
Once parked for that, the caller is routed on by the node's branch when the
visit ends, also when bridged back to the agent: out of the node's extension,
they would otherwise stay parked (tests/acceptance/test_agent_operations.py).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from enum import StrEnum
from typing import Any

from fsapps.acd.hold_music import ClipStop
from fsapps.acd.visit_messages import (
    AppFinished,
    Break,
    BridgeCaller,
    CallerBridged,
    CheckLegs,
    Command,
    ConsultOver,
    Event,
    HangUpLeg,
    HungUp,
    LegsChecked,
    NoteRead,
    Offered,
    ParkAfterBridge,
    Play,
    ReadNote,
    RingTarget,
    SetLegVariable,
    SocketClosed,
    TransferTo,
    Unbridged,
    Wait,
    WaitOver,
)

# While the caller holds for a consult, the row and the legs are looked at this often:
# the operation also breaks the music to be seen at once, but a break before a clip
# begins is lost (fsapps.acd.hold_music).
HOLD_CHECK_EVERY = 0.5
# The cause a pickup hangs the ringing legs up with (operations.pickup): what intercept gives
# the leg it takes a call from (switch_ivr_bridge.c:2333). Not the rung agent's no-answer.
PICKED_OFF = "PICKED_OFF"


def pickup_offer(note: Mapping[str, Any] | None, ring_timeout: int) -> Offered | None:
    """The offer to the agent who picked the call up, if a pickup is why the ring ended."""
    if not note or "pickup" not in note:
        return None
    agent = str(note["pickup"])
    return Offered((RingTarget(agent, str(note["leg"]), str(note["dial"])),), ring_timeout)


def handover(note: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
    """Where a blind transfer sends the caller once the agent's part is over, or None. A
    pickup's note names the picking agent's phone (``dial``) too: it is no transfer."""
    if not note or "pickup" in note:
        return None
    return note if "dial" in note or "queue" in note else None


def blind_transfer(ref: int, where: Mapping[str, Any], *, caller: str, tenant: str, by: str) -> TransferTo:
    """The bridge that carries out a blind transfer to a dial target (another agent's phone,
    a number through a gateway); the driver builds the dial string."""
    variables = (
        ("origination_caller_id_number", caller),
        ("fsapps_tenant", tenant),
        ("fsapps_transferred_by", by),
    )
    return TransferTo(ref, variables, str(where.get("dial", "")), by)


class Consult(StrEnum):
    """Where an attended transfer stands, seen from the caller."""

    READING_NOTE = "reading the note"  # has the agent completed or cancelled?
    CHECKING_LEGS = "checking the legs"  # are the agent and the consulted party still there?
    HOLDING = "holding"  # a hold clip plays until the next look
    STOPPING_MUSIC = "stopping the music"  # the consult is decided: the clip is broken first
    PARKING = "parking"  # park_after_bridge on the caller, so the next bridge's end parks them
    HANDING_ON = "handing on"  # uuid_bridge to the consulted party (complete)
    BRIDGING_BACK = "bridging back"  # uuid_bridge back to the agent (cancel)
    BACK_WITH_AGENT = "back with the agent"  # until that bridge ends (the agent may consult again)
    NEXT_NOTE = "reading the next note"
    OVER = "over"


# From the cancel's uuid_bridge back to the agent until the next note is read: the phases in
# which the caller hanging up leaves the agent's leg with nobody (its consulted party was hung
# up). The next note may be another consult the agent began as the caller hung up: within
# that round trip's window, the agent's new consult call is ended with the leg.
BACK_TO_AGENT = frozenset({Consult.BRIDGING_BACK, Consult.BACK_WITH_AGENT, Consult.NEXT_NOTE})


class AttendedTransfer:
    """The caller's side of one agent's consults, from the moment the caller's bridge to
    the agent ended with a consult noted. ``receive`` returns commands; once ``phase`` is
    OVER: ``end`` is when the agent's part ended, ``handed_to`` the leg the caller was
    bridged to (complete) or None, ``stuck`` whether the hold music would not stop,
    ``parked_caller`` whether park_after_bridge was set on the caller, ``moved_caller``
    whether a uuid_bridge moved them (out of the node's extension)."""

    def __init__(self, leg: str, hold_music: str, next_ref: Callable[[], int], now: float) -> None:
        self.leg = leg  # the agent's
        self.hold_music = hold_music
        self._ref = next_ref
        self.phase = Consult.READING_NOTE
        self.consult = ""
        self.end = now
        self.handed_to: str | None = None
        self.stuck = False
        # a uuid_bridge moved the caller (out of the node's extension): routed on at the end
        self.moved_caller = False
        self.step = ""
        self.clip: int | None = None
        self.clip_done = True
        self.tick = 0
        self.stop: ClipStop | None = None
        self.park = 0

    @property
    def over(self) -> bool:
        return self.phase is Consult.OVER

    @property
    def parked_caller(self) -> bool:
        """park_after_bridge was set on the caller for a uuid_bridge (to the consulted party
        or back to the agent): unset when the visit ends, or the flow's next bridge parks them."""
        return self.park != 0

    def start(self, note: Mapping[str, Any], now: float) -> list[Command]:
        self.consult = str(note["consult"])
        return self._look()

    def receive(self, event: Event, now: float) -> list[Command]:
        if self.over:
            return []
        if isinstance(event, HungUp):
            # The caller is gone: the agent's part ended now; nobody to hand on. The agent and
            # the consulted party may talk on, each leg parked to outlive the other's: no
            # more, or whoever hangs up second is left parked in silence.
            unpark: list[Command] = [
                SetLegVariable(leg, "park_after_bridge", "false") for leg in (self.leg, self.consult)
            ]
            if self.phase in BACK_TO_AGENT:
                # Cancelled: the agent's leg has nobody but the caller. A bridge back that ended
                # with the caller before park_after_bridge came off the leg (a round trip after
                # the uuid_bridge) parked it, and the phone would stay up in silence.
                unpark.append(HangUpLeg(self.leg))
            return unpark + self._finish(now)
        if isinstance(event, SocketClosed):
            return self._finish(now)
        if isinstance(event, AppFinished) and event.ref == self.clip:
            self.clip_done = True
        handler: Callable[[Event, float], list[Command]] = getattr(self, "_on_" + self.phase.name.lower())
        return handler(event, now)

    # --- on hold while the agent consults ------------------------------------------------

    def _look(self) -> list[Command]:
        self.phase = Consult.READING_NOTE
        return [ReadNote(take=False)]

    def _on_reading_note(self, event: Event, now: float) -> list[Command]:
        if not isinstance(event, NoteRead):
            return []
        note = event.note or {}
        step = note.get("step") if note.get("consult") == self.consult else "cancel"
        if step in ("complete", "cancel"):
            return self._decided(str(step), now)
        self.phase = Consult.CHECKING_LEGS
        return [CheckLegs((self.leg, self.consult))]

    def _on_checking_legs(self, event: Event, now: float) -> list[Command]:
        if not isinstance(event, LegsChecked):
            return []
        agent_up, consult_up = event.up
        if not consult_up:
            return self._decided("cancel" if agent_up else "gone", now)
        if not agent_up:
            return self._decided("complete", now)  # the agent hung up on the consult: theirs to take
        out: list[Command] = []
        if self.clip is None or self.clip_done:
            self.clip, self.clip_done = self._ref(), False
            out.append(Play(self.clip, self.hold_music))
        self.tick = self._ref()
        out.append(Wait(self.tick, HOLD_CHECK_EVERY))
        self.phase = Consult.HOLDING
        return out

    def _on_holding(self, event: Event, now: float) -> list[Command]:
        if (isinstance(event, AppFinished) and event.ref == self.clip) or (
            isinstance(event, WaitOver) and event.token == self.tick
        ):
            return self._look()
        return []

    def _decided(self, step: str, now: float) -> list[Command]:
        self.step = step
        if self.clip is not None and not self.clip_done:
            self.stop = ClipStop(self.clip)
            self.phase = Consult.STOPPING_MUSIC
            return self._break_again(now)
        return self._after_hold(now)

    def _on_stopping_music(self, event: Event, now: float) -> list[Command]:
        if isinstance(event, AppFinished) and event.ref == self.clip:
            return self._after_hold(now)
        if isinstance(event, WaitOver) and event.token == self.tick:
            return self._break_again(now)
        return []

    def _break_again(self, now: float) -> list[Command]:
        assert self.stop is not None
        step = self.stop.next_try()
        if step is None:
            self.stuck = True
            return self._finish(now)
        send, seconds = step
        self.tick = self._ref()
        return [*([Break()] if send else []), Wait(self.tick, seconds)]

    # --- the consult decided ----------------------------------------------------------------

    def _after_hold(self, now: float) -> list[Command]:
        out: list[Command] = [ConsultOver(self.consult)]
        self.end = now
        if self.step == "gone":
            self.phase = Consult.OVER  # the agent and the consulted party both hung up
            return out
        self.park = self._ref()
        self.phase = Consult.PARKING
        return [*out, ParkAfterBridge(self.park, True)]

    def _on_parking(self, event: Event, now: float) -> list[Command]:
        if not (isinstance(event, AppFinished) and event.ref == self.park):
            return []
        if self.step == "complete":
            self.phase = Consult.HANDING_ON
            return [BridgeCaller(self.consult)]
        self.phase = Consult.BRIDGING_BACK
        return [HangUpLeg(self.consult), BridgeCaller(self.leg)]

    def _on_handing_on(self, event: Event, now: float) -> list[Command]:
        if not isinstance(event, CallerBridged):
            return []
        if not event.ok:
            # The consulted party went as the agent completed: back to the agent, as a cancel
            # (whose leg parked to outlive the consult; if it is gone too, the visit goes on).
            self.phase = Consult.BRIDGING_BACK
            return [BridgeCaller(self.leg)]
        self.handed_to, self.moved_caller = self.consult, True
        self.phase = Consult.OVER
        # The consulted leg parked to outlive the agent's; now it leaves with the caller
        # (left parked, the real switch kept the phone's call up).
        return [SetLegVariable(self.consult, "park_after_bridge", "false"), HangUpLeg(self.leg)]

    def _on_bridging_back(self, event: Event, now: float) -> list[Command]:
        if not isinstance(event, CallerBridged):
            return []
        if not event.ok:
            self.end = now
            return self._next_note()
        self.moved_caller = True
        self.phase = Consult.BACK_WITH_AGENT
        # The agent's leg parked to outlive the consulted party; back with the caller it
        # ends with them again (left on, the caller's hangup parked the agent's phone).
        return [SetLegVariable(self.leg, "park_after_bridge", "false")]

    def _on_back_with_agent(self, event: Event, now: float) -> list[Command]:
        if isinstance(event, Unbridged) and event.other == self.leg:
            self.end = event.at or now
            return self._next_note()
        return []

    def _next_note(self) -> list[Command]:
        self.phase = Consult.NEXT_NOTE
        return [ReadNote(take=False)]

    def _on_next_note(self, event: Event, now: float) -> list[Command]:
        if not isinstance(event, NoteRead):
            return []
        if event.note and "consult" in event.note:
            return self.start(event.note, now)  # the agent consults again
        self.phase = Consult.OVER
        return []

    def _finish(self, now: float) -> list[Command]:
        self.end, self.handed_to = now, None
        self.phase = Consult.OVER
        return []
