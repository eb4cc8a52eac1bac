"""Voicemails from the switch's ``vm::maintenance`` leave-message events, written durably,
with the ticket each one opens (the flow's voicemail node says whether: on by default, and
with which queue, skill and priority; fsapps.flows.nodes.ticket_options).

mod_voicemail fires the event once the message is kept (mod_voicemail.c:2892-2908 in
v1.10.12: VM-Action leave-message, VM-User, VM-Domain, VM-Caller-ID-Name/-Number,
VM-File-Path, VM-UUID, VM-Message-Len, and the channel's own headers, Unique-ID among
them, when there is a channel; a message left from a call has the call's uuid as VM-UUID,
l.3670-3672). The tenant is the one whose domain is VM-Domain and whose
flows have a voicemail node for the box. ``records_of`` is pure; the collector is thin."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from fsapps import tickets
from fsapps.esl import codec
from fsapps.esl.client import InboundClient
from fsapps.flows.model import Node, Tenant
from fsapps.store.records import TicketRequest, Voicemail

log = logging.getLogger("fsapps.store")

SUBCLASS = "vm::maintenance"
_NAMESPACE = uuid.UUID("2b7f3c1e-8a4d-4e0b-b5a1-7c9e0d3f6a21")


def box_node(tenant: Tenant, box: str) -> Node | None:
    """The first voicemail node (by flow, then node id) for ``box`` in the tenant's flows."""
    for name in sorted(tenant.flows):
        for node_id in sorted(tenant.flows[name].nodes):
            node = tenant.flows[name].nodes[node_id]
            if node.type == "voicemail" and str(node.get("box")) == box:
                return node
    return None


def records_of(fields: Mapping[str, str], tenants: Iterable[Tenant], now: datetime) -> list[Any]:
    """The Voicemail (and its TicketRequest) a leave-message event makes; [] for any other
    event, or a box no tenant's flows have."""
    if fields.get("VM-Action") != "leave-message" or not fields.get("VM-File-Path"):
        return []
    domain, box = fields.get("VM-Domain", ""), fields.get("VM-User", "")
    for tenant in tenants:
        node = box_node(tenant, box) if tenant.domain == domain else None
        if node is not None:
            break
    else:
        return []
    path = fields["VM-File-Path"]
    seconds = int(fields["VM-Message-Len"]) if fields.get("VM-Message-Len", "").isdigit() else 0
    at = now
    if fields.get("VM-Timestamp", "").isdigit():
        at = datetime.fromtimestamp(int(fields["VM-Timestamp"]), UTC)
    call = fields.get("Unique-ID") or fields.get("VM-UUID") or None
    number = fields.get("VM-Caller-ID-Number", "")
    vm = Voicemail(tenant_id=tenant.id, box=box, path=path, left_at=at, seconds=seconds, call_uuid=call,
                   caller_number=number, caller_name=fields.get("VM-Caller-ID-Name", ""),
                   event_id=str(uuid.uuid5(_NAMESPACE, f"{tenant.id}:{path}")))  # fmt: skip
    if node.get("ticket", True) is not True:
        return [vm]
    ticket = TicketRequest(
        tenant_id=tenant.id, source="voicemail", requested_at=at, number=number, call_uuid=call,
        subject=tickets.intake_subject("voicemail", number, tenant.language, seconds),
        queue=node.get("ticket_queue"), skill=node.get("ticket_skill"),
        priority=node.get("ticket_priority") or "normal", voicemail=vm.event_id,
        event_id=str(uuid.uuid5(_NAMESPACE, f"ticket:{vm.event_id}")),
    )  # fmt: skip
    return [vm, ticket]


class VoicemailCollector:
    """``tenants``: the checked flows' tenants now (they are reloaded); ``write``: the durable
    writer's (a voicemail and its ticket in one transaction)."""

    def __init__(self, client: InboundClient, write: Callable[..., Any],
                 tenants: Callable[[], Iterable[Tenant]],
                 now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:  # fmt: skip
        self.write, self.tenants, self.now = write, tenants, now
        self.collected = 0
        if f"CUSTOM {SUBCLASS}" not in client.events:
            client.events.append(f"CUSTOM {SUBCLASS}")
        client.on(SUBCLASS, self.on_maintenance)

    def on_maintenance(self, event: codec.Event) -> None:
        records = records_of(event.fields, self.tenants(), self.now())
        if records:
            self.write(*records)
            self.collected += 1
