"""``fsapps check``, ``fsapps render`` and ``fsapps simulate``."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from fsapps.flows.check import check
from fsapps.flows.model import Project, Roster


def _summary(project: Project) -> str:
    flows = sum(len(t.flows) for t in project.tenants)
    nodes = sum(len(f.nodes) for t in project.tenants for f in t.flows.values())
    return f"{len(project.tenants)} tenant(s), {flows} flow(s), {nodes} node(s)"


def _roster(args: argparse.Namespace) -> tuple[Roster | None, int]:
    """(the roster when a database is configured (--config, FSAPPS_DATABASE_DSN), else None; 0),
    or (None, 2) when the configured database cannot be read: nothing is checked then."""
    from fsapps import config
    from fsapps.flows.roster import RosterError, read_roster

    try:
        dsn = config.load(getattr(args, "config", None)).database.dsn
        return (read_roster(dsn) if dsn else None), 0
    except (config.SettingsError, RosterError) as exc:
        print(f"fsapps {args.command}: {exc}", file=sys.stderr)
        return None, 2


def _notes(root: str, notes: list[str]) -> None:
    for note in notes:
        print(f"{root}: note: {note}", file=sys.stderr)


def _checked(
    root: str, sounds: str | None, rendering: bool = True, roster: Roster | None = None
) -> Project | None:
    project = check(root, sounds=sounds, roster=roster)
    for p in project.problems:
        print(p)
    _notes(root, project.notes)
    if project.problems:
        n = len(project.problems)
        tail = "; nothing rendered" if rendering else ""
        print(f"{root}: {n} problem{'s' if n != 1 else ''}{tail}", file=sys.stderr)
        return None
    return project


def cmd_check(args: argparse.Namespace) -> int:
    roster, failed = _roster(args)
    if failed:
        return failed
    project = _checked(args.dir, args.sounds, rendering=False, roster=roster)
    if project is None:
        return 1
    print(f"{args.dir}: {_summary(project)}, no problems")
    return 0


def cmd_render(args: argparse.Namespace) -> int:
    from fsapps.flows.install import InstallError, install
    from fsapps.flows.render import render
    from fsapps.flows.switchconf import switch_zones, timezone_problems

    roster, failed = _roster(args)
    if failed:
        return failed
    project = _checked(args.dir, args.sounds, roster=roster)
    if project is None:
        return 1
    zones = switch_zones(Path(args.out))
    if zones is not None:
        wrong = timezone_problems(project, zones, Path(args.out))
        for p in wrong:
            print(p)
        if wrong:
            print(f"{args.dir}: {len(wrong)} problem(s); nothing rendered", file=sys.stderr)
            return 1
    phones: dict[str, list[Any]] = {}
    if roster is not None:  # a database: the phones the API provisioned stay in the directories
        from fsapps import config
        from fsapps.flows.roster import RosterError, read_phones

        try:
            phones = read_phones(config.load(getattr(args, "config", None)).database.dsn or "")
        except RosterError as exc:
            print(f"fsapps render: {exc}", file=sys.stderr)
            return 2
    try:
        done = install(render(project, phones), args.out)
    except InstallError as exc:
        print(f"fsapps render: {exc}; {args.out} left as it was", file=sys.stderr)
        return 1
    except OSError as exc:
        # install() took back what it had written.
        print(f"fsapps render: cannot write {args.out}: {exc}; {args.out} left as it was", file=sys.stderr)
        return 2
    state = "installed" if done.changed else "unchanged, already current"
    print(f"{args.dir}: {_summary(project)} -> {done.path} ({state})")
    if args.reload:
        return _reloadxml(args)
    return 0


RELOAD_OK = "+OK [Success]"


def _reloadxml(args: argparse.Namespace) -> int:
    from fsapps import config
    from fsapps.esl.client import Connection

    settings = config.load(args.config)
    if not settings.esl.password:
        hint = "settings file or FSAPPS_ESL_PASSWORD"
        print(f"fsapps render: --reload needs esl.password ({hint})", file=sys.stderr)
        return 2
    conn = Connection(settings.esl.host, settings.esl.port, settings.esl.password, timeout=10)
    try:
        conn.connect()
        reply = conn.api("reloadxml").strip()
    except Exception as exc:
        print(f"fsapps render: files installed, but reloadxml failed: {exc}", file=sys.stderr)
        return 2
    finally:
        conn.stop()
    # reloadxml answers "+OK [<error>]" whatever happened, and "+OK [Success]" only when the
    # new configuration was loaded (mod_commands.c:2846, switch_xml.c:2418); on an error the
    # switch keeps running the configuration it had.
    if reply == RELOAD_OK:
        print(f"reloadxml: {reply}")
        return 0
    error = reply[5:-1] if reply.startswith("+OK [") and reply.endswith("]") else reply
    print(
        f"fsapps render: files installed, but FreeSWITCH did not load them: reloadxml: {error}"
        "\n  the switch keeps its previous configuration until a reloadxml succeeds",
        file=sys.stderr,
    )
    return 2


def _pairs(items: list[str], option: str, form: str) -> dict[str, str] | None:
    out = {}
    for item in items:
        key, eq, value = item.partition("=")
        if not eq:
            print(f"fsapps simulate: {option} {item!r}: expected {form}", file=sys.stderr)
            return None
        out[key] = value
    return out


def cmd_simulate(args: argparse.Namespace) -> int:
    from fsapps.flows.simulate import SimulateError, resolve, simulate

    root, tenant = resolve(args.dir)
    tenant = args.tenant or tenant
    if tenant is None:
        print("fsapps simulate: name the tenant (dialplan/<tenant> or --tenant)", file=sys.stderr)
        return 2
    at = None
    if args.at:
        try:
            at = datetime.fromisoformat(args.at)
        except ValueError:
            print(f"fsapps simulate: --at {args.at!r}: expected YYYY-MM-DD HH:MM", file=sys.stderr)
            return 2
    branches = _pairs(args.branch, "--branch", "NODE=BRANCH")
    variables = _pairs(args.var, "--var", "NAME=VALUE")
    if branches is None or variables is None:
        return 2
    roster, failed = _roster(args)
    if failed:
        return failed
    digits = args.digits.split(",") if args.digits else []
    try:
        trace = simulate(
            root, tenant, to=args.to, caller=args.caller, digits=digits, at=at, branches=branches,
            variables=variables, speed=args.speed, hangup_after=args.hangup_after,
            controller_up=not args.controller_down, message_seconds=args.message_seconds, sounds=args.sounds,
            roster=roster,
        )  # fmt: skip
    except SimulateError as exc:
        print(exc, file=sys.stderr)
        return 1
    _notes(args.dir, trace.notes)
    for line in trace.lines():
        print(line)
    return 0


ROSTER_HELP = "settings file whose database.dsn (or FSAPPS_DATABASE_DSN) holds the agent roster"


def add_parsers(sub: argparse._SubParsersAction) -> None:
    c = sub.add_parser("check", help="check the YAML flows: every problem as file:line:col")
    c.add_argument("dir", nargs="?", default="dialplan")
    c.add_argument("--sounds", help="prompt files (default: sounds/ beside the flows' directory)")
    c.add_argument("--config", help=ROSTER_HELP)
    c.set_defaults(func=cmd_check)

    r = sub.add_parser("render", help="check, render and install the flows as FreeSWITCH dialplan XML")
    r.add_argument("dir", nargs="?", default="dialplan")
    r.add_argument("--out", default="conf", help="the FreeSWITCH conf directory (default: conf)")
    r.add_argument("--reload", action="store_true", help="then reloadxml over the Event Socket")
    r.add_argument("--sounds")
    r.add_argument(
        "--config", help="settings file: --reload's Event Socket address and password; " + ROSTER_HELP
    )
    r.set_defaults(func=cmd_render)

    s = sub.add_parser("simulate", help="walk one call through a tenant's flows on the emulator")
    s.add_argument("dir", help="dialplan/<tenant>, or dialplan/ with --tenant")
    s.add_argument("--tenant")
    s.add_argument("--to", help="the access number called (default: the tenant's first)")
    s.add_argument("--from", dest="caller", default="10000", help="the caller's number")
    s.add_argument("--digits", default="", help="what the caller keys at each digit prompt: 1,2,,3")
    s.add_argument("--at", help="when the call arrives, in the tenant's timezone: 2026-11-23 21:00")
    s.add_argument(
        "--branch", action="append", default=[], metavar="NODE=BRANCH",
        help="what the controller answers for a node (lookup=not_found); default: its first branch",
    )  # fmt: skip
    s.add_argument(
        "--var", action="append", default=[], metavar="NAME=VALUE",
        help="a variable the controller's applications set (what a lookup finds): cn_balance=128.50",
    )  # fmt: skip
    s.add_argument(
        "--hangup-after", type=float, default=120.0, help="the caller hangs up after this many seconds"
    )
    s.add_argument(
        "--message-seconds", type=float, default=10.0, help="how long the caller talks into voicemail"
    )
    s.add_argument(
        "--controller-down", action="store_true", help="no controller answers: see the native fallbacks"
    )
    s.add_argument("--speed", type=float, default=50.0, help="virtual seconds per wall second")
    s.add_argument("--sounds")
    s.add_argument("--config", help=ROSTER_HELP)
    s.set_defaults(func=cmd_simulate)
