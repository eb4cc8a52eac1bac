"""``queue``: the caller waits in an ACD queue until an agent answers.

What the visit does and when is fsapps.acd.visit, a pure state machine;
this is its driver, the ``queue`` node application. It owns the call's
socket: one feed (the caller's inbox, which the dispatcher also fills)
carries the dispatcher's decisions, the call's events and the driver's own
timers, in the order they happened; each becomes a visit event, and the
visit's commands are carried out on the switch (every value through
fsapps.escape), with the dispatcher, in the records (fsapps.acd.accounting).

A caller whose controller died comes back here through the dialplan's next
``socket``: their row (same channel UUID) keeps their place.
"""

from __future__ import annotations

import contextlib
import logging
import uuid as uuidlib
from collections import deque
from collections.abc import Callable
from typing import Any

import gevent

from fsapps import escape
from fsapps.acd import accounting, recording, timeline
from fsapps.acd.config import DEFAULT_MOH
from fsapps.acd.decide import Announce, Exit
from fsapps.acd.dispatch import AgentOffer, Waiter
from fsapps.acd.housekeeping import route_value
from fsapps.acd.model import Member
from fsapps.acd.notifier import LegChanged, OfferMade
from fsapps.acd.visit import (
    BRIDGE_AGENT,
    BRIDGE_ENDED,
    BRIDGE_JOINED,
    BRIDGE_STARTED,
    Phase,
    Visit,
    VisitSetup,
    noted_epoch,
)
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
    CheckLegs,
    Command,
    CompleteAnswered,
    Completed,
    ConsultOver,
    DialLeg,
    DialRefused,
    Digit,
    EndAgentCall,
    Event,
    Failed,
    Forget,
    HangUpLeg,
    HungUp,
    Join,
    Leave,
    LegAnswered,
    LegEnded,
    LegsChecked,
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
    Query,
    ReadNote,
    RecordingNamed,
    ReleaseStale,
    Ring,
    RingTarget,
    RouteOn,
    SetLegVariable,
    SetVariables,
    SocketClosed,
    StartRecording,
    StopRecording,
    TellAnswered,
    TimedOut,
    TransferTo,
    Unbridged,
    Wait,
    WaitOver,
)
from fsapps.apps.node import NodeCall
from fsapps.apps.registry import node_application
from fsapps.esl import codec
from fsapps.esl.protocol import ConnectionLost
from fsapps.esl.server import CallerHungUp, OutboundCall
from fsapps.flows.render import node_number
from fsapps.flows.walls import variable_problem

log = logging.getLogger("fsapps.acd")

# The longest a new caller waits in silence for the dispatcher's first look before the hold
# music starts (a pass delayed by load or a lost database).
FIRST_PASS_WAIT = 0.3


class VisitHandedBack(RuntimeError):
    """The visit could not go on; the call goes back to the dialplan, which resumes it."""


@node_application("queue")
def queue(call: NodeCall) -> str | None:
    acd = getattr(call.ctx, "acd", None)
    esl: OutboundCall | None = getattr(call.session, "call", None)
    queue_name = call.data("queue")
    if acd is not None and esl is not None and call.var("fsapps_held"):
        # A resume: the dialplan hands a caller whose controller went back to their flow's
        # queue node (nodes/queue.py). One an agent or a supervisor had moved to another
        # queue of the tenant's has their place there (their row says so, whatever the
        # channel's variables left from earlier visits): the visit goes on there, as
        # _next_queue had it, and the move is not undone by the controller's death.
        try:
            placed = acd.placed_in(call.tenant.id, esl.uuid)
        except Exception as exc:  # the database away: the node's visit hands the call back
            log.warning("queue %s: where %s has a place is unknown (%s)", queue_name, esl.uuid, exc)
            placed = None
        moved = acd.queue(call.tenant.id, placed) if placed and placed != queue_name else None
        if moved is not None:
            log.info("queue %s: %s resumes in queue %s (moved there)", queue_name, esl.uuid, placed)
            return QueueDriver(call, acd, esl, moved, name=placed).run()
    found = acd.queue(call.tenant.id, queue_name) if acd is not None else None
    if acd is None or esl is None or found is None:
        log.error("queue %s: no ACD here (no database, or not over ESL): taking the fallback", queue_name)
        return None
    return QueueDriver(call, acd, esl, found).run()


@node_application("transfer")
def transfer_to_queue(call: NodeCall) -> str | None:
    """A transfer node into a queue is handed over like a queue node (nodes/transfer.py)."""
    return queue(call) if call.data("queue") else None


class QueueDriver:
    """Runs one Visit on one call: its events in, its commands out."""

    def __init__(
        self, call: NodeCall, acd: Any, esl: OutboundCall, queue: Any, name: str | None = None,
        parked: bool = False,
    ) -> None:
        self.call, self.acd, self.esl, self.queue = call, acd, esl, queue
        # Out of the node's extension (an earlier visit's uuid_bridge on this socket): only a
        # visit on the same socket knows. A caller a socket has just been handed is in it.
        self.parked = parked
        self.settings = queue.settings
        self.tenant = call.tenant.id
        self.name = name or call.data("queue")
        self.refs: dict[str, tuple[str, int]] = {}  # Application-UUID -> (what, the visit's ref)
        self.jobs: dict[str, str] = {}  # an Originate's Job-UUID -> the agent's leg
        self.timer: gevent.Greenlet | None = None
        self.first_pass: gevent.Greenlet | None = None

    # --- the visit ---------------------------------------------------------------------

    def run(self) -> str | None:
        call, esl = self.call, self.esl
        if not call.session.ready():
            return None
        now = self.acd.clock()
        member = Member(
            uuid=esl.uuid, queue=self.name, joined_epoch=now, priority=int(call.data("priority", 0) or 0),
            skills=dict(call.data("skills") or {}),
            owner_agent=call.var("fsapps_account_manager") or None,
            private_agent=call.var("fsapps_private_agent") or None,
            system_epoch=int(esl.channel_data("Caller-Channel-Answered-Time") or 0) / 1e6,
        )  # fmt: skip
        self.waiter = Waiter(member, self.tenant, self.name, call.caller, call.var("caller_id_name"))
        # ring-progressively's next agent joins a ring that goes on: the ring path that
        # originates each agent's leg on its own (fsapps.acd.visit, RINGING_LEGS).
        self.waiter.adds_legs = self.settings.strategy == "ring-progressively"
        if timeline.enabled():
            self.waiter.marks = {
                "accepted": getattr(esl, "accepted_at", 0.0), "connected": getattr(esl, "connected_at", 0.0),
            }  # fmt: skip
            timeline.stamp(self.waiter.marks, "queue")
        self.visit = Visit(self._setup())
        # The one feed: the dispatcher puts its decisions in the caller's inbox; the call's
        # events and this driver's timers go in behind them, in the order they happen.
        feed = self.waiter.inbox
        unsubscribe = esl.subscribe(feed.put)
        try:
            try:
                self._run(self.visit.receive(Arrived(), now))
            except (Exception, gevent.Timeout) as exc:
                self._failed(exc)
            while self.visit.ending is None:
                try:
                    event = self._event(feed.get())
                    if event is not None:
                        self._run(self.visit.receive(event, self.acd.clock()))
                except (Exception, gevent.Timeout) as exc:
                    self._failed(exc)
        finally:
            unsubscribe()
            marks = self.waiter.marks
            if marks is not None and "ring" not in marks:
                timeline.emit(self.esl.uuid, marks)  # never rung: how far the caller got
            for timer in (self.timer, self.first_pass):
                if timer is not None:
                    timer.kill(block=False)
        ending = self.visit.ending
        assert ending is not None
        if ending.caller_gone is not None:
            raise CallerHungUp(esl.hangup_cause or ending.caller_gone)
        if ending.hand_back is not None:
            raise VisitHandedBack(f"queue {self.name}: {ending.hand_back}")
        if ending.next_queue is not None:
            return self._next_queue(ending.next_queue, ending.by)
        return ending.branch

    def _failed(self, exc: BaseException) -> None:
        """A bug or a lost switch or database: the call goes back to the dialplan, whose
        queue route hands it to a controller again; that one resumes the place and frees
        the agents this visit had offered it to (release_stale). A caller talking to an
        agent is seen to the conversation's end first (the visit says so by going on)."""
        self._run(self.visit.receive(Failed(repr(exc)), self.acd.clock()))
        if self.visit.ending is not None:
            raise exc
        if self.visit.phase is Phase.ROUTING_ON:
            # Parked under this socket (a uuid_bridge), the caller is routed to the node's
            # routes instead of handed back (a resume would hang them up): the error, logged
            # here, is not raised again.
            log.error("queue %s: %r: %s, parked, routed on to the node's routes",
                      self.name, exc, self.esl.uuid, exc_info=exc)  # fmt: skip
            return
        log.warning(
            "queue %s: %s while %s talks to %s: handed back once the conversation ends",
            self.name, repr(exc), self.esl.uuid, self.visit.agent,
        )  # fmt: skip

    def _setup(self) -> VisitSetup:
        call, s = self.call, self.settings
        path = None
        if s.record_template:
            try:
                path = recording.recording_path(s.record_template, self.tenant, self.esl.uuid)
            except escape.UnsafeValue as exc:
                log.error("queue %s: not recorded: %s", self.name, exc)
        screen_pop = []
        # The lookup's screen-pop fields, then the digits of the tenant's collect nodes that
        # say screen_pop (an account number the caller keyed in, never a PIN by default).
        keyed = [
            str(n.get("variable")) for f in call.tenant.flows.values() for n in f.nodes.values()
            if n.type == "collect" and n.get("screen_pop") is True and n.get("variable")
        ]  # fmt: skip
        for name in dict.fromkeys([*call.var("export_vars").split(","), *keyed]):
            # Never a name the switch would act on at the agent's leg (execute_on_answer, ...),
            # nor fsapps' own, which the visit sets.
            if escape.VARIABLE_NAME.fullmatch(name) and variable_problem(name) is None and call.var(name):
                screen_pop.append((name, call.var(name)))
        return VisitSetup(
            tenant=self.tenant, queue=self.name, call_uuid=self.esl.uuid, caller=call.caller,
            caller_name=call.var("caller_id_name") or call.caller,
            resume=f"{call.flow.name}.{call.node.id}",
            hold_music=call.prompt(s.moh_sound) if s.moh_sound else DEFAULT_MOH,
            answered=self.esl.answered,
            connected_at=self.esl.connected_us / 1e6 if self.esl.connected_us else 0.0,
            bridge_ended=noted_epoch(call.var(BRIDGE_ENDED)), bridge_agent=call.var(BRIDGE_AGENT),
            bridge_started=noted_epoch(call.var(BRIDGE_STARTED)),
            bridge_joined=noted_epoch(call.var(BRIDGE_JOINED)),
            branches=frozenset(call.node.children),
            announce_prompt=call.prompt(s.announce_sound) if s.announce_sound else None,
            language=call.tenant.language, recording=path, screen_pop=tuple(screen_pop),
            callback_key=s.callback_key,
            resume_within=float(s.discard_abandoned_after) if s.abandoned_resume_allowed else 0.0,
            adds_legs=self.waiter.adds_legs,
            route_on=route_value(self._route_extension(), call.tenant.context),
            parked=self.parked and call.var("park_after_bridge") == "true",
            park_leftover=not self.parked and call.var("park_after_bridge") == "true",
        )  # fmt: skip

    def _next_queue(self, name: str, by: str) -> str | None:
        """An agent's transfer to another queue: a new visit there, on the same call."""
        other = self.acd.queue(self.tenant, name)
        if other is None:
            log.error("transfer to unknown queue %r: the caller goes on in the flow", name)
            return "_"
        log.info("queue %s: %s transfers %s to queue %s", self.name, by, self.esl.uuid, name)
        return QueueDriver(self.call, self.acd, self.esl, other, name=name, parked=self.visit.park_set).run()

    # --- events in ---------------------------------------------------------------------

    def _event(self, item: Any) -> Event | None:
        if item is None:
            return SocketClosed()
        if isinstance(item, codec.Event):
            event = self._channel_event(item)
            self._leg_news(event)
            return event
        if isinstance(item, AgentOffer):
            targets = tuple(RingTarget(a, item.legs[a], item.contacts[a]) for a in item.offer.agents)
            return Offered(targets, item.offer.ring_timeout)
        if isinstance(item, Announce):
            return Announced(item.position, item.estimated_wait)
        if isinstance(item, Exit):
            return Moved(item.to) if item.to else TimedOut(item.reason)
        if isinstance(item, WaitOver | CaughtUp | LegEnded | AppFinished):
            self._leg_news(item)
            return item
        log.warning("queue %s: %r in the caller's inbox, ignored", self.name, item)
        return None

    def _leg_news(self, event: Event | None) -> None:
        """A queue call's legs as they go, for the live events."""
        what = {LegAnswered: "answered", LegEnded: "ended", Bridged: "bridged", Unbridged: "unbridged"}
        if event is None or type(event) not in what:
            return
        leg = getattr(event, "leg", "") or getattr(event, "other", "")
        self.acd.notifier.publish(LegChanged(
            self.tenant, self.name, self.esl.uuid, leg, what[type(event)], self.acd.clock(),
            agent=self._agent_of(leg), cause=getattr(event, "cause", ""),
        ))  # fmt: skip

    def _agent_of(self, leg: str) -> str:
        """Whose phone's leg this is. The news goes out before the visit takes the event in: an
        agent's leg that answers or is bridged is still one of those rung, not yet the visit's."""
        v = self.visit
        if leg and leg == v.agent_leg:
            return v.agent
        if leg in v.ringing:
            return v.ringing[leg].agent
        targets = v.rung.targets if v.rung is not None else ()
        return next((t.agent for t in targets if t.leg == leg), "")

    def _channel_event(self, e: codec.Event) -> Event | None:
        name = e.name
        if name == "CHANNEL_EXECUTE_COMPLETE":
            what, ref = self.refs.pop(e.get("Application-UUID") or "", ("", 0))
            if what == "named":
                return RecordingNamed(e.variable(recording.NAME_VARIABLE) or "")
            if what == "app":
                disposition = e.variable("originate_disposition") or e.variable("DIALSTATUS") or ""
                return AppFinished(ref, disposition)
            return None
        if name in ("CHANNEL_BRIDGE", "CHANNEL_UNBRIDGE"):
            other = e.get("Bridge-B-Unique-ID") or e.get("Other-Leg-Unique-ID") or ""
            return (Bridged if name == "CHANNEL_BRIDGE" else Unbridged)(other, _stamp(e))
        if name == "CHANNEL_PARK":
            return Parked()
        if name == "CHANNEL_HANGUP":
            return HungUp(e.get("Hangup-Cause") or "NORMAL_CLEARING")
        if name == "DTMF":
            return Digit(e.get("DTMF-Digit") or "")
        if name == "BACKGROUND_JOB":
            leg = self.jobs.pop(e.get("Job-UUID") or "", None)
            if leg is None:
                return None
            # originate's reply (mod_commands.c originate_function): "+OK <uuid>" once the
            # leg answered, else "-ERR <cause>".
            result = e.payload.strip()
            if result.startswith("+OK"):
                return LegAnswered(leg)
            return LegEnded(leg, result.removeprefix("-ERR").strip() or "NO_ANSWER")
        return None

    # --- commands out ------------------------------------------------------------------

    def _run(self, commands: list[Command]) -> None:
        """Carry out a list of commands in order. A query's answer goes straight back to
        the visit; a command that finds the caller gone ends the list (the visit hears of
        it at once, then nothing later in that list runs)."""
        todo = deque(commands)
        while todo:
            command = todo.popleft()
            try:
                answer = self._do(command)
            except (CallerHungUp, ConnectionLost):
                todo.clear()
                answer = HungUp(self.esl.hangup_cause) if self.esl.hangup_cause else SocketClosed()
            else:
                if answer is not None and todo:
                    raise RuntimeError(f"{command} was answered with {list(todo)} still to run")
            if answer is not None:
                todo.extend(self.visit.receive(answer, self.acd.clock()))

    def _do(self, c: Command) -> Event | None:
        do: Callable[[Any], Event | None] | None = getattr(self, "_" + type(c).__name__, None)
        if do is None:
            raise TypeError(f"no way to carry out {c!r}")
        answer = do(c)
        if isinstance(c, Query) and answer is None:
            raise RuntimeError(f"{c!r} was not answered")
        return answer

    def _execute(self, ref: int, app: str, arg: str | None = None, what: str = "app") -> None:
        app_uuid, _ = self.esl.execute_async(app, arg)
        self.refs[app_uuid] = (what, ref)

    def _api(self, command: str) -> str:
        return self.esl.api(command)

    # the switch

    def _Answer(self, c: Answer) -> None:
        self._execute(c.ref, "answer")

    def _SetVariables(self, c: SetVariables) -> None:
        if len(c.values) == 1:
            # As Session.setVariable: uuid_setvar (the fallback for a socket without ``full``).
            ((name, value),) = c.values
            self.call.session.setVariable(name, value)
            return
        variables = dict(c.values)
        reply = self._api(escape.setvar_multi_command(self.esl.uuid, variables))
        if not reply.startswith("+OK"):
            if not self.esl.ready:
                raise CallerHungUp(self.esl.hangup_cause or "hangup")
            raise RuntimeError(f"uuid_setvar_multi refused: {reply.strip()}")
        self.esl.variables.update(variables)

    def _MarkChannel(self, c: MarkChannel) -> None:
        # Best effort: only another controller would read them, should this one die; a caller
        # gone meanwhile is heard of from the call's events.
        try:
            self._SetVariables(SetVariables(c.values))
        except Exception as exc:
            names = ",".join(dict(c.values))
            log.warning("queue %s: %s not set on %s: %r", self.name, names, self.esl.uuid, exc)

    def _Play(self, c: Play) -> None:
        self._execute(c.ref, "playback", escape.playback_arg(c.media))

    def _Break(self, c: Break) -> None:
        with contextlib.suppress(ConnectionLost):
            self._api(escape.api_command("uuid_break", self.esl.uuid))

    def _StartRecording(self, c: StartRecording) -> None:
        for i, (app, arg) in enumerate(recording.start(c.path)):
            if i == 0:
                self._execute(c.ref, app, arg, what="named")
            else:
                self.esl.execute_async(app, arg)

    def _StopRecording(self, c: StopRecording) -> None:
        app, arg = recording.stop(c.path)
        self._execute(c.ref, app, arg)

    def _Ring(self, c: Ring) -> Event | None:
        try:
            dial = escape.dial_string(
                dict(c.variables), [(dict(leg.variables), leg.target) for leg in c.legs]
            )
        except escape.UnsafeValue as exc:
            # An agent's contact that is not a plain dial target is never dialled.
            agents = ",".join(v for leg in c.legs for k, v in leg.variables if k == "fsapps_agent")
            log.error("queue %s: cannot ring %s: %s", self.name, agents, exc)
            return DialRefused(c.ref, str(exc))
        self._execute(c.ref, "bridge", dial)
        self._timed()
        for leg in c.legs:
            self._offered(c.variables, leg)
        return None

    def _timed(self) -> None:
        """The caller's first ring: where their time went (fsapps.acd.timeline)."""
        marks = self.waiter.marks
        if marks is not None and "ring" not in marks:
            timeline.stamp(marks, "ring")
            timeline.emit(self.esl.uuid, marks)

    def _offered(self, variables: tuple[tuple[str, str], ...], leg: DialLeg) -> None:
        """An agent's phone rings for this caller: the event carries what the leg carries."""
        own = dict(leg.variables)
        self.acd.notifier.publish(OfferMade(
            self.tenant, self.name, self.esl.uuid, own.get("fsapps_agent", ""),
            own.get("origination_uuid", ""), variables, self.acd.clock(),
        ))  # fmt: skip

    def _Originate(self, c: Originate) -> None:
        """``bgapi originate {...}<contact> &park()`` from the caller's socket: its result
        comes back to this socket (the job's owner is the caller's channel)."""
        try:
            command = escape.originate_command(
                {**dict(c.variables), **dict(c.leg.variables)}, c.leg.target, "park"
            )
        except escape.UnsafeValue as exc:
            log.error("queue %s: cannot ring leg %s: %s", self.name, c.uuid, exc)
            self.waiter.inbox.put(LegEnded(c.uuid, "INVALID_NUMBER_FORMAT"))
            return
        job = str(uuidlib.uuid4())
        self.jobs[job] = c.uuid
        try:
            self.esl.bgapi(command, job)
        except (ConnectionLost, RuntimeError) as exc:
            self.jobs.pop(job, None)
            log.warning("queue %s: originate of leg %s not started: %s", self.name, c.uuid, exc)
            self.waiter.inbox.put(LegEnded(c.uuid, "DESTINATION_OUT_OF_ORDER"))
            return
        self._timed()
        self._offered(c.variables, c.leg)

    def _TransferTo(self, c: TransferTo) -> Event | None:
        log.info("queue %s: %s transfers %s to %s", self.name, c.by, self.esl.uuid, c.target)
        try:
            dial = escape.dial_string(dict(c.variables), [({}, c.target)])
        except escape.UnsafeValue as exc:
            log.error("queue %s: transfer of %s not dialled: %s", self.name, self.esl.uuid, exc)
            return DialRefused(c.ref, str(exc))
        self._execute(c.ref, "bridge", dial)
        return None

    def _OutliveController(self, c: OutliveController) -> None:
        """While the caller talks to an agent, the call must not depend on this controller:
        with socket_resume off, a socket that closes (this process killed, or shutting down)
        leaves the channel as it is instead of resetting it, which would end the bridge
        (mod_event_socket.c:2809-2813); when the bridge ends the caller leaves the socket's
        park and goes on in the dialplan, to the controller that resumes them (seen on
        1.10.12). After the bridge only this controller's flag is reset: handing the call
        back says ``resume``, which turns socket_resume on again (l.2001-2003), and no
        command races a caller who hung up."""
        self.esl.keep_on_close = c.on
        if not (c.on and c.tell_switch):
            return
        with contextlib.suppress(ConnectionLost):
            self._api(escape.setvar_command(self.esl.uuid, "socket_resume", "false"))

    def _ParkAfterBridge(self, c: ParkAfterBridge) -> None:
        if c.on:
            self._execute(c.ref, "set", "park_after_bridge=true")
        else:
            self._execute(c.ref, "unset", "park_after_bridge")

    def _RouteOn(self, c: RouteOn) -> None:
        """To the node's route extension (fsapps.flows.render), whose routes read
        fsapps_branch, once this socket is gone: the next node may be handed to a controller
        by a socket of its own, after ``set socket_resume=true``, and this socket closing
        after that would reset the channel under it (mod_event_socket.c:2809-2813). So the
        transfer goes by the controller's own Event Socket, when this one has closed;
        without one, from this socket at once (the next node had better be native)."""
        route = self._route_extension()
        api = getattr(self.acd, "api", None)
        if api is None:
            log.warning("queue %s: no Event Socket of the controller's own: %s routed on from its socket",
                        self.name, self.esl.uuid)  # fmt: skip
            self._execute(c.ref, "transfer", escape.app_args(route, "XML", self.call.tenant.context))
            return
        command = escape.api_command("uuid_transfer", self.esl.uuid, route, "XML", self.call.tenant.context)
        fired = False

        def on_close(item: Any) -> None:
            nonlocal fired
            if item is None and not fired:
                fired = True
                gevent.spawn(_route_on, api, command, self.esl.uuid)

        self.esl.subscribe(on_close)
        self.waiter.inbox.put(AppFinished(c.ref))

    def _route_extension(self) -> str:
        return f"{node_number(self.call.flow.name, self.call.node.id)}__route"

    def _SetLegVariable(self, c: SetLegVariable) -> None:
        with contextlib.suppress(ConnectionLost):
            self._api(escape.api_command("uuid_setvar", c.leg, c.name, c.value))

    def _HangUpLeg(self, c: HangUpLeg) -> None:
        command = escape.api_command("uuid_kill", c.leg, c.cause)
        try:
            self._api(command)
        except ConnectionLost:
            # The caller's socket is gone: a leg rung on its own would ring on (and park once
            # answered) with nobody to bridge it; the controller's own socket ends it.
            if getattr(self.acd, "api", None) is not None:
                with contextlib.suppress(Exception):
                    self.acd.api(command)

    def _CheckLegs(self, c: CheckLegs) -> Event:
        up = tuple(self._api(escape.api_command("uuid_exists", leg)).strip() == "true" for leg in c.legs)
        if not any(up):
            log.info("queue %s: %s all gone", self.name, ", ".join(c.legs))
        return LegsChecked(up)

    def _BridgeCaller(self, c: BridgeCaller) -> Event:
        reply = self._api(escape.api_command("uuid_bridge", self.esl.uuid, c.other)).strip()
        if not reply.startswith("+OK"):
            log.warning("queue %s: uuid_bridge %s %s: %s", self.name, self.esl.uuid, c.other, reply)
        else:
            log.info("queue %s: %s bridged to %s", self.name, self.esl.uuid, c.other)
        return CallerBridged(c.other, reply.startswith("+OK"))

    # the dispatcher

    def _Join(self, c: Join) -> Event:
        joined, before = self.acd.join(self.waiter, resume_within=c.resume_within, completing=c.completing)
        timeline.stamp(self.waiter.marks, "joined")
        return Placed(joined, before)

    def _AddsLegs(self, c: AddsLegs) -> None:
        self.waiter.adds_legs = c.on

    def _Forget(self, c: Forget) -> None:
        self.acd.forget(self.waiter)

    def _CompleteAnswered(self, c: CompleteAnswered) -> Event:
        # The call outlived the controller that bridged it (socket_resume was off while
        # bridged) and comes back as the bridge ended: the visit is complete.
        agent = self.acd.complete_answered(self.esl.uuid, c.ended, c.agent, c.bridged, c.joined)
        log.info("caller %s back from agent %s after their controller went: completed", self.esl.uuid, agent)
        return Completed(agent)

    def _ReleaseStale(self, c: ReleaseStale) -> None:
        # Another controller had this caller: whatever it left offered is ours to settle.
        stale = self.acd.release_stale(self.esl.uuid, "ORIGINATOR_CANCEL", self.settings, c.at)
        log.info("caller %s resumes queue %s (was %s; freed %s)", self.esl.uuid, self.name, c.was, stale)

    def _TellAnswered(self, c: TellAnswered) -> Event:
        self.acd.answered(self.waiter, c.agent, list(c.others), self.settings, c.at)
        return AnswerTold()

    def _OfferFailed(self, c: OfferFailed) -> None:
        log.info("queue %s: %s did not answer (%s)", self.name, ",".join(c.agents), c.cause)
        self.acd.offer_failed(
            self.waiter, list(c.agents), c.cause, self.settings, c.at, still_ringing=c.still_ringing
        )

    def _PickedUp(self, c: PickedUp) -> None:
        log.info(
            "queue %s: the offer of %s to %s was picked up", self.name, self.esl.uuid, ",".join(c.agents)
        )
        self.acd.picked_up(self.waiter, list(c.agents), self.settings, c.at)

    def _EndAgentCall(self, c: EndAgentCall) -> Event:
        after = self.acd.call_ended(self.waiter, c.agent, c.at, leave=True)
        return AgentCallEnded(float(after.wrap_up_time) if after is not None else 0.0)

    def _Leave(self, c: Leave) -> None:
        if not c.abandoned:
            self.acd.leave(self.waiter, abandoned=False)
            return
        try:
            self.acd.leave(self.waiter, abandoned=True)
        except Exception:
            log.exception("queue %s: abandon of %s not stored", self.name, self.esl.uuid)

    def _NoteHandleTime(self, c: NoteHandleTime) -> None:
        self.acd.note_handle_time(self.waiter.key, c.seconds)

    def _ReadNote(self, c: ReadNote) -> Event:
        note = self.acd.take_transfer(self.waiter) if c.take else self.acd.peek_transfer(self.waiter)
        return NoteRead(note)

    def _ConsultOver(self, c: ConsultOver) -> None:
        self.acd.consult_over(self.waiter, c.leg)

    # the records

    def _Account(self, c: Account) -> None:
        accounting.account(
            c.summary, self.settings.service_level_seconds, self.call.ctx.write_soon, self.acd.notifier
        )

    # this driver

    def _Wait(self, c: Wait) -> None:
        if self.timer is not None:
            self.timer.kill(block=False)
        self.timer = gevent.spawn_later(c.seconds, self.waiter.inbox.put, WaitOver(c.token))

    def _CatchUp(self, c: CatchUp) -> None:
        """After the dispatcher's first pass over the caller: a caller offered at once is
        rung with no hold music to start and stop (a playback, a break and its end, each
        waiting for the switch's next look at the socket), at most FIRST_PASS_WAIT later."""
        done = False

        def caught_up() -> None:
            nonlocal done
            if not done:
                done = True
                self.waiter.inbox.put(CaughtUp(c.token))

        if self.waiter.passed:  # a pass has seen the caller already (it ran during the set)
            caught_up()
            return
        self.waiter.after_pass.append(caught_up)
        self.first_pass = gevent.spawn_later(FIRST_PASS_WAIT, caught_up)


def _route_on(api: Callable[[str], str], command: str, uuid: str) -> None:
    try:
        reply = (api(command) or "").strip()
    except Exception as exc:
        log.warning("caller %s not routed on after the queue: %s", uuid, exc)
        return
    if not reply.startswith("+OK"):
        log.warning("caller %s not routed on after the queue: %s", uuid, reply)


def _stamp(event: codec.Event) -> float:
    raw = event.get("Event-Date-Timestamp") or ""
    return int(raw) / 1e6 if raw.isdigit() else 0.0
