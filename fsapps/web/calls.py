"""Live calls and what people do on them, for the HTTP API: the tenant's callers as the
ACD holds them, and the answer-side operations of fsapps.acd.operations (the same ones
``fsapps agent transfer|consult|...`` runs), asked of the policy first.

Who may: an agent on their own call, a supervisor on their groups' agents' calls, a
tenant admin on any of the tenant's (``call.control``); listening, whispering and barging
are a supervisor's and a tenant admin's (``call.monitor``). The operations run scoped to
the path's tenant (``AgentOperations.tenant``): the agent's call, the call picked up and
the agent transferred to must be that tenant's, checked in the queries that find them,
so a shared agent's call for another tenant is no call here.

Where a call goes is never a dial string from the client: an agent of the tenant (their
phone), one of its queues, an extension of its directory (``user/<ext>@<domain>``), or a
number through one of operator.yaml's gateways; each is then checked by
``escape.dial_target`` on its way to the switch.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

from fsapps.acd import operations
from fsapps.acd.operations import AgentOperations, BadTarget, NoSuchThing, OperationError, SwitchRefused
from fsapps.store import acd as store_acd
from fsapps.store import api as repo
from fsapps.store.db import TenantScope
from fsapps.web import desk
from fsapps.web.policy import Principal, Role, Target
from fsapps.web.service import Refused, Service

MONITOR = ("listen", "whisper", "barge")
TARGETS = ("agent", "queue", "extension", "number")
TAKES_A_TARGET = ("transfer", "consult", "three-way", *MONITOR)
EXTENSION = re.compile(r"[A-Za-z0-9_.-]{1,64}")

log = logging.getLogger("fsapps.api")


class Calls:
    def __init__(self, service: Service, switch: Callable[[str], str] | None,
                 gateways: Callable[[], list[str]]) -> None:  # fmt: skip
        self.service = service
        self.switch = switch
        self.gateways = gateways

    @property
    def principal(self) -> Principal:
        return self.service.principal

    # --- the tenant's live calls -----------------------------------------------------------

    def live(self, tenant_id: str) -> list[dict[str, Any]]:
        """Callers in the tenant's queues (waiting, ringing, talking), with the agent on the
        call and the agents it rings; a supervisor sees their groups' queues' and agents'
        calls, an agent their own."""
        p = self.principal
        with self.service._tenant(tenant_id, "calls.list") as t:
            rows = repo.live_calls(t)
        now = self.service.clock()
        out = []
        for r in rows:
            agents = {a for a in (r["agent"], *r["ringing"]) if a}
            if p.role is Role.SUPERVISOR and r["queue"] not in p.queues and not agents & p.agents:
                continue
            if p.role is Role.AGENT and (p.agent_id is None or p.agent_id not in agents):
                continue
            note = r["transfer"] or {}
            out.append({
                "uuid": str(r["uuid"]), "queue": r["queue"], "number": r["cid_number"], "name": r["cid_name"],
                "state": r["state"], "priority": r["priority"],
                "wait_seconds": round(max(now - r["joined_epoch"], 0.0), 1),
                "agent": r["agent"], "agent_leg": str(r["agent_leg"]) if r["agent_leg"] else None,
                "ringing": sorted(r["ringing"]), "consulting": note.get("step") == "consulting",
                "held": self._held(str(r["agent_leg"])) if r["agent_leg"] else False,
            })  # fmt: skip
        return out

    def _held(self, agent_leg: str) -> bool | None:
        """Whether the agent holds their caller: asked of the switch, where the hold is
        (operations.held_music); None when there is no switch to ask or it did not answer."""
        if self.switch is None:
            return None
        try:
            return bool(operations.held_music(self.switch, agent_leg))
        except Exception:  # the switch is away: the rest of the list stands
            log.warning("hold of leg %s: the switch did not answer", agent_leg)
            return None

    def move(self, tenant_id: str, queue: str, member: str, to: str) -> None:
        """The waiting caller ``member`` leaves ``queue`` for ``to``: the controller holding
        them ends this visit ("moved") and starts one there, as an agent's transfer to a queue."""
        with self.service._tenant(tenant_id, "call.move", Target(tenant_id, queue=queue)):
            self.service._allow("call.move", Target(tenant_id, queue=to))
            defined = self.service.queues_of(tenant_id)
            if queue not in defined:
                raise Refused("not_found", "no_such_queue", f"no queue {queue!r}")
            if to not in defined:
                raise Refused("invalid", "no_such_queue", f"queue: no queue {to!r}")
            if to == queue:
                raise Refused("invalid", "same_queue", f"the caller waits in {queue!r} already")
        # The note is the controller's to act on (its column is not the tenant role's to
        # write): written as the owner, for this tenant's caller in this queue only.
        with self.service.store.operator() as op:
            if not store_acd.ask_move(op.conn, tenant_id, queue, member, to):
                raise Refused("conflict", "not_waiting", f"no caller {member} waiting in {queue!r}")

    def dial_out(self, tenant_id: str, agent: str, number: str, gateway: str | None) -> str:
        """The agent's phone rings; answered, it calls ``number`` through one of the
        operator's gateways, showing the tenant's caller ID (its first access number)."""
        with self.service._tenant(tenant_id, "call.dial_out", Target(tenant_id, agent_id=agent)) as t:
            self.service._agent(t, agent)
            numbers = t.access_numbers()
        if not numbers:
            raise Refused("conflict", "no_caller_id", f"tenant {tenant_id!r} has no number to show callers")
        dial = self.number_dial(number, gateway)
        return self._run(tenant_id, lambda ops: ops.dial_out(agent, dial, numbers[0]))

    # --- an agent's call ------------------------------------------------------------------

    def act(self, tenant_id: str, agent: str, action: str, body: dict[str, Any]) -> str | None:
        """``action`` on ``agent``'s call (for pickup: the call ``agent`` takes); returns the
        leg it made, if it made one."""
        if action not in operations.CALL_ACTIONS:
            raise Refused("not_found", "no_such_action", f"no call operation {action!r}")
        kind = "call.monitor" if action in MONITOR else "call.control"
        target = Target(tenant_id, agent_id=agent)
        where: dict[str, str | None] = {}
        with self.service._tenant(tenant_id, kind, target) as t:
            self.service._agent(t, agent)
            if action == "wrap-up-done" and self.principal.role is Role.AGENT:
                from fsapps.web.wrapups import check_ready  # ending wrap-up is going ready

                check_ready(t, agent, "Available")
            if action == "pickup":
                if body.get("from_agent"):
                    self._known_agent(t, body["from_agent"], "from_agent")
                    p = self.principal
                    if p.role is Role.SUPERVISOR and body["from_agent"] not in p.agents:
                        # The call rings at another group's agent: not theirs to hand round.
                        raise Refused("forbidden", "forbidden", "a call ringing in another group")
                where = {"from_agent": body.get("from_agent"), "caller": body.get("caller")}
            elif action in TAKES_A_TARGET:
                where = self._where(t, body, action)
            # The card travels with the call (S2.4): the caller, read before the agent's leg goes.
            to = where.get("to_agent")
            caller = desk.caller_handed_over(t, agent) if to else None
        leg = self._run(tenant_id, lambda ops: operations.run(ops, action, agent, **where))
        if to and caller is not None:
            try:
                with self.service._tenant(tenant_id, kind, target) as t:
                    desk.hand_over(t, caller, agent, to, action, self.service.clock())
            except Exception:  # the call went on: only its card stayed behind, said so
                log.exception("call %s: card not handed to %s", caller["member"], to)
        return leg

    def _run(self, tenant_id: str, operation: Callable[[AgentOperations], str | None]) -> Any:
        """An operation of fsapps.acd.operations, scoped to the tenant, its errors as the API's."""
        if self.switch is None:
            raise Refused("unavailable", "no_switch", "no Event Socket connection to the switch here")
        ops = AgentOperations(self.service.store, self.switch, tenant=tenant_id)
        try:
            return operation(ops)
        except NoSuchThing as exc:
            raise Refused("not_found", "no_such_agent", str(exc)) from None
        except BadTarget as exc:
            raise Refused("invalid", "invalid_target", str(exc)) from None
        except SwitchRefused as exc:
            raise Refused("switch", "switch_refused", str(exc)) from None
        except OperationError as exc:
            raise Refused("conflict", "not_now", str(exc)) from None

    def _known_agent(self, t: TenantScope, agent_id: str, field: str) -> None:
        if repo.agent(t, agent_id) is None:  # under the tenant's wall: another tenant's is not there
            raise Refused("invalid", "no_such_agent", f"{field}: no agent {agent_id!r}")

    def _where(self, t: TenantScope, body: dict[str, Any], action: str) -> dict[str, str | None]:
        """Where the body sends the call (or, listening, where the supervisor's phone is):
        exactly one of agent, queue (a transfer only), extension, number."""
        kinds = (
            ("agent", "queue", "extension", "number")
            if action == "transfer"
            else ("agent", "extension", "number")
        )
        given = [k for k in kinds if body.get(k)]
        if len(given) != 1 or any(
            body.get(k) for k in ("agent", "queue", "extension", "number") if k not in kinds
        ):
            raise Refused("invalid", "invalid_target", f"{action}: give one of {', '.join(kinds)}")
        kind = given[0]
        value = str(body[kind])
        if kind == "agent":
            self._known_agent(t, value, "agent")
            if action in ("transfer", "consult"):
                return {"to_agent": value}
            contact = repo.agent(t, value)["contact"]  # type: ignore[index]
            if not contact:
                raise Refused("invalid", "no_phone", f"agent {value!r} has no phone to ring")
            return {"dial": contact}
        if kind == "queue":
            if value not in self.service.queues_of(t.tenant_id):
                raise Refused("invalid", "no_such_queue", f"queue: no queue {value!r}")
            return {"to_queue": value}
        if kind == "extension":
            if not EXTENSION.fullmatch(value):
                raise Refused("invalid", "invalid_target", "extension: letters, digits, . _ -")
            return {"dial": f"user/{value}@{t.info().domain}"}
        return {"dial": self.number_dial(value, body.get("gateway"))}

    def number_dial(self, number: str, gateway: str | None) -> str:
        """A number through one of the operator's gateways (the first, unless one is named)."""
        gateways = self.gateways()
        if gateway is None:
            if not gateways:
                raise Refused("invalid", "no_gateway", "no gateway in operator.yaml to dial numbers through")
            gateway = gateways[0]
        elif gateway not in gateways:
            raise Refused("invalid", "no_such_gateway", f"gateway: no gateway {gateway!r}")
        return f"sofia/gateway/{gateway}/{number}"
