"""The console's live path: from an agent's status change committed in the database (as
``fsapps agent status`` makes it) to the change shown in the supervisor's floor in Chromium
(the agent's card's activity in the DOM), over the real API (embedded PostgreSQL, the relay,
the event stream, the page's fetch), against the API's own event stream read by a plain SSE
client over HTTP in the same run: what the browser adds.

Each change waits for the page to show the one before (they are not coalesced). The DOM's
time is taken by a MutationObserver in the page (the host's clock, as the change's).
Needs Debian's chromium (``apt-get install chromium``; $FSAPPS_CHROMIUM names another).

    python bench/console_live.py [--changes 50]
"""

from __future__ import annotations

from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import http.client  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import shutil  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import gevent  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from events import ms, pct  # noqa: E402  (the events bench's figures, to set beside them)

from fsapps.acd.notifier import Notifier  # noqa: E402
from fsapps.acd.relay import Relay  # noqa: E402
from fsapps.httpserve import wsgi_server  # noqa: E402
from fsapps.store import acd, migrate  # noqa: E402
from fsapps.store import api as repo  # noqa: E402
from fsapps.store.db import Store  # noqa: E402
from fsapps.store.embedded import EmbeddedPostgres  # noqa: E402
from fsapps.store.records import Tenant  # noqa: E402
from fsapps.web.app import ApiContext  # noqa: E402
from fsapps.web.live import LiveEvents, StreamSlots  # noqa: E402
from fsapps.web.site import make_site  # noqa: E402

PASSWORD = "a-long-password"
ACTIVITY = {"On Break": "on_break", "Available": "available"}
# Every change of the card's activity, stamped on the host's clock (timeOrigin + now).
OBSERVE = """() => {
  window.shown = [];
  const grid = document.querySelector('#agent-grid');
  new MutationObserver((changes) => {
    const at = (performance.timeOrigin + performance.now()) / 1000;
    for (const c of changes) {
      // A redraw sets the attribute again to the value it has (another event's fetch):
      // a mutation record, not a change shown.
      const now = c.target.dataset.activity;
      const card = c.attributeName === 'data-activity' && c.target.matches('li[data-agent="b0"]');
      if (card && c.oldValue !== now) {
        window.shown.push([now, at]);
      }
    }
  }).observe(grid, {attributes: true, subtree: true, attributeFilter: ['data-activity'],
                    attributeOldValue: true});
}"""


SHOWN = "([n, want]) => window.shown.length > n && window.shown[n][0] === want"


class Reader:
    """The API's own client: a tenant admin's stream read on a greenlet, each agent_state's
    delay from the change's time (its ``at``)."""

    def __init__(self, port: int, token: str) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.conn.request("GET", "/api/v1/tenants/bench/events", headers={"Authorization": f"Bearer {token}"})
        self.resp = self.conn.getresponse()
        assert self.resp.status == 200, self.resp.read()
        self.delays: list[float] = []
        self.greenlet = gevent.spawn(self._read)

    def _read(self) -> None:
        kind = ""
        while raw := self.resp.readline():
            line = raw.decode()
            if line.startswith("event: "):
                kind = line[7:].strip()
            elif line.startswith("data: ") and kind == "agent_state":
                self.delays.append(time.time() - json.loads(line[6:])["at"])

    def close(self) -> None:
        self.greenlet.kill()
        self.conn.close()


def chromium() -> str:
    for name in (os.environ.get("FSAPPS_CHROMIUM"), "chromium", "chromium-browser"):
        if name and (found := shutil.which(name)):
            return found
    sys.exit("no chromium on PATH (apt-get install chromium)")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--changes", type=int, default=50, help="status changes timed")
    a = p.parse_args()
    exe = chromium()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="fsapps-bench-console-") as d:
        pg = EmbeddedPostgres(Path(d) / "pg")
        dsn = pg.start()
        migrate.migrate(dsn)
        store = Store(dsn, max_size=20).open()
        with store.operator() as op:
            op.add_tenant(Tenant("bench", "Bench", "bench.example", "UTC"))
            op.add_agent("b0", "b0", {"bench": 1})
            acd.ensure_agent(op.conn, "b0")
        with store.tenant("bench") as t:
            admin = t.add_user("admin", PASSWORD, "tenant_admin").id
            token = t.issue_token(admin, "bench")

        def agent_tenants() -> dict[str, frozenset[str]]:
            with store.operator() as op:
                return repo.agent_tenants(op)

        # As fsapps serve: the streams follow the relay, which hears what the database announces.
        live = LiveEvents(agent_tenants).start()
        relay = Relay(dsn, Notifier(), "api").start()
        relay.follow(live.put, resumed=live.restart)
        assert relay.listening.wait(10)
        ctx = ApiContext(store, lambda tenant: {}, live=live, streams=StreamSlots(10))
        server = wsgi_server("127.0.0.1", 0, make_site(ctx), read_timeout=60, max_connections=50)
        server.start()
        base = f"http://127.0.0.1:{server.server_port}"
        reader = None
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=exe)
                page = browser.new_context(locale="en-GB").new_page()
                page.goto(base + "/console/")
                page.fill("#username", "admin")
                page.fill("#password", PASSWORD)
                page.click("#login-form button[type=submit]")
                page.wait_for_url(base + "/console/tenant")
                page.goto(base + "/console/floor")
                page.wait_for_selector('#live[data-live="live"]')
                page.wait_for_selector('#agent-grid li[data-agent="b0"][data-activity="logged_out"]')
                page.evaluate(OBSERVE)
                reader = Reader(server.server_port, token)  # subscribed once it has answered
                print(f"agent status change (committed in the db) -> shown, {a.changes} changes")
                changed: list[float] = []
                for i in range(a.changes):
                    status = "Available" if i % 2 else "On Break"
                    at = time.time()
                    with store.operator() as op:
                        acd.set_status(op.conn, "b0", status, at)
                    changed.append(at)
                    page.wait_for_function(SHOWN, arg=[i, ACTIVITY[status]], timeout=30_000)
                shown = page.evaluate("window.shown")
                browser.close()
            dom = [s[1] - c for s, c in zip(shown, changed, strict=True)]
            deadline = time.monotonic() + 10
            while len(reader.delays) < a.changes and time.monotonic() < deadline:
                gevent.sleep(0.01)
            sse = reader.delays
            print(f"    floor's DOM (Chromium)   {len(dom)}/{a.changes}: {ms(dom)}")
            print(f"    SSE client (the API's)   {len(sse)}/{a.changes}: {ms(sse)}")
            ratio = pct(dom, 0.99) / max(pct(sse, 0.99), 1e-6)
            print(f"    ratio (p99): the page {ratio:.1f}x the SSE client")
        finally:
            if reader is not None:
                reader.close()
            server.stop(timeout=1)
            relay.stop()
            live.stop()
            store.close()
            pg.close()


if __name__ == "__main__":
    main()
