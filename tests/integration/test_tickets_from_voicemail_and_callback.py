"""Tickets from what callers leave, end to end: calls through the emulator (its mod_voicemail
writes the message and fires vm::maintenance leave-message), a controller on its Event
Socket, PostgreSQL. A message left in a box opens a ticket (on by default, as in Zendesk
Talk) linked to the customer whose number called, assigned by the skill the flow names,
its voicemail playable through the API; a box whose node says ``ticket: false`` keeps the
message and opens none; a callback request opens one when its node says ``ticket: true``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fsapps.config import EslSettings
from fsapps.flows.check import check
from fsapps.sim.endpoints import CallerScript
from fsapps.sim.switch import Switch, SwitchConfig
from fsapps.store import acd, customers
from fsapps.store import api as repo
from fsapps.store.records import Tenant
from fsapps.web.app import ApiContext
from tests.support.api import PASSWORD, Client, serve_api
from tests.support.controllers import load_rendered, start_controller
from tests.support.waiting import wait_for

START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC).timestamp()
ADA = "13800000077"
TENANT = {
    "id": "vmco", "name": "VMco", "domain": "vmco.example", "timezone": "UTC", "language": "en",
    "access_numbers": {"7300": "box", "7301": "quiet", "7302": "cb"},
    "queues": {"support": {"tiers": ["vm_bo"]}},
}  # fmt: skip
FLOWS = {
    "box": {"start": "vm", "nodes": {"vm": {"type": "voicemail", "data": {
        "box": "billing", "ticket_skill": "billing", "ticket_priority": "high"}}}},
    "quiet": {"start": "vm", "nodes": {"vm": {"type": "voicemail",
                                              "data": {"box": "notes", "ticket": False}}}},
    "cb": {"start": "ask", "nodes": {
        "ask": {"type": "callback", "data": {"ticket": True, "ticket_queue": "support"},
                "children": {"_": "bye"}},
        "bye": {"type": "hangup"}}},
}  # fmt: skip


@dataclass
class Site:
    switch: Switch
    admin: Client
    agent: Client
    ada: int
    store: Any


def _dialplan(root: Path) -> Path:
    (root / "vmco" / "flows").mkdir(parents=True)
    (root / "vmco" / "tenant.yaml").write_text(json.dumps(TENANT))
    for name, flow in FLOWS.items():
        (root / "vmco" / "flows" / f"{name}.yaml").write_text(json.dumps(flow))
    (root / "operator.yaml").write_text("tts: {engine: flite, voice: slt}\n")
    return root


@contextmanager
def site(store: Any, tmp_path: Path) -> Iterator[Site]:
    """Tenant vmco: agents vm_al (skill billing, user ``al``) and vm_bo (none); customer Ada;
    an emulator whose storage is under tmp_path; a controller on its Event Socket; the API,
    reading the voicemails where the emulator's mod_voicemail keeps them."""
    with store.operator() as op:
        op.add_tenant(Tenant("vmco", "VMco", "vmco.example"))
        for agent in ("vm_al", "vm_bo"):
            op.add_agent(agent, agent, {"vmco": 1})
            acd.ensure_agent(op.conn, agent)
    with store.tenant("vmco") as t:
        al = t.add_user("al", PASSWORD, "agent").id
        t.add_user("boss", PASSWORD, "tenant_admin")
        repo.set_skills(t, "vm_al", {"billing": 6})
        ada = customers.create(t, {"name": "Ada Lovelace", "company": "", "tags": [], "custom_fields": {},
                                   "owner_agent": None, "numbers": [ADA]})  # fmt: skip
    with store.operator() as op:
        op.conn.execute("UPDATE agents SET user_id = %s WHERE id = 'vm_al'", (al,))
    project = check(_dialplan(tmp_path / "dialplan"))
    assert project.problems == []
    storage = tmp_path / "storage"
    switch = Switch(SwitchConfig(speed=10.0, start=START, recordings_dir=str(tmp_path / "rec"))).start()
    switch.globals["storage_dir"] = str(storage)
    esl = EslSettings("127.0.0.1", switch.port, switch.password)
    controller = start_controller(project, store, switch.clock, tmp_path / "c0", esl=esl)
    server = None
    try:
        load_rendered(switch, project, [controller], tmp_path / "conf")
        assert controller.client is not None and controller.client.wait_connected(10)
        ctx = ApiContext(store, lambda tenant: TENANT["queues"] if tenant == "vmco" else {},
                         clock=switch.clock.now, voicemails=storage / "voicemail",
                         session_hours=24 * 365 * 20)  # the emulator's clock starts in 2026  # fmt: skip
        server = serve_api(ctx)
        admin, agent = Client(server.server_port), Client(server.server_port)
        assert admin.login("boss", PASSWORD).status == 200 and agent.login("al", PASSWORD).status == 200
        yield Site(switch, admin, agent, ada, store)
    finally:
        if server is not None:
            server.stop(timeout=2)
        controller.stop(grace=1.0)
        switch.stop()


K = "/api/v1/tenants/vmco/tickets"


def _call(s: Site, to: str, number: str, speech: float = 0.0) -> None:
    caller = s.switch.place_call(to, caller_id_number=number, script=CallerScript(speech_seconds=speech))
    assert caller.destroyed.wait(30), f"the call to {to} did not end"


def test_a_voicemail_opens_a_ticket_for_the_skilled_agent_with_the_message_playable(store, tmp_path) -> None:
    with site(store, tmp_path) as s:
        _call(s, "7300", ADA, speech=8.0)
        tickets = wait_for(lambda: s.admin.get(K).json, timeout=20)
        (t,) = tickets
        assert (t["source"], t["priority"], t["customer_id"], t["customer_name"], t["contact"]) == (
            "voicemail", "high", s.ada, "Ada Lovelace", ADA)  # fmt: skip
        assert (t["assignee_agent"], t["required_skill"], t["created_by"]) == ("vm_al", "billing", "system")
        assert t["subject"].startswith(f"Voicemail from {ADA} (")
        assert t["voicemail"] is not None and t["call_uuid"] is not None
        # The message, and its audio, from the ticket: the assigned agent hears it too.
        vm = s.agent.get(f"/api/v1/tenants/vmco/voicemails/{t['voicemail']}")
        assert vm.status == 200, vm
        assert (vm.json["box"], vm.json["caller_number"], vm.json["ticket"]) == ("billing", ADA, t["number"])
        assert vm.json["seconds"] >= 1
        audio = s.agent.request("GET", f"/api/v1/tenants/vmco/voicemails/{t['voicemail']}/audio")
        assert audio.status == 200 and audio.headers["content-type"] == "audio/wav"
        assert audio.body[:4] == b"RIFF"
        # On Ada's card, the ticket is on her timeline.
        timeline = s.admin.get(f"/api/v1/tenants/vmco/customers/{s.ada}/timeline").json
        assert [e["detail"]["number"] for e in timeline if e["kind"] == "ticket"] == [t["number"]]


def test_a_quiet_box_keeps_the_message_without_a_ticket_and_a_callback_opens_one(store, tmp_path) -> None:
    with site(store, tmp_path) as s:
        _call(s, "7301", "13900000001", speech=5.0)
        _call(s, "7302", "13900000002")
        (t,) = wait_for(lambda: s.admin.get(K).json, timeout=20)
        assert (t["source"], t["assignee_queue"], t["contact"], t["customer_id"], t["voicemail"]) == (
            "callback", "support", "13900000002", None, None)  # fmt: skip
        assert t["subject"] == "Callback request from 13900000002"
        with store.tenant("vmco") as scope:
            kept = wait_for(lambda: scope._all("SELECT box, caller_number FROM voicemails"), timeout=20)
        assert kept == [{"box": "notes", "caller_number": "13900000001"}]
        assert [k["source"] for k in s.admin.get(K).json] == ["callback"]
