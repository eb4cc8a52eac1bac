"""What a caller's queue visit hears (events) and says (commands). Pure data.

fsapps.acd.visit turns events into commands; fsapps.apps.queue, its driver,
turns the dispatcher's decisions and the call's Event Socket events into
events and carries the commands out: on the switch (every value through
fsapps.escape), with the dispatcher, in the records. Times are epoch
seconds; a time of 0 means "not known": the visit takes the ``now`` it was
given instead.

Commands come in lists that run in order. A ``Query`` is answered at once by
an event (its result), so it is always the last command of its list. A
command on the call (``Switch``) that finds the caller gone ends its list:
the driver drops the rest and hands the visit ``HungUp`` or
``SocketClosed`` instead. So nothing that settles the visit (with the
dispatcher, in the records) follows one in a list, but a ``Join``: a caller
found gone is not placed. ``BestEffort`` commands act on the switch but
never end a list: what they would find, the visit hears from the call.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# --- events: what the visit hears -------------------------------------------------


@dataclass(frozen=True)
class Arrived:
    """The queue node runs: the visit begins."""


@dataclass(frozen=True)
class Placed:
    """The caller's place (Join's answer): when they joined, and the state their row had
    before (another controller's caller coming back: Waiting, Trying, Answered; else '')."""

    joined: float
    before: str = ""


@dataclass(frozen=True)
class Completed:
    """CompleteAnswered's answer: the agent whose call it completed (None: nothing was left
    to complete, another controller had)."""

    agent: str | None


@dataclass(frozen=True)
class RingTarget:
    agent: str
    leg: str  # the UUID the agent's leg gets (origination_uuid)
    contact: str  # the agent's phone, a dial target


@dataclass(frozen=True)
class Offered:
    """The dispatcher won agents for this caller: ring them at once."""

    targets: tuple[RingTarget, ...]
    ring_timeout: int

    @property
    def agents(self) -> tuple[str, ...]:
        return tuple(t.agent for t in self.targets)


@dataclass(frozen=True)
class Announced:
    """Time to tell the caller their position and expected wait (announce-frequency)."""

    position: int
    estimated_wait: int  # seconds


@dataclass(frozen=True)
class TimedOut:
    """max-wait-time (or max-wait-time-with-no-agent) reached."""

    reason: str = ""


@dataclass(frozen=True)
class Moved:
    """A supervisor moved the waiting caller to another queue of the tenant's."""

    queue: str


@dataclass(frozen=True)
class Digit:
    digit: str


@dataclass(frozen=True)
class AppFinished:
    """An application the visit started on the caller's channel completed
    (CHANNEL_EXECUTE_COMPLETE); for a bridge, how its originate ended."""

    ref: int
    disposition: str = ""  # originate_disposition, else DIALSTATUS


@dataclass(frozen=True)
class RecordingNamed:
    """The switch expanded the recording's file name (the completion of the set that names it)."""

    path: str


@dataclass(frozen=True)
class Bridged:
    """The caller's channel was bridged to ``other`` (CHANNEL_BRIDGE)."""

    other: str
    at: float = 0.0


@dataclass(frozen=True)
class Unbridged:
    """The caller's bridge to ``other`` ended (CHANNEL_UNBRIDGE)."""

    other: str
    at: float = 0.0


@dataclass(frozen=True)
class Parked:
    """The caller's channel parked (CHANNEL_PARK): after a uuid_bridge to a leg that went
    before the bridge began, with uuid_bridge_park_on_cancel (switch_ivr_bridge.c:1206-1209)."""


@dataclass(frozen=True)
class HungUp:
    """The caller's channel hung up (CHANNEL_HANGUP)."""

    cause: str = "NORMAL_CLEARING"


@dataclass(frozen=True)
class SocketClosed:
    """The Event Socket closed with the caller still there: the call is no longer ours
    (a controller shutting down hands it back to the dialplan)."""


@dataclass(frozen=True)
class DialRefused:
    """A dial string could not be built: a contact that is not a plain dial target."""

    ref: int
    why: str = ""


@dataclass(frozen=True)
class NoteRead:
    """The transfer note on the caller's queue row (fsapps.acd.operations), or None."""

    note: Mapping[str, Any] | None


@dataclass(frozen=True)
class AnswerTold:
    """TellAnswered's answer: the database took the agent's answer."""


@dataclass(frozen=True)
class LegsChecked:
    """Whether each leg asked about exists (uuid_exists), in the order asked."""

    up: tuple[bool, ...]


@dataclass(frozen=True)
class CallerBridged:
    """uuid_bridge of the caller to ``other``: accepted or refused."""

    other: str
    ok: bool


@dataclass(frozen=True)
class LegAnswered:
    """An agent's leg originated on its own (Originate) answered: its originate job
    reported ``+OK`` (BACKGROUND_JOB); the leg is parked, waiting to be bridged."""

    leg: str


@dataclass(frozen=True)
class LegEnded:
    """An agent's leg originated on its own ended unanswered (its job's ``-ERR cause``)."""

    leg: str
    cause: str = "NO_ANSWER"


@dataclass(frozen=True)
class AgentCallEnded:
    """The agent's queue call ended (their wrap-up time, seconds)."""

    wrap_up: float


@dataclass(frozen=True)
class WaitOver:
    token: int


@dataclass(frozen=True)
class CaughtUp:
    """Everything that arrived before the matching CatchUp has been heard."""

    token: int


@dataclass(frozen=True)
class Failed:
    """The driver failed (a bug, a lost database or switch): the visit ends at once."""

    why: str = ""


Event = (
    Arrived | Placed | Completed | Offered | Announced | TimedOut | Moved | Digit | AppFinished
    | RecordingNamed | Bridged | Unbridged | HungUp | SocketClosed | DialRefused | NoteRead | LegsChecked
    | CallerBridged | LegAnswered | LegEnded | Parked | AgentCallEnded | WaitOver | CaughtUp | Failed
    | AnswerTold
)  # fmt: skip


# --- commands: what the visit says ---------------------------------------------------


class Command:
    """Something the driver does."""


class Switch(Command):
    """On the caller's call. Finding the caller gone ends the list (see the module's doc)."""


class BestEffort(Command):
    """On the switch, with no answer the visit waits for: a failure is the call's news."""


class Dispatcher(Command):
    """With the ACD's dispatcher (fsapps.acd.dispatch) and the caller's queue row."""


class Query(Command):
    """Answered at once by an event; always the last command of its list."""


@dataclass(frozen=True)
class Answer(Switch):
    ref: int


@dataclass(frozen=True)
class SetVariables(Switch):
    """Channel variables at once (one: uuid_setvar, several: uuid_setvar_multi); '' unsets."""

    values: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Play(Switch):
    """playback of a sound path or ``say:`` text (a hold clip, an announcement)."""

    ref: int
    media: str


@dataclass(frozen=True)
class Break(BestEffort):
    """uuid_break, never ``all``: that drops a playback still queued, which then never completes."""


@dataclass(frozen=True)
class StartRecording(Switch):
    """Record the caller's bridges to ``path`` (a template the switch expands);
    ``ref`` names the completion that reports the expanded name (RecordingNamed)."""

    ref: int
    path: str


@dataclass(frozen=True)
class StopRecording(Switch):
    ref: int
    path: str


@dataclass(frozen=True)
class DialLeg:
    variables: tuple[tuple[str, str], ...]  # this leg's own ([...])
    target: str


@dataclass(frozen=True)
class Ring(Switch):
    """One ``bridge`` ringing the agents' legs at once; answered by DialRefused if the
    dial string cannot be built, so it ends its list."""

    ref: int
    variables: tuple[tuple[str, str], ...]  # for every leg ({...})
    legs: tuple[DialLeg, ...]


@dataclass(frozen=True)
class Originate(BestEffort):
    """Ring one agent's leg on its own (``bgapi originate ... &park()``), so more legs can
    join while it rings (ring-progressively): answered later by LegAnswered or LegEnded."""

    variables: tuple[tuple[str, str], ...]  # as a Ring's, for the leg
    leg: DialLeg
    uuid: str  # the leg's origination_uuid


@dataclass(frozen=True)
class TransferTo(Switch):
    """An agent's blind transfer to a dial target: one ``bridge`` on the caller's channel;
    answered by DialRefused if the target is not a plain dial target."""

    ref: int
    variables: tuple[tuple[str, str], ...]
    target: str
    by: str  # the transferring agent


@dataclass(frozen=True)
class OutliveController(BestEffort):
    """``on``: the call must outlive this controller (socket_resume off, no ``resume`` on
    close) while the caller talks to an agent; ``off`` once that bridge is over.
    ``tell_switch`` False: only this controller's side (a caller who hung up has no
    channel left to set a variable on)."""

    on: bool
    tell_switch: bool = True


@dataclass(frozen=True)
class ParkAfterBridge(Switch):
    """``set park_after_bridge=true`` (on) or ``unset park_after_bridge`` on the caller's channel."""

    ref: int
    on: bool


@dataclass(frozen=True)
class RouteOn(Switch):
    """Send the caller on to the queue node's branch routes (``transfer`` to the node's
    route extension, with fsapps_branch set): a caller who was uuid-bridged has left the
    node's extension (switch_ivr_bridge.c:2121 gives them a new caller profile, whose
    CS_EXECUTE finds no extension), so handing the call back would end it."""

    ref: int
    branch: str


@dataclass(frozen=True)
class SetLegVariable(BestEffort):
    leg: str
    name: str
    value: str


@dataclass(frozen=True)
class MarkChannel(BestEffort):
    """Channel variables ('' unsets) kept for another controller, best effort (a failure is
    logged and the visit goes on without them): the answer the database has not taken, the
    route a parked caller is sent on by."""

    values: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class HangUpLeg(BestEffort):
    leg: str
    cause: str = "NORMAL_CLEARING"


@dataclass(frozen=True)
class CheckLegs(Query, Switch):
    legs: tuple[str, ...]


@dataclass(frozen=True)
class BridgeCaller(Query, Switch):
    """uuid_bridge the caller (the originator) to ``other``."""

    other: str


@dataclass(frozen=True)
class Join(Query, Dispatcher):
    resume_within: float = 0.0
    # The caller comes back from an answered visit noted on the channel: their row (written
    # if gone) is Answered at once (no offer is made to them), to be completed.
    completing: bool = False


@dataclass(frozen=True)
class AddsLegs(Dispatcher):
    """Whether the dispatcher may add agents to the caller's ring (ring-progressively's
    next agent): not while the ring is a pickup's, which rings the picking agent alone."""

    on: bool


@dataclass(frozen=True)
class Forget(Dispatcher):
    """The caller left this controller, not the queue: their row waits for the next one."""


@dataclass(frozen=True)
class CompleteAnswered(Query, Dispatcher):
    """An answered visit whose controller went: complete it, the bridge having ended at
    ``ended``; ``agent`` answered at ``bridged`` (noted on the channel by a visit whose
    database failed as they answered: its row may not say so)."""

    ended: float
    agent: str = ""
    bridged: float = 0.0
    joined: float = 0.0  # when the caller joined for that visit (0: the row says)


@dataclass(frozen=True)
class ReleaseStale(Dispatcher):
    """Free the agents another controller left offered to this caller."""

    at: float
    was: str


@dataclass(frozen=True)
class TellAnswered(Query, Dispatcher):
    agent: str
    others: tuple[str, ...]  # rung with them: they lost the race
    at: float


@dataclass(frozen=True)
class OfferFailed(Dispatcher):
    """The offer to ``agents`` failed. ``still_ringing``: other legs of the caller's offer
    still ring (ring-progressively), so the caller stays Trying."""

    agents: tuple[str, ...]
    cause: str
    at: float
    still_ringing: bool = False


@dataclass(frozen=True)
class PickedUp(Dispatcher):
    """The offer to ``agents`` was withdrawn by a pickup: no no-answer counted."""

    agents: tuple[str, ...]
    at: float


@dataclass(frozen=True)
class EndAgentCall(Query, Dispatcher):
    """The agent's queue call is over (wrap-up from ``at``) and the caller leaves the
    queue, in one transaction; answered with AgentCallEnded."""

    agent: str
    at: float


@dataclass(frozen=True)
class Leave(Dispatcher):
    """Out of the queue; an abandoned place is kept for resuming."""

    abandoned: bool


@dataclass(frozen=True)
class NoteHandleTime(Dispatcher):
    seconds: float


@dataclass(frozen=True)
class ReadNote(Query, Dispatcher):
    """The transfer note on the caller's row: taken (cleared) or only looked at."""

    take: bool


@dataclass(frozen=True)
class ConsultOver(Dispatcher):
    leg: str


@dataclass(frozen=True)
class VisitSummary:
    """One visit's numbers, as its queue_calls row and metrics count it."""

    tenant: str
    queue: str
    call_uuid: str
    caller: str
    outcome: str  # answered | abandoned | overflowed | timed_out | callback | moved
    joined: float
    ended: float
    ring_seconds: float = 0.0
    offers: int = 0
    recording: str | None = None
    agent: str | None = None
    bridged: float = 0.0  # answered: when the agent's leg was bridged
    wrap_up: float = 0.0


@dataclass(frozen=True)
class Account(Command):
    """The visit's records and metrics (fsapps.acd.accounting)."""

    summary: VisitSummary


@dataclass(frozen=True)
class Wait(Command):
    """WaitOver(token) after ``seconds``; a later Wait replaces it."""

    token: int
    seconds: float


@dataclass(frozen=True)
class CatchUp(Command):
    """CaughtUp(token) after whatever has arrived by now and the dispatcher's first pass
    over the caller (its offer, if it made one, arrives first)."""

    token: int


# --- how a visit ends ------------------------------------------------------------------


@dataclass(frozen=True)
class Ending:
    """``branch``: the flow goes on there (None: the node's fallback); ``caller_gone``: the
    call ended under the visit; ``next_queue``: an agent sent the caller to another queue
    (a new visit there, ``by`` that agent); ``hand_back``: the visit could not go on (hold
    music that would not stop): the call goes back to the dialplan, which resumes it."""

    branch: str | None = None
    caller_gone: str | None = None
    next_queue: str | None = None
    by: str = ""
    hand_back: str | None = None
