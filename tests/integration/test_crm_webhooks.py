"""CRM webhooks against a real local HTTP receiver: a call through the emulator and a
controller is told as call.offered, call.answered and call.ended (with the recording's
link), each signed with the tenant's secret; only to that tenant's URL; a dead, slow or
failing endpoint costs the publisher nothing (bounded queue, bounded retries); private
addresses are refused unless the operator allows them; the admin sets it through the API."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import gevent
from gevent.pywsgi import WSGIServer

from fsapps.acd.notifier import MemberChanged
from fsapps.sim.endpoints import Endpoint
from fsapps.store import webhooks
from fsapps.store.db import Store
from fsapps.store.records import Tenant
from fsapps.web.app import ApiContext
from fsapps.webhooks import payload
from fsapps.webhooks.sender import WebhookSender, store_sender
from tests.integration.test_acd_calls import rig
from tests.integration.test_api_calls import answered_by
from tests.support.api import PASSWORD, Client, serve_api
from tests.support.waiting import wait_for

SECRET = "cablenet-crm-secret-0123456789"


@dataclass
class Receiver:
    """A CRM's endpoint: answers ``status`` (or never, with ``hang``), keeps what came."""

    status: int = 200
    hang: bool = False
    got: list[dict[str, Any]] = field(default_factory=list)
    server: Any = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/crm/calls?from=fsapps"

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        body = environ["wsgi.input"].read()
        headers = {k[5:].replace("_", "-").title(): v for k, v in environ.items() if k.startswith("HTTP_")}
        self.got.append({"path": environ["PATH_INFO"] + "?" + environ["QUERY_STRING"], "body": body,
                         "headers": headers, "type": environ.get("CONTENT_TYPE")})  # fmt: skip
        if self.hang:
            gevent.sleep(60)
        start_response(f"{self.status} X", [("Content-Type", "text/plain")])
        return [b"ok"]

    def events(self) -> list[str]:
        return [r["headers"]["X-Fsapps-Event"] for r in self.got]


@contextmanager
def receivers(*rs: Receiver) -> Iterator[None]:
    for r in rs:
        r.server = WSGIServer(("127.0.0.1", 0), r, log=None)
        r.server.start()
    try:
        yield
    finally:
        for r in rs:
            r.server.stop(timeout=0.1)


def _put(store: Any, tenant: str, url: str) -> None:
    with store.tenant(tenant) as t:
        webhooks.put(t, url, SECRET, True)


def test_a_call_is_told_offered_answered_and_ended_signed_to_its_tenants_crm_only(store, tmp_path) -> None:
    crm, other = Receiver(), Receiver()
    with receivers(crm, other), rig(store, tmp_path) as r:
        r.agent("cn_wang", Endpoint(answer_after=0.5))
        with store.operator() as op:
            op.add_tenant(Tenant("acme", "Acme", "acme.example"))
        _put(store, "cablenet", crm.url)
        _put(store, "acme", other.url)
        sender = store_sender(store, allow_private=True, api_url="https://cc.example.com", backoff=(0.05,))
        sender.start()
        r.controllers[0].notifier.listen(sender.follow)
        try:
            caller, _ = answered_by(_Rig(r), "cn_wang")
            r.switch.api("uuid_kill", caller.uuid)
            assert caller.destroyed.wait(30)
            assert wait_for(lambda: len(crm.got) >= 3, timeout=20), crm.events()
            # The sender notes each delivery's outcome once the CRM answered: the last one's
            # before the sender stops (stopping ends a delivery still noting it).
            noted = wait_for(lambda: last_delivery(store) == ("call.ended", "200"), timeout=20)
            assert noted, last_delivery(store)
        finally:
            sender.stop()
        assert crm.events() == ["call.offered", "call.answered", "call.ended"]
        bodies = []
        for got in crm.got:
            h = got["headers"]
            assert got["path"] == "/crm/calls?from=fsapps" and got["type"] == "application/json"
            assert payload.verify(SECRET, h["X-Fsapps-Timestamp"], got["body"], h["X-Fsapps-Signature"]), h
            assert abs(int(h["X-Fsapps-Timestamp"]) - time.time()) < 60
            bodies.append(json.loads(got["body"]))
        offered, answered, ended = bodies
        for b, got in zip(bodies, crm.got, strict=True):
            assert (b["tenant"], b["call"], b["queue"], b["number"]) == (
                "cablenet", caller.uuid, "business", "13800000001")  # fmt: skip
            assert b["id"] == got["headers"]["X-Fsapps-Delivery"]
        assert (offered["agent"], answered["agent"], ended["agent"], ended["outcome"]) == (
            "cn_wang", "cn_wang", "cn_wang", "answered")  # fmt: skip
        # The business queue records: the link is the API's, for the record's id.
        rows = wait_for(r.queue_calls)
        assert rows[0]["recording"], rows
        assert ended["recording"] == str(rows[0]["event_id"])
        assert ended["recording_url"] == (
            f"https://cc.example.com/api/v1/tenants/cablenet/recordings/{rows[0]['event_id']}/audio")
        assert other.got == []  # acme's CRM hears nothing of cablenet's calls
        assert last_delivery(store) == ("call.ended", "200")


def last_delivery(store: Store) -> tuple[str, str] | None:
    """The tenant's webhook's last delivery, as the console shows it: (event, outcome)."""
    with store.tenant("cablenet") as t:
        row = webhooks.webhook(t)
    return (row["last_event"], row["last_status"]) if row is not None else None


class _Rig:
    """answered_by's view of the rig (it reads ``.rig``)."""

    def __init__(self, rig: Any) -> None:
        self.rig = rig


def _ended(i: int) -> MemberChanged:
    return MemberChanged("cablenet", "business", f"00000000-0000-4000-8000-{i:012d}", "left", 1.0e9 + i,
                         agent="cn_wang", outcome="answered", number="13800000001")  # fmt: skip


def test_a_dead_endpoint_never_holds_up_the_publisher_and_its_backlog_is_bounded(caplog) -> None:
    hanging = Receiver(hang=True)
    with receivers(hanging):
        sender = WebhookSender(lambda tenant: (hanging.url, SECRET), lambda *a: None, allow_private=True,
                               timeout=0.5, queue=3, workers=1, backoff=())  # fmt: skip
        sender.start()
        try:
            started = time.monotonic()
            for i in range(50):
                sender.offer(_ended(i))
            took = time.monotonic() - started
            # The first is taken by the worker (the endpoint hangs), three wait: the rest dropped,
            # at once (held up, the publisher would wait the sender's 0.5 s timeout at least).
            assert took < 0.4, took
            assert wait_for(lambda: sender.counts.dropped >= 45), sender.counts
            assert sender.counts.dropped <= 47, sender.counts
            # The drops are said once, not once each.
            said = [r for r in caplog.records if "dropped" in r.getMessage()]
            assert len(said) == 1, [r.getMessage() for r in said]
            # The hung delivery gives up at its timeout.
            assert wait_for(lambda: sender.counts.failed >= 1, timeout=5), sender.counts
        finally:
            sender.stop()


def test_a_failing_endpoint_is_tried_again_with_a_pause_then_given_up_and_4xx_is_final() -> None:
    failing, refusing = Receiver(status=503), Receiver(status=410)
    outcomes: list[tuple[str, str, str]] = []
    with receivers(failing, refusing):
        urls = {"cablenet": failing.url, "acme": refusing.url}
        sender = WebhookSender(lambda tenant: (urls[tenant], SECRET), lambda *a: outcomes.append(a),
                               allow_private=True, backoff=(0.05, 0.2))  # fmt: skip
        sender.start()
        try:
            sender.offer(_ended(1))
            sender.offer(MemberChanged("acme", "sales", "00000000-0000-4000-8000-000000000009", "left", 1e9))
            assert wait_for(lambda: len(outcomes) == 2, timeout=10), outcomes
        finally:
            sender.stop()
    assert sorted(outcomes) == [("acme", "call.ended", "410"), ("cablenet", "call.ended", "503")]
    assert (len(failing.got), len(refusing.got)) == (3, 1)  # the first try and two again; a 410 once
    ids = {g["headers"]["X-Fsapps-Delivery"] for g in failing.got}
    assert len(ids) == 1  # the same delivery each time: the receiver can drop repeats
    assert sender.counts.failed == 2 and sender.counts.tries == 4


def test_private_addresses_are_refused_unless_the_operator_allows_them() -> None:
    crm = Receiver()
    outcomes: list[tuple[str, str, str]] = []
    with receivers(crm):
        sender = WebhookSender(lambda tenant: (crm.url, SECRET), lambda *a: outcomes.append(a),
                               allow_private=False, backoff=(0.05,))  # fmt: skip
        sender.start()
        try:
            sender.offer(_ended(1))
            assert wait_for(lambda: outcomes, timeout=5)
        finally:
            sender.stop()
    assert crm.got == []
    ((tenant, event, outcome),) = outcomes
    assert (tenant, event) == ("cablenet", "call.ended")
    assert outcome.startswith("refused: 127.0.0.1 is not a public address"), outcome


def test_the_tenant_admin_sets_the_webhook_and_its_secret_is_never_shown(store) -> None:
    with store.operator() as op:
        op.add_tenant(Tenant("cablenet", "Cablenet", "cablenet.example"))
    with store.tenant("cablenet") as t:
        token = t.issue_token(t.add_user("admin", PASSWORD, "tenant_admin").id, "tests")
    path = "/api/v1/tenants/cablenet/crm-webhook"
    for private, status in ((False, 422), (True, 200)):
        server = serve_api(ApiContext(store, lambda tenant: {}, webhook_private=private))
        try:
            admin = Client(server.server_port, token=token)
            r = admin.request("PUT", path, {"url": "http://127.0.0.1:9/hook", "secret": SECRET})
            assert r.status == status, r.json
            if status == 422:
                assert r.json["code"] == "invalid_url" and "not a public address" in r.json["message"]
                assert admin.get(path).status == 404
                for bad in ({"url": "ftp://crm.example.com/", "secret": SECRET},
                            {"url": "https://crm.example.com/", "secret": "short"}):
                    assert admin.request("PUT", path, bad).status == 422
                r = admin.request("PUT", path, {"url": "https://crm.example.com/in", "secret": SECRET})
                assert r.status == 200, r.json
            shown = admin.get(path).json
            assert "secret" not in shown and SECRET not in json.dumps(shown)
            assert shown["events"] == ["offered", "answered", "ended"] and shown["enabled"] is True
            if private:
                assert admin.request("DELETE", path).status == 204
                assert admin.get(path).status == 404
        finally:
            server.stop()


def test_the_controller_reads_a_tenants_webhook_once_per_cache_period_and_follows_a_change(store) -> None:
    with store.operator() as op:
        op.add_tenant(Tenant("cablenet", "Cablenet", "cablenet.example"))
    now = [1000.0]
    sender = store_sender(store, allow_private=True, cache_seconds=5.0, clock=lambda: now[0])
    assert sender.lookup("cablenet") is None  # no webhook yet: that too is kept
    _put(store, "cablenet", "http://127.0.0.1:9/crm")
    now[0] += 4.9
    assert sender.lookup("cablenet") is None  # within the period: not read again
    now[0] += 0.2
    assert sender.lookup("cablenet") == ("http://127.0.0.1:9/crm", SECRET)
    with store.tenant("cablenet") as t:
        assert webhooks.delete(t)
    now[0] += 1.0
    assert sender.lookup("cablenet") == ("http://127.0.0.1:9/crm", SECRET)
    now[0] += 5.0
    assert sender.lookup("cablenet") is None
