"""Shared fixtures. gevent patches the standard library before anything imports it:
psycopg chooses its wait function at import time (see ../shared/FACTS.md)."""

from gevent import monkey

monkey.patch_all()

import pytest  # noqa: E402

from fsapps.sim.switch import Switch  # noqa: E402


@pytest.fixture
def switch():
    """A running emulator at 10x speed, stopped after the test."""
    sw = Switch(speed=10.0).start()
    try:
        yield sw
    finally:
        sw.stop()


# --- PostgreSQL: a real server (the embedded default), one fresh database per test ---

_template_ready = False


@pytest.fixture(scope="session")
def pg_server(tmp_path_factory):
    from fsapps.store.embedded import EmbeddedPostgres

    server = EmbeddedPostgres(tmp_path_factory.mktemp("pg"))
    server.start()
    yield server
    server.close()


@pytest.fixture
def db_dsn(pg_server, request):
    """A migrated database of its own for this test."""

    import psycopg
    from psycopg.conninfo import make_conninfo

    from fsapps.store.migrate import migrate

    global _template_ready
    admin = pg_server.dsn
    with psycopg.connect(admin, autocommit=True) as conn:
        if not _template_ready:
            conn.execute("DROP DATABASE IF EXISTS fsapps_template")
            conn.execute("CREATE DATABASE fsapps_template")
            migrate(make_conninfo(admin, dbname="fsapps_template"))
            _template_ready = True
        name = f"t{next(_db_counter)}"
        conn.execute(f"CREATE DATABASE {name} TEMPLATE fsapps_template")
    yield make_conninfo(admin, dbname=name)


_db_counter = __import__("itertools").count(1)


@pytest.fixture
def store(db_dsn):
    from fsapps.store.db import Store

    s = Store(db_dsn, max_size=60).open()
    yield s
    s.close()


def pytest_terminal_summary(terminalreporter) -> None:
    """Why tests were skipped, one line per reason with how many (``pytest -q`` names none):
    the acceptance tier without a FreeSWITCH build says once how to build it."""
    reasons: dict[str, int] = {}
    for report in terminalreporter.stats.get("skipped", []):
        if isinstance(report.longrepr, tuple) and len(report.longrepr) == 3:
            reason = str(report.longrepr[2]).removeprefix("Skipped: ")
            reasons[reason] = reasons.get(reason, 0) + 1
    for reason, count in sorted(reasons.items()):
        terminalreporter.write_line(f"{count} skipped: {reason}")
