"""Voicemails on the customer's timeline, played from the card: a message one of the
customer's numbers left shows on their timeline with its box and length, and its file
streams (whole, or a Range) to whoever reads the card. Another tenant's message, another
customer's, a row whose path leaves the tenant's domain's folder (``..``, a symbolic link,
another domain) and a server with no voicemail directory are refused."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fsapps.store import customers
from fsapps.web.app import ApiContext
from tests.support.api import QUEUES, Client, populate, serve_api, static_queues

T = "/api/v1/tenants/acme"
AUDIO = b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(40)


def _customer(store: Any, tenant: str, number: str) -> int:
    c = {"name": "Ada", "company": "", "tags": [], "custom_fields": {}, "numbers": [number],
         "owner_agent": None}  # fmt: skip
    with store.tenant(tenant) as t:
        return customers.create(t, c)


def _voicemail(store: Any, tenant: str, number: str, path: Path, at: datetime) -> str:
    event = str(uuid.uuid4())
    with store.operator() as op:
        op.conn.execute(
            "INSERT INTO voicemails (event_id, tenant_id, box, caller_number, caller_name, path, seconds,"
            " left_at) VALUES (%s, %s, '8001', %s, 'Ada', %s, 7, %s)",
            (event, tenant, number, str(path), at),
        )
    return event


def refused(client: Client, customer: int, voicemail: str, tenant: str = "acme") -> tuple[int, str]:
    r = client.get(f"/api/v1/tenants/{tenant}/customers/{customer}/voicemails/{voicemail}/audio")
    return r.status, r.json["code"]


def test_a_customers_voicemail_is_on_their_timeline_and_plays_for_the_card_only(store, tmp_path) -> None:
    cc = populate(store)
    vm = tmp_path / "voicemail"
    box = vm / "default" / "acme.example" / "8001"
    box.mkdir(parents=True)
    (vm / "default" / "globex.example" / "8001").mkdir(parents=True)
    ada = _customer(store, "acme", "+15550111")
    bob = _customer(store, "acme", "+15550222")
    theirs = _customer(store, "globex", "+15550111")
    mine = box / "msg_1.wav"
    mine.write_bytes(AUDIO)
    left = _voicemail(store, "acme", "+15550111", mine, datetime(2026, 12, 1, 9, 30, tzinfo=UTC))
    other_file = vm / "default" / "globex.example" / "8001" / "msg_2.wav"
    other_file.write_bytes(AUDIO)
    globex_vm = _voicemail(store, "globex", "+15550111", other_file, datetime(2026, 12, 1, 9, 31, tzinfo=UTC))
    # Rows whose paths leave acme's folder: by .., by a link, into another domain's folder.
    at = datetime(2026, 12, 1, 9, 32, tzinfo=UTC)
    dotted = _voicemail(store, "acme", "+15550111", box / ".." / ".." / "globex.example/8001/msg_2.wav", at)
    (box / "link.wav").symlink_to(other_file)
    linked = _voicemail(store, "acme", "+15550111", box / "link.wav", at)
    elsewhere = _voicemail(store, "acme", "+15550111", other_file, at)

    ctx = ApiContext(store, static_queues(QUEUES), voicemails=vm)
    server = serve_api(ctx)
    try:
        agent = Client(server.server_port, token=cc.token("agent", "acme"))
        timeline = agent.get(f"{T}/customers/{ada}/timeline").json
        voicemails = [e for e in timeline if e["kind"] == "voicemail"]
        assert [e["detail"]["id"] for e in voicemails][-1] == left
        assert voicemails[-1]["detail"] == {"id": left, "box": "8001", "number": "+15550111", "name": "Ada",
                                            "seconds": 7}  # fmt: skip
        assert not [e for e in agent.get(f"{T}/customers/{bob}/timeline").json if e["kind"] == "voicemail"]

        r = agent.get(f"{T}/customers/{ada}/voicemails/{left}/audio")
        assert (r.status, r.headers["content-type"], r.body) == (200, "audio/wav", AUDIO)
        part = agent.get(f"{T}/customers/{ada}/voicemails/{left}/audio", headers={"Range": "bytes=0-3"})
        assert (part.status, part.body) == (206, b"RIFF")
        qa = Client(server.server_port, token=cc.token("qa", "acme"))
        assert qa.get(f"{T}/customers/{ada}/voicemails/{left}/audio").status == 200

        assert refused(agent, bob, left) == (404, "no_such_voicemail")  # not this card's
        assert refused(agent, ada, globex_vm) == (404, "no_such_voicemail")  # another tenant's row
        assert refused(agent, theirs, globex_vm, tenant="globex") == (404, "no_such_tenant")
        for sneaky in (dotted, linked, elsewhere):
            assert refused(agent, ada, sneaky) == (403, "outside_voicemails"), sneaky
        assert agent.get(f"{T}/customers/{ada}/voicemails/..%2F..%2Fetc/audio").status == 404
        mine.unlink()
        assert refused(agent, ada, left) == (404, "voicemail_missing")
    finally:
        server.stop()
    server = serve_api(ApiContext(store, static_queues(QUEUES)))
    try:
        agent = Client(server.server_port, token=cc.token("agent", "acme"))
        assert refused(agent, ada, left) == (503, "no_voicemail_dir")
    finally:
        server.stop()
