"""``queue``: the caller waits in an ACD queue until an agent answers.

The caller is answered and hears hold music (the queue's moh-sound, in short
clips: a controller that dies leaves at most one clip before the dialplan
hands the call to the next controller) and, every announce-frequency
seconds, their position and expected wait. The dispatcher (fsapps.acd)
hands this greenlet an offer: the music stops and the caller's channel
bridges to the agents' phones, with the caller's ID and the screen-pop
variables, ringing for ring-timeout seconds. Answered: recording runs per
the record-template while bridged (RECORD_BRIDGE_REQ, switch_ivr_async.c
l.3040, as mod_callcenter's record on the member channel); when the agent
hangs up, the flow goes on (``_``: a survey). Not answered: the agents go
into their delays (fsapps.acd.agent_events) and the caller keeps their
place. max-wait-time takes the ``timeout`` branch; the callback key takes
``callback`` with the caller's place stored.

A caller whose controller died comes back here through the dialplan's next
``socket``: their row (same channel UUID) keeps their place.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import gevent
import gevent.event
import gevent.queue

from fsapps import escape
from fsapps.acd import visit_records
from fsapps.acd.config import DEFAULT_MOH
from fsapps.acd.decide import Announce, Exit
from fsapps.acd.dispatch import AgentOffer, Waiter
from fsapps.acd.model import Member
from fsapps.apps.node import NodeCall
from fsapps.apps.registry import node_application
from fsapps.esl import codec
from fsapps.esl.protocol import ConnectionLost
from fsapps.esl.server import CallerHungUp, OutboundCall
from fsapps.flows.walls import variable_problem
from fsapps.metrics import ACD_ANSWERED_IN_SL, ACD_CALLS, ACD_HANDLE, ACD_WAIT
from fsapps.store.records import CallbackRequest, QueueCall

log = logging.getLogger("fsapps.acd")


ANNOUNCE = {
    "en": "You are number {position} in the queue. The expected wait is about {minutes} {unit}.",
    "zh": "您现在排在第{position}位，预计等待约{minutes}分钟。",
}


def _announcement(language: str, position: int, seconds: int) -> str:
    minutes = max(1, round(seconds / 60))
    unit = "minute" if minutes == 1 else "minutes"
    return ANNOUNCE.get(language, ANNOUNCE["en"]).format(position=position, minutes=minutes, unit=unit)


@node_application("queue")
def queue(call: NodeCall) -> str | None:
    acd = getattr(call.ctx, "acd", None)
    esl: OutboundCall | None = getattr(call.session, "call", None)
    queue_name = call.data("queue")
    found = acd.queue(call.tenant.id, queue_name) if acd is not None else None
    if acd is None or esl is None or found is None:
        log.error("queue %s: no ACD here (no database, or not over ESL): taking the fallback", queue_name)
        return None
    return QueueVisit(call, acd, esl, found).run()


@node_application("transfer")
def transfer_to_queue(call: NodeCall) -> str | None:
    """A transfer node into a queue is handed over like a queue node (nodes/transfer.py)."""
    return queue(call) if call.data("queue") else None


class QueueVisit:
    def __init__(
        self, call: NodeCall, acd: Any, esl: OutboundCall, queue: Any, name: str | None = None
    ) -> None:
        self.call, self.acd, self.esl, self.queue = call, acd, esl, queue
        self.settings = queue.settings
        self.tenant = call.tenant.id
        self.name = name or call.data("queue")
        self.offers = 0
        self.ring_seconds = 0.0
        self.recording: str | None = None
        self._recording_named: gevent.event.AsyncResult | None = None  # the set naming the file
        self.waiter: Waiter | None = None
        self.joined = 0.0
        self.bridged: dict[str, float] = {}  # agent leg uuid -> CHANNEL_BRIDGE time (s)
        self.unbridged = 0.0
        self.answering: gevent.Greenlet | None = None
        self.forwarder: gevent.Greenlet | None = None  # the caller's digits into this visit's inbox

    # --- the visit -----------------------------------------------------------------

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
        self.waiter = w = Waiter(member, self.tenant, self.name, call.caller, call.var("caller_id_name"))
        # Armed before the caller has a place: a controller that dies from here on leaves
        # them to the route that holds them (nodes/queue.py), never to the sorry message.
        # Variables are set with the api (its reply is immediate), not multiset, whose
        # completion reaches the controller only at the switch's next socket poll, up to
        # 20 ms later (mod_event_socket.c:1496): the path to the agent waits on no such poll.
        call.session.answer()
        self._set(
            fsapps_resume=f"{call.flow.name}.{call.node.id}", fsapps_held="",
            continue_on_fail="true", hangup_after_bridge="false",
        )  # fmt: skip
        resume = self.settings.discard_abandoned_after if self.settings.abandoned_resume_allowed else 0
        self.joined, before = self.acd.join(w, resume_within=resume)
        if before == "Answered":
            # The call outlived the controller that bridged it (socket_resume was off while
            # bridged) and comes back as the bridge ended: the visit is complete.
            self.acd.forget(w)
            ended = esl.connected_us / 1e6 if esl.connected_us else now
            agent = self.acd.complete_answered(esl.uuid, ended)
            log.info("caller %s back from agent %s after their controller went: completed", esl.uuid, agent)
            return "_"
        if before:
            # Another controller had this caller: whatever it left offered is ours to settle.
            stale = self.acd.release_stale(esl.uuid, "ORIGINATOR_CANCEL", self.settings, now)
            log.info("caller %s resumes queue %s (was %s; freed %s)", esl.uuid, self.name, before, stale)
        try:
            self._set(fsapps_queue=self.name, fsapps_queue_entered=f"{self.joined:.3f}")
            branch = self._wait(w)
            if branch is None and call.session.ready():
                call.session.setVariable("fsapps_resume", "")  # the fallback, not this queue again
            return branch
        except CallerHungUp:
            if esl.hangup_cause is None:
                # The socket closed under us with the caller still there (a controller
                # shutting down hands calls back): the next controller resumes them.
                self.acd.forget(w)
            else:
                self._abandoned(w)
            raise
        except (Exception, gevent.Timeout):
            # A bug or a lost switch: the call goes back to the dialplan, whose queue route
            # hands it to a controller again; that one resumes the place and frees the
            # agents this visit had offered it to (release_stale).
            self.acd.forget(w)
            raise

    def _set(self, **variables: str) -> None:
        """Channel variables, at once (uuid_setvar_multi); an empty value unsets."""
        reply = self.esl.api(escape.setvar_multi_command(self.esl.uuid, variables))
        if not reply.startswith("+OK"):
            if not self.esl.ready:
                raise CallerHungUp(self.esl.hangup_cause or "hangup")
            raise RuntimeError(f"uuid_setvar_multi refused: {reply.strip()}")
        self.esl.variables.update(variables)

    def _wait(self, w: Waiter) -> str | None:
        esl = self.esl
        inbox: gevent.queue.Queue[Any] = w.inbox
        forward = self.forwarder = gevent.spawn(self._forward_digits, inbox)

        def hung_up() -> None:
            inbox.put(("hangup", None))

        esl.hungup.rawlink(lambda _: hung_up())
        try:
            while True:
                if isinstance(self._peek(inbox), AgentOffer):
                    # An agent is free already: ring them, no hold music to start and stop.
                    branch = self._ring(w, inbox.get())
                    if branch is not None:
                        return branch
                    continue
                moh_id, moh = esl.execute_async("playback", self._moh())
                moh.rawlink(lambda _, moh_id=moh_id: inbox.put(("moh_done", moh_id)))
                item = inbox.get()
                while isinstance(item, tuple) and item[0] == "moh_done" and item[1] != moh_id:
                    item = inbox.get()  # a clip that ended earlier
                if isinstance(item, tuple) and item[0] == "moh_done":
                    continue  # the clip ended: the next one
                self._stop_music(moh)
                if isinstance(item, tuple) and item[0] == "hangup":
                    raise CallerHungUp(esl.hangup_cause or "hangup")
                if isinstance(item, tuple) and item[0] == "dtmf":
                    if item[1] == self.settings.callback_key and "callback" in self.call.node.children:
                        return self._callback(w)
                elif isinstance(item, Announce):
                    self._announce(item)
                elif isinstance(item, Exit):
                    return self._exit(w, item)
                elif isinstance(item, AgentOffer):
                    branch = self._ring(w, item)
                    if branch is not None:
                        return branch
        finally:
            forward.kill(block=False)

    @staticmethod
    def _peek(inbox: gevent.queue.Queue[Any]) -> Any:
        return inbox.peek(block=False) if not inbox.empty() else None

    def _forward_digits(self, inbox: gevent.queue.Queue[Any]) -> None:
        while True:
            inbox.put(("dtmf", self.esl.dtmf.get()))

    def _moh(self) -> str:
        name = self.settings.moh_sound
        return escape.playback_arg(self.call.prompt(name)) if name else DEFAULT_MOH

    def _stop_music(self, moh: gevent.event.AsyncResult) -> None:
        # Measured on 1.10.12: a break that reaches the channel before the queued playback
        # has begun is lost (the execute clears it), so break until the clip completes; and
        # never "all", which drops a playback still queued: it would then never complete.
        for attempt in range(80):
            if moh.ready() or not self.esl.ready:
                break
            self.esl.api(escape.api_command("uuid_break", self.esl.uuid))
            with contextlib.suppress(gevent.Timeout):
                moh.get(timeout=0.02 if attempt < 10 else 0.25)
        if not self.esl.ready:
            # A clip still queued when the caller hung up never runs, so never completes.
            raise CallerHungUp(self.esl.hangup_cause or "hangup")
        moh.get(timeout=15)

    def _announce(self, a: Announce) -> None:
        s = self.call.session
        if self.settings.announce_sound:
            s.streamFile(self.call.prompt(self.settings.announce_sound))
        s.streamFile(self.call.tts(_announcement(self.call.tenant.language, a.position, a.estimated_wait)))

    # --- an offer ------------------------------------------------------------------

    def _ring(self, w: Waiter, offer: AgentOffer) -> str | None:
        esl, call = self.esl, self.call
        legs = {offer.legs[agent]: agent for agent in offer.offer.agents}
        self.offers += len(legs)
        if self.settings.record_template and self.recording is None:
            # ``set`` expands the template (its ${uuid}, ${strftime(...)}) once, on this
            # channel; record_session's argument is expanded as it runs. The three run in
            # order ahead of the bridge: nothing waits for their completions (the switch's
            # socket poll, above), the path is read from the set's when it is needed.
            try:
                # The call's own Unique-ID, not whatever a ${uuid} variable says.
                template = escape.recording_path(self.settings.record_template, self.tenant)
                template = template.replace("${uuid}", esl.uuid)
            except escape.UnsafeValue as exc:
                log.error("queue %s: not recorded: %s", self.name, exc)
            else:
                self.recording = template
                _, self._recording_named = esl.execute_async("set", f"fsapps_recording={template}")
                esl.execute_async("set", "RECORD_BRIDGE_REQ=true")
                esl.execute_async("record_session", "${fsapps_recording}")
        common = {
            "leg_timeout": str(offer.offer.ring_timeout),
            "ignore_early_media": "true",
            "origination_caller_id_number": call.caller,
            "origination_caller_id_name": call.var("caller_id_name") or call.caller,
            "fsapps_tenant": self.tenant,
            "fsapps_queue": self.name,
            "fsapps_member": esl.uuid,
            "fsapps_queue_wait": str(int(self.acd.clock() - self.joined)),
        }
        for name in call.var("export_vars").split(","):  # the lookup's screen-pop fields
            # Never a name the switch would act on at the agent's leg (execute_on_answer, ...),
            # nor fsapps' own, which are set above.
            if escape.VARIABLE_NAME.fullmatch(name) and variable_problem(name) is None and call.var(name):
                common[name] = call.var(name)
        try:
            dial = escape.dial_string(
                common,
                [({"origination_uuid": leg, "fsapps_agent": agent}, offer.contacts[agent])
                 for leg, agent in legs.items()],
            )  # fmt: skip
        except escape.UnsafeValue as exc:
            # An agent's contact that is not a plain dial target is never dialled.
            log.error("queue %s: cannot ring %s: %s", self.name, ",".join(legs.values()), exc)
            agents, now = list(legs.values()), self.acd.clock()
            self.acd.offer_failed(w, agents, "INVALID_NUMBER_FORMAT", self.settings, now)
            return None
        self.bridged.clear()
        watcher = self._watch_bridge(w, legs, offer)
        esl.bridge_watchers.append(watcher)
        rang = self.acd.clock()
        done: codec.Event | None = None
        try:
            done = esl.execute("bridge", dial)
        except CallerHungUp:
            pass  # settled below, as when the bridge returns to a caller who has gone
        finally:
            esl.bridge_watchers.remove(watcher)
        answered = [legs[u] for u in self.bridged if u in legs]
        if answered:
            return self._served(w, answered[0], rang)
        self.ring_seconds += self.acd.clock() - rang
        picked = self._picked_up(w, offer)
        if picked is not None:
            # Not the ringing agents' no-answer: another agent took the call (operations.pickup).
            self.acd.picked_up(w, list(legs.values()), self.settings, self.acd.clock())
            by = picked.offer.agents[0]
            if not esl.ready:
                self.acd.offer_failed(w, [by], "ORIGINATOR_CANCEL", self.settings, self.acd.clock())
                raise CallerHungUp(esl.hangup_cause or "hangup")
            log.info("queue %s: %s picks up %s (rang %s)", self.name, by, esl.uuid, ",".join(legs.values()))
            return self._ring(w, picked)
        cause = "ORIGINATOR_CANCEL"
        if done is not None and esl.ready:
            cause = done.variable("originate_disposition") or done.variable("DIALSTATUS") or "NO_ANSWER"
        log.info("queue %s: %s did not answer (%s)", self.name, ",".join(legs.values()), cause)
        self.acd.offer_failed(w, list(legs.values()), cause, self.settings, self.acd.clock())
        if not esl.ready:
            raise CallerHungUp(esl.hangup_cause or "hangup")
        return None

    def _watch_bridge(self, w: Waiter, legs: dict[str, str], offer: AgentOffer) -> Any:
        def watch(event: codec.Event) -> None:
            other = event.get("Bridge-B-Unique-ID") or event.get("Other-Leg-Unique-ID") or ""
            if event.name == "CHANNEL_BRIDGE" and other in legs and not self.bridged:
                self.bridged[other] = _stamp(event) or self.acd.clock()
                self._outlive_controller(True)
                agent = legs[other]
                others = [a for a in legs.values() if a != agent]
                self.answering = gevent.spawn(
                    self.acd.answered, w, agent, others, self.settings, self.bridged[other]
                )
            elif event.name == "CHANNEL_UNBRIDGE":
                self.unbridged = _stamp(event) or self.acd.clock()
                self._outlive_controller(False)

        return watch

    def _outlive_controller(self, bridged: bool) -> None:
        """While the caller talks to an agent, the call must not depend on this controller:
        with socket_resume off, a socket that closes (this process killed, or shutting down)
        leaves the channel as it is instead of resetting it, which would end the bridge
        (mod_event_socket.c:2809-2813); when the bridge ends the caller leaves the socket's
        park and goes on in the dialplan, to the controller that resumes them (seen on
        1.10.12). After the bridge nothing needs setting back: handing the call back says
        ``resume``, which turns socket_resume on again (l.2001-2003)."""
        self.esl.keep_on_close = bridged
        if bridged:
            command = escape.setvar_command(self.esl.uuid, "socket_resume", "false")
            gevent.spawn(self.esl.api, command)  # from the event loop: its reply comes on it

    def _picked_up(self, w: Waiter, rung: AgentOffer) -> AgentOffer | None:
        """The offer to the agent who picked this call up, if that is why the ring ended."""
        note = self.acd.take_transfer(w)
        if not note or "pickup" not in note:
            return None
        agent = str(note["pickup"])
        offer = replace(rung.offer, agents=(agent,))
        return AgentOffer(offer, {agent: str(note["dial"])}, {agent: str(note["leg"])})

    def _served(self, w: Waiter, agent: str, rang: float) -> str | None:
        call, acd = self.call, self.acd
        if self.answering is not None:
            self.answering.join(timeout=10)
        leg, start = next(iter(self.bridged.items()))
        end = self.unbridged or acd.clock()
        self.ring_seconds += max(start - rang, 0)
        handed: gevent.event.AsyncResult | None = None
        note = acd.peek_transfer(w)
        if note and "consult" in note:
            end, handed = self._attended(w, leg, note)
        # An agent's transfer (fsapps.acd.operations) hung the agent's leg up: where next.
        transfer = acd.take_transfer(w)
        if transfer and "pickup" in transfer:
            # Picked up as this agent answered: the picking agent is free again.
            acd.picked_up(w, [str(transfer["pickup"])], self.settings, acd.clock())
        if transfer and "dial" not in transfer and "queue" not in transfer:
            transfer = None
        self._recording_path()
        if self.recording and call.session.ready():
            call.session.execute("stop_record_session", escape.app_arg(self.recording))
        after = acd.call_ended(w, agent, end)
        acd.leave(w, abandoned=False)
        talk = max(end - start, 0)
        wrap = float(after.wrap_up_time) if after is not None else 0.0
        acd.note_handle_time(w.key, talk + wrap)
        wait = start - self.joined
        ACD_WAIT.labels(self.tenant, self.name, "answered").observe(wait)
        ACD_HANDLE.labels(self.tenant, self.name).observe(talk + wrap)
        if wait <= self.settings.service_level_seconds:
            ACD_ANSWERED_IN_SL.labels(self.tenant, self.name).inc()
        self._recording_path()
        ACD_CALLS.labels(self.tenant, self.name, "answered").inc()
        # The same records, by the same ids, as a controller completing this visit would write.
        call.ctx.write_soon(*visit_records.answered(
            tenant=self.tenant, queue=self.name, call_uuid=self.esl.uuid, caller=call.caller, agent=agent,
            joined=self.joined, bridged=start, ended=end, ring_seconds=self.ring_seconds, offers=self.offers,
            wrap_up=wrap, recording=self.recording,
        ))  # fmt: skip
        if call.session.ready():
            self._set(fsapps_agent=agent, fsapps_queue_outcome="answered")
        if handed is not None:
            # The caller talks to whom the agent consulted; the flow goes on after that.
            gevent.wait([handed, self.esl.hungup], count=1)
            if call.session.ready():
                call.session.execute("unset", "park_after_bridge")
            return "_"
        if transfer and call.session.ready():
            return self._transfer(transfer, agent)
        return "_"

    # --- attended transfer ---------------------------------------------------------

    def _attended(
        self, w: Waiter, leg: str, note: dict[str, Any]
    ) -> tuple[float, gevent.event.AsyncResult | None]:
        """The agent consults someone (fsapps.acd.operations.consult) while the caller holds.
        Complete: the caller is bridged to the consulted leg and the agent's leg hung up.
        Cancel (or the consulted party hangs up): the caller is bridged back to the agent,
        who may consult again. Returns when the agent's part ended, and, when the caller
        was handed on, when that bridge ends.

        The caller is moved with uuid_bridge, which takes them out of the socket
        application; park_after_bridge parks them when that bridge ends, and in park the
        socket's commands still run (seen on 1.10.12, switch_ivr_bridge.c:1931)."""
        end = self.acd.clock()
        try:
            while note and "consult" in note:
                consult = str(note["consult"])
                step = self._hold(w, leg, consult)
                self.acd.consult_over(w, consult)
                end = self.acd.clock()
                if step == "gone":
                    log.info("queue %s: agent and consulted party of %s both gone", self.name, self.esl.uuid)
                    return end, None
                self.call.session.execute("set", "park_after_bridge=true")
                if step == "complete":
                    handed = self._bridge_to(consult)
                    # It parked to outlive the agent's leg; now it leaves with the caller
                    # (left parked, the real switch kept the phone's call up).
                    self.esl.api(escape.api_command("uuid_setvar", consult, "park_after_bridge", "false"))
                    self.esl.api(escape.api_command("uuid_kill", leg, "NORMAL_CLEARING"))
                    log.info("queue %s: %s handed to %s (attended)", self.name, self.esl.uuid, consult)
                    return end, handed
                self.esl.api(escape.api_command("uuid_kill", consult, "NORMAL_CLEARING"))
                end = self._bridge_to(leg).get()
                note = self.acd.peek_transfer(w)
        except CallerHungUp:
            end = self.acd.clock()
        return end, None

    def _hold(self, w: Waiter, leg: str, consult: str) -> str:
        """Hold music until the consult is completed or cancelled, or a leg goes: the
        operation breaks the music to be seen at once; the row and legs are also looked at
        twice a second (a break before a clip begins is lost)."""
        esl = self.esl
        moh: gevent.event.AsyncResult | None = None
        try:
            while True:
                note = self.acd.peek_transfer(w) or {}
                step = note.get("step") if note.get("consult") == consult else "cancel"
                if step in ("complete", "cancel"):
                    return str(step)
                agent_up, consult_up = self._exists(leg), self._exists(consult)
                if not consult_up:
                    return "cancel" if agent_up else "gone"
                if not agent_up:
                    return "complete"  # the agent hung up on the consult: theirs to take
                if moh is None or moh.ready():
                    moh = esl.execute_async("playback", self._moh())[1]
                gevent.wait([moh, esl.hungup], timeout=0.5, count=1)
                if not esl.ready:
                    raise CallerHungUp(esl.hangup_cause or "hangup")
        finally:
            if moh is not None and not moh.ready() and esl.ready:
                self._stop_music(moh)

    def _exists(self, uuid: str) -> bool:
        return self.esl.api(escape.api_command("uuid_exists", uuid)).strip() == "true"

    def _bridge_to(self, other: str) -> gevent.event.AsyncResult:
        """uuid_bridge the caller (the originator) to ``other``; the result is set when
        that bridge ends (the switch's time) or the caller hangs up."""
        esl = self.esl
        ended: gevent.event.AsyncResult = gevent.event.AsyncResult()

        def settle(when: float) -> None:
            if not ended.ready():
                ended.set(when)
                if watch in esl.bridge_watchers:
                    esl.bridge_watchers.remove(watch)

        def watch(event: codec.Event) -> None:
            other_leg = event.get("Bridge-B-Unique-ID") or event.get("Other-Leg-Unique-ID")
            if event.name == "CHANNEL_UNBRIDGE" and other_leg == other:
                settle(_stamp(event) or self.acd.clock())

        esl.bridge_watchers.append(watch)
        esl.hungup.rawlink(lambda _: settle(self.acd.clock()))
        reply = esl.api(escape.api_command("uuid_bridge", esl.uuid, other)).strip()
        if not reply.startswith("+OK"):
            log.warning("queue %s: uuid_bridge %s %s: %s", self.name, esl.uuid, other, reply)
            settle(self.acd.clock())
        return ended

    def _transfer(self, where: dict[str, str], by: str) -> str | None:
        """Carry out the agent's blind transfer on the caller's own channel: another
        agent's phone or a dial string (bridged here), or another queue (a new visit)."""
        if "queue" in where:
            other = self.acd.queue(self.tenant, where["queue"])
            if other is not None:
                log.info(
                    "queue %s: %s transfers %s to queue %s", self.name, by, self.esl.uuid, where["queue"]
                )
                if self.forwarder is not None:
                    self.forwarder.kill()  # the new visit takes the caller's digits from here on
                return QueueVisit(self.call, self.acd, self.esl, other, name=where["queue"]).run()
            log.error("transfer to unknown queue %r: the caller goes on in the flow", where["queue"])
            return "_"
        dial = where.get("dial", "")
        head = {
            "origination_caller_id_number": self.call.caller,
            "fsapps_tenant": self.tenant,
            "fsapps_transferred_by": by,
        }
        log.info("queue %s: %s transfers %s to %s", self.name, by, self.esl.uuid, dial)
        try:
            self.esl.execute("bridge", escape.dial_string(head, [({}, dial)]))
        except escape.UnsafeValue as exc:
            log.error("queue %s: transfer of %s not dialled: %s", self.name, self.esl.uuid, exc)
        return "_"

    # --- other ways out ------------------------------------------------------------

    def _exit(self, w: Waiter, e: Exit) -> str | None:
        self.acd.leave(w, abandoned=False)
        overflow = "timeout" in self.call.node.children
        outcome = "overflowed" if overflow else "timed_out"
        self._record(outcome, self.acd.clock(), self.acd.clock() - self.joined)
        self.call.session.setVariable("fsapps_queue_outcome", outcome)
        return "timeout" if overflow else None

    def _callback(self, w: Waiter) -> str:
        self.acd.leave(w, abandoned=False)
        now = self.acd.clock()
        self.call.ctx.write_soon(
            CallbackRequest(
                tenant_id=self.tenant, number=self.call.caller, requested_at=datetime.fromtimestamp(now, UTC),
                call_uuid=self.esl.uuid, queue=self.name,
                queue_entered_at=datetime.fromtimestamp(self.joined, UTC),
            )
        )  # fmt: skip
        self._record("callback", now, now - self.joined)
        self.call.session.setVariable("fsapps_queue_outcome", "callback")
        return "callback"

    def _abandoned(self, w: Waiter) -> None:
        now = self.acd.clock()
        try:
            self.acd.leave(w, abandoned=True)
        except Exception:
            log.exception("queue %s: abandon of %s not stored", self.name, self.esl.uuid)
        self._record("abandoned", now, now - self.joined)

    def _recording_path(self) -> None:
        """The recording's file name, from the completion of the set that expanded it."""
        named, self._recording_named = self._recording_named, None
        if named is not None and self.esl.ready:
            with contextlib.suppress(gevent.Timeout, CallerHungUp, ConnectionLost):
                named.get(timeout=5)
        # A caller who hung up: their hangup event carried every variable already.
        self.recording = self.esl.variables.get("fsapps_recording") or self.recording

    def _record(self, outcome: str, end: float, wait: float, agent: str | None = None,
                talk: float = 0, wrap: float = 0) -> None:  # fmt: skip
        self._recording_path()
        ACD_CALLS.labels(self.tenant, self.name, outcome).inc()
        if outcome != "answered":
            ACD_WAIT.labels(self.tenant, self.name, outcome).observe(max(wait, 0))
        self.call.ctx.write_soon(
            QueueCall(
                tenant_id=self.tenant, queue=self.name, joined_at=datetime.fromtimestamp(self.joined, UTC),
                ended_at=datetime.fromtimestamp(max(end, self.joined), UTC),
                wait_seconds=round(max(wait, 0), 3), outcome=outcome, call_uuid=self.esl.uuid, agent_id=agent,
                caller=self.call.caller,
                ring_seconds=round(self.ring_seconds, 3), talk_seconds=round(talk, 3), wrap_up_seconds=wrap,
                offers=self.offers, recording=self.recording,
            )
        )  # fmt: skip


def _stamp(event: codec.Event) -> float:
    raw = event.get("Event-Date-Timestamp") or ""
    return int(raw) / 1e6 if raw.isdigit() else 0.0
