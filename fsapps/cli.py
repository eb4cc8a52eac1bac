"""The ``fsapps`` command: sim, serve, demo."""

# gevent first: psycopg picks its wait function at import (../shared/FACTS.md).
from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import contextlib  # noqa: E402
import gc  # noqa: E402
import logging  # noqa: E402
import os  # noqa: E402
import secrets  # noqa: E402
import signal  # noqa: E402
import sys  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import gevent  # noqa: E402
import gevent.event  # noqa: E402

from fsapps import config, logs, priority  # noqa: E402

log = logging.getLogger("fsapps")


def cmd_demo(args: argparse.Namespace) -> int:
    logs.setup(level="warning", fmt="text")
    if args.once:
        from fsapps.demo import scripted

        return scripted.run(speed=args.speed, state_dir=args.state_dir)
    from fsapps.demo import live

    return live.run(port=args.port)


def cmd_serve(args: argparse.Namespace) -> int:
    from fsapps.controller import Controller
    from fsapps.store.setup import Database

    settings = config.load(args.config)
    logs.setup(settings.log.level, settings.log.format, settings.secrets())
    # First: the embedded PostgreSQL started next, and every thread, inherit it.
    if (problem := priority.apply(settings.controller.priority)) is not None:
        log.warning("%s; running at normal priority", problem)
    db = Database(settings).start()
    if db.embedded is None:
        db.check_schema()
    store = db.store(max_size=settings.database.pool_size)
    controller = Controller(settings, store=store)
    try:
        controller.start()
    except OSError as exc:
        log.error("cannot listen on %s:%s: %s", settings.controller.listen, settings.controller.port, exc)
        store.close()
        db.close()
        return 2
    from fsapps.httpserve import metrics_server, wsgi_server

    xml_curl = None
    if settings.xml_curl.port:
        from fsapps.flows.xmlcurl import make_app

        x = settings.xml_curl
        try:
            app = make_app(x.conf, x.username, x.password or "")
            xml_curl = wsgi_server(
                x.listen, x.port, app, read_timeout=x.read_timeout, max_connections=x.max_connections
            )
            xml_curl.start()
        except (ValueError, OSError) as exc:
            log.error("xml_curl: %s", exc)
            controller.stop(0)
            store.close()
            db.close()
            return 2
        where = f"{x.listen}:{xml_curl.server_port}"
        log.info("serving dialplan XML to mod_xml_curl", extra={"listen": where})
    metrics = None
    if settings.metrics.port:
        metrics = metrics_server(settings.metrics)
        try:
            metrics.start()
        except OSError as exc:
            where = f"{settings.metrics.listen}:{settings.metrics.port}"
            log.error("metrics: cannot listen on %s: %s", where, exc)
            controller.stop(0)
            store.close()
            db.close()
            return 2
        log.info("serving /metrics", extra={"listen": f"{settings.metrics.listen}:{metrics.server_port}"})
    webhooks = _webhooks(settings, store, controller)
    api = None
    if settings.api.port:
        api = _api_server(settings, store, controller)
        if api is None:
            if xml_curl is not None:
                xml_curl.stop()
            if metrics is not None:
                metrics.stop()
            controller.stop(0)
            store.close()
            db.close()
            return 2
    # What startup built (modules, the flows, the servers) lives as long as the process: kept
    # out of the garbage collector's full collections, which otherwise walk all of it while
    # every call waits (on the realswitch bench at 50 calls/s the longest took 31-33 ms, and
    # 23 ms with this). Startup's own garbage is collected first, not frozen with it.
    gc.collect()
    gc.freeze()
    stop = gevent.event.Event()
    gevent.signal_handler(signal.SIGTERM, stop.set)
    gevent.signal_handler(signal.SIGINT, stop.set)
    log.info(
        "fsapps controller ready",
        extra={
            "listen": f"{settings.controller.listen}:{controller.server.port}",
            "esl": f"{settings.esl.host}:{settings.esl.port}" if controller.client else None,
        },
    )
    stop.wait()
    log.info("stopping: no new calls; running calls get %.0fs", settings.controller.shutdown_grace)
    if xml_curl is not None:
        xml_curl.stop()
    if metrics is not None:
        metrics.stop()
    if api is not None:
        api.stop()
    webhooks.stop()
    controller.stop()
    store.close()
    db.close()
    log.info("stopped")
    return 0


def _webhooks(settings: config.Settings, store: Any, controller: Any) -> Any:
    """The tenants' CRM webhooks, sent from this controller's own events (each controller
    tells of its own callers: every event once, whatever the number of processes)."""
    from fsapps.webhooks.sender import store_sender

    w = settings.webhooks
    sender = store_sender(store, allow_private=w.allow_private, api_url=w.api_url, timeout=w.timeout,
                          queue=w.queue, workers=w.workers).start()  # fmt: skip
    controller.notifier.listen(sender.follow)
    return sender


def _api_server(settings: config.Settings, store: Any, controller: Any) -> Any:
    """The HTTP API, started (None, logged, when it cannot listen)."""
    from fsapps.httpserve import wsgi_server
    from fsapps.web.app import ApiContext
    from fsapps.web.live import StreamSlots, live_events
    from fsapps.web.site import make_site

    def queues(tenant_id: str) -> dict[str, dict[str, Any]]:
        # The flows as the controller runs them now (they can be reloaded).
        for tenant in controller.context.project.tenants:
            if tenant.id == tenant_id:
                return {name: dict(q.data or {}) for name, q in tenant.queues.items()}
        return {}

    def gateways() -> list[str]:
        return list(controller.context.project.operator.gateways)

    flows = None
    if settings.xml_curl.port:  # uploads install where xml_curl serves from
        from fsapps.flows.upload import FlowsSite

        def reloadxml() -> str:
            if controller.client is None:
                return "no Event Socket connection"
            return str(controller.client.api("reloadxml"))

        def roster() -> Any:
            from fsapps.flows.roster import RosterError, read_roster

            try:
                return read_roster(store.dsn)
            except RosterError as exc:  # checked without it (a note), as fsapps check does
                log.warning("flows upload: no roster: %s", exc)
                return None

        def phones() -> Any:
            from fsapps.store import api as repo

            with store.operator() as op:
                return repo.sip_phones(op.conn)

        flows = FlowsSite(Path(settings.flows.dir), Path(settings.xml_curl.conf), reloadxml,
                          adopt=controller.context.adopt, roster=roster, phones=phones)  # fmt: skip
    a = settings.api
    if a.max_streams >= a.max_connections:
        log.error("api.max_streams (%d) must be less than api.max_connections (%d): event streams would"
                  " leave no connection to the API's other requests", a.max_streams, a.max_connections)
        return None
    # Call control goes through the controller's own Event Socket connection (None: no switch).
    switch = controller.client.api if controller.client is not None else None
    ctx = ApiContext(store, queues, session_hours=a.session_hours, secure_cookie=a.cookie_secure,
                     switch=switch, gateways=gateways, flows=flows,
                     recordings=Path(a.recordings_dir) if a.recordings_dir else None,
                     voicemails=Path(a.voicemail_dir) if a.voicemail_dir else None,
                     live=live_events(store, controller), streams=StreamSlots(a.max_streams),
                     heartbeat=a.heartbeat, webhook_private=settings.webhooks.allow_private)  # fmt: skip
    server = wsgi_server(a.listen, a.port, make_site(ctx), read_timeout=a.read_timeout,
                         max_connections=a.max_connections)  # fmt: skip
    try:
        server.start()
    except OSError as exc:
        log.error("api: cannot listen on %s:%s: %s", a.listen, a.port, exc)
        return None
    log.info("serving the HTTP API under /api/v1", extra={"listen": f"{a.listen}:{server.server_port}"})
    log.info("serving the console under /console/", extra={"listen": f"{a.listen}:{server.server_port}"})
    return server


def cmd_openapi(args: argparse.Namespace) -> int:
    """Print the API's OpenAPI document (the checked-in fsapps/web/openapi.json is this)."""
    from fsapps.web.openapi import document

    text = document()
    if args.out:
        Path(args.out).write_text(text)
    else:
        sys.stdout.write(text)
    return 0


def cmd_sim(args: argparse.Namespace) -> int:
    from fsapps.sim.dialplan import StaticDialplan
    from fsapps.sim.switch import Switch

    logs.setup(level=args.log_level, fmt="text")
    password = os.environ.get("FSAPPS_ESL_PASSWORD")
    generated = password is None
    if generated:
        password = secrets.token_urlsafe(16)
    dp: Any
    directory = None
    if args.conf:
        from fsapps.sim.xmldialplan import XmlDialplan

        if args.extension or args.socket:
            print("fsapps sim: --conf brings its own dialplan (no --extension, --socket)", file=sys.stderr)
            return 2
        from fsapps.sim.directory import Directory
        from fsapps.sim.xmlconf import load_document

        variables = {"sounds_dir": str(Path(args.sounds_dir).resolve())}
        dp = XmlDialplan.from_conf(args.conf, variables=variables)
        directory = Directory.from_document(load_document(args.conf, dict(variables)))
    else:
        dp = StaticDialplan()
        for spec in args.extension:
            pattern, _, actions = spec.partition("=")
            steps = []
            for action in filter(None, actions.split(";")):
                app, _, data = action.partition(":")
                steps.append((app, data))
            dp.add(args.context, pattern, steps)
        if args.socket:
            dp.add(args.context, r"^.*$", [("socket", f"{args.socket} async full"), ("hangup", "")])
    sw = Switch(
        dialplan=dp, directory=directory, host=args.host, port=args.port, speed=args.speed, password=password
    ).start()
    if args.conf:

        def refresh(document: Any) -> None:
            sw.directory = Directory.from_document(document)

        dp.on_reload = refresh
    print(f"fsapps sim: Event Socket on {args.host}:{sw.port}", flush=True)
    if generated:
        print(f"password (set FSAPPS_ESL_PASSWORD to choose one): {password}", flush=True)
    stop = gevent.event.Event()
    gevent.signal_handler(signal.SIGTERM, stop.set)
    gevent.signal_handler(signal.SIGINT, stop.set)
    stop.wait()
    sw.stop()
    return 0


# --- database, tenants, users, billing -------------------------------------


@contextlib.contextmanager
def _store(args: argparse.Namespace) -> Iterator[Any]:
    """The store for a one-shot command, closed (and the embedded server stopped) after."""
    db = _database(args)
    store = db.store(max_size=2)
    try:
        yield store
    finally:
        store.close()
        db.close()


def _database(args: argparse.Namespace, *, check: bool = True):
    from fsapps.store.setup import Database

    settings = config.load(getattr(args, "config", None))
    logs.setup(level="warning", fmt="text", secrets=settings.secrets())
    db = Database(settings).start()
    if check and db.embedded is None:
        db.check_schema()
    return db


def cmd_db(args: argparse.Namespace) -> int:
    from fsapps.store import migrate

    db = _database(args, check=False)
    try:
        if args.action == "migrate":
            done = migrate.migrate(db.dsn)
            print(
                f"applied {len(done)} migration(s)"
                + (": " + ", ".join(f"{m.version:04d}_{m.name}" for m in done) if done else "")
            )
        else:
            for m, applied in migrate.status(db.dsn):
                print(f"{m.version:04d}_{m.name}: {'applied' if applied else 'pending'}")
            where = f"embedded at {db.embedded.pgdata}" if db.embedded else "configured database.dsn"
            print(f"database: {where}")
    finally:
        db.close()
    return 0


def cmd_tenant(args: argparse.Namespace) -> int:
    from fsapps.store.records import Tenant

    with _store(args) as store:
        if args.action == "add":
            plan = {"currency": "EUR", "components": []}
            if args.plan:
                import yaml

                from fsapps.billing.rating import parse_plan

                plan = yaml.safe_load(Path(args.plan).read_text()) or {}
                parse_plan(plan)
            with store.operator() as op:
                op.add_tenant(
                    Tenant(args.id, args.name or args.id, args.domain, args.timezone, args.language, plan),
                    numbers=args.number,
                )
            print(f"tenant {args.id} added")
        else:
            with store.operator() as op:
                for t in op.tenants():
                    print(f"{t.id}\t{t.status}\t{t.domain}\t{t.timezone}\t{t.name}")
    return 0


def cmd_user(args: argparse.Namespace) -> int:
    import getpass

    if args.action == "token":
        return _user_token(args)
    with _store(args) as store:
        password = sys.stdin.readline().rstrip("\n") if args.password_stdin else getpass.getpass("password: ")
        if len(password) < 8:
            raise config.SettingsError("the password must have at least 8 characters")
        if args.role == "operator_admin":
            with store.operator() as op:
                user = op.add_operator_admin(args.username, password)
        else:
            if not args.tenant:
                raise config.SettingsError(f"a {args.role} belongs to a tenant: give --tenant")
            with store.operator() as op:
                op.tenant(args.tenant)  # an unknown tenant is one clear line
            with store.tenant(args.tenant) as t:
                user = t.add_user(args.username, password, args.role)
        print(f"user {user.username} ({user.role}{', ' + user.tenant_id if user.tenant_id else ''}) added")
    return 0


def _user_token(args: argparse.Namespace) -> int:
    """A new API token for a user, printed once (only its digest is kept)."""
    from fsapps.store import api as repo

    with _store(args) as store:
        with store.operator() as op:
            found = op.find_user(args.username)
            if found is None:
                raise config.SettingsError(f"no user {args.username!r}")
            user = found[0]
            if user.tenant_id is None:
                token = repo.issue_operator_token(op, user.id, args.name)
        if user.tenant_id is not None:
            with store.tenant(user.tenant_id) as t:
                token = t.issue_token(user.id, args.name)
    print(token)
    return 0


def cmd_bill(args: argparse.Namespace) -> int:
    from fsapps.billing import statement
    from fsapps.billing.rating import month_bounds, parse_plan, rate

    with _store(args) as store:
        with store.operator() as op:
            tenant = op.tenant(args.tenant)
        start, end = month_bounds(args.month, tenant.timezone)
        with store.tenant(args.tenant) as t:
            usage = t.usage_between(start, end)
            seats = t.seats()
        st = rate(tenant.id, args.month, tenant.timezone, parse_plan(tenant.billing_plan), usage, seats)
        csv_path, json_path = statement.write(st, args.out)
        print(
            f"{tenant.id} {args.month}: {len(st.lines)} line(s), {st.records} usage record(s), "
            f"total {st.total} {st.currency}"
        )
        for u in st.unrated:
            print(f"  not in the plan: {u.records} {u.resource}/{u.kind} record(s), {u.workload} {u.unit}")
        print(f"wrote {csv_path} and {json_path}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="fsapps", description="Call-center applications for FreeSWITCH.")
    sub = p.add_subparsers(dest="command", required=True)

    d = sub.add_parser("demo", help="a call center on the emulator with the console, callers arriving"
                                    " until Ctrl-C; --once: three scripted calls, printed")
    d.add_argument("--port", type=int, default=8080,
                   help="the console's port on 127.0.0.1 (default 8080; a free one when taken)")
    d.add_argument("--once", action="store_true",
                   help="run three scripted calls through a toy menu, print and store them, exit")
    d.add_argument("--speed", type=float, default=10.0,
                   help="--once: virtual seconds per wall second (default 10)")
    d.add_argument("--state-dir", help="--once: where the embedded PostgreSQL keeps its data (default ./var)")
    d.set_defaults(func=cmd_demo)

    s = sub.add_parser("serve", help="run the controller (outbound Event Socket server, inbound client)")
    s.add_argument("--config", help="settings file (YAML); FSAPPS_* variables override it")
    s.set_defaults(func=cmd_serve)

    o = sub.add_parser("openapi", help="print the HTTP API's OpenAPI document (JSON)")
    o.add_argument("--out", help="write it to this file (the repository keeps fsapps/web/openapi.json)")
    o.set_defaults(func=cmd_openapi)

    m = sub.add_parser("sim", help="run the FreeSWITCH emulator as its own process")
    m.add_argument("--host", default="127.0.0.1")
    m.add_argument("--port", type=int, default=8021)
    m.add_argument("--speed", type=float, default=1.0)
    m.add_argument("--context", default="public")
    m.add_argument("--socket", help="hand every call in the context to HOST:PORT[/APP]")
    m.add_argument(
        "--extension",
        action="append",
        default=[],
        help="REGEX=app:arg;app:arg ... (e.g. '^9999$=answer:;playback:tone_stream://%%(1000,0,440)')",
    )
    m.add_argument("--conf", help="run the XML dialplan of this conf directory (fsapps render --out)")
    m.add_argument("--sounds-dir", default="sounds", help="$${sounds_dir} for --conf (default: sounds)")
    m.add_argument("--log-level", default="warning")
    m.set_defaults(func=cmd_sim)

    from fsapps.flows.commands import add_parsers

    add_parsers(sub)

    db = sub.add_parser("db", help="database schema: migrate, status")
    db.add_argument("action", choices=["migrate", "status"])
    db.add_argument("--config")
    db.set_defaults(func=cmd_db)

    t = sub.add_parser("tenant", help="tenants: add, list")
    tsub = t.add_subparsers(dest="action", required=True)
    ta = tsub.add_parser("add")
    ta.add_argument("id")
    ta.add_argument("--name")
    ta.add_argument("--domain", required=True)
    ta.add_argument("--timezone", default="UTC")
    ta.add_argument("--language", default="en")
    ta.add_argument("--number", action="append", default=[], help="an access number (repeat)")
    ta.add_argument("--plan", help="billing plan (YAML)")
    tl = tsub.add_parser("list")
    for x in (ta, tl):
        x.add_argument("--config")
    t.set_defaults(func=cmd_tenant)

    u = sub.add_parser("user", help="users: add, token")
    usub = u.add_subparsers(dest="action", required=True)
    ua = usub.add_parser("add")
    ua.add_argument("username")
    ua.add_argument(
        "--role", required=True, choices=["operator_admin", "tenant_admin", "supervisor", "agent", "qa"]
    )
    ua.add_argument("--tenant")
    ua.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    ua.add_argument("--config")
    ut = usub.add_parser("token", help="issue an API token for the user (printed once)")
    ut.add_argument("username")
    ut.add_argument("--name", required=True, help="what the token is for (shown in listings)")
    ut.add_argument("--config")
    u.set_defaults(func=cmd_user)

    from fsapps.apps.commands import add_parsers as add_selfservice_parsers

    add_selfservice_parsers(sub)

    from fsapps.acd.commands import add_parsers as add_agent_parsers

    add_agent_parsers(sub)

    b = sub.add_parser("bill", help="a tenant's monthly statement (CSV and JSON)")
    b.add_argument("--tenant", required=True)
    b.add_argument("--month", required=True, help="YYYY-MM, in the tenant's timezone")
    b.add_argument("--out", default=".", help="directory for the statement files")
    b.add_argument("--config")
    b.set_defaults(func=cmd_bill)
    return p


def main(argv: list[str] | None = None) -> int:
    from fsapps.billing.rating import PlanError
    from fsapps.store.db import StoreError

    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (config.SettingsError, StoreError, PlanError, OSError) as exc:
        print(f"fsapps: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # a database error is one line, not a traceback
        import psycopg

        if isinstance(exc, psycopg.Error):
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            print(f"fsapps: database: {first}", file=sys.stderr)
            return 2
        raise


if __name__ == "__main__":
    sys.exit(main())
