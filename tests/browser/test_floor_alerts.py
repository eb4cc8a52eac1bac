"""The floor's alert rules (fsapps/web/console/static/alerts.js), unit-tested: pure
functions of the figures and ``now``, run in Chromium as the pages run them, served from
the package's static folder alone (no API, no database)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from fsapps.web.console import HERE

ORIGIN = "http://alerts.test"


@pytest.fixture(scope="module")
def rules(chromium: Any) -> Any:
    """run(js) -> the value of ``js`` with ``m`` the alerts module."""
    context = chromium.new_context()
    page = context.new_page()

    def serve(route: Any) -> None:
        name = route.request.url.removeprefix(ORIGIN + "/")
        if name == "":
            route.fulfill(status=200, content_type="text/html", body="<!doctype html><title>alerts</title>")
        else:
            script = (HERE / "static" / name).read_text()
            route.fulfill(status=200, content_type="text/javascript", body=script)

    page.route(f"{ORIGIN}/**", serve)
    page.goto(ORIGIN + "/")
    yield lambda js: page.evaluate(f"async () => {{ const m = await import('/alerts.js'); return {js}; }}")
    context.close()


def q(name: str, level: float | None, target: int = 80) -> dict[str, Any]:
    return {"name": name, "service_level": level, "service_level_target": target}


def test_a_queue_below_its_service_level_target_alerts_worst_first(rules) -> None:
    queues = [q("sales", 79.9), q("support", 50.0, 90), q("billing", 80.0), q("vip", None, 95), q("ok", 100)]
    got = rules(f"m.serviceLevelAlerts({json.dumps(queues)})")  # "vip": none offered today
    assert [(a["queue"], a["level"], a["target"]) for a in got] == [("support", 50, 90), ("sales", 79.9, 80)]
    assert {a["kind"] for a in got} == {"service_level"}


def test_an_agent_past_the_limit_of_what_they_do_alerts_and_ready_never_does(rules) -> None:
    now = 10_000
    agents = [
        {"id": "a1", "activity": "on_break", "since": now - 1801},  # past 30 min
        {"id": "a2", "activity": "on_break", "since": now - 1800},  # on the limit: not yet
        {"id": "a3", "activity": "ringing", "since": now - 300},  # 5x its minute: worst
        {"id": "a4", "activity": "available", "since": now - 86_400},  # waiting for calls is the job
        {"id": "a5", "activity": "logged_out", "since": now - 86_400},
        {"id": "a6", "activity": "wrap_up", "since": now + 5},  # the page's clock behind: not negative
    ]
    got = rules(f"m.stuckAlerts({json.dumps(agents)}, {now})")
    assert [(a["agent"], a["activity"], a["seconds"], a["limit"]) for a in got] == [
        ("a3", "ringing", 300, 60), ("a1", "on_break", 1801, 1800)]  # fmt: skip
    assert rules(f"m.stuckAlerts({json.dumps(agents)}, {now}, {{on_break: 60}})")[0]["agent"] == "a1"
    assert rules("Object.isFrozen(m.STUCK_SECONDS)") is True


def test_all_alerts_put_the_queues_before_the_agents(rules) -> None:
    got = rules("m.alerts([{name: 'x', service_level: 10, service_level_target: 80}],"
                " [{id: 'a', activity: 'talking', since: 0}], 5000)")  # fmt: skip
    assert [a["kind"] for a in got] == ["service_level", "stuck"]
    assert rules("m.alerts([], [], 0)") == []
