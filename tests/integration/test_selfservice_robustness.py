"""What the self-service applications do when things go wrong: a survey
answered badly or cut short, a slow or dead lookup endpoint, a controller
that dies mid-application. A small tenant written here, an HTTP endpoint
served by gevent, the emulator, the controller, PostgreSQL."""

from __future__ import annotations

import json
import time
from datetime import datetime
from pathlib import Path

import gevent
import gevent.event
import pytest
from gevent.pywsgi import WSGIServer

from fsapps.controller import Controller
from fsapps.flows.simulate import simulate
from fsapps.store.durable import DurableWriter
from fsapps.store.records import Tenant

AT = datetime(2026, 11, 23, 10, 0)

OPERATOR = "controllers: [127.0.0.1:8084]\ntts: {engine: flite, voice: slt}\nlookup_hosts: [127.0.0.1]\n"
TENANT = """id: acme
name: Acme
domain: acme.example
timezone: UTC
language: en
access_numbers: {"5000": survey, "5001": account}
prompts:
  rate: {text: "How did we do? Press 1 to 5."}
  recommend: {text: "Would you recommend us? Press 1 to 5."}
  thanks: {text: "Thank you."}
  hello: {text: "Hello"}
  sorry: {text: "Sorry, we cannot find your details right now."}
"""
SURVEY = """start: start
nodes:
  start: {type: answer, children: {_: survey}}
  survey:
    type: survey
    data: {questions: [rate, recommend], thanks: thanks}
    children: {_: bye}
  bye: {type: hangup}
"""
ACCOUNT = """start: start
nodes:
  start: {type: answer, children: {_: find}}
  find:
    type: lookup
    data: {source: {url: "URL"}, key: caller_id, fields: [name, tier], prefix: acme_, timeout: TIMEOUT, retries: 1}
    children: {found: greet, not_found: bye, fallback: sorry}
  greet:
    type: readback
    data: {items: [{prompt: hello}, {value: "${acme_name}"}]}
    children: {_: bye}
  sorry: {type: play, data: {prompt: sorry}, children: {_: bye}}
  bye: {type: hangup}
"""


class Endpoint:
    """A customer API: answers after ``delay`` seconds; counts its hits."""

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.hits = 0
        self.hit = gevent.event.Event()
        self.server = WSGIServer(("127.0.0.1", 0), self.app, log=None)
        self.server.start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/customers"

    def app(self, environ, start_response):
        self.hits += 1
        self.hit.set()
        gevent.sleep(self.delay)
        key = environ.get("QUERY_STRING", "")
        if "key=555" in key:
            start_response("200 OK", [("Content-Type", "application/json")])
            return [json.dumps({"name": "Ada ${system(touch /tmp/x)}", "tier": "gold"}).encode()]
        start_response("404 Not Found", [("Content-Type", "application/json")])
        return [b"{}"]


def project(tmp_path: Path, url: str = "http://127.0.0.1:9/x", timeout: float = 1.0) -> Path:
    root = tmp_path / "dialplan"
    (root / "acme" / "flows").mkdir(parents=True)
    (root / "operator.yaml").write_text(OPERATOR)
    (root / "acme" / "tenant.yaml").write_text(TENANT)
    (root / "acme" / "flows" / "survey.yaml").write_text(SURVEY)
    (root / "acme" / "flows" / "account.yaml").write_text(
        ACCOUNT.replace("URL", url).replace("TIMEOUT", str(timeout))
    )
    return root


@pytest.fixture
def acme(store, tmp_path):
    with store.operator() as op:
        op.add_tenant(Tenant("acme", "Acme", "acme.example"))
    writer = DurableWriter(store, tmp_path / "spool").start()
    yield store, writer
    writer.stop()


def call(acme, root: Path, to: str, digits=(), speed: float = 10.0, **kw):
    # Slow enough that a loaded machine's wall-clock latencies stay small in virtual time.
    store, writer = acme
    return simulate(root, "acme", to=to, at=AT, digits=list(digits), real_apps=True, store=store,
                    records=writer, speed=speed, **kw)  # fmt: skip


def answers(store) -> list[tuple[str, int | None, str]]:
    with store.tenant("acme") as t:
        rows = t._all("SELECT question, score, flow FROM survey_answers ORDER BY answered_at, question")
    return [(r["question"], r["score"], r["flow"]) for r in rows]


def test_survey_stores_each_answer_with_the_call(acme, tmp_path):
    root = project(tmp_path)
    trace = call(acme, root, "5000", ("4", "5"))
    assert trace.prompts == ["rate", "recommend", "thanks"]
    assert answers(acme[0]) == [("rate", 4, "survey"), ("recommend", 5, "survey")]


def test_survey_invalid_digit_is_asked_again_and_silence_is_stored_as_no_answer(acme, tmp_path):
    root = project(tmp_path)
    trace = call(acme, root, "5000", ("9", "3", "", ""))
    # 9 is not 1-5: the question is asked again (tries 2), 3 is taken; the second gets nothing.
    assert trace.prompts.count("rate") == 2
    assert answers(acme[0]) == [("rate", 3, "survey"), ("recommend", None, "survey")]


def test_survey_caller_who_hangs_up_after_the_first_answer_still_counts(acme, tmp_path):
    store, _ = acme
    root = project(tmp_path)
    trace = call(acme, root, "5000", ("2",), hangup_after=6)
    assert trace.hangup_cause == "NORMAL_CLEARING"
    assert answers(store)[0] == ("rate", 2, "survey")
    with store.tenant("acme") as t:
        outcome = t._all("SELECT outcome FROM usage_records WHERE resource_id = 'survey.survey'")
    assert outcome == [{"outcome": "caller_hung_up"}]


def test_http_lookup_found_sets_fields_verbatim_and_exports_them(acme, tmp_path):
    endpoint = Endpoint()
    root = project(tmp_path, endpoint.url)
    trace = call(acme, root, "5001", caller="555", hangup_after=20)
    assert ("account.find", "found") in trace.branches
    # The looked-up value is stored inert, so it is spoken as text and never expanded: its
    # "${" reads "%{", as FreeSWITCH writes a caller ID's (fsapps.escape.inert).
    assert trace.prompts == ["hello", "Ada %{system(touch /tmp/x)}"]
    assert not Path("/tmp/x").exists()
    endpoint.server.stop()


def test_http_lookup_404_is_not_found(acme, tmp_path):
    endpoint = Endpoint()
    root = project(tmp_path, endpoint.url)
    trace = call(acme, root, "5001", caller="777", hangup_after=20)
    assert ("account.find", "not_found") in trace.branches
    endpoint.server.stop()


def test_a_slow_endpoint_is_retried_then_the_fallback_plays_and_other_calls_go_on(acme, tmp_path):
    slow = Endpoint(delay=6.0)
    root = project(tmp_path, slow.url, timeout=2.0)
    fast_root = project(tmp_path / "fast", Endpoint().url)
    slow_call = gevent.spawn(call, acme, root, "5001", caller="555", hangup_after=60, speed=10.0)
    assert slow.hit.wait(10)
    fast = call(acme, fast_root, "5001", caller="555", hangup_after=20, speed=10.0)
    # The other call went through while the slow lookup was still waiting for its endpoint
    # (two tries of 2 s: the whole call takes about 0.5 s, here and on a busy machine).
    assert not slow_call.ready()
    assert ("account.find", "found") in fast.branches
    trace = slow_call.get(timeout=30)
    assert slow.hits == 2  # one retry
    assert "sorry" in trace.prompts


def test_controller_killed_mid_application_the_dialplan_takes_the_fallback_at_once(
    acme, tmp_path, monkeypatch
):
    hanging = Endpoint(delay=60.0)
    root = project(tmp_path, hanging.url, timeout=30)
    controllers: list[Controller] = []
    start = Controller.start

    def keep(self):
        controllers.append(self)
        return start(self)

    monkeypatch.setattr(Controller, "start", keep)
    running = gevent.spawn(call, acme, root, "5001", caller="555", hangup_after=120, speed=10.0)
    assert hanging.hit.wait(10)  # the lookup is in flight
    killed_at = time.monotonic()
    controllers[0].server.stop(0)  # the controller's sockets close, as when its process dies
    trace = running.get(timeout=30)
    recovered = time.monotonic() - killed_at
    assert "sorry" in trace.prompts
    steps = {s.text.split(" (")[0]: s.at for s in trace.steps if s.kind == "node"}
    # Dead air: the fallback followed the kill at once (the hand-off, the kill and the
    # dialplan's next step: about 0.1 s, a virtual second), not after the lookup's 30 s
    # timeout (300 virtual seconds at 10x); the bound leaves 2 s for a busy machine.
    assert steps["account.sorry"] - steps["account.find"] < 20.0, trace.lines()
    assert recovered < 10
