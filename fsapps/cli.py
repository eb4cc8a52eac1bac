"""The ``fsapps`` command: sim, serve, demo."""

# gevent first: psycopg picks its wait function at import (../shared/FACTS.md).
from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import logging  # noqa: E402
import os  # noqa: E402
import secrets  # noqa: E402
import signal  # noqa: E402
import sys  # noqa: E402

import gevent  # noqa: E402
import gevent.event  # noqa: E402

from fsapps import config, logs  # noqa: E402

log = logging.getLogger("fsapps")


def cmd_demo(args: argparse.Namespace) -> int:
    from fsapps import demo

    logs.setup(level="warning", fmt="text")
    return demo.run(speed=args.speed)


def cmd_serve(args: argparse.Namespace) -> int:
    from fsapps.controller import Controller

    settings = config.load(args.config)
    logs.setup(settings.log.level, settings.log.format, settings.secrets())
    controller = Controller(settings)
    try:
        controller.start()
    except OSError as exc:
        log.error("cannot listen on %s:%s: %s", settings.controller.listen, settings.controller.port, exc)
        return 2
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
    controller.stop()
    log.info("stopped")
    return 0


def cmd_sim(args: argparse.Namespace) -> int:
    from fsapps.sim.dialplan import StaticDialplan
    from fsapps.sim.switch import Switch

    logs.setup(level=args.log_level, fmt="text")
    password = os.environ.get("FSAPPS_ESL_PASSWORD")
    generated = password is None
    if generated:
        password = secrets.token_urlsafe(16)
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
    sw = Switch(dialplan=dp, host=args.host, port=args.port, speed=args.speed, password=password).start()
    print(f"fsapps sim: Event Socket on {args.host}:{sw.port}", flush=True)
    if generated:
        print(f"password (set FSAPPS_ESL_PASSWORD to choose one): {password}", flush=True)
    stop = gevent.event.Event()
    gevent.signal_handler(signal.SIGTERM, stop.set)
    gevent.signal_handler(signal.SIGINT, stop.set)
    stop.wait()
    sw.stop()
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="fsapps", description="Call-center applications for FreeSWITCH.")
    sub = p.add_subparsers(dest="command", required=True)

    d = sub.add_parser("demo", help="run the emulator, the controller and scripted calls; print each call")
    d.add_argument("--speed", type=float, default=10.0, help="virtual seconds per wall second (default 10)")
    d.set_defaults(func=cmd_demo)

    s = sub.add_parser("serve", help="run the controller (outbound Event Socket server, inbound client)")
    s.add_argument("--config", help="settings file (YAML); FSAPPS_* variables override it")
    s.set_defaults(func=cmd_serve)

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
    m.add_argument("--log-level", default="warning")
    m.set_defaults(func=cmd_sim)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except config.SettingsError as exc:
        print(f"fsapps: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
