"""A caller's visit to a queue, as a pure state machine.

``Visit(setup).receive(event, now)`` returns the commands that carry the
visit on: no I/O, no clock (``now`` is given), no gevent. fsapps.apps.queue
drives it: the dispatcher's decisions and the call's Event Socket events
come in as events, commands go out to the switch, the dispatcher and the
records (fsapps.acd.visit_messages says which is which and how a list of
commands runs).

The caller is answered and hears hold music (the queue's moh-sound, in short
clips: a controller that dies leaves at most one clip before the dialplan
hands the call to the next controller) and, every announce-frequency
seconds, their position and expected wait. An offer rings the agents'
phones with one bridge; the first leg to answer is the call's agent, and the
call must then outlive this controller. ring-progressively's ring path
(``adds_legs``) originates each agent's leg on its own instead, so the next
agent can join while the others ring, and uuid-bridges the caller to the first
that answers. When that bridge ends, an agent's
transfer noted on the caller's row (fsapps.acd.transfer) says where the
caller goes; else the flow goes on (``_``: a survey). Not answered: the
agents go into their delays and the caller keeps their place.
max-wait-time takes the ``timeout`` branch (or the fallback); the callback
key takes ``callback`` with the caller's place stored.

Phases and what moves them ([commands]):

  ARRIVING --Arrived--> ANSWERING [Answer] if the call is not answered yet,
      else JOINING [SetVariables(armed for resume), Join]
  ANSWERING --AppFinished--> JOINING [SetVariables(armed), Join]
  JOINING --Placed(before Answered)--> COMPLETING [Forget, CompleteAnswered]: the call
      outlived the controller that bridged it and is back as that bridge ended (or, handed
      back when the database failed it, with that end noted on the channel)
  COMPLETING --Completed--> done "_" [SetVariables(agent, outcome; the noted end unset)]
    --Placed--> ENTERING [ReleaseStale if another controller had the caller,
      SetVariables(queue, entered), CatchUp]
  ENTERING --CaughtUp--> the wait loop
  the wait loop: a decision or a digit already waiting is acted on as below, no music to
      start and stop (an offer --> RINGING); else ON_HOLD [Play(clip)]
  ON_HOLD --AppFinished(clip)--> the wait loop (the next clip)
    --Offered | Announced | TimedOut | Moved | Digit--> STOPPING_MUSIC [Break, Wait]
  STOPPING_MUSIC --WaitOver--> [Break, Wait] again (fsapps.acd.hold_music), at last
      done, handed back [Forget]
    --AppFinished(clip)--> what stopped it:
      Offered --> RINGING
      Announced --> ANNOUNCING [Play(announce-sound), Play(position and wait)]
      TimedOut --> done "timeout" or the fallback [Leave, Account(overflowed |
        timed_out), SetVariables(outcome; resume unset for the fallback)]
      Moved --> done, next queue (a new visit there) [Leave, Account(moved), SetVariables(outcome)]
      Digit: the callback key, with a callback branch --> done "callback"
        [Leave, Account(callback), SetVariables(outcome)]; any other --> the wait loop
      (a caller parked after an earlier visit's uuid_bridge is first routed on by the
      branch, as after a conversation: ROUTING_ON)
  ANNOUNCING --AppFinished(the last part)--> the wait loop
  RINGING [StartRecording at the first offer of a recorded queue, Ring]
    --DialRefused--> the wait loop [OfferFailed(INVALID_NUMBER_FORMAT)]
    --Bridged(a rung leg)--> TALKING [OutliveController(on), TellAnswered]
    --AppFinished(ring) | SocketClosed--> PICKUP_CHECK [ReadNote(take)]
    --HungUp--> waits for the ring's AppFinished (at most RING_END_AFTER_HANGUP)
  RINGING_LEGS (adds_legs: ring-progressively) [StartRecording at the first offer, Originate
      each agent's leg on its own]
    --Offered--> [Originate the next agent's leg]: the others ring on; [PickedUp(them)]
      once one answered, a pickup began, or on a pickup's ring
    --LegEnded, others still ringing--> [OfferFailed(that agent, still ringing)]; the first
      PICKED_OFF (a pickup) [HangUpLeg(the others but an answered one, PICKED_OFF)], and
      from then on [PickedUp(that agent)]
    --LegEnded, the last--> PICKUP_CHECK [ReadNote(take)]
    --LegAnswered--> [SetVariables(park_after_bridge, socket_resume off, park on cancel),
      BridgeCaller(leg)]; a later answer, or one during a pickup [HangUpLeg(LOSE_RACE),
      PickedUp(that agent)]
    --Bridged(that leg)--> TALKING [HangUpLeg(the others, LOSE_RACE), OutliveController(on),
      TellAnswered]; CallerBridged refused, or Parked before the bridge: that leg ended
    --HungUp--> PICKUP_CHECK, the caller gone [HangUpLeg(all), OfferFailed(ORIGINATOR_CANCEL),
      ReadNote(take)]: a picking agent reserved for them is freed
    --SocketClosed--> done [HangUpLeg(all), OfferFailed(ORIGINATOR_CANCEL), as below]
  PICKUP_CHECK --NoteRead(a pickup)--> RINGING the picking agent [PickedUp(rung)]; with
      adds_legs RINGING_LEGS [AddsLegs(off)]: nobody joins a pickup's ring (on again at the
      next offer)
    --NoteRead--> the wait loop [OfferFailed(rung, the disposition)]; the caller gone:
      done [OfferFailed(ORIGINATOR_CANCEL), then as a hangup or a closed socket below]
  TALKING --Unbridged--> [OutliveController(off), the switch told only if the caller is there];
      uuid-bridged (RINGING_LEGS): the conversation is over, CONSULT_CHECK at once, as on HungUp
    --Offered (ring-progressively's next agent, won as the first answered)--> [PickedUp(them)]
    --AppFinished(ring) | SocketClosed--> CONSULT_CHECK [ReadNote(look)]
    --HungUp--> waits for the ring's AppFinished, as RINGING
  CONSULT_CHECK --NoteRead(a consult)--> CONSULTING (fsapps.acd.transfer.AttendedTransfer)
    --NoteRead(another note)--> TRANSFER_CHECK [ReadNote(take)]
    --NoteRead(none)--> on as TRANSFER_CHECK with no note (nothing to take)
  CONSULTING --the consult is over--> TRANSFER_CHECK [ReadNote(take)]
  TRANSFER_CHECK --NoteRead--> [PickedUp(the picking agent) if the pickup lost the race]
      STOPPING_RECORDING [StopRecording] if recorded and the caller is there,
      else ENDING_AGENT_CALL [EndAgentCall]
  STOPPING_RECORDING --AppFinished | HungUp | SocketClosed--> ENDING_AGENT_CALL [EndAgentCall]
  ENDING_AGENT_CALL (EndAgentCall also takes the caller out of the queue, in the same
      transaction) --AgentCallEnded--> [Account(answered), NoteHandleTime,
      SetVariables(agent, outcome)], then:
      handed on by a consult: HANDED_ON until that bridge ends, then routed on as below
        (ROUTING_ON);
      a blind transfer to a queue: done, next queue (a new visit there);
      to a dial target: TRANSFERRING [TransferTo] --AppFinished--> done "_";
      else done "_"; a caller who was uuid-bridged is first routed on: ROUTING_ON
      [SetVariables(park_after_bridge off, fsapps_branch), RouteOn] --AppFinished--> done
      by that branch;
      one with park_after_bridge on but never moved (every uuid_bridge refused, by a
      consult or a ring-progressively answer): UNPARKING [ParkAfterBridge(off)]
      --AppFinished--> done "_" (so too by the timeout and callback branches)

  From ENTERING to ANNOUNCING, HungUp: done, abandoned [Leave(abandoned), Account(abandoned)];
  SocketClosed: done [Forget] (the caller's row waits for the next controller); while TALKING
  too: the conversation outlives the socket and is completed by whoever sees it end.
  Before the place is written, either: done, nothing to undo. Failed: done [Forget,
  HangUpLeg(each leg ringing on its own)], and once the conversation is over,
  [SetVariables(its end, agent, start and joined)] for whoever completes the visit (none
  once accounted); a parked caller is sent to the node's hold routes, not handed back
  (ROUTING_ON [RouteOn], done with no branch), also one who waits (an earlier visit's
  uuid_bridge took them out of the extension) with no agent being bridged to them, and
  one whose hold music would not stop; Failed in ROUTING_ON (a command before the RouteOn
  failed): [Forget, the same SetVariables, RouteOn] once more. A caller with
  park_after_bridge left on but in the extension (park_leftover) has it unset at arming.
  TellAnswered is answered by AnswerTold.
  Failed while TALKING, the caller there (the answer not taken, say): [HangUpLeg(as above),
  MarkChannel(the agent, start and joined, "untold"; unless AnswerTold came),
  Wait(RETRY_ANSWER)] --WaitOver--> [OutliveController(on), TellAnswered again] (Failed
  again: as before) --AnswerTold--> [MarkChannel(those unset)] (and unset again with the
  answered end's SetVariables), on as any; the conversation over first: as Failed above,
  the talk time the agent's, not how long the database was away, "untold" noted unless
  AnswerTold came; the caller hung up meanwhile: ANSWER_UNTOLD --WaitOver--> [TellAnswered]
  (Failed: waits again) --AnswerTold--> [ReadNote(look)] --NoteRead--> as CONSULT_CHECK;
  the socket closed under them: done [Forget]. A caller back with a conversation noted
  joins with their row made Answered, or written so (Join(completing)), and is completed
  (CompleteAnswered(that agent)) whatever the row said; one back with an answer noted and
  no end (its controller died during the conversation) likewise, the end noted as the one
  the switch handed them over at (SetVariables with the arming).

Two things the real switch does that the emulator cannot show (measured on
1.10.12) shape it: a hold clip still queued when the caller hangs up never
completes, so no phase waits for a playback once the caller is gone (the
visit ends at once, as a hang-up); and a uuid_break that arrives before a
queued playback begins is lost, so STOPPING_MUSIC breaks until the clip
completes, never with ``all``. Decisions and digits that arrive while the
visit is busy (answering, stopping the music, announcing, ringing) wait
their turn, in order, as in an inbox.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from fsapps.acd import hold_music, transfer
from fsapps.acd.hold_music import ClipStop
from fsapps.acd.transfer import AttendedTransfer
from fsapps.acd.visit_messages import (
    Account,
    AddsLegs,
    AgentCallEnded,
    Announced,
    Answer,
    AnswerTold,
    AppFinished,
    Arrived,
    Break,
    BridgeCaller,
    Bridged,
    CallerBridged,
    CatchUp,
    CaughtUp,
    Command,
    CompleteAnswered,
    Completed,
    DialLeg,
    DialRefused,
    Digit,
    EndAgentCall,
    Ending,
    Event,
    Failed,
    Forget,
    HangUpLeg,
    HungUp,
    Join,
    Leave,
    LegAnswered,
    LegEnded,
    MarkChannel,
    Moved,
    NoteHandleTime,
    NoteRead,
    Offered,
    OfferFailed,
    Originate,
    OutliveController,
    ParkAfterBridge,
    Parked,
    PickedUp,
    Placed,
    Play,
    ReadNote,
    RecordingNamed,
    ReleaseStale,
    Ring,
    RingTarget,
    RouteOn,
    SetVariables,
    SocketClosed,
    StartRecording,
    StopRecording,
    TellAnswered,
    TimedOut,
    Unbridged,
    VisitSummary,
    Wait,
    WaitOver,
)

# A bridge running when the caller hangs up completes at once; one still queued never does.
RING_END_AFTER_HANGUP = 5.0
# How often an agent's answer the database failed to take is told again while they talk.
RETRY_ANSWER = 5.0
# The channel variables an answered visit handed back notes its conversation in: its end,
# the agent and when they answered (the row may not say: the database failed as they did).
BRIDGE_ENDED = "fsapps_bridge_ended"
BRIDGE_AGENT = "fsapps_bridge_agent"
BRIDGE_STARTED = "fsapps_bridge_started"
BRIDGE_JOINED = "fsapps_bridge_joined"  # when the caller joined the queue for that visit
# "true": the answer is not known to have been written (its agent still Receiving): nobody
# but a controller the caller comes back to, or their hangup's event, will complete the visit
# (fsapps.acd.noted_visits). Not set for an answer written (reconciliation completes those).
BRIDGE_UNTOLD = "fsapps_bridge_untold"
NOTED_VISIT = (BRIDGE_ENDED, BRIDGE_AGENT, BRIDGE_STARTED, BRIDGE_JOINED, BRIDGE_UNTOLD)
LATEST = 2.0**33  # seconds since 1970 (the year 2242): past it, no moment a visit notes


def noted_epoch(raw: str) -> float:
    """A time a visit wrote on the channel (NOTED_VISIT); anything else (unset, altered) is
    none: 0."""
    try:
        value = float(raw)
    except ValueError:
        return 0.0
    return value if math.isfinite(value) and 0 < value < LATEST else 0.0
# Where a caller uuid-bridged to their agent goes when that conversation ends and this
# visit's controller is gone: VisitSetup.route_on, set while they talk, cleared when a
# visit arms or routes on (fsapps.acd.housekeeping reads it).
ROUTE_VARIABLE = "fsapps_queue_route"

ANNOUNCE = {
    "en": "You are number {position} in the queue. The expected wait is about {minutes} {unit}.",
    "zh": "您现在排在第{position}位，预计等待约{minutes}分钟。",
}


def announcement(language: str, position: int, seconds: int) -> str:
    minutes = max(1, round(seconds / 60))
    unit = "minute" if minutes == 1 else "minutes"
    return ANNOUNCE.get(language, ANNOUNCE["en"]).format(position=position, minutes=minutes, unit=unit)


@dataclass(frozen=True)
class VisitSetup:
    """The caller, the queue and the flow node, as the visit needs them (the driver reads them)."""

    tenant: str
    queue: str
    call_uuid: str
    caller: str  # the caller ID number
    caller_name: str  # shown on the agents' phones: the caller's name, else their number
    resume: str  # "flow.node": the dialplan's route back to this queue node
    hold_music: str  # one hold clip: a sound path, say: text or a tone_stream
    answered: bool = True  # before the visit
    connected_at: float = 0.0  # when the switch handed the call over (0: unknown)
    bridge_ended: float = 0.0  # BRIDGE_ENDED on the channel: an answered visit handed back (0: none)
    bridge_agent: str = ""  # BRIDGE_AGENT: its agent
    bridge_started: float = 0.0  # BRIDGE_STARTED: when they answered
    bridge_joined: float = 0.0  # BRIDGE_JOINED: when the caller had joined
    branches: frozenset[str] = frozenset()  # the queue node's children
    announce_prompt: str | None = None  # the queue's announce-sound, played first
    language: str = "en"
    recording: str | None = None  # the recording's path template (None: not recorded)
    screen_pop: tuple[tuple[str, str], ...] = ()  # the lookup's exported fields for the agents' phones
    callback_key: str = ""
    resume_within: float = 0.0  # abandoned-resume-allowed: discard-abandoned-after, else 0
    # The ring path: one bridge on the caller's channel (False), or each agent's leg
    # originated on its own and the caller bridged to the first that answers (True), so
    # legs can join while others ring (ring-progressively).
    adds_legs: bool = False
    # "<extension> <context>": the queue node's route extension (RouteOn's), for a caller
    # parked after a uuid_bridge whose controller is gone (ROUTE_VARIABLE).
    route_on: str = ""
    # park_after_bridge is on the caller: a uuid_bridge earlier on this call (a visit that
    # rang legs on its own, then a transfer to this queue) took them out of the node's
    # extension. A bridge's end then parks them inside the bridge application, which does
    # not complete (switch_ivr_bridge.c:1931-1945): the visit ends the conversation at the
    # unbridge, and routes them on at its end.
    parked: bool = False
    # park_after_bridge is on a caller who is in the node's extension (a uuid_bridge refused
    # earlier on the call): unset at arming, or a bridge's end would park them.
    park_leftover: bool = False


class Phase(StrEnum):
    ARRIVING = "arriving"
    ANSWERING = "answering"
    JOINING = "joining"
    COMPLETING = "completing an answered visit"
    ENTERING = "entering"
    ON_HOLD = "on hold"
    STOPPING_MUSIC = "stopping the music"
    ANNOUNCING = "announcing"
    RINGING = "ringing"
    RINGING_LEGS = "ringing legs"
    PICKUP_CHECK = "checking for a pickup"
    TALKING = "talking"
    ANSWER_UNTOLD = "telling the answer"
    CONSULT_CHECK = "checking for a consult"
    CONSULTING = "consulting"
    TRANSFER_CHECK = "checking for a transfer"
    STOPPING_RECORDING = "stopping the recording"
    ENDING_AGENT_CALL = "ending the agent's call"
    HANDED_ON = "handed on"
    UNPARKING = "unparking"
    ROUTING_ON = "routing on"
    TRANSFERRING = "transferring"
    DONE = "done"


# What the caller waits for while holding: the dispatcher's and their own.
WAITED_FOR = (Offered, Announced, TimedOut, Moved, Digit)

# Once an agent answered, an offer can no longer be rung (one that ring-progressively's
# next agent won as the first answered): its agents are handed back.
ANSWERED_PHASES = frozenset({
    Phase.TALKING, Phase.ANSWER_UNTOLD, Phase.CONSULT_CHECK, Phase.CONSULTING, Phase.TRANSFER_CHECK,
    Phase.STOPPING_RECORDING, Phase.ENDING_AGENT_CALL, Phase.HANDED_ON, Phase.UNPARKING,
    Phase.TRANSFERRING, Phase.ROUTING_ON,
})  # fmt: skip


class Visit:
    """One caller's visit to one queue (the module's doc has its phases). ``ending`` is set
    once it is over; an agent's transfer to another queue is a new Visit."""

    def __init__(self, setup: VisitSetup) -> None:
        self.setup = setup
        self.phase = Phase.ARRIVING
        self.ending: Ending | None = None
        self.placed = False
        self.joined = 0.0
        self.offers = 0
        self.ring_seconds = 0.0
        self.recording: str | None = None
        self.deferred: deque[Event] = deque()  # decisions and digits waiting their turn
        self.hung_up: str | None = None  # the cause
        self.socket_closed = False
        self._last = 0  # refs and tokens
        self.waiting_for = 0  # the ref or token the phase waits on
        # on hold
        self.clip = 0
        self.stop: ClipStop | None = None
        self.then: Event | None = None  # what stopped the music
        self.parts: list[str] = []
        # an offer
        self.rung: Offered | None = None
        self.bridge_ref = 0  # the bridge application the phase waits on (a ring, a transfer)
        # legs rung on their own (adds_legs): those still ringing, leg -> target
        self.ringing: dict[str, RingTarget] = {}
        # a pickup (operations.pickup) is taking this offer from its legs: one ended PICKED_OFF
        self.picking = False
        # the dispatcher may add agents to this caller's ring (ring-progressively), but not
        # to a pickup's (AddsLegs)
        self.adding = setup.adds_legs
        self.uuid_bridged = False  # the caller was bridged to the agent's leg by uuid_bridge
        self.park_set = setup.parked  # park_after_bridge is on the caller (set for that, or before)
        self.parked_before = setup.parked  # park_set before the answering leg's uuid_bridge
        self.unpark_at_end = False  # set by a consult whose bridges were all refused
        self.rang = 0.0
        self.disposition = ""
        self.agent = ""
        self.agent_leg = ""
        self.bridged_at = 0.0
        self.unbridged = 0.0
        # after the conversation
        self.end = 0.0
        self.consult: AttendedTransfer | None = None
        self.transfer: Mapping[str, Any] | None = None
        self.handed_to: str | None = None
        self.handover_over = False
        # the agent's answer, as told to the dispatcher
        self.told: TellAnswered | None = None
        # failed while talking: why; the answer told again at retry_answer's WaitOver (the
        # visit ends, handed back, if the conversation ends first)
        self.failing: str | None = None
        # when the conversation a channel notes ended (NOTED_VISIT; 0: none noted)
        self.noted_end = setup.bridge_ended
        self.answer_told = False  # the database took the agent's answer (AnswerTold)
        self.answer_noted = False  # the answer was noted on the channel (MarkChannel) in this visit
        self.retry_answer = 0
        self.accounted = False  # the answered visit's records are out (Account)
        self.handing_back: str | None = None  # sent to the node's hold routes instead (why)
        self.route_branch: str | None = "_"  # the branch a caller routed on (ROUTING_ON) takes
        self.rerouted = False  # a failure before the RouteOn: sent again, once
        self.route_values: tuple[tuple[str, str], ...] = ()  # set on the caller as they are routed on

    @property
    def caller_here(self) -> bool:
        return self.hung_up is None and not self.socket_closed

    def receive(self, event: Event, now: float) -> list[Command]:
        """What to do about ``event``, heard at ``now``: commands to run in order."""
        if isinstance(event, Failed):
            # Legs rung on their own ring on without the caller's channel: ended, best effort
            # (the next visit's resume frees their agents, release_stale).
            hangups: list[Command] = [
                HangUpLeg(leg, "ORIGINATOR_CANCEL") for leg in self.ringing if leg != self.agent_leg
            ]
            self.ringing = {}
            why = event.why or "failed"
            talking = self.phase is Phase.TALKING and self.caller_here and not self.unbridged
            untold = self.phase is Phase.ANSWER_UNTOLD
            if self.ending is None and self.told is not None and (talking or untold):
                # The conversation goes on without the database (socket_resume is off), or is
                # over with nobody left to hold. What failed was most likely the answer
                # (TellAnswered, which does nothing twice): told again until it lands, the
                # visit then going on as any; if the conversation ends first with the caller
                # there, it is handed back with it noted (_hand_back_noted).
                self.failing = why
                self.retry_answer = self._ref()
                # The answer on the channel too: a controller the caller comes back to, should
                # this one die before it lands, completes the visit rather than queue them again.
                noted: list[Command] = []
                if talking and not self.answer_told:
                    # Again at each failure: the last may not have been set (best effort).
                    self.answer_noted = True
                    noted = [MarkChannel(self._answer_noted())]
                return [*hangups, *noted, Wait(self.retry_answer, RETRY_ANSWER)]
            self.end = self.end or self.unbridged
            if self.ending is None and self.end and self.caller_here and self.phase is not Phase.ROUTING_ON:
                # The conversation is over, maybe not yet accounted (the database is away):
                # the controller that completes it, maybe long after, needs it.
                return [*hangups, *self._hand_back_noted(why)]
            rerouting = self.phase is Phase.ROUTING_ON and self.caller_here and not self.rerouted
            if self.ending is None and rerouting:
                # A command before the RouteOn failed (RouteOn is the last of its commands, and
                # ends the phase once run): the caller, parked under this socket, is routed on
                # all the same, once.
                self.rerouted = True
                self.waiting_for = self._ref()
                again = RouteOn(self.waiting_for, "" if self.handing_back else self.route_branch or "")
                return [*hangups, Forget(), SetVariables(self.route_values), again]
            if (self.ending is None and self.park_set and self.caller_here and not self.agent_leg
                    and self.phase is not Phase.ROUTING_ON):  # fmt: skip
                # Parked under this socket, with no agent being bridged to them: routed back.
                return [*hangups, *self._hand_back(why)]
            # Whatever the visit had reached, the dispatcher must not keep offering to it.
            forget: list[Command] = [Forget(), *hangups] if self.placed else hangups
            if self.ending is None:
                self._done(Ending(hand_back=why))
            return forget
        if self.ending is not None:
            return []
        if isinstance(event, AnswerTold):
            self.answer_told = True
            out: list[Command] = []
            if self.answer_noted and self.caller_here:
                # Unset again with the answered end's variables, should this fail (a later queue
                # visit on the call would take the note for a conversation to complete).
                out.append(MarkChannel(self._answer_unnoted()))
            if self.phase is Phase.ANSWER_UNTOLD:
                out.append(ReadNote(take=False))  # its answer takes the visit on as any
            return out
        if isinstance(event, Offered) and self.phase in ANSWERED_PHASES:
            return [PickedUp(event.agents, now)]
        if isinstance(event, RecordingNamed):
            if self.recording is not None:
                self.recording = event.path or self.recording
            return []
        if isinstance(event, Unbridged) and self.handed_to is not None and event.other == self.handed_to:
            self.handover_over = True
        first: list[Command] = []
        if isinstance(event, HungUp):
            if not self.caller_here:
                return []
            self.hung_up = event.cause or "NORMAL_CLEARING"
            if self.handed_to is not None:
                # Handed on by a consult, the consulted party's leg has nobody but the caller.
                # A bridge that ended with the caller before park_after_bridge came off that leg
                # (a round trip after the uuid_bridge) parked it: the phone would stay up.
                first.append(HangUpLeg(self.handed_to))
        elif isinstance(event, SocketClosed):
            if self.socket_closed:
                return []
            self.socket_closed = True
        handler: Callable[[Event, float], list[Command]] = getattr(self, "_on_" + self.phase.name.lower())
        return first + handler(event, now)

    # --- helpers -------------------------------------------------------------------------

    def _ref(self) -> int:
        self._last += 1
        return self._last

    def _defer(self, event: Event) -> list[Command]:
        if isinstance(event, WAITED_FOR):
            self.deferred.append(event)
        return []

    def _enter(self, phase: Phase) -> None:
        # A wait of the phase before (a break's, a timer's) means nothing here.
        self.phase, self.waiting_for = phase, 0

    def _done(self, ending: Ending) -> list[Command]:
        self._enter(Phase.DONE)
        self.ending = ending
        return []

    def _gone(self, now: float) -> list[Command]:
        """The caller left while in the queue: an abandon if they hung up; a closed socket
        leaves their row to the controller the dialplan hands them to next."""
        cause = self.hung_up or "socket closed"
        if self.hung_up is not None:
            out: list[Command] = [Leave(abandoned=True), Account(self._summary("abandoned", now))]
        else:
            out = [Forget()]
        return out + self._done(Ending(caller_gone=cause))

    def _noted(self) -> tuple[tuple[str, str], ...]:
        """The conversation, as the channel keeps it for the controller that completes the
        visit (none once accounted: its row is gone, its records written)."""
        if self.accounted:
            return ()
        untold = "" if self.answer_told else "true"
        values = (f"{self.end:.6f}", self.agent, f"{self.bridged_at:.6f}", f"{self.joined:.6f}", untold)
        return tuple(zip(NOTED_VISIT, values, strict=True))

    def _answer_noted(self) -> tuple[tuple[str, str], ...]:
        """The answer the database has not taken, as the channel keeps it (_noted, less the
        end) while the caller talks."""
        values = (self.agent, f"{self.bridged_at:.6f}", f"{self.joined:.6f}", "true")
        return tuple(zip((BRIDGE_AGENT, BRIDGE_STARTED, BRIDGE_JOINED, BRIDGE_UNTOLD), values, strict=True))

    def _answer_unnoted(self) -> tuple[tuple[str, str], ...]:
        return tuple((name, "") for name, _ in self._answer_noted())

    def _summary(self, outcome: str, ended: float, **answered: Any) -> VisitSummary:
        s = self.setup
        return VisitSummary(
            tenant=s.tenant, queue=s.queue, call_uuid=s.call_uuid, caller=s.caller, outcome=outcome,
            joined=self.joined, ended=ended, ring_seconds=self.ring_seconds, offers=self.offers,
            recording=self.recording, **answered,
        )  # fmt: skip

    # --- arriving -----------------------------------------------------------------------

    def _on_arriving(self, event: Event, now: float) -> list[Command]:
        if not isinstance(event, Arrived):
            return self._defer(event)
        if self.setup.answered:
            return self._arm(now)
        self._enter(Phase.ANSWERING)
        self.waiting_for = self._ref()
        return [Answer(self.waiting_for)]

    def _arm(self, now: float) -> list[Command]:
        # Armed before the caller has a place: a controller that dies from here on leaves
        # them to the route that holds them (nodes/queue.py), never to the sorry message.
        self._enter(Phase.JOINING)
        # fsapps_hold_music: what the caller hears when their agent puts them on hold
        # (AgentOperations.hold gives it to the agent's leg, whose hold music it is).
        armed: tuple[tuple[str, str], ...] = (
            ("fsapps_resume", self.setup.resume), ("fsapps_held", ""),
            ("continue_on_fail", "true"), ("hangup_after_bridge", "false"),
            (hold_music.VARIABLE, self.setup.hold_music), (ROUTE_VARIABLE, ""),
        )  # fmt: skip
        if self.setup.park_leftover:
            armed += (("park_after_bridge", ""),)
        completing = bool(self.setup.bridge_agent)
        if completing and not self.noted_end:
            # An answer noted with no end: the controller of that conversation died during it,
            # and the caller came back as it ended (the switch handed them over then; this
            # controller may have spent long since on a database away). Noted, should they be
            # handed back again.
            self.noted_end = self.setup.connected_at or now
            armed += ((BRIDGE_ENDED, f"{self.noted_end:.6f}"),)
        return [SetVariables(armed), Join(self.setup.resume_within, completing)]

    def _on_answering(self, event: Event, now: float) -> list[Command]:
        if isinstance(event, AppFinished) and event.ref == self.waiting_for:
            return self._arm(now)
        if isinstance(event, HungUp | SocketClosed):
            return self._done(Ending(caller_gone=self.hung_up or "socket closed"))
        return self._defer(event)

    def _on_joining(self, event: Event, now: float) -> list[Command]:
        if isinstance(event, HungUp | SocketClosed):
            return self._done(Ending(caller_gone=self.hung_up or "socket closed"))
        if not isinstance(event, Placed):
            return self._defer(event)
        self.placed, self.joined = True, event.joined
        # A noted end belongs to the visit it completes, never to a later one on this call.
        s = self.setup
        noted = self.noted_end
        forget_end = tuple((name, "") for name in NOTED_VISIT) if noted else ()
        if event.before == "Answered" or (noted and s.bridge_agent):
            # Answered: the row says so, or the channel, for a visit handed back over a
            # database away (its answer maybe never written, its row maybe gone since: the
            # join made the row Answered, or wrote one so).
            self._enter(Phase.COMPLETING)
            if noted and s.bridge_agent:
                return [Forget(), CompleteAnswered(noted, s.bridge_agent, s.bridge_started, s.bridge_joined)]
            return [Forget(), CompleteAnswered(noted or s.connected_at or now)]
        out: list[Command] = []
        if event.before:
            out.append(ReleaseStale(now, event.before))  # whatever another controller left offered
        entered = (
            ("fsapps_queue", self.setup.queue), ("fsapps_queue_entered", f"{self.joined:.3f}"), *forget_end,
        )  # fmt: skip
        self._enter(Phase.ENTERING)
        self.waiting_for = self._ref()
        # An offer that arrives meanwhile is rung at once, with no music to start and stop.
        return [*out, SetVariables(entered), CatchUp(self.waiting_for)]

    def _on_completing(self, event: Event, now: float) -> list[Command]:
        if not isinstance(event, Completed):
            return []
        # As a visit completed here would (a survey next names the agent).
        values: tuple[tuple[str, str], ...] = ()
        if event.agent:
            values = (("fsapps_agent", event.agent), ("fsapps_queue_outcome", "answered"))
        if self.noted_end:
            values += tuple((name, "") for name in NOTED_VISIT)
        out: list[Command] = [SetVariables(values)] if values and self.caller_here else []
        return out + self._leave_by("_")

    def _on_entering(self, event: Event, now: float) -> list[Command]:
        if isinstance(event, CaughtUp) and event.token == self.waiting_for:
            return self._wait_loop(now)
        if isinstance(event, HungUp | SocketClosed):
            return self._gone(now)
        return self._defer(event)

    # --- waiting -------------------------------------------------------------------------

    def _wait_loop(self, now: float) -> list[Command]:
        if self.deferred:
            # A decision or a key already waiting (the dispatcher's first pass over the caller
            # comes before the music): acted on at once, with no music to start and stop (a
            # break sent before the clip begins is lost, and waits for the clip's end).
            return self._act(self.deferred.popleft(), now)
        self.clip = self._ref()
        self._enter(Phase.ON_HOLD)
        return [Play(self.clip, self.setup.hold_music)]

    def _on_on_hold(self, event: Event, now: float) -> list[Command]:
        if isinstance(event, AppFinished) and event.ref == self.clip:
            return self._wait_loop(now)
        if isinstance(event, WAITED_FOR):
            return self._stop_music(event, now)
        if isinstance(event, HungUp | SocketClosed):
            return self._gone(now)
        return []

    def _stop_music(self, then: Event, now: float) -> list[Command]:
        self.then, self.stop = then, ClipStop(self.clip)
        self._enter(Phase.STOPPING_MUSIC)
        return self._break_again()

    def _break_again(self) -> list[Command]:
        assert self.stop is not None
        step = self.stop.next_try()
        if step is None:
            return self._hand_back("the hold music would not stop")
        send, seconds = step
        self.waiting_for = self._ref()
        return [*([Break()] if send else []), Wait(self.waiting_for, seconds)]

    def _on_stopping_music(self, event: Event, now: float) -> list[Command]:
        if isinstance(event, AppFinished) and event.ref == self.clip:
            then, self.then = self.then, None
            assert then is not None
            return self._act(then, now)
        if isinstance(event, WaitOver) and event.token == self.waiting_for:
            return self._break_again()
        if isinstance(event, HungUp | SocketClosed):
            return self._gone(now)  # the clip, if still queued, will never complete
        return self._defer(event)

    def _act(self, then: Event, now: float) -> list[Command]:
        if isinstance(then, Offered):
            return self._ring(then, now)
        if isinstance(then, Announced):
            s = self.setup
            text = announcement(s.language, then.position, then.estimated_wait)
            self.parts = [*([s.announce_prompt] if s.announce_prompt else []), "say:" + text]
            return self._announce_next()
        if isinstance(then, TimedOut):
            return self._timed_out(now)
        if isinstance(then, Moved):
            return self._moved(then.queue, now)
        if isinstance(then, Digit):
            key = self.setup.callback_key
            if key and then.digit == key and "callback" in self.setup.branches:
                return self._callback(now)
        return self._wait_loop(now)

    def _announce_next(self) -> list[Command]:
        self._enter(Phase.ANNOUNCING)
        self.waiting_for = self._ref()
        return [Play(self.waiting_for, self.parts.pop(0))]

    def _on_announcing(self, event: Event, now: float) -> list[Command]:
        if isinstance(event, AppFinished) and event.ref == self.waiting_for:
            return self._announce_next() if self.parts else self._wait_loop(now)
        if isinstance(event, HungUp | SocketClosed):
            return self._gone(now)
        return self._defer(event)

    def _timed_out(self, now: float) -> list[Command]:
        overflow = "timeout" in self.setup.branches
        outcome = "overflowed" if overflow else "timed_out"
        out: list[Command] = [
            Leave(abandoned=False), Account(self._summary(outcome, now)),
            SetVariables((("fsapps_queue_outcome", outcome),)),
        ]  # fmt: skip
        if not overflow:
            out.append(SetVariables((("fsapps_resume", ""),)))  # the fallback, not this queue again
        return out + self._leave_by("timeout" if overflow else None)

    def _moved(self, queue: str, now: float) -> list[Command]:
        """Off to another queue of the tenant's, as an agent's transfer there (a new visit)."""
        out: list[Command] = [
            Leave(abandoned=False), Account(self._summary("moved", now)),
            SetVariables((("fsapps_queue_outcome", "moved"),)),
        ]  # fmt: skip
        return out + self._done(Ending(next_queue=queue, by="a supervisor"))

    def _callback(self, now: float) -> list[Command]:
        out: list[Command] = [
            Leave(abandoned=False), Account(self._summary("callback", now)),
            SetVariables((("fsapps_queue_outcome", "callback"),)),
        ]  # fmt: skip
        return out + self._leave_by("callback")

    # --- an offer --------------------------------------------------------------------------

    def _ring(self, offer: Offered, now: float, *, pickup: bool = False) -> list[Command]:
        s = self.setup
        self.rung = offer
        self.offers += len(offer.targets)
        out: list[Command] = []
        self.picking = False
        if s.adds_legs and self.adding == pickup:
            # A pickup rings the picking agent alone: nobody is added to that ring.
            self.adding = not pickup
            out.append(AddsLegs(self.adding))
        if s.recording and self.recording is None:
            self.recording = s.recording
            out.append(StartRecording(self._ref(), s.recording))
        self.agent, self.agent_leg, self.bridged_at, self.unbridged, self.disposition = "", "", 0.0, 0.0, ""
        self.rang = now
        if s.adds_legs:
            self.ringing, self.uuid_bridged = {}, False
            self.bridge_ref = self._ref()  # no bridge application: nothing completes with it
            self._enter(Phase.RINGING_LEGS)
            return out + self._originate(offer, now)
        variables = self._ring_variables(offer, now)
        legs = tuple(
            DialLeg((("origination_uuid", t.leg), ("fsapps_agent", t.agent)), t.contact)
            for t in offer.targets
        )
        self.bridge_ref = self._ref()
        self._enter(Phase.RINGING)
        return [*out, Ring(self.bridge_ref, variables, legs)]

    def _ring_variables(self, offer: Offered, now: float) -> tuple[tuple[str, str], ...]:
        s = self.setup
        variables = {
            "leg_timeout": str(offer.ring_timeout),
            "ignore_early_media": "true",
            "origination_caller_id_number": s.caller,
            "origination_caller_id_name": s.caller_name,
            "fsapps_tenant": s.tenant,
            "fsapps_queue": s.queue,
            "fsapps_member": s.call_uuid,
            "fsapps_queue_wait": str(int(now - self.joined)),
        }
        variables.update(s.screen_pop)
        return tuple(variables.items())

    # --- an offer rung leg by leg (adds_legs: ring-progressively) ----------------------------
    #
    # Each agent's leg is originated on its own and parked once answered, as mod_callcenter
    # rings each agent from a thread of its own (outbound_agent_thread_run) and bridges the
    # member to the first that answers (mod_callcenter.c:1906-1929: the others are hung up
    # with LOSE_RACE). The caller waits in silence, as on a ring's bridge; the dispatcher's
    # next agent (Offered) joins the ringing at once. The caller is bridged with uuid_bridge,
    # park_after_bridge set first so that its end parks them under this socket again
    # (switch_ivr_bridge.c:1931-1933), and the conversation ends with that unbridge.

    def _originate(self, offer: Offered, now: float) -> list[Command]:
        variables = self._ring_variables(offer, now)
        out: list[Command] = []
        for t in offer.targets:
            self.ringing[t.leg] = t
            leg = DialLeg((("origination_uuid", t.leg), ("fsapps_agent", t.agent)), t.contact)
            out.append(Originate(variables, leg, t.leg))
        return out

    def _on_ringing_legs(self, event: Event, now: float) -> list[Command]:
        assert self.rung is not None
        if isinstance(event, Offered):
            if self.agent_leg or self.picking or not self.adding:
                # One answered (being bridged to them), a pickup takes the call, or this is
                # the pickup's ring (the picking agent's alone).
                return [PickedUp(event.agents, now)]
            # ring-progressively's next agent: the others keep ringing.
            self.rung = Offered(self.rung.targets + event.targets, self.rung.ring_timeout)
            self.offers += len(event.targets)
            return self._originate(event, now)
        if isinstance(event, LegAnswered):
            if event.leg not in self.ringing:
                return [HangUpLeg(event.leg, "LOSE_RACE")]  # a leg given up already
            if self.agent_leg or self.picking:
                # Another answered first, or a pickup takes the call: this leg is over, its
                # agent free with no no-answer (no LegEnded comes: its originate is done).
                target = self.ringing.pop(event.leg)
                hung: list[Command] = [HangUpLeg(event.leg, "LOSE_RACE")]
                if self.picking and not self.ringing and not self.agent_leg:
                    # The pickup's last leg, answered as it was hung up: the offer is over.
                    self.rung = Offered((target,), self.rung.ring_timeout)
                    return hung + self._not_answered(transfer.PICKED_OFF, now)
                return [*hung, PickedUp((target.agent,), now)]
            self.agent, self.agent_leg = self.ringing[event.leg].agent, event.leg
            self.parked_before = self.park_set
            self.park_set = True
            # socket_resume off first: the uuid_bridge ends the socket application, which
            # with it on would send the caller on in the dialplan (mod_event_socket.c:544-548)
            # from a caller profile the bridge replaced, where nothing is found: hung up.
            # uuid_bridge_park_on_cancel: a leg gone before the bridge begins parks the caller
            # (switch_ivr_bridge.c:1206-1209) instead of hanging them up.
            # ROUTE_VARIABLE: where any controller sends the caller, parked once the agent
            # leaves, if this one is gone by then (fsapps.acd.housekeeping).
            held = SetVariables((
                ("park_after_bridge", "true"), ("socket_resume", "false"),
                ("uuid_bridge_park_on_cancel", "true"), (ROUTE_VARIABLE, self.setup.route_on),
            ))  # fmt: skip
            return [held, BridgeCaller(event.leg)]
        gone = isinstance(event, CallerBridged) and event.other == self.agent_leg and not event.ok
        if gone or (isinstance(event, Parked) and self.agent_leg):
            # The answering agent's leg went before the caller reached it.
            leg, self.agent, self.agent_leg = self.agent_leg, "", ""
            if gone and not self.parked_before:
                # uuid_bridge refused (-ERR: no such leg) left the caller where they were, in
                # the node's extension, routed on by the dialplan when the socket closes: only
                # park_after_bridge comes off at the end. (Parked, uuid_bridge_park_on_cancel
                # took them out of it.)
                self.park_set, self.unpark_at_end = False, True
            return self._leg_ended(leg, "NORMAL_CLEARING", now)
        if isinstance(event, Bridged) and self.agent_leg and event.other == self.agent_leg:
            # The uuid_bridge has begun (uuid_bridge itself answers at once, before it).
            self.uuid_bridged, self.bridged_at = True, event.at or now
            winner = self.ringing.pop(self.agent_leg)
            lost = list(self.ringing.values())
            self.rung = Offered((winner, *lost), self.rung.ring_timeout)
            self.ringing = {}
            self._enter(Phase.TALKING)
            others = tuple(t.agent for t in lost)
            self.told = TellAnswered(self.agent, others, self.bridged_at)
            return [*(HangUpLeg(t.leg, "LOSE_RACE") for t in lost), OutliveController(True), self.told]
        if isinstance(event, LegEnded):
            return self._leg_ended(event.leg, event.cause, now)
        if isinstance(event, HungUp | SocketClosed):
            # The legs still ringing are the caller's no more; the agents are not to blame.
            legs = list(self.ringing.values())
            self.ringing = {}
            self.ring_seconds += now - self.rang
            out: list[Command] = [HangUpLeg(t.leg, "ORIGINATOR_CANCEL") for t in legs]
            if legs:
                out.append(OfferFailed(tuple(t.agent for t in legs), "ORIGINATOR_CANCEL", now))
            if isinstance(event, HungUp):
                # A pickup may have reserved its agent for this caller: freed with the note
                # (PICKUP_CHECK, the caller gone). A closed socket leaves the note to the
                # controller the caller goes to, whose resume frees what this one offered.
                self.rung = Offered((), self.rung.ring_timeout)
                self.disposition = "ORIGINATOR_CANCEL"
                self._enter(Phase.PICKUP_CHECK)
                return [*out, ReadNote(take=True)]
            return out + self._gone(now)
        return self._defer(event)

    def _leg_ended(self, leg: str, cause: str, now: float) -> list[Command]:
        """One leg ended unanswered: that agent into their delay at once (their own ring
        failed, as in mod_callcenter's per-agent thread); the last one ends the offer."""
        target = self.ringing.pop(leg, None)
        if target is None:
            return []
        out: list[Command] = []
        if cause == transfer.PICKED_OFF and not self.picking:
            # A pickup (operations.pickup) hangs up the legs it saw ringing; one added as it
            # looked goes too (not the leg of an agent who answered: the bridge decides).
            self.picking = True
            others = [t for lg, t in self.ringing.items() if lg != self.agent_leg]
            out = [HangUpLeg(t.leg, transfer.PICKED_OFF) for t in others]
        if self.ringing or self.agent_leg:
            if self.picking:
                # Not this agent's no-answer. The last leg's end finds the pickup noted.
                return [*out, PickedUp((target.agent,), now)]
            return [OfferFailed((target.agent,), cause or "NO_ANSWER", now, still_ringing=True)]
        assert self.rung is not None
        self.rung = Offered((target,), self.rung.ring_timeout)
        return out + self._not_answered(cause, now)

    def _on_ringing(self, event: Event, now: float) -> list[Command]:
        assert self.rung is not None
        if isinstance(event, DialRefused) and event.ref == self.bridge_ref:
            failed = OfferFailed(self.rung.agents, "INVALID_NUMBER_FORMAT", now)
            return [failed, *self._wait_loop(now)]
        if isinstance(event, Bridged):
            legs = {t.leg: t.agent for t in self.rung.targets}
            if event.other not in legs:
                return []
            self.agent, self.agent_leg, self.bridged_at = legs[event.other], event.other, event.at or now
            self._enter(Phase.TALKING)
            others = tuple(a for a in legs.values() if a != self.agent)
            self.told = TellAnswered(self.agent, others, self.bridged_at)
            out: list[Command] = [OutliveController(True), self.told]
            if self.park_set:
                # Parked once the agent leaves: where any controller sends them if this one
                # is gone by then (fsapps.acd.housekeeping), as on the uuid_bridge path.
                # Best effort: a hangup as the bridge begins must not skip the told after it.
                out.insert(0, MarkChannel(((ROUTE_VARIABLE, self.setup.route_on),)))
            return out
        if isinstance(event, AppFinished) and event.ref == self.bridge_ref:
            return self._not_answered(event.disposition, now)
        ends = self._ring_ends(event, now)
        return ends if ends is not None else self._defer(event)

    def _ring_ends(self, event: Event, now: float) -> list[Command] | None:
        """The ring's own completion after the caller went (RINGING, TALKING): waited for a
        moment after a hangup, not at all once the socket is gone."""
        if isinstance(event, HungUp):
            self.waiting_for = self._ref()
            return [Wait(self.waiting_for, RING_END_AFTER_HANGUP)]
        if isinstance(event, SocketClosed) and self.phase is Phase.TALKING and not self.unbridged:
            # The conversation goes on without this controller (socket_resume is off): the
            # visit is completed by the controller the caller comes back to, or by one that
            # finds the call over (fsapps.acd.dispatch reconcile). Nothing is settled here:
            # the agent is still talking.
            return [Forget(), *self._done(Ending(caller_gone="socket closed while talking"))]
        if isinstance(event, SocketClosed) or (
            isinstance(event, WaitOver) and event.token == self.waiting_for
        ):
            if self.phase is Phase.TALKING:
                return self._after_conversation(now)
            return self._not_answered("", now)
        return None

    def _not_answered(self, disposition: str, now: float) -> list[Command]:
        self.ring_seconds += now - self.rang
        self.disposition = disposition
        self._enter(Phase.PICKUP_CHECK)
        return [ReadNote(take=True)]

    def _on_pickup_check(self, event: Event, now: float) -> list[Command]:
        if not isinstance(event, NoteRead):
            return self._defer(event)
        assert self.rung is not None
        rung = self.rung.agents  # none when the legs were settled already (the caller hung up)
        picked = transfer.pickup_offer(event.note, self.rung.ring_timeout)
        if picked is not None:
            # Not the ringing agents' no-answer: another agent took the call (operations.pickup).
            out: list[Command] = [PickedUp(rung, now)] if rung else []
            if not self.caller_here:
                return [*out, OfferFailed(picked.agents, "ORIGINATOR_CANCEL", now), *self._gone(now)]
            return out + self._ring(picked, now, pickup=True)
        failed: list[Command] = [OfferFailed(rung, "ORIGINATOR_CANCEL", now)] if rung else []
        if not self.caller_here:
            return [*failed, *self._gone(now)]
        return [OfferFailed(rung, self.disposition or "NO_ANSWER", now), *self._wait_loop(now)]

    # --- answered --------------------------------------------------------------------------

    def _on_talking(self, event: Event, now: float) -> list[Command]:
        if isinstance(event, WaitOver) and event.token == self.retry_answer and self.told is not None:
            if self.failing is None or self.unbridged or not self.caller_here:
                return []
            self.failing = None  # unless told otherwise at once (Failed)
            # With what went before it, if that is what failed: neither does anything twice.
            return [OutliveController(True), self.told]
        if isinstance(event, Unbridged):
            if (self.uuid_bridged or self.park_set) and event.other != self.agent_leg:
                return []
            self.unbridged = event.at or now
            # A caller who hung up is past needing it: on 1.10.12 their channel is gone by the
            # time a uuid_setvar arrives (the hangup comes before the unbridge).
            off: list[Command] = [OutliveController(False, tell_switch=self.caller_here)]
            if self.uuid_bridged or self.park_set:
                # No bridge application to end, or one that parks the caller instead.
                return off + self._after_conversation(now)
            return off
        if self.uuid_bridged and isinstance(event, HungUp):
            return self._after_conversation(now)  # the caller's hangup ended the uuid_bridge
        if isinstance(event, AppFinished) and event.ref == self.bridge_ref:
            return self._after_conversation(now)
        ends = self._ring_ends(event, now)
        return ends if ends is not None else self._defer(event)

    def _after_conversation(self, now: float) -> list[Command]:
        self.end = self.unbridged or now
        self.ring_seconds += max(self.bridged_at - self.rang, 0)
        if self.failing is not None:
            if self.caller_here:
                return self._hand_back_noted(self.failing)
            if self.hung_up is None:
                # The socket closed under a caller still there: another controller may have
                # them (and resumes them); nothing is told from here.
                return [Forget(), *self._done(Ending(caller_gone="socket closed"))]
            # The caller hung up: the answer is told again until it lands, and the visit then
            # ends as any (its records at once).
            self._enter(Phase.ANSWER_UNTOLD)
            self.retry_answer = self._ref()
            return [Wait(self.retry_answer, RETRY_ANSWER)]
        self._enter(Phase.CONSULT_CHECK)
        return [ReadNote(take=False)]

    def _on_answer_untold(self, event: Event, now: float) -> list[Command]:
        if isinstance(event, WaitOver) and event.token == self.retry_answer and self.told is not None:
            self.failing = None  # unless told otherwise at once (Failed)
            # Told (AnswerTold), the note is read: its answer takes the visit on as any.
            return [self.told]
        if isinstance(event, NoteRead):
            self._enter(Phase.CONSULT_CHECK)
            return self._on_consult_check(event, now)
        return []

    def _hand_back_noted(self, why: str) -> list[Command]:
        """The conversation is over, the caller here, the database away: handed back with
        the conversation noted on the channel, for the controller that completes the visit."""
        return self._hand_back(why, self._noted())

    def _hand_back(self, why: str, noted: tuple[tuple[str, str], ...] = ()) -> list[Command]:
        """Back to the dialplan, whose queue route hands the caller to a controller again
        (with ``noted`` on the channel). A caller parked under this socket (uuid_bridge,
        park_after_bridge; also one an earlier visit's agent sent to this queue) would be
        reset and hung up by a hand back's ``resume``, their caller profile no longer the
        node's: sent to the node's route extension with no branch instead (the visit ends
        with none, the socket closing as after any), whose hold routes do the same."""
        if not (self.park_set and self.caller_here):
            out: list[Command] = [Forget(), SetVariables(noted)] if noted else [Forget()]
            return out + self._done(Ending(hand_back=why))
        self.handing_back = why
        self.waiting_for = self._ref()
        self._enter(Phase.ROUTING_ON)
        self.route_values = (*noted, ("park_after_bridge", ""), (ROUTE_VARIABLE, ""), ("fsapps_branch", ""))
        return [Forget(), SetVariables(self.route_values), RouteOn(self.waiting_for, "")]

    def _on_consult_check(self, event: Event, now: float) -> list[Command]:
        if not isinstance(event, NoteRead):
            return []
        if event.note and "consult" in event.note and self.caller_here:
            self.consult = AttendedTransfer(self.agent_leg, self.setup.hold_music, self._ref, now)
            self._enter(Phase.CONSULTING)
            return self.consult.start(event.note, now)
        if not event.note:
            # Nothing noted when the conversation ended: nothing to take either.
            return self._transfer_checked(None, now)
        return self._take_note()

    def _on_consulting(self, event: Event, now: float) -> list[Command]:
        assert self.consult is not None
        out = self.consult.receive(event, now)
        if not self.consult.over:
            return out
        if self.consult.stuck:
            return [*out, *self._hand_back("the hold music would not stop")]
        self.end, self.handed_to = self.consult.end, self.consult.handed_to
        # park_after_bridge is on the caller. Handed on or bridged back, uuid_bridge took them
        # out of the node's extension: routed on at the end. Never bridged (both legs gone),
        # they are still in it: park_after_bridge is only unset.
        if self.consult.moved_caller:
            self.park_set = True
        elif self.consult.parked_caller:
            self.unpark_at_end = True
        return out + self._take_note()

    def _take_note(self) -> list[Command]:
        self._enter(Phase.TRANSFER_CHECK)
        return [ReadNote(take=True)]

    def _on_transfer_check(self, event: Event, now: float) -> list[Command]:
        if not isinstance(event, NoteRead):
            return []
        return self._transfer_checked(event.note, now)

    def _transfer_checked(self, note: Mapping[str, Any] | None, now: float) -> list[Command]:
        out: list[Command] = []
        if note and "pickup" in note:
            # Picked up as this agent answered: the picking agent is free again.
            out.append(PickedUp((str(note["pickup"]),), now))
        self.transfer = transfer.handover(note)
        if self.recording and self.caller_here:
            self._enter(Phase.STOPPING_RECORDING)
            self.waiting_for = self._ref()
            return [*out, StopRecording(self.waiting_for, self.recording)]
        return out + self._end_agent_call()

    def _on_stopping_recording(self, event: Event, now: float) -> list[Command]:
        if (isinstance(event, AppFinished) and event.ref == self.waiting_for) or isinstance(
            event, HungUp | SocketClosed
        ):
            return self._end_agent_call()
        return []

    def _end_agent_call(self) -> list[Command]:
        self._enter(Phase.ENDING_AGENT_CALL)
        return [EndAgentCall(self.agent, self.end)]

    def _on_ending_agent_call(self, event: Event, now: float) -> list[Command]:
        if not isinstance(event, AgentCallEnded):
            return []
        talk = max(self.end - self.bridged_at, 0)
        summary = self._summary(
            "answered", self.end, agent=self.agent, bridged=self.bridged_at, wrap_up=event.wrap_up
        )
        # The records at once: once the agent's call has ended and the caller's row is gone
        # (EndAgentCall), no reconciliation can write them for a controller killed here.
        self.accounted = True
        out: list[Command] = [Account(summary), NoteHandleTime(talk + event.wrap_up)]
        if self.caller_here:
            answered = (("fsapps_agent", self.agent), ("fsapps_queue_outcome", "answered"))
            out.append(SetVariables(answered + (self._answer_unnoted() if self.answer_noted else ())))
        if self.handed_to is not None:
            # The caller talks to whom the agent consulted; the flow goes on after that.
            if self.handover_over or not self.caller_here:
                return out + self._flow_goes_on()
            self._enter(Phase.HANDED_ON)
            return out
        if self.transfer and self.caller_here:
            return out + self._blind_transfer()
        return out + self._flow_goes_on()

    def _flow_goes_on(self) -> list[Command]:
        """Done, the flow going on (``_``). A caller uuid-bridged (to their agent, to whom
        the agent consulted) is parked under this socket, out of the node's extension:
        park_after_bridge (which the flow's own bridges must not inherit) is unset and they
        are routed on by the branch, or they would stay parked for good. One a consult
        parked but never moved is still in the extension: it is only unset."""
        return self._leave_by("_")

    def _leave_by(self, branch: str | None) -> list[Command]:
        """Done, the flow going on by ``branch`` (None: the node's fallback). A caller a
        uuid_bridge took out of the node's extension (this visit's, or an earlier one's on
        the call: a ring-progressively visit whose agent sent them to this queue) is parked
        under this socket: closing it would leave them parked in silence. They are routed
        on to the node's route extension instead, which reads the branch from
        fsapps_branch; park_after_bridge, which the flow's own bridges must not inherit,
        is unset on the way."""
        self.route_branch = branch
        if self.caller_here and self.unpark_at_end and not self.park_set:
            # Still in the extension, with park_after_bridge on them (every uuid_bridge
            # refused): the flow's own bridges must not inherit it.
            self.waiting_for = self._ref()
            self._enter(Phase.UNPARKING)
            return [ParkAfterBridge(self.waiting_for, False)]
        if not (self.caller_here and self.park_set):
            return self._done(Ending(branch=branch))
        self.waiting_for = self._ref()
        self._enter(Phase.ROUTING_ON)
        self.route_values = (("park_after_bridge", ""), (ROUTE_VARIABLE, ""), ("fsapps_branch", branch or ""))
        return [SetVariables(self.route_values), RouteOn(self.waiting_for, branch or "")]

    def _on_routing_on(self, event: Event, now: float) -> list[Command]:
        if (isinstance(event, AppFinished) and event.ref == self.waiting_for) or isinstance(
            event, HungUp | SocketClosed
        ):
            # Sent back to the node: the flow names the same branch (a hand back's ``resume``
            # would reset them: none).
            return self._done(Ending() if self.handing_back else Ending(branch=self.route_branch))
        return []

    def _on_handed_on(self, event: Event, now: float) -> list[Command]:
        if self.handover_over or isinstance(event, HungUp | SocketClosed):
            # The consulted party's conversation with the caller is over.
            return self._flow_goes_on()
        return []

    def _on_unparking(self, event: Event, now: float) -> list[Command]:
        if (isinstance(event, AppFinished) and event.ref == self.waiting_for) or isinstance(
            event, HungUp | SocketClosed
        ):
            return self._done(Ending(branch=self.route_branch))
        return []

    def _blind_transfer(self) -> list[Command]:
        where = self.transfer
        assert where is not None
        if "queue" in where:
            return self._done(Ending(next_queue=str(where["queue"]), by=self.agent))
        self._enter(Phase.TRANSFERRING)
        self.bridge_ref = self._ref()
        s = self.setup
        return [
            transfer.blind_transfer(self.bridge_ref, where, caller=s.caller, tenant=s.tenant, by=self.agent)
        ]

    def _on_transferring(self, event: Event, now: float) -> list[Command]:
        if isinstance(event, AppFinished | DialRefused) and event.ref == self.bridge_ref:
            return self._flow_goes_on()
        if isinstance(event, HungUp):
            self.waiting_for = self._ref()  # the bridge's own end, for a moment
            return [Wait(self.waiting_for, RING_END_AFTER_HANGUP)]
        if isinstance(event, WaitOver) and event.token == self.waiting_for:
            return self._done(Ending(branch="_"))
        if isinstance(event, SocketClosed):
            return [Forget(), *self._done(Ending(caller_gone="socket closed"))]
        return []
