"""The floor and the tenant page on the real event stream: a status change made in another
transaction (as the CLI makes it: announced through PostgreSQL, brought by the relay) shows
at once, with no fallback refetch while the stream is open; a change made between the page's
first fetch and its stream's opening is fetched once the stream opens; a stream the server ends is
resumed from its last id, and one whose ids the server no longer knows is reset and the
pages fetch their state again."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from playwright.sync_api import expect

from fsapps.acd.notifier import Notifier
from fsapps.acd.relay import Relay
from fsapps.store import acd
from fsapps.store import api as repo
from fsapps.web.app import ApiContext
from fsapps.web.live import LiveEvents
from tests.browser.sections import open_section
from tests.support.api import PASSWORD, QUEUES, populate, serve_api, static_queues

EVENTS = "/api/v1/tenants/acme/events"
STREAM_FIRST = 2.5  # s: well inside the floor's fallback refetch (POLL_MS, 5 s), were it running


@contextmanager
def live_site(store: Any, db_dsn: str) -> Iterator[tuple[str, LiveEvents]]:
    """tests.support.api's call center, its console's streams following a hub that hears the
    other processes' changes through the relay, as ``fsapps serve``'s does."""
    populate(store)

    def agent_tenants() -> dict[str, frozenset[str]]:
        with store.operator() as op:
            return repo.agent_tenants(op)

    live = LiveEvents(agent_tenants).start()
    relay = Relay(db_dsn, Notifier(), origin="the-api")
    relay.follow(live.put, resumed=live.restart)
    assert relay.listening.wait(10)
    server = serve_api(ApiContext(store, static_queues(QUEUES), live=live), console=True)
    try:
        yield f"http://127.0.0.1:{server.server_port}", live
    finally:
        server.stop(timeout=2)
        relay.stop()
        live.stop()


def set_status(store: Any, status: str) -> float:
    """acme1's status, as ``fsapps agent status`` sets it (and announces it); when."""
    with store.operator() as op:
        acd.set_status(op.conn, "acme1", status, time.time())
    return time.monotonic()


def test_the_floor_and_the_tenant_page_follow_the_stream_resume_it_and_start_again_on_reset(
    store, db_dsn, tabs
) -> None:
    with live_site(store, db_dsn) as (base, live):
        admin = tabs(base, "en-GB", "admin")
        page = admin.login("tenant_admin_acme", PASSWORD)
        open_section(page, "agents")
        row = page.locator('#agents-rows tr[data-agent="acme1"]')
        expect(page.locator("#live")).to_have_attribute("data-live", "live")
        expect(row).to_contain_text("Signed out")
        # The floor's first stream is held back: it opens only after its page has fetched
        # and a change has been announced (to no stream of the floor's).
        sup = tabs(base, "en-GB", "supervisor")
        held: list[Any] = []

        def hold(route: Any) -> None:
            held.append(route)

        sup.page.route("**" + EVENTS, hold)
        floor = sup.login("supervisor_acme", PASSWORD)
        expect(floor).to_have_url(f"{base}/console/floor")
        card = floor.locator('#agent-grid li[data-agent="acme1"]')
        expect(card).to_have_attribute("data-activity", "logged_out")
        assert len(held) == 1
        set_status(store, "On Break")
        expect(row).to_contain_text("On break")  # the tenant page's stream told it
        held[0].continue_()
        sup.page.unroute("**" + EVENTS, hold)
        expect(floor.locator("#live")).to_have_attribute("data-live", "live")
        expect(card).to_have_attribute("data-activity", "on_break")  # fetched once the stream opened
        fetches: list[float] = []
        streams: list[Any] = []  # the floor's requests for its stream

        def seen(request: Any) -> None:
            if request.url.endswith("/api/v1/tenants/acme/agents"):
                fetches.append(time.monotonic())
            elif request.url.endswith(EVENTS):
                streams.append(request)

        floor.on("request", seen)

        # Made elsewhere: on both pages within moments, each by one fetch the event asked for.
        changed = set_status(store, "Available")
        expect(card).to_have_attribute("data-activity", "available", timeout=STREAM_FIRST * 1000)
        expect(row).to_contain_text("Ready", timeout=STREAM_FIRST * 1000)
        assert len(fetches) == 1 and fetches[0] > changed, fetches

        # The server ends the stream (as when the client falls behind): the browser comes back
        # with the last id it saw, and gets what it missed meanwhile from the history.
        last = live.notifier.seq
        live.notifier.close_all()
        set_status(store, "On Break")
        expect(card).to_have_attribute("data-activity", "on_break")
        expect(row).to_contain_text("On break")
        assert [s.all_headers().get("last-event-id") for s in streams] == [f"{live.epoch}-{last}"]

        # Events were lost (a new epoch: the ids of before mean nothing): the stream says
        # reset, and the pages fetch again what no event told them.
        epoch = live.epoch
        live.restart()
        with store.operator() as op:  # no announcement: only a fetch can tell
            op.conn.execute("UPDATE agent_state SET status = 'Logged Out' WHERE agent_id = 'acme1'")
        expect(card).to_have_attribute("data-activity", "logged_out")
        expect(row).to_contain_text("Signed out")
        resumed = streams[-1].all_headers().get("last-event-id", "")  # of the epoch before
        assert len(streams) == 2 and resumed.startswith(f"{epoch}-"), resumed
        for p in (floor, page):
            expect(p.locator("#live")).to_have_attribute("data-live", "live")
