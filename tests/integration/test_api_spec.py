"""The HTTP API's security matrix, generated from its OpenAPI document
(fsapps/web/openapi.json): every path and method in it, so a route added to the API is
covered here without a line of this file changing. Real HTTP against the real app on one
embedded PostgreSQL database, one app for the whole module.

For every operation:

* the doors: no credentials, a malformed Authorization header, an unknown, a revoked and
  an expired token, an expired session cookie, a disabled user, a suspended tenant's
  user: each refused with a status the operation documents and a JSON ``code``;
* CSRF: an unsafe method with the session cookie and no, or a wrong, X-CSRF-Token: 403;
* hostile strings (tests/support/hostile.py) in every path parameter, query parameter and
  JSON body field it declares, sent as the operator (who gets furthest): never a 500,
  always a JSON error with a ``code`` or a clean success; and whatever reaches the switch
  (the emulator's API events) carries none of them raw;
* bodies past the service's limit: 413 ``too_large``; bodies that are not JSON, or say
  they are something else: a 4xx JSON error.

test_api_matrix.py says who may do what; this says that nobody else gets in, and that no
input breaks a route. A route that answers ``text/event-stream`` is a stream that never
ends: its status and headers are read, never its body (tests/support/api.py Client).
"""

from __future__ import annotations

import json
import urllib.parse
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from fsapps.web.openapi import CHECKED_IN
from tests.support.api import PASSWORD, QUEUES, CallCenter, Client, Reply, populate, serve_api, static_queues
from tests.support.hostile import CORPUS

SPEC: dict[str, Any] = json.loads(CHECKED_IN.read_text())
METHODS = ("get", "put", "post", "delete", "patch")
OPERATIONS = [
    (method.upper(), path, op)
    for path, item in sorted(SPEC["paths"].items())
    for method, op in item.items()
    if method in METHODS
]
SECURED = [(m, p, op) for m, p, op in OPERATIONS if op.get("security", SPEC.get("security")) != []]
UNSAFE = ("POST", "PUT", "PATCH", "DELETE")
LIMIT = 1 << 20  # the service's request body limit (fsapps.web.app, MAX_CONTENT_LENGTH)

# A working value for each path parameter the document names; one it does not know yet is
# made from its schema (_value), so a new route still gets a well-formed path.
KNOWN = {"tenant": "acme", "agent": "acme1", "queue": "support", "group": "front", "number": "+15550100",
         "month": "2026-11"}  # fmt: skip


# Working values for body fields, so that a hostile string in one field meets the route's
# code past the others' validation; a field not named here gets a plain value of its type.
FIELDS = {"number": "+15550199", "extension": "1009", "queue": "sales", "status": "Available",
          "from_agent": "acme2", "agent": "acme2", "user": "1001", "name": "matrix", "role": "agent",
          "password": PASSWORD, "username": "ops", "id": "spec1", "domain": "spec1.example", "priority": 5,
          "area_kind": "area", "area": "north", "message": "Line cut", "reason": "fraud"}  # fmt: skip


def ids(ops: list[tuple[str, str, Any]]) -> list[str]:
    return [f"{m} {p}" for m, p, _ in ops]


# --- the module's call center ---------------------------------------------------------------


@dataclass
class Site:
    store: Any
    port: int
    cc: CallCenter
    switch: Any  # the emulator the API's Event Socket reaches
    commands: list[str]  # every API command the emulator ran: "name arg"
    doors: dict[str, dict[str, str]]  # who knocks -> their request headers


@pytest.fixture(scope="module")
def site(pg_server, tmp_path_factory) -> Iterator[Site]:
    import psycopg
    from psycopg.conninfo import make_conninfo

    from fsapps.esl.client import Connection
    from fsapps.flows.upload import FlowsSite
    from fsapps.sim.dialplan import StaticDialplan
    from fsapps.sim.switch import Switch
    from fsapps.store import api as repo
    from fsapps.store.db import Store
    from fsapps.store.migrate import migrate
    from fsapps.store.records import Tenant
    from fsapps.web.app import ApiContext

    name = f"spec{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg_server.dsn, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    dsn = make_conninfo(pg_server.dsn, dbname=name)
    migrate(dsn)
    store = Store(dsn, max_size=20).open()
    cc = populate(store)
    # Dial-out and call control get as far as the switch: acme has a number to show, its
    # agent a phone.
    with store.operator() as op:
        op.conn.execute("INSERT INTO access_numbers (number, tenant_id) VALUES ('+15550000', 'acme')")
        op.conn.execute("UPDATE agents SET contact = 'user/acme1@acme.example' WHERE id = 'acme1'")
        op.add_tenant(Tenant("initech", "Initech", "initech.example"))
    doors: dict[str, dict[str, str]] = {"no credentials": {}}
    with store.tenant("acme") as t:
        disabled = t.add_user("disabled_acme", PASSWORD, "tenant_admin")
        doors["disabled user"] = {"Authorization": f"Bearer {t.issue_token(disabled.id, 'tests')}"}
        t.conn.execute("UPDATE users SET disabled = true WHERE id = %s", (disabled.id,))
        admin = cc.users[("acme", "tenant_admin")]
        revoked = t.issue_token(admin, "to revoke")
        token_id = t._one("SELECT max(id) AS id FROM api_tokens")["id"]
        assert repo.revoke_token(t, admin, token_id)
        doors["revoked token"] = {"Authorization": f"Bearer {revoked}"}
        expired = t.issue_token(admin, "expired")
        t.conn.execute("UPDATE api_tokens SET expires_at = now() - interval '1 minute'"
                       " WHERE name = 'expired'")  # fmt: skip
        doors["expired token"] = {"Authorization": f"Bearer {expired}"}
    with store.tenant("initech") as t:
        suspended = t.issue_token(t.add_user("admin_initech", PASSWORD, "tenant_admin").id, "tests")
    with store.operator() as op:
        op.conn.execute("UPDATE tenants SET status = 'suspended' WHERE id = 'initech'")
        session, _ = repo.open_session(op, admin, datetime.now(UTC) + timedelta(hours=1))
        op.conn.execute("UPDATE user_sessions SET expires_at = now() - interval '1 second'")
    doors["suspended tenant"] = {"Authorization": f"Bearer {suspended}"}
    doors["expired session"] = {"Cookie": f"fsapps_session={session}"}
    doors["unknown token"] = {"Authorization": "Bearer fsa_" + "x" * 43}
    doors["malformed: no token"] = {"Authorization": "Bearer "}
    doors["malformed: basic"] = {"Authorization": "Basic b3BzOmEtbG9uZy1wYXNzd29yZA=="}
    doors["malformed: hostile"] = {"Authorization": "Bearer ${system(id)}\x7f"}

    switch = Switch(dialplan=StaticDialplan(), speed=20.0).start()
    commands: list[str] = []

    def seen(event: Any) -> None:
        if event.name == "API":
            commands.append(f"{event.get('API-Command')} {event.get('API-Command-Argument') or ''}")

    esl = Connection("127.0.0.1", switch.port, switch.password)
    esl.connect()
    root = tmp_path_factory.mktemp("dialplan")
    (root / "operator.yaml").write_text("controllers: [127.0.0.1:8084]\n")
    flows = FlowsSite(root, tmp_path_factory.mktemp("conf"), lambda: "+OK [Success]")
    ctx = ApiContext(store, static_queues(QUEUES), switch=esl.api, gateways=lambda: ["carrier"], flows=flows,
                     recordings=tmp_path_factory.mktemp("recordings"))  # fmt: skip
    server = serve_api(ctx)
    try:
        with switch.watching(seen):
            yield Site(store, server.server_port, cc, switch, commands, doors)
    finally:
        server.stop()
        esl.stop()
        switch.stop()
        store.close()


# --- requests made from the document --------------------------------------------------------


def _schema(ref_or_schema: dict[str, Any]) -> dict[str, Any]:
    ref = ref_or_schema.get("$ref")
    if ref is None:
        return ref_or_schema
    return SPEC["components"]["schemas"][ref.rsplit("/", 1)[-1]]  # type: ignore[no-any-return]


def _value(schema: dict[str, Any]) -> Any:
    """A plain value of the schema's type: enough to get past the shape of the input."""
    schema = _schema(schema)
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "integer":
        return 1
    if kind == "number":
        return 1.0
    if kind == "boolean":
        return False
    if kind == "array":
        return []
    if kind == "object":
        return {}
    if schema.get("format") == "uuid":
        return str(uuid.uuid4())
    if schema.get("format") == "date-time":
        return (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    return "x1"


def parameters(op: dict[str, Any], where: str) -> list[dict[str, Any]]:
    return [p for p in op.get("parameters", []) if p["in"] == where]


def body_schema(op: dict[str, Any]) -> dict[str, Any] | None:
    content = op.get("requestBody", {}).get("content", {})
    return _schema(content["application/json"]["schema"]) if "application/json" in content else None


def base_body(op: dict[str, Any]) -> dict[str, Any] | None:
    schema = body_schema(op)
    if schema is None:
        return None
    required = schema.get("required", [])
    return {k: FIELDS.get(k, _value(v)) for k, v in schema.get("properties", {}).items() if k in required}


def path_for(path: str, op: dict[str, Any], **given: str) -> str:
    out = path
    for p in parameters(op, "path"):
        value = given.get(p["name"], KNOWN.get(p["name"]))
        text = str(_value(p.get("schema", {})) if value is None else value)
        encoded = urllib.parse.quote(text.encode("utf-8", "surrogateescape"), safe="")
        out = out.replace("{" + p["name"] + "}", encoded)
    return out


def query(values: dict[str, str]) -> str:
    if not values:
        return ""
    pairs = [(k, v.encode("utf-8", "surrogateescape")) for k, v in values.items()]
    return "?" + urllib.parse.urlencode(pairs)


def documented(op: dict[str, Any]) -> set[int]:
    return {int(code) for code in op["responses"]}


def assert_json_error(r: Reply, where: str) -> str:
    """A 4xx/5xx answer is JSON with a code; returns it."""
    assert r.headers.get("content-type") == "application/json", (where, r.status, r.headers, r.body[:200])
    got = r.json
    assert isinstance(got, dict) and isinstance(got.get("code"), str) and got["code"], (where, got)
    assert isinstance(got.get("message"), str), (where, got)
    return str(got["code"])


# --- the doors ----------------------------------------------------------------------------

REFUSED = {
    "no credentials": (401, "unauthenticated"),
    "malformed: no token": (401, "unauthenticated"),
    "malformed: basic": (401, "unauthenticated"),
    "malformed: hostile": (401, "invalid_token"),
    "unknown token": (401, "invalid_token"),
    "revoked token": (401, "invalid_token"),
    "expired token": (401, "invalid_token"),
    "disabled user": (401, "invalid_token"),
    "expired session": (401, "session_expired"),
    "suspended tenant": (403, "tenant_suspended"),
}


def snapshot(store: Any) -> dict[str, str]:
    """Every table of the service's schema, one digest of its rows each (one query): what a
    refused request could have changed."""
    with store.operator() as op:
        tables = [r["t"] for r in op._all(
            "SELECT quote_ident(table_name) AS t FROM information_schema.tables"
            " WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY 1"
        )]  # fmt: skip
        digests = ", ".join(
            f"(SELECT md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) FROM public.{t} x) AS {t}"
            for t in tables
        )
        return dict(op._one(f"SELECT {digests}"))


@pytest.mark.parametrize(("method", "path", "op"), SECURED, ids=ids(SECURED))
def test_every_door_but_a_live_login_is_shut(site: Site, method: str, path: str, op: dict[str, Any]) -> None:
    url = path_for(path, op, tenant="initech" if "{tenant}" in path else "acme")
    body = base_body(op)
    got = {}
    before = snapshot(site.store)
    for door, headers in site.doors.items():
        r = Client(site.port).request(method, url, body, headers=dict(headers))
        code = assert_json_error(r, door)
        got[door] = (r.status, code)
        assert r.status in documented(op), (door, r.status, "is not in the document's responses")
    # A suspended tenant's user is refused in their own tenant; anyone else, anywhere.
    assert got == REFUSED, {k: (got[k], REFUSED[k]) for k in got if got[k] != REFUSED[k]}
    after = snapshot(site.store)
    assert after == before, [t for t in after if after[t] != before.get(t)]  # refused: nothing changed


UNSAFE_OPS = [(m, p, op) for m, p, op in SECURED if m in UNSAFE]


@pytest.mark.parametrize(("method", "path", "op"), UNSAFE_OPS, ids=ids(UNSAFE_OPS))
def test_a_change_by_cookie_needs_the_sessions_csrf_token(site: Site, method: str, path: str,
                                                         op: dict[str, Any]) -> None:  # fmt: skip
    browser = Client(site.port)
    assert browser.login("ops", PASSWORD).status == 200
    url, body = path_for(path, op), base_body(op)
    before = snapshot(site.store)
    for sent in (None, "wrong", browser.csrf + "x"):
        headers = {} if sent is None else {"X-CSRF-Token": sent}
        r = Client(site.port, cookies=dict(browser.cookies)).request(method, url, body, headers=headers)
        assert (r.status, assert_json_error(r, str(sent))) == (403, "csrf_failed")
        assert 403 in documented(op)
    assert snapshot(site.store) == before


# --- hostile input ------------------------------------------------------------------------------

# What a parser of the switch's would act on: such a value reaching the switch as it was sent
# is a hole (dial strings, expansions, framing, the XML preprocessor).
SYNTAX = ("${", "$${", "{", "[", "|", "\n", "\r", "\x00", "<", "^^", ":_:", ",")


def _inputs(op: dict[str, Any]) -> list[tuple[str, str]]:
    """(where, name) of every string input the operation declares."""
    out = [("path", p["name"]) for p in parameters(op, "path")]
    out += [("query", p["name"]) for p in parameters(op, "query")]
    schema = body_schema(op)
    if schema is not None:
        out += [("body", name) for name in schema.get("properties", {})]
    return out


HOSTILE_OPS = [(m, p, op) for m, p, op in OPERATIONS if _inputs(op)]


def _send_hostile(site: Site, method: str, path: str, op: dict[str, Any], where: str, name: str,
                  value: str) -> Reply:  # fmt: skip
    client = Client(site.port, token=site.cc.token("operator", "acme"))
    body = base_body(op)
    url = path_for(path, op, **({name: value} if where == "path" else {}))
    if where == "query":
        url += query({name: value})
    if where == "body":
        assert body is not None
        body[name] = value
    raw = None
    if body is not None:
        raw = json.dumps(body).encode()  # lone surrogates travel as \\udcff escapes
    headers = {"Content-Type": "application/json"} if raw is not None else {}
    return client.request(method, url, headers=headers, raw=raw)


@pytest.mark.parametrize(("method", "path", "op"), HOSTILE_OPS, ids=ids(HOSTILE_OPS))
def test_hostile_strings_in_every_input_get_an_answer_never_a_500(site: Site, method: str, path: str,
                                                                   op: dict[str, Any]) -> None:  # fmt: skip
    from gevent.pool import Pool

    cases = [(where, name, value) for where, name in _inputs(op) for value in CORPUS]
    before = len(site.commands)

    def send(case: tuple[str, str, str]) -> tuple[str, Reply]:
        where, name, value = case
        return f"{where} {name}={value[:40]!r}", _send_hostile(site, method, path, op, where, name, value)

    problems = []
    for label, r in Pool(8).imap(send, cases):  # one app, many requests: eight at a time
        if r.status >= 500 and r.status not in (502, 503):
            problems.append((label, r.status, r.body[:200]))
        elif r.status >= 400:
            assert_json_error(r, label)
    assert not problems, problems
    # Whatever reached the switch carries none of the strings as they were sent.
    sent = site.commands[before:]
    raw = [(value, c) for value in CORPUS if any(s in value for s in SYNTAX) for c in sent if value in c]
    assert not raw, raw


def test_the_switch_log_sees_what_reaches_the_switch(site: Site) -> None:
    """The hostile test's check is not idle: a clean dial-out reaches the emulator (whose
    originate fails: the agent's phone is not registered), and its log has it."""
    before = len(site.commands)
    client = Client(site.port, token=site.cc.token("operator", "acme"))
    r = client.request("POST", "/api/v1/tenants/acme/agents/acme1/dial", {"number": "+15550199"})
    assert (r.status, r.json["code"]) == (502, "switch_refused")
    (originate,) = [c for c in site.commands[before:] if c.startswith("originate ")]
    assert "user/acme1@acme.example" in originate and "sofia/gateway/carrier/+15550199" in originate


# --- bodies: too large, not JSON -------------------------------------------------------------

BODY_OPS = [(m, p, op) for m, p, op in OPERATIONS if body_schema(op) is not None]


@pytest.mark.parametrize(("method", "path", "op"), BODY_OPS, ids=ids(BODY_OPS))
def test_bodies_past_the_limit_or_not_json_are_refused_in_json(site: Site, method: str, path: str,
                                                               op: dict[str, Any]) -> None:  # fmt: skip
    client = Client(site.port, token=site.cc.token("operator", "acme"))
    url = path_for(path, op)
    big = json.dumps({"pad": "x" * LIMIT}).encode()
    r = client.request(method, url, headers={"Content-Type": "application/json"}, raw=big)
    assert (r.status, assert_json_error(r, "too large")) == (413, "too_large")
    good = json.dumps(base_body(op)).encode()
    for content_type, raw, statuses in (
        ("text/plain", good, (415,)),
        ("application/x-www-form-urlencoded", b"a=1", (415,)),
        ("application/json", b"{not json", (400,)),
        ("application/json", b"\xff\xfe", (400,)),
        ("application/json", b"[1, 2]", (400, 422)),
        (None, good, (415,)),
    ):
        headers = {"Content-Type": content_type} if content_type else {}
        r = client.request(method, url, headers=headers, raw=raw)
        code = assert_json_error(r, f"{content_type}: {raw[:20]!r}")
        assert r.status in statuses, (content_type, raw[:20], r.status, code)


def test_a_body_sent_in_chunks_is_held_to_the_same_limit(site: Site) -> None:
    """No Content-Length (Transfer-Encoding: chunked): the limit holds all the same."""
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", site.port, timeout=10)
    headers = {"Authorization": f"Bearer {site.cc.token('operator', 'acme')}",
               "Content-Type": "application/json", "Transfer-Encoding": "chunked"}  # fmt: skip
    chunks = iter([b'{"reason": "', b"x" * (LIMIT + 10), b'"}'])
    conn.request("PUT", "/api/v1/tenants/acme/blacklist/+15550111", body=chunks, headers=headers,
                 encode_chunked=True)  # fmt: skip
    resp = conn.getresponse()
    payload = resp.read()
    conn.close()
    assert resp.status == 413, (resp.status, payload[:200])
    assert json.loads(payload)["code"] == "too_large"


def test_logging_in_and_the_ticket_form_and_status_link_are_the_only_operations_without_a_login() -> None:
    """The doors test covers every operation that needs a login: all of them but these (a
    customer has no login: tests/integration/test_api_tickets.py tries the ticket doors)."""
    public = {(m, p) for m, p, _ in OPERATIONS} - {(m, p) for m, p, _ in SECURED}
    assert public == {("POST", "/api/v1/session"), ("POST", "/api/v1/public/tenants/{tenant}/tickets"),
                      ("GET", "/api/v1/public/tenants/{tenant}/ticket-status/{token}")}  # fmt: skip


def test_the_client_reads_only_the_head_of_an_event_stream() -> None:
    """A route answering text/event-stream (a live event stream) never ends its body: the
    matrix's client takes its status and headers and hangs up, and the server's side of
    the stream ends with the connection."""
    import gevent

    from fsapps.httpserve import wsgi_server

    ended = gevent.event.Event()

    def endless(environ: dict[str, Any], start_response: Any) -> Any:
        start_response("200 OK", [("Content-Type", "text/event-stream"), ("Cache-Control", "no-store")])

        def events() -> Iterator[bytes]:
            try:
                n = 0
                while True:
                    n += 1
                    yield f"id: {n}\ndata: tick\n\n".encode()
                    gevent.sleep(0.01)
            finally:
                ended.set()

        return events()

    server = wsgi_server("127.0.0.1", 0, endless, read_timeout=5, max_connections=5)
    server.start()
    try:
        with gevent.Timeout(5):
            r = Client(server.server_port).get("/api/v1/tenants/acme/events")
        assert (r.status, r.headers["content-type"], r.body) == (200, "text/event-stream", b"")
        assert ended.wait(5)
    finally:
        server.stop()
