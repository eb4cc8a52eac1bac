"""A lookup's HTTP at run time: no redirect followed, no private address unless the
operator listed it. A real HTTP server on loopback (gevent's WSGI server)."""

from __future__ import annotations

import json

import pytest
from gevent.pywsgi import WSGIServer

from fsapps.apps.context import AppContext, HttpError, http_get_json
from fsapps.flows.model import Operator, Project


class Endpoint:
    """/customers answers JSON; /moved redirects to /customers. Counts the hits of each."""

    def __init__(self) -> None:
        self.hits: dict[str, int] = {}
        self.server = WSGIServer(("127.0.0.1", 0), self.app, log=None)
        self.server.start()
        self.port = self.server.server_port

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def app(self, environ, start_response):
        path = environ["PATH_INFO"]
        self.hits[path] = self.hits.get(path, 0) + 1
        if path == "/moved":
            start_response("302 Found", [("Location", self.url("/customers"))])
            return [b""]
        start_response("200 OK", [("Content-Type", "application/json")])
        return [json.dumps({"name": "Ada", "query": environ.get("QUERY_STRING", "")}).encode()]


@pytest.fixture
def endpoint():
    e = Endpoint()
    yield e
    e.server.stop()


def test_a_listed_loopback_host_is_called(endpoint) -> None:
    got = http_get_json(
        endpoint.url("/customers"), {"key": "555"}, 2.0, allowed=[f"127.0.0.1:{endpoint.port}"]
    )
    assert got == {"name": "Ada", "query": "key=555"}


@pytest.mark.parametrize(
    "allowed", [[], ["127.0.0.2"], ["127.0.0.1:1"]], ids=["none", "other host", "other port"]
)
def test_a_loopback_host_not_listed_is_refused_before_any_request(endpoint, allowed) -> None:
    with pytest.raises(HttpError) as caught:
        http_get_json(endpoint.url("/customers"), {"key": "555"}, 2.0, allowed=allowed)
    assert caught.value.kind == "refused"
    assert "127.0.0.1" in str(caught.value)
    assert endpoint.hits == {}


def test_a_name_is_judged_by_the_addresses_it_resolves_to(endpoint) -> None:
    url = endpoint.url("/customers", host="localhost")
    with pytest.raises(HttpError) as caught:
        http_get_json(url, {}, 2.0, allowed=["example.com"])
    assert caught.value.kind == "refused" and endpoint.hits == {}
    assert http_get_json(url, {}, 2.0, allowed=["localhost"])["name"] == "Ada"
    assert endpoint.hits == {"/customers": 1}


def test_a_redirect_is_an_error_and_is_not_followed(endpoint) -> None:
    with pytest.raises(HttpError) as caught:
        http_get_json(endpoint.url("/moved"), {"key": "555"}, 2.0, allowed=["127.0.0.1"])
    assert caught.value.kind == "redirect"
    assert "302" in str(caught.value)
    assert endpoint.hits == {"/moved": 1}  # never /customers


def test_the_applications_http_uses_the_operators_lookup_hosts(endpoint) -> None:
    listed = AppContext(Project("dialplan", Operator(lookup_hosts=["127.0.0.1"]), []))
    assert listed.http_get(endpoint.url("/customers"), {"key": "1"}, 2.0)["name"] == "Ada"
    unlisted = AppContext(Project("dialplan", Operator(), []))
    with pytest.raises(HttpError) as caught:
        unlisted.http_get(endpoint.url("/customers"), {"key": "1"}, 2.0)
    assert caught.value.kind == "refused"
    assert endpoint.hits == {"/customers": 1}
