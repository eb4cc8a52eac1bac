"""Recordings through the HTTP API against the real PostgreSQL and files on disk: found by
call, agent, caller's number and date; streamed whole or by HTTP range; and only ever the
file the store names for the id, under the tenant's recordings folder."""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from fsapps.web.app import ApiContext
from tests.support.api import QUEUES, Client, populate, serve_api, static_queues

T = "/api/v1/tenants/acme/recordings"
DAY = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def recorded(store, tenant: str, queue: str, agent: str | None, caller: str, joined: datetime,
             path: Path | str) -> str:  # fmt: skip
    """A queue call whose recording the store names ``path``; its id."""
    event = str(uuid.uuid4())
    with store.operator() as op:
        op.conn.execute(
            "INSERT INTO queue_calls (event_id, tenant_id, call_uuid, queue, agent_id, caller, joined_at,"
            " ended_at, wait_seconds, talk_seconds, outcome, recording)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, 5, 60, 'answered', %s)",
            (event, tenant, str(uuid.uuid4()), queue, agent, caller, joined, joined + timedelta(minutes=1),
             str(path)),
        )  # fmt: skip
    return event


@pytest.fixture
def api(store, tmp_path):
    cc = populate(store)
    recordings = tmp_path / "recordings"
    for tenant in ("acme", "globex"):
        (recordings / tenant).mkdir(parents=True)
    server = serve_api(ApiContext(store, static_queues(QUEUES), recordings=recordings))

    def as_(role: str, tenant: str = "acme") -> Client:
        return Client(server.server_port, token=cc.token(role, tenant))

    yield as_, recordings
    server.stop()


def test_recordings_are_found_by_call_agent_number_and_date(api, store) -> None:
    as_, recordings = api
    files = [recordings / "acme" / f"{n}.wav" for n in range(3)]
    for f in files:
        f.write_bytes(b"RIFF")
    first = recorded(store, "acme", "support", "acme1", "+15550001", DAY, files[0])
    second = recorded(store, "acme", "sales", "acme2", "+15550002", DAY + timedelta(days=1), files[1])
    third = recorded(store, "acme", "support", "acme1", "+15550002", DAY + timedelta(days=2), files[2])
    recorded(store, "globex", "support", "globex1", "+15550001", DAY, recordings / "globex" / "x.wav")
    admin = as_("tenant_admin")

    def ids(query: str = "", who: Client = admin) -> list[str]:
        r = who.get(T + query)
        assert r.status == 200, r.json
        return [x["id"] for x in r.json]

    assert ids() == [third, second, first]  # newest first, acme's only
    call = admin.get(f"{T}/{first}").json["call_uuid"]
    assert ids(f"?call={call}") == [first]
    assert ids("?agent=acme1") == [third, first]
    assert ids("?number=%2B15550002") == [third, second]
    assert ids("?from=2026-11-21T00:00:00Z&to=2026-11-22T00:00:00Z") == [second]
    assert ids("?agent=acme1&number=%2B15550002") == [third]
    assert ids(who=as_("qa")) == [third, second, first]
    assert ids(who=as_("supervisor")) == [third, first]  # their group's queue: support
    assert as_("supervisor").get(f"{T}/{second}").status == 403
    assert as_("agent").get(T).status == 403
    one = admin.get(f"{T}/{first}").json
    seen = (one["queue"], one["agent_id"], one["caller"], one["talk_seconds"])
    assert seen == ("support", "acme1", "+15550001", "60.000")
    assert "recording" not in one  # the path stays on the server
    for bad in ("?call=nope", "?number=x;y", "?from=yesterday", "?limit=0"):
        r = admin.get(T + bad)
        assert (r.status, r.json["code"]) == (422, "invalid_input"), bad


def test_a_recording_is_streamed_whole_or_by_range(api, store) -> None:
    as_, recordings = api
    audio = bytes(range(256)) * 40  # 10240 bytes
    path = recordings / "acme" / "call.wav"
    path.write_bytes(audio)
    rid = recorded(store, "acme", "support", "acme1", "+15550001", DAY, path)
    qa = as_("qa")
    r = qa.get(f"{T}/{rid}/audio")
    assert (r.status, r.headers["content-type"], r.body) == (200, "audio/wav", audio)
    assert r.headers["accept-ranges"] == "bytes"
    r = qa.get(f"{T}/{rid}/audio", headers={"Range": "bytes=1000-1999"})
    assert (r.status, r.headers["content-range"], r.body) == (206, "bytes 1000-1999/10240", audio[1000:2000])
    r = qa.get(f"{T}/{rid}/audio", headers={"Range": "bytes=-16"})
    assert (r.status, r.headers["content-range"], r.body) == (206, "bytes 10224-10239/10240", audio[-16:])
    r = qa.get(f"{T}/{rid}/audio", headers={"Range": "bytes=20000-"})
    assert r.status == 416 and r.headers["content-type"] == "application/json", r
    assert as_("supervisor").get(f"{T}/{rid}/audio", headers={"Range": "bytes=0-3"}).body == audio[:4]
    assert as_("agent").get(f"{T}/{rid}/audio").status == 403


def test_only_the_file_the_store_names_under_the_tenants_folder_is_ever_read(api, store, tmp_path) -> None:
    as_, recordings = api
    secret = tmp_path / "secret.wav"
    secret.write_bytes(b"not yours")
    (recordings / "globex" / "theirs.wav").write_bytes(b"globex's call")
    link = recordings / "acme" / "link.wav"
    os.symlink(secret, link)
    admin = as_("tenant_admin")
    for path, code in (
        (secret, "outside_recordings"),
        (recordings / "globex" / "theirs.wav", "outside_recordings"),  # another tenant's folder
        (recordings / "acme" / ".." / "globex" / "theirs.wav", "outside_recordings"),
        (link, "outside_recordings"),  # a link inside that leads out
        ("/etc/passwd", "outside_recordings"),
        (recordings / "acme" / "missing.wav", "recording_missing"),
    ):
        rid = recorded(store, "acme", "support", "acme1", "+15550001", DAY, path)
        r = admin.get(f"{T}/{rid}/audio")
        assert r.json["code"] == code and r.status in (403, 404), (path, r)
        assert b"not yours" not in r.body and b"globex" not in r.body
    theirs = recorded(
        store, "globex", "support", "globex1", "+15550001", DAY, recordings / "globex" / "theirs.wav"
    )
    r = admin.get(f"{T}/{theirs}/audio")
    assert (r.status, r.json["code"]) == (404, "no_such_recording")
    assert (
        as_("tenant_admin", "globex").get(f"/api/v1/tenants/globex/recordings/{theirs}/audio").body
        == b"globex's call"
    )
    for path in (
        "/..%2F..%2Fsecret.wav/audio",
        "/../../secret.wav/audio",
        f"/{theirs}/audio?path=/etc/passwd",
    ):
        r = admin.get(T + path)
        assert r.status in (404, 400) and b"not yours" not in r.body, (path, r)
    r = Client(admin.port, token=admin.token).get("/api/v1/tenants/acme/../globex/recordings")
    assert r.status in (401, 403, 404)
