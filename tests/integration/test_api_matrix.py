"""Every endpoint x every role x (their own things, their tenant's other things, another
tenant) -> the status the rules promise, over real HTTP against the real PostgreSQL.

Each row gives a role's status as one number (the same for their own and their tenant's
other things) or a pair (theirs, the rest of their tenant's): "theirs" is the agent's own
agent and the supervisor's group's queue and agent (agent <tenant>1, queue support),
"the rest" agent <tenant>2 and queue sales. In another tenant every role but the operator
gets 404 (a tenant's users cannot tell which other tenants exist); the operator gets what
they get anywhere. Without credentials, every endpoint answers 401.

A route with no row here fails test_every_endpoint_has_a_row.
"""

from __future__ import annotations

import itertools
import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from fsapps.flows.upload import FlowsSite
from fsapps.store import selfservice
from fsapps.web.app import PUBLIC, ApiContext, make_app
from fsapps.web.live import LiveEvents
from tests.support.api import QUEUES, ROLES, CallCenter, Client, Reply, populate, serve_api, static_queues
from tests.support.sse import open_stream

OP, ADMIN, SUP, AGENT, QA = ROLES
_n = itertools.count(1)


@dataclass(frozen=True)
class Row:
    method: str
    path: str  # with the route's own placeholder names
    expect: dict[str, int | tuple[int, int]]
    body: Any = None  # a value, or fill -> value
    query: str = ""
    prepare: Callable[[Any, dict[str, str]], dict[str, str]] | None = None  # (store, fill) -> more fill
    content_type: str = "application/json"  # of a 2xx answer with a body
    stream: bool = False  # a 2xx answer that does not end (server-sent events): read its head only


def everyone(status: int) -> dict[str, int | tuple[int, int]]:
    return dict.fromkeys(ROLES, status)


def only(allowed: dict[str, int | tuple[int, int]]) -> dict[str, int | tuple[int, int]]:
    return {role: allowed.get(role, 403) for role in ROLES}


def _outage(store: Any, fill: dict[str, str]) -> dict[str, str]:
    now = datetime.now(UTC)
    with store.tenant(fill["tenant"]) as t:
        oid = selfservice.post_outage(t, "prefix", "+1555", "Works", now, now + timedelta(hours=1))
    return {"outage_id": str(oid)}


def _blacklisted(store: Any, fill: dict[str, str]) -> dict[str, str]:
    with store.tenant(fill["tenant"]) as t:
        selfservice.add_blacklist(t, "+15550999")
    return {"number": "+15550999"}


def _token(store: Any, fill: dict[str, str]) -> dict[str, str]:
    with store.tenant(fill["tenant"]) as t:
        t.issue_token(int(fill["user_id"]), "to revoke")
        row = t._one("SELECT max(id) AS id FROM api_tokens")
    return {"token_id": str(row["id"])}


def _wallboard(store: Any, fill: dict[str, str]) -> dict[str, str]:
    from fsapps.store import api as repo

    with store.tenant(fill["tenant"]) as t:
        token_id, _ = repo.issue_wallboard_token(t, "to revoke", None)
    return {"token_id": str(token_id)}


def _waiting(store: Any, fill: dict[str, str]) -> dict[str, str]:
    """A caller of their own for each cell: a moved caller is being moved, not waiting."""
    import time

    member = str(uuid.uuid4())
    with store.operator() as op:
        op.conn.execute(
            "INSERT INTO queue_members (uuid, tenant_id, queue, joined_epoch) VALUES (%s, %s, %s, %s)",
            (member, fill["tenant"], fill["queue"], time.time() - 5),
        )
    return {"member": member}


RECORDINGS: list[Path] = []  # the matrix's recordings directory (set by the fixture)
VOICEMAILS: list[Path] = []  # the matrix's voicemail storage (set by the fixture)


def _recording(store: Any, fill: dict[str, str]) -> dict[str, str]:
    """A recorded call in the cell's queue, its file in the tenant's recordings folder."""
    event = str(uuid.uuid4())
    path = RECORDINGS[0] / fill["tenant"] / f"{event}.wav"
    path.write_bytes(b"RIFF....WAVE")
    with store.operator() as op:
        op.conn.execute(
            "INSERT INTO queue_calls (event_id, tenant_id, queue, agent_id, joined_at, ended_at,"
            " wait_seconds, outcome, recording) VALUES (%s, %s, %s, %s, now(), now(), 0, 'answered', %s)",
            (event, fill["tenant"], fill["queue"], fill["agent"], str(path)),
        )
    return {"recording": event}


def _callback(claimed: bool) -> Callable[[Any, dict[str, str]], dict[str, str]]:
    def prepare(store: Any, fill: dict[str, str]) -> dict[str, str]:
        event = str(uuid.uuid4())
        with store.tenant(fill["tenant"]) as t:
            t.conn.execute(
                "INSERT INTO callback_requests (event_id, tenant_id, number, queue, requested_at, status,"
                " claimed_by) VALUES (%s, %s, '+15550142', %s, now(), %s, %s)",
                (event, fill["tenant"], fill["queue"], "dialing" if claimed else "pending",
                 fill["agent"] if claimed else None),
            )  # fmt: skip
        return {"event_id": event}

    return prepare


def _throwaway_user(store: Any, fill: dict[str, str]) -> dict[str, str]:
    with store.tenant(fill["tenant"]) as t:
        user = t.add_user(f"gone{uuid.uuid4().hex[:8]}", "long-enough", "agent")
    return {"user_id": str(user.id)}


def _new_agent(store: Any, fill: dict[str, str]) -> dict[str, str]:
    from fsapps.store import agents

    agent = f"gone{uuid.uuid4().hex[:8]}"
    with store.operator() as op:
        agents.create_agent(op, agent, "To be taken off", {fill["tenant"]: 1})
    return {"agent": agent}


def _customer(owner: bool) -> Callable[[Any, dict[str, str]], dict[str, str]]:
    """A customer of the cell's tenant with a number of its own (owned by the cell's agent)."""

    def prepare(store: Any, fill: dict[str, str]) -> dict[str, str]:
        from fsapps.store import customers

        number = f"+1555{next(_n):07d}"
        c = {"name": "Ada", "company": "", "tags": ["vip"], "custom_fields": {}, "numbers": [number],
             "owner_agent": fill["agent"] if owner else None}  # fmt: skip
        with store.tenant(fill["tenant"]) as t:
            return {"customer": str(customers.create(t, c)), "number": number}

    return prepare


def _field(store: Any, fill: dict[str, str]) -> dict[str, str]:
    from fsapps.store import customers

    with store.tenant(fill["tenant"]) as t:
        customers.put_field(t, "plan", "text", "Plan")
    return {"name": "plan"}


def _scorecard(store: Any, fill: dict[str, str]) -> dict[str, str]:
    from fsapps.store import qa

    with store.tenant(fill["tenant"]) as t:
        greeted = {"label": "Greeted", "weight": 1, "type": "yes_no", "max": 1, "critical": False}
        card = qa.create_scorecard(t, "Etiquette", [greeted], "matrix")
    return {"scorecard": str(card)}


def _evaluation(store: Any, fill: dict[str, str]) -> dict[str, str]:
    """An evaluation of a recorded call in the cell's queue, answered by the cell's agent."""
    from fsapps.store import qa

    more = _scorecard(store, fill) | _recording(store, fill)
    with store.tenant(fill["tenant"]) as t:
        version = qa.scorecard(t, int(more["scorecard"]))["version_id"]
        e = qa.add_evaluation(t, {
            "recording": more["recording"], "version": version, "call_uuid": None, "queue": fill["queue"],
            "agent_id": fill["agent"], "call_at": datetime.now(UTC), "evaluator": "matrix",
            "answers": [{"value": True, "note": ""}], "note": "", "score": 100, "critical_failed": False})
    return more | {"evaluation": str(e)}
def _card_recording(store: Any, fill: dict[str, str]) -> dict[str, str]:
    """A customer of the cell's tenant and a recorded call from their number."""
    fill = fill | _customer(False)(store, fill)
    event = str(uuid.uuid4())
    path = RECORDINGS[0] / fill["tenant"] / f"{event}.wav"
    path.write_bytes(b"RIFF....WAVE")
    with store.operator() as op:
        op.conn.execute(
            "INSERT INTO queue_calls (event_id, tenant_id, queue, agent_id, caller, joined_at, ended_at,"
            " wait_seconds, outcome, recording) VALUES (%s, %s, %s, %s, %s, now(), now(), 0, 'answered', %s)",
            (event, fill["tenant"], fill["queue"], fill["agent"], fill["number"], str(path)),
        )
    return {"customer": fill["customer"], "recording": event}




def _card_voicemail(store: Any, fill: dict[str, str]) -> dict[str, str]:
    """A customer of the cell's tenant and a message their number left, its file where
    mod_voicemail puts the tenant's domain's boxes."""
    fill = fill | _customer(False)(store, fill)
    event = str(uuid.uuid4())
    path = VOICEMAILS[0] / "default" / f"{fill['tenant']}.example" / "100" / f"msg_{event}.wav"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"RIFF....WAVE")
    with store.operator() as op:
        op.conn.execute(
            "INSERT INTO voicemails (event_id, tenant_id, box, caller_number, path, seconds, left_at)"
            " VALUES (%s, %s, '100', %s, %s, 3, now())",
            (event, fill["tenant"], fill["number"], str(path)),
        )
    return {"customer": fill["customer"], "voicemail": event}


def _webhook(store: Any, fill: dict[str, str]) -> dict[str, str]:
    from fsapps.store import webhooks

    with store.tenant(fill["tenant"]) as t:
        webhooks.put(t, "https://crm.example.com/calls", "s" * 32, True)
    return {}


def _article(kind: str) -> Callable[[Any, dict[str, str]], dict[str, str]]:
    """An article (or the cell's queue's call script) of the cell's tenant."""

    def prepare(store: Any, fill: dict[str, str]) -> dict[str, str]:
        from fsapps.store import knowledge

        a = {"kind": kind, "title": "如何办理信用卡挂失", "body": "先核实身份", "tags": [],
             "queues": [fill["queue"]] if kind == "script" else []}  # fmt: skip
        with store.tenant(fill["tenant"]) as t:
            return {"article": str(knowledge.create(t, a, "matrix"))}

    return prepare


def _code(store: Any, fill: dict[str, str]) -> dict[str, str]:
    from fsapps.store import wrapups

    with store.tenant(fill["tenant"]) as t:
        wrapups.put_code(t, "matrix", "Matrix", [], 0)
    return {"code": "matrix"}


def _handled(store: Any, fill: dict[str, str]) -> dict[str, str]:
    """A queue call the cell's agent answered in the cell's queue (and the code to give it)."""
    call = str(uuid.uuid4())
    with store.operator() as op:
        op.conn.execute(
            "INSERT INTO queue_calls (event_id, tenant_id, call_uuid, queue, agent_id, joined_at, ended_at,"
            " wait_seconds, outcome) VALUES (%s, %s, %s, %s, %s, now(), now(), 0, 'answered')",
            (str(uuid.uuid4()), fill["tenant"], call, fill["queue"], fill["agent"]),
        )
    return {"call": call} | _code(store, fill)


def _ticket(store: Any, fill: dict[str, str]) -> dict[str, str]:
    """A ticket of the cell's tenant assigned to the cell's agent (acme1 is the agent's own)."""
    from fsapps.store import tickets

    now = datetime.now(UTC)
    k = {"subject": "Router dead", "body": "", "customer_id": None, "source": "agent", "contact": "",
         "priority": "normal", "assignee_agent": fill["agent"], "assignee_queue": None, "now": now,
         "due_at": now + timedelta(days=1)}  # fmt: skip
    with store.tenant(fill["tenant"]) as t:
        k["number"] = tickets.next_number(t)
        tickets.create(t, k, "matrix", uuid.uuid4().hex)
    return {"ticket": str(k["number"])}


def _voicemail(store: Any, fill: dict[str, str]) -> dict[str, str]:
    """A voicemail left in the cell's tenant's box, its file where mod_voicemail keeps it, and
    the ticket it opened, assigned to the cell's agent."""
    from fsapps.store import tickets

    event = str(uuid.uuid4())
    folder = VOICEMAILS[0] / "default" / f"{fill['tenant']}.example" / "support"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"msg_{event}.wav"
    path.write_bytes(b"RIFF....WAVE")
    now = datetime.now(UTC)
    with store.tenant(fill["tenant"]) as t:
        t.conn.execute(
            "INSERT INTO voicemails (event_id, tenant_id, box, path, seconds, left_at)"
            " VALUES (%s, %s, 'support', %s, 12, now())",
            (event, fill["tenant"], str(path)),
        )
        k = {"subject": "Voicemail", "body": "", "customer_id": None, "source": "voicemail",
             "contact": "", "priority": "normal", "assignee_agent": fill["agent"], "assignee_queue": None,
             "now": now, "due_at": now + timedelta(days=1), "number": tickets.next_number(t),
             "voicemail": event}  # fmt: skip
        tickets.create(t, k, "matrix", uuid.uuid4().hex)
    return {"voicemail": event}


T = "/api/v1/tenants/{tenant}"
SSE = "text/event-stream; charset=utf-8"
MATRIX = [
    Row("GET", "/api/v1/session", everyone(200)),
    Row("DELETE", "/api/v1/session", everyone(204)),
    Row("GET", "/api/v1/tenants", only({OP: 200})),
    Row("POST", "/api/v1/tenants", only({OP: 201}),
        body=lambda f: {"id": f"t{next(_n)}", "domain": f"t{next(_n)}.example"}),
    Row("GET", T, only({OP: 200, ADMIN: 200})),
    Row("GET", T + "/users", only({OP: 200, ADMIN: 200})),
    Row("POST", T + "/users", only({OP: 201, ADMIN: 201}),
        body=lambda f: {"username": f"new{next(_n)}", "password": "long-enough", "role": "agent"}),
    Row("PATCH", T + "/users/{user_id}", only({OP: 200, ADMIN: 200}), body={"disabled": False}),
    Row("POST", T + "/users/{user_id}/tokens", only({OP: 201, ADMIN: 201}), body={"name": "matrix"}),
    Row("GET", T + "/users/{user_id}/tokens", only({OP: 200, ADMIN: 200})),
    Row("DELETE", T + "/users/{user_id}/tokens/{token_id}", only({OP: 204, ADMIN: 204}), prepare=_token),
    Row("DELETE", T + "/users/{user_id}", only({OP: 204, ADMIN: 204}), prepare=_throwaway_user),
    Row("GET", T + "/groups", only({OP: 200, ADMIN: 200})),
    Row("PUT", T + "/groups/{group}", only({OP: 204, ADMIN: 204}),
        body=lambda f: {"supervisors": [int(f["supervisor"])], "agents": [f"{f['tenant']}1"],
                        "queues": ["support"]}),
    Row("GET", T + "/agents", only({OP: 200, ADMIN: 200, SUP: 200})),
    Row("GET", T + "/agents/{agent}", only({OP: 200, ADMIN: 200, SUP: (200, 403), AGENT: (200, 403)})),
    Row("PUT", T + "/agents/{agent}/status", only({OP: 200, ADMIN: 200, SUP: (200, 403), AGENT: (200, 403)}),
        body={"status": "Available"}),
    Row("PUT", T + "/agents/{agent}/skills", only({OP: 200, ADMIN: 200, SUP: (200, 403)}),
        body={"skills": {"english": 7}}),
    # The matrix's flows directory has no tenants: the directory cannot be rendered (409), and the
    # phone's rows are rolled back.
    Row("PUT", T + "/agents/{agent}/phone", only({OP: 409, ADMIN: 409}), body={"user": "1001"}),
    Row("POST", T + "/agents", only({OP: 201, ADMIN: 201}),
        body=lambda f: {"id": f"new{uuid.uuid4().hex[:8]}", "contact": {"extension": "1001"}}),
    Row("PATCH", T + "/agents/{agent}", only({OP: 200, ADMIN: 200}), body={"wrap_up_time": 5}),
    Row("DELETE", T + "/agents/{agent}", only({OP: 204, ADMIN: 204}), prepare=_new_agent),
    # The matrix's flows directory has no tenants' folders: no tenant.yaml to rewrite (409).
    Row("GET", T + "/queues/{queue}/tiers", only({OP: 200, ADMIN: 200, SUP: (200, 403)})),
    Row("PUT", T + "/queues/{queue}/tiers", only({OP: 409, ADMIN: 409, SUP: (409, 403)}),
        body=lambda f: {"tiers": [{"agent": f"{f['tenant']}1", "level": 2}]}),
    Row("GET", T + "/queues", only({OP: 200, ADMIN: 200, SUP: 200})),
    Row("GET", T + "/queues/{queue}", only({OP: 200, ADMIN: 200, SUP: (200, 403)})),
    Row("PUT", T + "/queues/{queue}/callers/{member}/priority", only({OP: 204, ADMIN: 204, SUP: (204, 403)}),
        body={"priority": 5}),
    Row("GET", T + "/calls", only({OP: 200, ADMIN: 200, SUP: 200, AGENT: 200})),
    Row("GET", T + "/queue-figures", only({OP: 200, ADMIN: 200, SUP: 200})),
    Row("GET", T + "/wallboards", only({OP: 200, ADMIN: 200})),
    Row("POST", T + "/wallboards", only({OP: 201, ADMIN: 201}), body={"name": "floor TV"}),
    Row("DELETE", T + "/wallboards/{token_id}", only({OP: 204, ADMIN: 204}), prepare=_wallboard),
    # Nobody is on a call here: whoever may act gets as far as finding no call (409 not_now;
    # tests/integration/test_api_calls.py acts on live calls).
    *[Row("POST", T + "/agents/{agent}/call/" + action, only({OP: 409, ADMIN: 409, SUP: (409, 403),
                                                              AGENT: (409, 403)}), body=body)
      for action, body in (("transfer", {"queue": "sales"}), ("consult", {"extension": "1009"}),
                           ("complete", None), ("cancel", None), ("three-way", {"number": "+15550199"}),
                           ("hangup", None), ("pickup", lambda f: {"from_agent": f"{f['tenant']}1"}),
                           ("hold", None), ("unhold", None))],
    *[Row("POST", T + "/agents/{agent}/call/" + action, only({OP: 409, ADMIN: 409, SUP: (409, 403)}),
          body={"extension": "2000"}) for action in ("listen", "whisper", "barge")],
    # No access number in these tenants: whoever may dial out gets as far as 409 no_caller_id.
    Row("POST", T + "/agents/{agent}/dial", only({OP: 409, ADMIN: 409, SUP: (409, 403), AGENT: (409, 403)}),
        body={"number": "+15550199"}),
    Row("POST", T + "/agents/{agent}/call/wrap-up-done", only({OP: 204, ADMIN: 204, SUP: (204, 403),
                                                               AGENT: (204, 403)})),
    # A supervisor moves callers between their groups' queues only: here, one queue each way.
    Row("POST", T + "/queues/{queue}/callers/{member}/move", only({OP: 204, ADMIN: 204}), prepare=_waiting,
        body=lambda f: {"queue": "sales" if f["queue"] == "support" else "support"}),
    # The matrix's flows directory has no tenants' folders: an upload of a tenant.yaml alone has
    # problems (422) for whoever may upload.
    Row("GET", T + "/flows", only({OP: 200, ADMIN: 200})),
    # Business hours and prompts: tenant.yaml's, the flows' rights (here no tenant.yaml: 409)
    Row("GET", T + "/calendars", only({OP: 200, ADMIN: 200})),
    Row("PUT", T + "/calendars/{name}", only({OP: 409, ADMIN: 409}), prepare=lambda s, f: {"name": "office"},
        body={"weekly": {"mon-fri": ["08:00-18:00"]}}),
    Row("GET", T + "/prompts", only({OP: 200, ADMIN: 200})),
    Row("PUT", T + "/prompts/{name}", only({OP: 409, ADMIN: 409}), prepare=lambda s, f: {"name": "hello"},
        body={"text": "Welcome"}),
    Row("DELETE", T + "/prompts/{name}", only({OP: 409, ADMIN: 409}), prepare=lambda s, f: {"name": "hello"}),
    Row("GET", T + "/prompts/{name}/audio", only({OP: 404, ADMIN: 404}),
        prepare=lambda s, f: {"name": "hello"}),
    Row("PUT", T + "/flows", only({OP: 422, ADMIN: 422}), body={"files": {"tenant.yaml": "id: x\n"}}),
    Row("GET", T + "/blacklist", only({OP: 200, ADMIN: 200, SUP: 200})),
    Row("PUT", T + "/blacklist/{number}", only({OP: 204, ADMIN: 204}), body={"reason": "fraud"}),
    Row("DELETE", T + "/blacklist/{number}", only({OP: 204, ADMIN: 204}), prepare=_blacklisted),
    Row("GET", T + "/outages", only({OP: 200, ADMIN: 200, SUP: 200, AGENT: 200})),
    Row("POST", T + "/outages", only({OP: 201, ADMIN: 201, SUP: 201}),
        body=lambda f: {"area_kind": "area", "area": "north", "message": "Line cut",
                        "ends_at": (datetime.now(UTC) + timedelta(hours=2)).isoformat()}),
    Row("DELETE", T + "/outages/{outage_id}", only({OP: 204, ADMIN: 204, SUP: 204}), prepare=_outage),
    Row("GET", T + "/callbacks", only({OP: 200, ADMIN: 200, SUP: 200, AGENT: 200})),
    Row("POST", T + "/callbacks/{event_id}/claim", only({OP: 422, AGENT: 204}), prepare=_callback(False)),
    Row("POST", T + "/callbacks/{event_id}/done",
        only({OP: 204, ADMIN: 204, SUP: (204, 403), AGENT: (204, 403)}), body={}, prepare=_callback(True)),
    Row("GET", T + "/recordings", only({OP: 200, ADMIN: 200, SUP: 200, QA: 200})),
    Row("GET", T + "/recordings/{recording}", only({OP: 200, ADMIN: 200, SUP: (200, 403), QA: 200}),
        prepare=_recording),
    Row("GET", T + "/recordings/{recording}/audio", only({OP: 200, ADMIN: 200, SUP: (200, 403), QA: 200}),
        prepare=_recording, content_type="audio/wav"),
    Row("GET", T + "/surveys", only({OP: 200, ADMIN: 200, SUP: 200, QA: 200})),
    Row("GET", T + "/cdrs", only({OP: 200, ADMIN: 200, QA: 200, AGENT: 200})),
    Row("GET", T + "/usage", only({OP: 200, ADMIN: 200}),
        query="?from=2026-11-01T00:00:00Z&to=2026-12-01T00:00:00Z"),
    Row("GET", T + "/statements/{month}", only({OP: 200, ADMIN: 200})),
    Row("GET", "/api/v1/statements/{month}", only({OP: 200})),
    # The CRM: every role but the wallboard reads the cards; admins, supervisors and agents write
    # them and add notes; only an admin deletes one or defines the custom fields. The account
    # owner steers calls: an agent gives up only their own customers, a supervisor their
    # groups' agents' (the PATCH clears the owner: the cell's agent, or the tenant's other one).
    Row("GET", T + "/customer-fields", only({OP: 200, ADMIN: 200, SUP: 200, AGENT: 200, QA: 200})),
    Row("PUT", T + "/customer-fields/{name}", only({OP: 204, ADMIN: 204}), body={"type": "number"},
        prepare=lambda s, f: {"name": "size"}),
    Row("DELETE", T + "/customer-fields/{name}", only({OP: 204, ADMIN: 204}), prepare=_field),
    Row("GET", T + "/customers", only({OP: 200, ADMIN: 200, SUP: 200, AGENT: 200, QA: 200}),
        query="?tag=vip&limit=5"),
    Row("POST", T + "/customers", only({OP: 201, ADMIN: 201, SUP: 201, AGENT: 201}),
        body=lambda f: {"name": "Grace", "numbers": [f"+1 555 {next(_n):07d}"], "tags": ["new"]}),
    Row("GET", T + "/customers/by-number/{number}", only({OP: 200, ADMIN: 200, SUP: 200, AGENT: 200,
                                                          QA: 200}), prepare=_customer(False)),
    Row("GET", T + "/customers/{customer}", only({OP: 200, ADMIN: 200, SUP: 200, AGENT: 200, QA: 200}),
        prepare=_customer(False)),
    Row("PATCH", T + "/customers/{customer}", only({OP: 200, ADMIN: 200, SUP: (200, 403),
                                                    AGENT: (200, 403)}),
        body={"company": "Acme", "owner_agent": None}, prepare=_customer(True)),
    Row("DELETE", T + "/customers/{customer}", only({OP: 204, ADMIN: 204}), prepare=_customer(False)),
    Row("POST", T + "/customers/{customer}/notes", only({OP: 201, ADMIN: 201, SUP: 201, AGENT: 201}),
        body={"body": "Wants a callback on Monday"}, prepare=_customer(False)),
    # The desk: an agent's screen pops are theirs (a supervisor's: their group's agents'); a
    # card's recordings are heard by whoever reads the card (only the card's customer's calls).
    Row("GET", T + "/agents/{agent}/screen-pops", only({OP: 200, ADMIN: 200, SUP: (200, 403),
                                                          AGENT: (200, 403)})),
    # The calls an agent may pick up: read by whoever may pick up for that agent.
    Row("GET", T + "/agents/{agent}/pickups", only({OP: 200, ADMIN: 200, SUP: (200, 403),
                                                      AGENT: (200, 403)})),
    Row("GET", T + "/customers/{customer}/recordings/{recording}/audio",
        only({OP: 200, ADMIN: 200, SUP: 200, AGENT: 200, QA: 200}), prepare=_card_recording,
        content_type="audio/wav"),
    Row("GET", T + "/customers/{customer}/voicemails/{voicemail}/audio",
        only({OP: 200, ADMIN: 200, SUP: 200, AGENT: 200, QA: 200}), prepare=_card_voicemail,
        content_type="audio/wav"),
    # The CRM webhook is the tenant admin's.
    Row("GET", T + "/crm-webhook", only({OP: 200, ADMIN: 200}), prepare=_webhook),
    Row("PUT", T + "/crm-webhook", only({OP: 200, ADMIN: 200}),
        body={"url": "https://crm.example.com/calls", "secret": "a-secret-of-16-or-more"}),
    Row("DELETE", T + "/crm-webhook", only({OP: 204, ADMIN: 204}), prepare=_webhook),
    Row("GET", T + "/customers/{customer}/timeline", only({OP: 200, ADMIN: 200, SUP: 200, AGENT: 200,
                                                           QA: 200}), prepare=_customer(False)),
    # Quality assurance: the tenant admin writes the scorecards; QA, the admin and a supervisor
    # (their groups' queues) score recorded calls and read the scores and their averages; an
    # agent reads their own evaluations only.
    Row("GET", T + "/qa/scorecards", only({OP: 200, ADMIN: 200, SUP: 200, QA: 200})),
    Row("POST", T + "/qa/scorecards", only({OP: 201, ADMIN: 201}),
        body={"name": "Etiquette", "criteria": [{"label": "Greeted"}, {"label": "Empathy", "type": "scale",
                                                                      "max": 4}]}),
    Row("PUT", T + "/qa/scorecards/{scorecard}", only({OP: 200, ADMIN: 200}), prepare=_scorecard,
        body={"name": "Etiquette 2", "criteria": [{"label": "Greeted", "weight": 2}]}),
    Row("DELETE", T + "/qa/scorecards/{scorecard}", only({OP: 204, ADMIN: 204}), prepare=_scorecard),
    Row("POST", T + "/qa/evaluations", only({OP: 201, ADMIN: 201, SUP: (201, 403), QA: 201}),
        prepare=lambda s, f: _scorecard(s, f) | _recording(s, f),
        body=lambda f: {"recording": f["recording"], "scorecard": int(f["scorecard"]),
                        "answers": [{"value": True}], "note": "Polite"}),
    Row("GET", T + "/qa/evaluations", only({OP: 200, ADMIN: 200, SUP: 200, AGENT: 200, QA: 200})),
    Row("GET", T + "/qa/evaluations/{evaluation}", only({OP: 200, ADMIN: 200, SUP: (200, 403),
                                                         AGENT: (200, 403), QA: 200}), prepare=_evaluation),
    Row("GET", T + "/qa/averages", only({OP: 200, ADMIN: 200, SUP: 200, QA: 200}), query="?by=queue"),
    # The knowledge base: read by everyone who takes or reviews calls, written by admins and
    # supervisors; the queue's call script read as articles are.
    Row("GET", T + "/kb/articles", only({OP: 200, ADMIN: 200, SUP: 200, AGENT: 200, QA: 200}),
        query="?q=%E6%8C%82%E5%A4%B1"),
    Row("POST", T + "/kb/articles", only({OP: 201, ADMIN: 201, SUP: 201}), body={"title": "Refunds"}),
    Row("GET", T + "/kb/articles/{article}", only({OP: 200, ADMIN: 200, SUP: 200, AGENT: 200, QA: 200}),
        prepare=_article("article")),
    Row("PATCH", T + "/kb/articles/{article}", only({OP: 200, ADMIN: 200, SUP: 200}), body={"tags": ["x"]},
        prepare=_article("article")),
    Row("DELETE", T + "/kb/articles/{article}", only({OP: 204, ADMIN: 204, SUP: 204}),
        prepare=_article("article")),
    Row("GET", T + "/queues/{queue}/script", only({OP: 200, ADMIN: 200, SUP: 200, AGENT: 200, QA: 200}),
        prepare=_article("script")),
    # Wrap-up: the admin's codes and setting; an agent's disposition on their own calls, a
    # supervisor's on their group's agents'; a call read as CDRs are (a supervisor: their
    # groups', an agent: their own).
    Row("GET", T + "/wrap-up-codes", only({OP: 200, ADMIN: 200, SUP: 200, AGENT: 200, QA: 200})),
    Row("PUT", T + "/wrap-up-codes/{code}", only({OP: 204, ADMIN: 204}), body={"label": "Matrix"},
        prepare=lambda store, fill: {"code": "matrix"}),
    Row("DELETE", T + "/wrap-up-codes/{code}", only({OP: 204, ADMIN: 204}), prepare=_code),
    Row("GET", T + "/wrap-up-settings", only({OP: 200, ADMIN: 200, SUP: 200, AGENT: 200, QA: 200})),
    Row("PUT", T + "/wrap-up-settings", only({OP: 200, ADMIN: 200}), body={"required": False}),
    Row("GET", T + "/agents/{agent}/wrap-up", only({OP: 200, ADMIN: 200, SUP: (200, 403),
                                                    AGENT: (200, 403), QA: 200}), prepare=_handled),
    Row("PUT", T + "/agents/{agent}/wrap-ups/{call}", only({OP: 200, ADMIN: 200, SUP: (200, 403),
                                                            AGENT: (200, 403)}),
        body={"disposition": "matrix", "notes": "回电"}, prepare=_handled),
    Row("GET", T + "/wrap-ups", only({OP: 200, ADMIN: 200, SUP: 200, AGENT: 200, QA: 200})),
    Row("GET", T + "/calls/{call}", only({OP: 200, ADMIN: 200, SUP: (200, 403), AGENT: (200, 403), QA: 200}),
        prepare=_handled),
    # Tickets, as Zendesk and Genesys Cloud work them: an agent works the tickets assigned to
    # them or their queues (another agent's: 403); supervisors and admins all of the tenant's;
    # qa reads them all and changes none; the SLA and the web form are the admin's to set.
    Row("GET", T + "/ticket-settings", only({OP: 200, ADMIN: 200, SUP: 200, AGENT: 200, QA: 200})),
    Row("PUT", T + "/ticket-settings", only({OP: 200, ADMIN: 200}), body={"due_minutes": {"urgent": 60}}),
    Row("GET", T + "/tickets", only({OP: 200, ADMIN: 200, SUP: 200, AGENT: 200, QA: 200}),
        query="?state=new&limit=5"),
    Row("POST", T + "/tickets", only({OP: 201, ADMIN: 201, SUP: 201, AGENT: 201}),
        body=lambda f: {"subject": "No dial tone", "assignee_agent": f["agent"]}),
    Row("GET", T + "/tickets/{ticket}", only({OP: 200, ADMIN: 200, SUP: 200, AGENT: (200, 403), QA: 200}),
        prepare=_ticket),
    Row("PATCH", T + "/tickets/{ticket}", only({OP: 200, ADMIN: 200, SUP: 200, AGENT: (200, 403)}),
        body={"state": "open", "priority": "high"}, prepare=_ticket),
    Row("POST", T + "/tickets/{ticket}/notes", only({OP: 201, ADMIN: 201, SUP: 201, AGENT: (201, 403)}),
        body={"body": "Called the customer back"}, prepare=_ticket),
    # A voicemail is heard by whoever reads the ticket it opened (an agent: their own tickets').
    Row("GET", T + "/voicemails/{voicemail}",
        only({OP: 200, ADMIN: 200, SUP: 200, AGENT: (200, 403), QA: 200}), prepare=_voicemail),
    Row("GET", T + "/voicemails/{voicemail}/audio",
        only({OP: 200, ADMIN: 200, SUP: 200, AGENT: (200, 403), QA: 200}), prepare=_voicemail,
        content_type="audio/wav"),
    # The console settings: every role of the tenant reads its timezone and the floor's
    # stuck-agent limits; the tenant admin changes the limits.
    Row("GET", T + "/console-settings", everyone(200)),
    Row("PATCH", T + "/console-settings/stuck-limits", only({OP: 200, ADMIN: 200}), body={"talking": 900}),
    Row("GET", T + "/events", only({OP: 200, ADMIN: 200, SUP: 200, AGENT: 200}), stream=True,
        content_type=SSE),
    Row("GET", "/api/v1/events", only({OP: 200}), stream=True, content_type=SSE),
]  # fmt: skip


def _routes() -> set[tuple[str, str]]:
    app = make_app(ApiContext(store=None, queues=lambda t: {}))  # type: ignore[arg-type]
    out = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint in PUBLIC or rule.endpoint == "static":
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
        out |= {(m, path) for m in rule.methods or () if m not in ("HEAD", "OPTIONS")}
    return out


def test_every_endpoint_has_a_row() -> None:
    rows = [(r.method, r.path) for r in MATRIX]
    assert len(rows) == len(set(rows)), "a route with two rows"
    routes = _routes()
    assert set(rows) == routes, {"no row": routes - set(rows), "no route": set(rows) - routes}
    # the only doors without a login (the ticket form's and status link's: test_api_tickets.py)
    assert {"openapi.spec", "session.login", "tickets_public.web_form", "tickets_public.status"} == PUBLIC


@pytest.fixture(scope="module")
def matrix_api(pg_server, tmp_path_factory):
    """One call center for the whole matrix (the rows are written to be repeatable)."""
    import psycopg
    from psycopg.conninfo import make_conninfo

    from fsapps.store.db import Store
    from fsapps.store.migrate import migrate

    name = f"matrix{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg_server.dsn, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    dsn = make_conninfo(pg_server.dsn, dbname=name)
    migrate(dsn)
    store = Store(dsn, max_size=20).open()
    cc = populate(store)
    root = tmp_path_factory.mktemp("dialplan")
    (root / "operator.yaml").write_text("controllers: [127.0.0.1:8084]\n")
    flows = FlowsSite(root, tmp_path_factory.mktemp("conf"), lambda: "+OK [Success]")
    RECORDINGS[:] = [tmp_path_factory.mktemp("recordings")]
    for tenant in ("acme", "globex"):
        (RECORDINGS[0] / tenant).mkdir()
    VOICEMAILS[:] = [tmp_path_factory.mktemp("voicemail")]
    # Streams follow events nobody publishes here; a closed one is noticed at its next heartbeat.
    ctx = ApiContext(store, static_queues(QUEUES), switch=_no_switch, gateways=lambda: ["carrier"],
                     flows=flows, recordings=RECORDINGS[0], live=LiveEvents(dict), heartbeat=0.2,
                     voicemails=VOICEMAILS[0])  # fmt: skip
    server = serve_api(ctx)
    yield store, server.server_port, cc
    server.stop()
    store.close()


def _no_switch(command: str) -> str:
    """No row gets as far as the switch: the call they would act on is not there."""
    raise AssertionError(f"the matrix reached the switch: {command}")


def _fill(cc: CallCenter, tenant: str, theirs: bool) -> dict[str, str]:
    queue = "support" if theirs else "sales"
    return {
        "tenant": tenant,
        "agent": f"{tenant}{1 if theirs else 2}",
        "queue": queue,
        "member": cc.callers[(tenant, queue)],
        "user_id": str(cc.users[(tenant, QA)]),
        "supervisor": str(cc.users[(tenant, SUP)]),
        "group": "front",
        "number": "+15550100",
        "month": "2026-11",
    }


CASES = [(row, role) for row in MATRIX for role in ROLES]


@pytest.mark.parametrize(("row", "role"), CASES, ids=[f"{r.method} {r.path} {role}" for r, role in CASES])
def test_the_matrix(matrix_api, row: Row, role: str) -> None:
    store, port, cc = matrix_api
    client = Client(port, token=cc.token(role, "acme"))
    want = row.expect[role]
    theirs, rest = want if isinstance(want, tuple) else (want, want)
    other = theirs if role == OP or "{tenant}" not in row.path else 404
    got = {}
    places = (("theirs", "acme", True), ("rest", "acme", False), ("other", "globex", True))
    for where, tenant, is_theirs in places:
        fill = _fill(cc, tenant, is_theirs)
        if row.prepare is not None:
            fill |= row.prepare(store, fill)
        body = row.body(fill) if callable(row.body) else row.body
        if row.stream:
            s = open_stream(port, row.path.format(**fill) + row.query, token=client.token)
            s.close()
            r = Reply(s.status, s.headers, b"" if s.body is None else json.dumps(s.body).encode())
        else:
            r = client.request(row.method, row.path.format(**fill) + row.query, body)
        wanted = row.content_type if r.status < 300 else "application/json"
        assert r.headers.get("content-type") == wanted or r.status == 204, r
        got[where] = r.status if r.status < 400 else (r.status, r.json["code"])
    statuses = {k: v if isinstance(v, int) else v[0] for k, v in got.items()}
    assert statuses == {"theirs": theirs, "rest": rest, "other": other}, got


@pytest.mark.parametrize("row", MATRIX, ids=[f"{r.method} {r.path}" for r in MATRIX])
def test_without_credentials_every_endpoint_is_401(matrix_api, row: Row) -> None:
    _, port, cc = matrix_api
    fill = _fill(cc, "acme", True) | {"outage_id": "1", "event_id": str(uuid.uuid4()), "token_id": "1",
                                      "recording": str(uuid.uuid4()), "customer": "1", "ticket": "1001",
                                      "name": "plan", "scorecard": "1", "evaluation": "1", "article": "1",
                                      "code": "matrix", "call": str(uuid.uuid4()),
                                      "voicemail": str(uuid.uuid4())}  # fmt: skip
    r = Client(port).request(row.method, row.path.format(**fill) + row.query, {})
    assert (r.status, r.json["code"]) == (401, "unauthenticated")


# A wallboard token (a TV's, no user) reads its tenant's queue figures (and its console
# settings, for the timezone) and nothing else: every other route refuses it (403
# wallboard_only), and another tenant's figures are not there.
WALLBOARD_READS = {("GET", T + "/queue-figures"), ("GET", T + "/console-settings")}


@pytest.fixture(scope="module")
def wallboard_token(matrix_api) -> str:
    from fsapps.store import api as repo

    store, _, _ = matrix_api
    with store.tenant("acme") as t:
        _, token = repo.issue_wallboard_token(t, "floor TV", None)
    return token


@pytest.mark.parametrize("row", MATRIX, ids=[f"{r.method} {r.path}" for r in MATRIX])
def test_a_wallboard_token_reads_queue_figures_and_nothing_else(
    matrix_api, wallboard_token, row: Row
) -> None:
    store, port, cc = matrix_api
    client = Client(port, token=wallboard_token)
    got = {}
    for where, tenant in (("own", "acme"), ("other", "globex")):
        fill = _fill(cc, tenant, True)
        if row.prepare is not None:
            fill |= row.prepare(store, fill)
        body = row.body(fill) if callable(row.body) else row.body
        r = client.request(row.method, row.path.format(**fill) + row.query, body)
        got[where] = (r.status, r.json["code"] if r.status >= 400 else None)
    if (row.method, row.path) in WALLBOARD_READS:
        assert got == {"own": (200, None), "other": (404, "no_such_tenant")}
    else:
        assert got == {"own": (403, "wallboard_only"), "other": (403, "wallboard_only")}
