"""The HTTP API as a service: the OpenAPI document served and kept current, every error
JSON with a stable code, ``fsapps serve`` mounting it only when configured."""

from __future__ import annotations

import json

import pytest

from fsapps.web import openapi
from fsapps.web.app import ApiContext
from tests.support.api import Client, serve_api, static_queues


@pytest.fixture
def api(store):
    def broken(tenant: str) -> dict:
        raise RuntimeError("the flows could not be read")

    queues = static_queues({"acme": {"support": {"strategy": "longest-idle-agent"}}})
    ctx = ApiContext(store, lambda t: broken(t) if t == "broken" else queues(t))
    server = serve_api(ctx)
    yield ctx, server.server_port
    server.stop()


@pytest.fixture
def operator_token(store):
    from fsapps.store import api as repo

    with store.operator() as op:
        user = op.add_operator_admin("ops", "operator-pass-1")
        return repo.issue_operator_token(op, user.id, "tests")


def test_the_openapi_document_is_served_and_matches_the_checked_in_copy(api) -> None:
    _, port = api
    r = Client(port).get("/api/v1/openapi.json")
    assert r.status == 200
    served = r.json
    assert served["openapi"].startswith("3.")
    assert "/api/v1/tenants/{tenant}/agents/{agent}/status" in served["paths"]
    assert served["paths"]["/api/v1/session"]["post"]["security"] == []
    checked_in = json.loads(openapi.CHECKED_IN.read_text())
    assert served == checked_in, "regenerate it: fsapps openapi --out fsapps/web/openapi.json"
    assert openapi.document() == openapi.CHECKED_IN.read_text()


def test_fsapps_openapi_writes_the_document_the_api_serves(tmp_path) -> None:
    from fsapps.cli import main

    out = tmp_path / "openapi.json"
    assert main(["openapi", "--out", str(out)]) == 0
    assert out.read_text() == openapi.CHECKED_IN.read_text()
    assert "/api/v1/tenants/{tenant}/blacklist" in json.loads(out.read_text())["paths"]


def test_every_error_is_json_with_a_stable_code(api, store, operator_token) -> None:
    _, port = api
    anonymous = Client(port)
    ops = Client(port, token=operator_token)
    with store.operator() as op:
        from fsapps.store.records import Tenant

        op.add_tenant(Tenant("broken", "Broken", "broken.example"))
        op.add_tenant(Tenant("acme", "Acme", "acme.example"))
    bad_json = {"Content-Type": "application/json"}
    cases = [
        (anonymous.get("/api/v1/tenants"), 401, "unauthenticated"),
        (Client(port, token="fsa_not-a-token").get("/api/v1/tenants"), 401, "invalid_token"),
        (anonymous.get("/api/v1/nowhere"), 404, "not_found"),
        (ops.request("PATCH", "/api/v1/tenants"), 405, "method_not_allowed"),
        (ops.request("POST", "/api/v1/tenants", {"id": "Not Valid!"}), 422, "invalid_input"),
        (ops.request("POST", "/api/v1/tenants", raw=b"{not json", headers=bad_json), 400, "bad_request"),
        (ops.request("POST", "/api/v1/tenants", raw=b"[" * (2 << 20), headers=bad_json), 413, "too_large"),
        (ops.get("/api/v1/tenants/nosuch"), 404, "no_such_tenant"),
        (ops.get("/api/v1/tenants/acme/queues/nosuch"), 404, "no_such_queue"),
        (ops.get("/api/v1/tenants/broken/queues"), 500, "internal_error"),
        (ops.request("POST", "/api/v1/tenants", {"id": "acme", "domain": "x.example"}), 409, "tenant_exists"),
    ]  # fmt: skip
    for reply, status, code in cases:
        assert reply.headers["content-type"] == "application/json", reply
        assert (reply.status, reply.json["code"]) == (status, code), reply.body
        assert reply.json["message"]
    for reply, _, _ in cases:
        assert reply.headers["cache-control"] == "no-store"
        assert reply.headers["x-content-type-options"] == "nosniff"
    invalid = cases[4][0].json
    assert "domain" in invalid["detail"]["json"] and "id" in invalid["detail"]["json"]
    assert "RuntimeError" not in cases[9][0].body.decode()  # no traceback to the client


def test_a_database_that_is_gone_is_a_503(api, store, operator_token) -> None:
    _, port = api
    ops = Client(port, token=operator_token)
    assert ops.get("/api/v1/tenants").status == 200
    store.close()
    r = ops.get("/api/v1/tenants")
    assert (r.status, r.json["code"]) == (503, "database_unavailable")
