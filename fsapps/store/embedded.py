"""The embedded default: a private PostgreSQL in the state directory.

pgserver (PyPI) ships PostgreSQL 16 binaries in its wheel, so `pip install`
is the whole setup: initdb and start take about a second cold, 0.1 s warm
(measured on this kind of machine). The server listens on a unix socket in
its data directory only, never on TCP. As root, pgserver runs it as a
system user ``pgserver`` (PostgreSQL refuses to run as root).
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path
from typing import Any

log = logging.getLogger("fsapps.store")


class EmbeddedPostgres:
    def __init__(self, state_dir: str | os.PathLike[str]) -> None:
        self.pgdata = Path(state_dir).resolve() / "pgdata"
        self._server: Any = None

    def start(self) -> str:
        """Start (or reuse) the server; returns a DSN for psycopg."""
        # pgserver keeps its lock file in the user's runtime directory; root
        # often has none, and platformdirs then warns and falls back to /tmp.
        runtime = self.pgdata.parent / "run"
        runtime.mkdir(mode=0o700, parents=True, exist_ok=True)
        runtime.chmod(0o700)
        os.environ.setdefault("XDG_RUNTIME_DIR", str(runtime))
        import pgserver  # imported late: only the embedded default needs it

        t0 = time.monotonic()
        self.pgdata.parent.mkdir(parents=True, exist_ok=True)
        self._server = pgserver.get_server(self.pgdata, cleanup_mode="stop")
        log.info("embedded PostgreSQL ready in %.2fs at %s", time.monotonic() - t0, self.pgdata)
        return self.dsn

    @property
    def dsn(self) -> str:
        assert self._server is not None, "start() first"
        return self._server.get_uri()

    def _pg_ctl(self, *args: str) -> None:
        from pgserver._commands import pg_ctl  # type: ignore[attr-defined]  # made at import

        assert self._server is not None
        pg_ctl(list(args), pgdata=self.pgdata, user=self._server.system_user, timeout=30)

    def stop_server(self) -> None:
        """Stop PostgreSQL itself (an outage, for tests and maintenance)."""
        self._pg_ctl("-w", "-m", "fast", "stop")

    def start_server(self) -> None:
        assert self._server is not None
        self._server.ensure_postgres_running()

    def close(self) -> None:
        if self._server is not None:
            self._server.cleanup()
            self._server = None
