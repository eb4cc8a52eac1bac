"""The same applications inside FreeSWITCH, through mod_python3.

mod_python3 calls ``handler(session, args)`` with its own CoreSession
(src/mod/languages/mod_python3, switch_cpp.h) on the channel's thread; the
applications already speak that API. What this adds:

- the context, built once per FreeSWITCH process from the settings file
  (``FSAPPS_CONFIG`` in FreeSWITCH's environment): the checked flows, the
  database (``database.dsn``: no embedded PostgreSQL inside the switch), a
  record writer that spools under ``state_dir`` while the database is away;
- ``EmbeddedSession``: CoreSession's methods return quietly once the caller
  has hung up, where the ESL runtime raises CallerHungUp; this raises it
  too, so an application ends the same way under both.

Never patch gevent inside FreeSWITCH: session calls block in C.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from pathlib import Path
from typing import Any

from fsapps import config, escape
from fsapps.apps import APPLICATIONS
from fsapps.apps.catalog import load_checked
from fsapps.apps.context import AppContext, current
from fsapps.apps.runner import run_application
from fsapps.esl.server import CallerHungUp

log = logging.getLogger("fsapps.embedded")


class EmbeddedSession:
    """mod_python3's session, raising CallerHungUp like the ESL runtime."""

    def __init__(self, session: Any, context: AppContext | None = None) -> None:
        self._s = session
        self.context = context

    @property
    def uuid(self) -> str:
        return str(self._s.get_uuid()) if hasattr(self._s, "get_uuid") else ""

    def ready(self) -> bool:
        return bool(self._s.ready())

    def _live(self) -> None:
        if not self._s.ready():
            raise CallerHungUp(self.uuid)

    def getVariable(self, name: str) -> str | None:
        return self._s.getVariable(name)

    def setVariable(self, name: str, value: str) -> None:
        # CoreSession::setVariable uses switch_channel_set_variable, which refuses a value
        # holding ${ (switch_channel.c:1503): stored inert, as over the Event Socket.
        self._live()
        self._s.setVariable(escape.variable_name(name), escape.inert(value))

    def answer(self) -> None:
        self._live()
        self._s.answer()

    def preAnswer(self) -> None:
        self._live()
        self._s.preAnswer()

    def hangup(self, cause: str = "NORMAL_CLEARING") -> None:
        self._s.hangup(cause)

    def execute(self, app: str, data: str = "") -> None:
        self._live()
        self._s.execute(app, data)
        self._live()

    def _path(self, path: str) -> str:
        """switch_ivr_play_file does not expand variables (the ESL runtime's playback app
        does): fill in a sound path's ${name} here; TTS text stays as written."""
        if path.startswith("say:") or "${" not in path:
            return path
        return escape.VARIABLE_REF.sub(lambda m: self._s.getVariable(m.group(1)) or "", path)

    def streamFile(self, path: str, sample_count: int = 0) -> None:
        self._live()
        self._s.streamFile(self._path(path), sample_count)
        self._live()

    def speak(self, text: str) -> None:
        self._live()
        self._s.set_tts_params(
            self._s.getVariable("tts_engine") or "flite", self._s.getVariable("tts_voice") or "kal"
        )
        self._s.speak(text)
        self._live()

    def sleep(self, ms: int, sync: int = 0) -> None:
        self._live()
        self._s.sleep(ms, sync)
        self._live()

    def playAndGetDigits(self, *args: Any) -> str:
        self._live()
        files = [self._path(a) if i in (5, 6) and isinstance(a, str) else a for i, a in enumerate(args)]
        digits = self._s.playAndGetDigits(*files)
        self._live()
        return digits or ""


class ThreadedWriter:
    """The durable writer for FreeSWITCH's call threads: one writer at a time,
    and a replay of anything spooled before each write (no gevent hub runs
    a replay loop here)."""

    def __init__(self, writer: Any) -> None:
        self.writer = writer
        self.lock = threading.Lock()

    def write(self, *records: Any) -> None:
        with self.lock:
            if self.writer.pending:
                # One chunk per write: a call's thread never waits on a whole backlog.
                self.writer.replay(max_chunks=1)
            self.writer.write(*records)


def switch_log(level: str, text: str) -> None:
    """A line in FreeSWITCH's own log (mod_python3's ``freeswitch.consoleLog``), where the
    operator reads the switch; Python's logging here when not inside the switch."""
    try:
        import freeswitch  # mod_python3's module, inside the switch only
    except ImportError:
        log.info("%s", text)
        return
    freeswitch.consoleLog(level, text + "\n")


def build_context(called: float | None = None) -> AppContext:
    """The flows, the database pool and the record writer: once per FreeSWITCH process
    (``current`` keeps it), on its first call (about 0.6 s with the imports, from ``called``),
    said once in the switch's log."""
    from psycopg.conninfo import make_conninfo

    from fsapps.store.db import Store
    from fsapps.store.durable import DurableWriter

    started = time.monotonic() if called is None else called
    settings = config.load()
    project = load_checked(settings.flows.dir)
    store = writer = None
    if settings.database.dsn:
        # No gevent hub runs in FreeSWITCH's call threads, so the writer's gevent.Timeout
        # cannot fire there: PostgreSQL itself bounds each statement and each connect.
        dsn = make_conninfo(settings.database.dsn, connect_timeout=2, options="-c statement_timeout=2000")
        store = Store(dsn, max_size=10)
        store.open(wait=False)
        writer = ThreadedWriter(DurableWriter(store, Path(settings.state_dir) / "spool"))
    else:
        log.warning("fsapps.embedded: no database.dsn: lookups and checks take their fallbacks")
    ctx = AppContext(project, store=store, records=writer)
    switch_log("NOTICE", f"fsapps.embedded: flows, database pool and record writer built in "
                         f"{time.monotonic() - started:.2f}s, once for this switch")  # fmt: skip
    return ctx


def run(session: Any, args: str, called: float | None = None) -> None:
    name, _, rest = (args or "").strip().partition(" ")
    handler = APPLICATIONS.get(name)
    if handler is None:
        log.error("fsapps.embedded: unknown application %r", name)
        return
    ctx = current(lambda: build_context(called))
    # A caller who left ends the application; its usage record is written all the same.
    with contextlib.suppress(CallerHungUp):
        run_application(ctx, name, handler, EmbeddedSession(session, ctx), rest)
