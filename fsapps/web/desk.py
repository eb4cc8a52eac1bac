"""The agent's desk, for the HTTP API: the screen pops of the calls ringing, talking to or
handed to an agent (so a reloaded desk pops them again), the hand-over of a caller's card
when one agent transfers or consults another, and the card's recordings.

A screen pop names the caller (number, name, queue), what the offer carried (the lookup's
screen-pop fields: from the live events' history, fsapps.web.live) and the tenant's
customer with that number (the card), or none (the desk's new-customer form). A handover
is written on the tenant's ``call_handovers`` and told to the event streams (``handover``)
in the same transaction, through the database (fsapps.acd.relay): whichever server's
stream the receiving agent follows hears it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from fsapps import customers as rules
from fsapps import escape
from fsapps.acd import relay
from fsapps.acd.notifier import CallHandedOver
from fsapps.store import api as repo
from fsapps.store import customers as crm
from fsapps.store import desk as store
from fsapps.store.db import TenantScope
from fsapps.web.live import LiveEvents
from fsapps.web.policy import Target
from fsapps.web.service import Refused, Service, recording_path

# A handover pops on the receiving desk while the caller's channel lasts (the switch's
# uuid_exists); with no switch to ask, for this long.
HANDOVER_HOURS = 1.0


class Desk:
    def __init__(self, service: Service, live: LiveEvents | None,
                 switch: Callable[[str], str] | None) -> None:  # fmt: skip
        self.service = service
        self.live = live
        self.switch = switch

    def screen_pops(self, tenant_id: str, agent: str) -> dict[str, Any]:
        """The agent's calls as their desk pops them: ringing their phone, talking to them,
        and handed to them by another agent (newest handover per caller); and the tenant's
        timezone, in which the desk shows the card's times."""
        with self.service._tenant(tenant_id, "calls.list", Target(tenant_id, agent_id=agent)) as t:
            self.service._agent(t, agent)
            pops: dict[str, dict[str, Any]] = {}
            for r in repo.live_calls(t):
                if r["agent"] == agent or agent in r["ringing"]:
                    member = str(r["uuid"])
                    state = "talking" if r["agent"] == agent else "ringing"
                    number, name = r["cid_number"] or "", r["cid_name"] or ""
                    pops[member] = self._pop(t, member, r["queue"], number, name, state)
            for h in reversed(store.handovers_to(t, agent, HANDOVER_HOURS)):
                member = str(h["member"])
                if member in pops:
                    continue  # an offer to them now (a transfer to their queue): as any offer
                if h["how"] == "consult" and h["with_from"] and not h["consulting"]:
                    continue  # the consult was called off: the caller is back with who handed it
                if not self._lasts(member):
                    continue
                pop = self._pop(t, member, h["queue"], h["number"], h["name"], "handed_over")
                pop["handover"] = {"by": h["from_agent"], "how": h["how"], "at": h["at"]}
                pops[member] = pop
            timezone = t.info().timezone
        return {"timezone": timezone, "pops": list(pops.values())}

    def _lasts(self, member: str) -> bool:
        if self.switch is None:
            return True
        try:
            return (self.switch(escape.api_command("uuid_exists", member)) or "").strip() == "true"
        except Exception:  # the switch is away: what the desk was told stands
            return True

    def _pop(self, t: TenantScope, member: str, queue: str, number: str, name: str,
             state: str) -> dict[str, Any]:  # fmt: skip
        variables = self.live.offer_variables(t.tenant_id, member) if self.live is not None else {}
        return {"member": member, "queue": queue, "number": number, "name": name, "state": state,
                "variables": variables, "customer": _customer_of(t, number), "handover": None}  # fmt: skip

    def recording_file(self, tenant_id: str, customer_id: int, recording_id: str,
                       recordings_dir: Path | None) -> Path:  # fmt: skip
        """A recorded call on the customer's timeline, played from their card: whoever reads
        the card may hear its calls (``customer_recordings.read``), and only the card's."""
        with self.service._tenant(tenant_id, "customer_recordings.read") as t:
            if crm.customer(t, customer_id) is None:
                raise Refused("not_found", "no_such_customer", f"no customer {customer_id}")
            stored = store.customer_recording(t, customer_id, recording_id)
        if stored is None:
            raise Refused("not_found", "no_such_recording", f"no recording {recording_id} of this customer")
        return recording_path(recordings_dir, tenant_id, stored, recording_id)


def _customer_of(t: TenantScope, number: str) -> int | None:
    try:
        caller = rules.normalise_number(number)
    except ValueError:
        return None  # a withheld or odd caller ID: nobody's
    row = crm.by_number(t, caller)
    return None if row is None else int(row["id"])


def caller_handed_over(t: TenantScope, agent: str) -> dict[str, Any] | None:
    """Before ``agent`` transfers or consults another agent: their caller (None: on no
    queue call of this tenant, which the operation then refuses)."""
    return store.caller_of(t, agent)


def hand_over(t: TenantScope, caller: dict[str, Any], by: str, to: str, how: str, now: float) -> None:
    """The caller's card goes to agent ``to``: written, and told to the event streams when
    the transaction commits."""
    customer = _customer_of(t, caller["number"])
    store.add_handover(t, caller, by, to, how, customer)
    relay.announce(t.conn, CallHandedOver(
        t.tenant_id, caller["queue"], str(caller["member"]), to, by, how, caller["number"], caller["name"],
        customer or 0, now,
    ))  # fmt: skip
