"""What agents and supervisors do, as Python calls (the CLI and, later, the
HTTP API use these): status changes in PostgreSQL, call control through
the switch's Event Socket.

An agent on a queue call has their phone's leg (``agent_leg``) and the
caller's (``offered_member``) in agent_state; operations act on those, so any
process with the database and an Event Socket can run them, whichever
controller holds the caller.

Call control uses the switch's own tools: blind transfer ends the agent's leg
and the controller holding the caller bridges them on; listen / whisper / barge
are ``eavesdrop`` on the agent's leg from the supervisor's phone (whisper:
eavesdrop_whisper_aleg, the agent hears the supervisor; barge: both sides
do), three-way is ``three_way`` on the agent's leg from the third party's.
"""

from __future__ import annotations

import time
import uuid as uuidlib
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any

from fsapps import escape
from fsapps.acd import hold_music, relay
from fsapps.acd.config import DEFAULT_MOH
from fsapps.acd.model import AgentState, AgentStatus
from fsapps.acd.notifier import AgentDirectCall
from fsapps.acd.transfer import PICKED_OFF
from fsapps.store import acd as store_acd
from fsapps.store import direct_calls as store_direct_calls
from fsapps.store.db import Store

# The agent's leg's channel variable naming the hold music playing to their caller.
HELD = "fsapps_hold"

LISTEN_MODES = {
    "listen": {},
    "whisper": {"eavesdrop_whisper_aleg": "true"},
    "barge": {"eavesdrop_whisper_aleg": "true", "eavesdrop_whisper_bleg": "true"},
}


def held_music(api: Callable[[str], str], agent_leg: str) -> str:
    """The hold music ``hold`` plays on the agent's leg ('' when their caller is not on
    hold): the switch is where a hold lives (a media bug and this variable on the leg),
    so whoever asks (the operations, the API's live calls) reads it there."""
    reply = (api(escape.api_command("uuid_getvar", agent_leg, HELD)) or "").strip()
    return "" if reply in ("", "_undef_") or reply.startswith("-ERR") else reply


class OperationError(Exception):
    """The operation cannot be done now (not on a call, not consulting, busy); the
    subclasses say when it never could with these arguments, or the switch said no."""


class NoSuchThing(OperationError):
    """An agent (or an agent's phone) that is not there, for whoever asks."""


class BadTarget(OperationError):
    """Where to transfer, consult or listen from is missing or not a safe dial target."""


class SwitchRefused(OperationError):
    """The switch answered -ERR (or nothing)."""


@dataclass(frozen=True)
class AgentCall:
    agent: str
    caller_leg: str
    agent_leg: str
    tenant: str = ""  # the caller's


@dataclass
class AgentOperations:
    """``tenant``: the operations of one tenant's users (the HTTP API): the agent's call,
    the caller picked up and the agent transferred or consulted to must all be that
    tenant's, checked in the same query that finds them. None: the operator's, anywhere."""

    store: Store
    api: Callable[[str], str]  # an Event Socket api command, its reply
    now: Callable[[], float] = field(default=time.time)
    tenant: str | None = None
    # A tenant's queues, when the flows are at hand (None: that tenant's are not): a transfer
    # to a queue the caller's tenant does not have is refused here, not carried out by the
    # controller as "the flow goes on".
    queues: Callable[[str], Collection[str] | None] | None = None

    # --- the agent's status ----------------------------------------------------------

    def login(self, agent: str) -> None:
        self.set_status(agent, AgentStatus.AVAILABLE)

    def logout(self, agent: str) -> None:
        self.set_status(agent, AgentStatus.LOGGED_OUT)

    def ready(self, agent: str) -> None:
        self.set_status(agent, AgentStatus.AVAILABLE)

    def take_break(self, agent: str, reason: str) -> None:
        self.set_status(agent, AgentStatus.ON_BREAK, reason)

    def set_status(self, agent: str, status: str, reason: str = "") -> None:
        """Also a supervisor's force-status."""
        with self.store.operator() as op:
            if not store_acd.set_status(op.conn, agent, status, self.now(), reason):
                raise NoSuchThing(f"no agent {agent!r}")

    def wrap_up_done(self, agent: str) -> None:
        """End the wrap-up now: offers may come at once (an On Demand agent's Idle ends too)."""
        with self.store.operator() as op:
            if not store_acd.wrap_up_done(op.conn, agent, self.now()):
                raise NoSuchThing(f"no agent {agent!r}")

    # --- the agent's call ------------------------------------------------------------

    def current_call(self, agent: str) -> AgentCall:
        with self.store.operator() as op:
            row = store_acd.agent_call(op.conn, agent, self.tenant)
        if row is None:
            raise NoSuchThing(f"no agent {agent!r}")
        if row["state"] != AgentState.IN_A_QUEUE_CALL or not row["agent_leg"]:
            raise OperationError(f"agent {agent!r} is not on a queue call ({row['state']})")
        if not self._ours(row["tenant_id"]):  # a shared agent, on another tenant's call
            raise OperationError(f"agent {agent!r} is on no call of {self.tenant!r}")
        caller, leg, tenant = str(row["offered_member"]), str(row["agent_leg"]), str(row["tenant_id"] or "")
        return AgentCall(agent, caller, leg, tenant)

    def _ours(self, tenant: str | None) -> bool:
        return self.tenant is None or tenant == self.tenant

    def transfer(
        self, agent: str, *, to_agent: str | None = None, to_queue: str | None = None, dial: str | None = None
    ) -> None:
        """Blind transfer of the agent's caller to another agent's phone, one of the
        tenant's queues (a new visit there) or a dial string (a number through a gateway:
        sofia/gateway/<gw>/<number>). Also the supervisor's force-transfer.

        The controller holding the caller carries it out: the transfer is noted on the
        caller's queue row, then the agent's leg is hung up; the queue application, whose
        bridge that ends, bridges the caller on. (Seen on 1.10.12: a uuid_transfer of the
        caller out from under the queue's socket had its new bridge cancelled within 0.1 s.)"""
        call = self.current_call(agent)
        where: dict[str, str]
        if to_queue is not None:
            known = self.queues(call.tenant) if self.queues is not None else None
            if known is not None and to_queue not in known:
                raise BadTarget(f"no queue {to_queue!r} for {call.tenant!r}'s callers")
            where = {"queue": to_queue}
        elif to_agent is not None:
            where = {"dial": self._contact(to_agent), "agent": to_agent}
        elif dial:
            where = {"dial": _dial(dial)}
        else:
            raise BadTarget("transfer to where? (an agent, a queue or a dial string)")
        with self.store.operator() as op:
            if store_acd.ask_transfer(op.conn, call.caller_leg, where) is None:
                raise OperationError(f"agent {agent!r}'s caller is not in a queue")
        self._api(escape.api_command("uuid_kill", call.agent_leg, "NORMAL_CLEARING"))

    def hold(self, agent: str) -> None:
        """The agent puts their caller on hold: the caller hears their queue's hold music
        (the moh-sound their channel names, fsapps.acd.hold_music.VARIABLE) in place of the
        agent until ``unhold``. The bridge stays, and so do the call's records.

        Not ``uuid_hold``: it broadcasts the music to the caller as a queued execute
        (switch_ivr.c:1551-1555), which a caller bridged by the controller's event-locked
        execute only runs once that bridge is over (switch_core_session.c:1293-1306, the
        queue counts as empty under CF_EVENT_LOCK): the caller would hear silence, then
        hold music looping after the call (seen on 1.10.12: a uuid_broadcast to the bridged
        caller answers +OK and plays nothing while the bridge lasts). The music is a media bug
        on the agent's leg instead, ``uuid_displace <leg> start <music> 0 rl``: read side (what
        the caller hears of the agent), looped (switch_ivr_async.c:1090-1111); not mixed, so the
        bug also blanks what the agent's leg is sent (async:902-921): like a held customer in a
        contact center, the caller is not heard by the agent until ``unhold`` (both seen on
        1.10.12, tests/acceptance/test_agent_operations.py). It goes with the agent's leg."""
        call = self.current_call(agent)
        with self.store.operator() as op:
            _, noted = store_acd.member_transfer(op.conn, call.caller_leg)
        if noted.get("step") == "consulting":
            raise OperationError(f"agent {agent!r} is consulting: their caller is held already")
        if self._held(call):
            raise OperationError(f"agent {agent!r}'s caller is on hold already")
        music = self._hold_music(call)
        self._api(escape.api_command("uuid_displace", call.agent_leg, "start", music, "0", "rl"))
        self._api(escape.setvar_command(call.agent_leg, HELD, music))

    def unhold(self, agent: str) -> None:
        """The held caller and the agent talk again: the hold music's media bug goes."""
        call = self.current_call(agent)
        music = self._held(call)
        if not music:
            raise OperationError(f"agent {agent!r}'s caller is not on hold")
        self._api(escape.api_command("uuid_displace", call.agent_leg, "stop", music))
        self._api(escape.setvar_command(call.agent_leg, HELD, ""))

    def _held(self, call: AgentCall) -> str:
        """The hold music playing on the agent's leg ('' when not on hold)."""
        return held_music(self.api, call.agent_leg)

    def _hold_music(self, call: AgentCall) -> str:
        """The caller's queue's hold music as a file uuid_displace opens: the Event Socket's
        api expands nothing, so fsapps' ``${sounds_dir}`` is the switch's own global; TTS
        (``say:``) is playback's, not a file: the default tone then."""
        reply = self.api(escape.api_command("uuid_getvar", call.caller_leg, hold_music.VARIABLE)) or ""
        music = reply.strip()
        if not music or music == "_undef_" or music.startswith("-ERR") or music.startswith("say:"):
            return DEFAULT_MOH
        sounds = escape.inert("${sounds_dir}/")
        if music.startswith(sounds):
            where = (self.api(escape.api_command("global_getvar", "sounds_dir")) or "").strip()
            if not where or where.startswith("-"):
                return DEFAULT_MOH
            music = f"{where}/{music[len(sounds) :]}"
        return music

    def _off_hold(self, call: AgentCall) -> None:
        """Before the agent's leg is bridged to someone else (a consult): whoever it talks to
        next must not hear the hold music in place of the agent."""
        music = self._held(call)
        if music:
            self.api(escape.api_command("uuid_displace", call.agent_leg, "stop", music))
            self.api(escape.setvar_command(call.agent_leg, HELD, ""))

    def pickup(self, agent: str, *, ringing_at: str | None = None, caller: str | None = None) -> str:
        """``agent`` takes a queue call that rings at another agent's phone (``ringing_at``)
        or, by the caller's channel UUID, whoever it rings at. Returns the leg that rings
        ``agent``'s phone.

        The picking agent is reserved for the caller and the pickup noted on the caller's
        row; then the ringing legs are hung up with PICKED_OFF (what intercept gives the
        leg it takes a call from, switch_ivr_bridge.c:2333; on 1.10.12 the caller's bridge
        then ends with originate_disposition PICKED_OFF).
        The queue application, whose bridge that ends, counts no no-answer against the
        agents it rang and rings ``agent`` at once as the call's agent."""
        with self.store.operator() as op:
            if caller is None:
                row = store_acd.agent_call(op.conn, ringing_at or "", self.tenant)
                if row is None:
                    raise NoSuchThing(f"no agent {ringing_at!r}")
                if row["state"] != AgentState.RECEIVING:
                    raise OperationError(f"no call rings at agent {ringing_at!r} ({row['state']})")
                caller = str(row["offered_member"])
            ringing = store_acd.ringing_for(op.conn, caller, self.tenant)
            if not ringing:
                raise OperationError(f"caller {caller} is not ringing at any agent")
            if agent in {r["agent_id"] for r in ringing}:
                raise OperationError(f"the call already rings at agent {agent!r}: answer it")
            contact = store_acd.agent_contact(op.conn, agent, self.tenant)
            if contact is None:
                raise NoSuchThing(f"no agent {agent!r} with a phone to take the call")
            leg = str(uuidlib.uuid4())
            if not store_acd.reserve(op.conn, agent, caller, ringing[0]["offered_by"], self.now(), leg):
                raise OperationError(f"agent {agent!r} is busy: a pickup needs them free (Waiting)")
            note = {"pickup": agent, "leg": leg, "dial": _dial(contact)}
            noted = store_acd.note_pickup(op.conn, caller, note)
            if noted is None:
                raise OperationError(f"caller {caller} is not in a queue")
            if not noted:  # the transaction's end undoes the reservation
                raise OperationError(f"caller {caller} is being picked up already")
        if not self._kill_ringing(caller, [str(r["agent_leg"]) for r in ringing]):
            # Its ring ended first (answered, no answer, the caller left): nothing to take.
            with self.store.operator() as op:
                store_acd.drop_transfer(op.conn, caller, note)
                store_acd.release(op.conn, agent, caller, {"state": AgentState.WAITING})
            raise OperationError(f"caller {caller} stopped ringing before the pickup")
        return leg

    def _kill_ringing(self, caller: str, legs: list[str]) -> bool:
        """Hang up the legs ringing for ``caller``. An agent is Receiving a moment before
        their leg exists (the offer is written, then the bridge starts): retry while the
        offer still stands."""
        deadline = time.monotonic() + 3.0
        while True:
            killed = [
                (self.api(escape.api_command("uuid_kill", leg, PICKED_OFF)) or "").strip().startswith("+OK")
                for leg in legs
            ]
            if any(killed) or time.monotonic() > deadline:
                return any(killed)
            with self.store.operator() as op:
                still = store_acd.still_ringing(op.conn, caller, legs)
            if not still:
                return False
            time.sleep(0.05)

    def consult(self, agent: str, *, to_agent: str | None = None, dial: str | None = None) -> str:
        """Attended transfer, first step: the agent talks to another agent or a dial string
        while their caller hears hold music. Returns the consulted leg.

        The target is originated parked and, once it answers, bridged to the agent's leg
        (uuid_bridge): the caller's bridge ends, and the queue application, which finds the
        consult noted on the caller's row, holds the caller. park_after_bridge keeps each
        of the two legs when the other goes (switch_ivr_bridge.c:1931, 995): the agent's when the
        target hangs up (the caller comes back to them), the target's when the agent does
        (the transfer completes)."""
        call = self.current_call(agent)
        with self.store.operator() as op:
            queued, noted = store_acd.member_transfer(op.conn, call.caller_leg)
        if not queued:
            raise OperationError(f"agent {agent!r}'s caller is not in a queue")
        if "consult" in noted:
            raise OperationError(f"agent {agent!r} is consulting already: complete or cancel it")
        if to_agent is not None:
            target = self._contact(to_agent)
        elif dial:
            target = _dial(dial)
        else:
            raise BadTarget("consult whom? (an agent or a dial string)")
        self._off_hold(call)
        head = {"park_after_bridge": "true", "origination_caller_id_name": f"consult {agent}"}
        leg = self._originate(head, target, "park")
        where = {"consult": leg, "by": agent, "step": "consulting"}
        try:
            with self.store.operator() as op:
                if store_acd.ask_transfer(op.conn, call.caller_leg, where) is None:
                    raise OperationError(f"agent {agent!r}'s caller is not in a queue")
            self._api(escape.api_command("uuid_setvar", call.agent_leg, "park_after_bridge", "true"))
            self._api(escape.api_command("uuid_bridge", call.agent_leg, leg))
        except OperationError:
            self.api(escape.api_command("uuid_kill", leg, "NORMAL_CLEARING"))
            with self.store.operator() as op:
                store_acd.drop_transfer(op.conn, call.caller_leg, where)
            raise
        return leg

    def complete_transfer(self, agent: str) -> None:
        """Attended transfer done: the caller is bridged to the consulted party and the
        agent's leg hung up (by the queue application holding the caller). The consulted
        party's direct call shows the caller's number from now on (it rang them from the agent)."""
        caller = self.current_call(agent).caller_leg
        leg = self._consult_step(agent, "complete")
        with self.store.operator() as op:
            handed = store_direct_calls.caller_handed(op.conn, leg, caller)
            if handed is not None:  # the floor redraws at once (fsapps.acd.direct_calls)
                to, number = handed
                relay.announce(op.conn, AgentDirectCall(to, "answered", number, "inbound", leg, self.now()))

    def cancel_transfer(self, agent: str) -> None:
        """The consulted leg is hung up and the caller bridged back to the agent."""
        leg = self._consult_step(agent, "cancel")
        self.api(escape.api_command("uuid_kill", leg, "NORMAL_CLEARING"))

    def _consult_step(self, agent: str, step: str) -> str:
        call = self.current_call(agent)
        with self.store.operator() as op:
            _, note = store_acd.member_transfer(op.conn, call.caller_leg)
            if note.get("step") != "consulting" or not store_acd.consult_step(
                op.conn, call.caller_leg, note["consult"], step
            ):
                raise OperationError(f"agent {agent!r} is not consulting anyone")
        # Wakes the caller's hold music: the queue application looks at the row at once.
        self.api(escape.api_command("uuid_break", call.caller_leg))
        return str(note["consult"])

    def three_way(self, agent: str, dial: str, caller_id: str = "") -> str:
        """Bring a third party into the agent's call; returns the new leg's UUID."""
        call = self.current_call(agent)
        head = {"origination_caller_id_number": caller_id or "fsapps"}
        return self._originate(head, _dial(dial), "three_way", call.agent_leg)

    def dial_out(self, agent: str, target: str, caller_id: str) -> str:
        """The agent calls out: their phone rings first and, once they answer, the switch
        bridges it to ``target`` (a number through a gateway) showing ``caller_id``, the
        tenant's. Returns the agent's leg. The number's leg carries fsapps_outbound_agent:
        its CDR makes the agent's usage record (fsapps.store.cdr.outbound_usage)."""
        if self.tenant is None:
            raise BadTarget("a dial-out is made for a tenant (its caller ID, its CDRs)")
        with self.store.operator() as op:
            row = store_acd.agent_phone_and_state(op.conn, agent, self.tenant)
        if row is None or not row["contact"]:
            raise NoSuchThing(f"no agent {agent!r} with a phone to call from")
        if row["state"] != AgentState.WAITING:
            raise OperationError(f"agent {agent!r} is on a queue call ({row['state']})")
        number = target.rsplit("/", 1)[-1]
        # fsapps_dial_out: the floor shows the agent's leg as their call out (fsapps.acd.direct_calls).
        mine = {"fsapps_tenant": self.tenant, "fsapps_agent": agent, "origination_caller_id_number": number,
                "origination_caller_id_name": "dial-out", "fsapps_dial_out": "true"}  # fmt: skip
        theirs = {"fsapps_tenant": self.tenant, "fsapps_agent": agent, "fsapps_outbound_agent": agent,
                  "origination_caller_id_number": caller_id}  # fmt: skip
        command = escape.originate_bridge_command(mine, _dial(row["contact"]), theirs, _dial(target))
        return self._api(command).removeprefix("+OK").strip()

    # --- supervisors -------------------------------------------------------------------

    def listen(self, agent: str, supervisor_dial: str, mode: str = "listen") -> str:
        """listen, whisper (to the agent) or barge (to both), from the supervisor's phone, on
        the agent's queue call, else on their direct call."""
        if mode not in LISTEN_MODES:
            raise BadTarget(f"mode {mode!r} (expected one of: {', '.join(LISTEN_MODES)})")
        leg = self._call_leg(agent, caller=False)
        variables = {"origination_caller_id_name": f"{mode} {agent}", **LISTEN_MODES[mode]}
        return self._originate(variables, _dial(supervisor_dial), "eavesdrop", leg)

    def force_hangup(self, agent: str) -> None:
        """End the agent's queue call (the caller's leg), else their direct call (their own
        leg, which its bridge ends with it); refused as listening is where the call's tenant
        cannot be told (fsapps.store.direct_calls.monitored_leg)."""
        leg = self._call_leg(agent, caller=True)
        self._api(escape.api_command("uuid_kill", leg, "NORMAL_CLEARING"))

    def _call_leg(self, agent: str, *, caller: bool) -> str:
        """The agent's queue call's leg (the caller's or the agent's own), else the agent's leg
        of a call no queue made (one transferred or consulted to them, one they dialled:
        fsapps.acd.direct_calls), which is theirs to be coached on or hung up too."""
        try:
            call = self.current_call(agent)
        except OperationError:
            with self.store.operator() as op:
                direct = store_direct_calls.monitored_leg(op.conn, agent, self.tenant)
            if direct is None:
                raise
            return direct
        return call.caller_leg if caller else call.agent_leg

    def _contact(self, agent: str) -> str:
        with self.store.operator() as op:
            contact = store_acd.agent_contact(op.conn, agent, self.tenant)
        if contact is None:
            raise NoSuchThing(f"no agent {agent!r} with a phone to transfer to")
        return _dial(contact)

    # --- the switch ----------------------------------------------------------------------

    def _originate(self, variables: dict[str, str], target: str, app: str, arg: str = "") -> str:
        reply = self._api(escape.originate_command(variables, target, app, arg))
        return reply.removeprefix("+OK").strip()

    def _api(self, command: str) -> str:
        reply = (self.api(command) or "").strip()
        if not reply.startswith("+OK"):
            raise SwitchRefused(f"the switch refused {command.split(' ', 1)[0]}: {reply or 'no reply'}")
        return reply


# The operations on an agent's call, by the names `fsapps agent ACTION` and the HTTP API
# give them; each returns the leg it made (consult, pickup, three-way, listen...) or None.
CALL_ACTIONS = (
    "transfer", "consult", "complete", "cancel", "pickup", "three-way", "hold", "unhold",
    "listen", "whisper", "barge", "hangup", "wrap-up-done",
)  # fmt: skip


def run(ops: AgentOperations, action: str, agent: str, *, to_agent: str | None = None,
        to_queue: str | None = None, dial: str | None = None, from_agent: str | None = None,
        caller: str | None = None) -> str | None:  # fmt: skip
    """``action`` on ``agent``'s call: the one dispatch the CLI and the HTTP API share."""
    if action == "transfer":
        ops.transfer(agent, to_agent=to_agent, to_queue=to_queue, dial=dial)
    elif action == "consult":
        return ops.consult(agent, to_agent=to_agent, dial=dial)
    elif action == "complete":
        ops.complete_transfer(agent)
    elif action == "cancel":
        ops.cancel_transfer(agent)
    elif action == "pickup":
        if not from_agent and not caller:
            raise BadTarget("pick up which call? (--from-agent or --caller)")
        return ops.pickup(agent, ringing_at=from_agent, caller=caller)
    elif action == "hold":
        ops.hold(agent)
    elif action == "unhold":
        ops.unhold(agent)
    elif action == "three-way":
        return ops.three_way(agent, dial or "")
    elif action in LISTEN_MODES:
        return ops.listen(agent, dial or "", action)
    elif action == "hangup":
        ops.force_hangup(agent)
    elif action == "wrap-up-done":
        ops.wrap_up_done(agent)
    else:
        raise BadTarget(f"no call operation {action!r} (one of: {', '.join(CALL_ACTIONS)})")
    return None


def _dial(dial: str) -> str:
    """A target to dial: an endpoint and its address, nothing the switch parses as syntax."""
    try:
        return escape.dial_target(dial)
    except escape.UnsafeValue as exc:
        raise BadTarget(str(exc)) from None


def operations_for(settings: Any, store: Store) -> AgentOperations:
    """Operations against the switch named in the settings' ``esl`` section."""
    from fsapps.esl.client import Connection

    if not settings.esl.password:
        raise OperationError("no Event Socket password (esl.password or FSAPPS_ESL_PASSWORD)")

    def api(command: str) -> str:
        conn = Connection(settings.esl.host, settings.esl.port, settings.esl.password)
        conn.connect()
        try:
            return conn.api(command)
        finally:
            conn.stop()

    return AgentOperations(store, api, queues=_flows_queues(settings))


def _flows_queues(settings: Any) -> Callable[[str], Collection[str] | None]:
    """A tenant's queues, from the flows the settings name, read when first asked (a
    transfer to a queue): None for a tenant they do not have, or have with problems (the
    controller may still serve an earlier version of it), so that nothing is refused on
    flows that are not the controller's."""
    from functools import cache
    from pathlib import Path

    from fsapps.flows.check import check

    @cache
    def tenants() -> dict[str, frozenset[str]]:
        root = Path(settings.flows.dir)
        if not root.is_dir():
            return {}
        project = check(root)
        bad = {Path(p.where.file).resolve() for p in project.problems}
        return {
            t.id: frozenset(t.queues) for t in project.tenants
            if not any(f.is_relative_to(Path(t.directory).resolve()) for f in bad)
        }  # fmt: skip

    return lambda tenant: tenants().get(tenant)
