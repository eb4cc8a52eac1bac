"""``fsapps agent``: agents and their live status, as supervisors set them
(mod_callcenter's ``callcenter_config agent set status``)."""

from __future__ import annotations

import argparse
import sys
import time

from fsapps import escape
from fsapps.acd.model import AgentStatus
from fsapps.acd.operations import CALL_ACTIONS
from fsapps.store import acd, agents

CALL_HELP = {
    "transfer": "blind transfer of the agent's caller (--to-agent, --to-queue or --dial)",
    "consult": "attended transfer: talk to --to-agent or --dial while the caller holds",
    "complete": "attended transfer: hand the caller to the consulted party, leave the call",
    "cancel": "attended transfer: hang the consulted party up, back to the caller",
    "pickup": "take a queue call ringing at --from-agent (or --caller UUID) on this agent's phone",
    "three-way": "bring --dial into the agent's call",
    "hold": "put the agent's caller on hold: they hear the queue's hold music",
    "unhold": "take the agent's caller off hold: the conversation resumes",
    "listen": "supervisor: listen to the agent's call from --dial",
    "whisper": "supervisor: speak to the agent only, from --dial",
    "barge": "supervisor: join the agent's call, from --dial",
    "hangup": "supervisor: end the agent's call",
    "wrap-up-done": "end the agent's wrap-up now",
}

STATUSES = {
    "available": AgentStatus.AVAILABLE,
    "on-demand": AgentStatus.AVAILABLE_ON_DEMAND,
    "break": AgentStatus.ON_BREAK,
    "logout": AgentStatus.LOGGED_OUT,
}


def _tenants(specs: list[str]) -> dict[str, int]:
    out = {}
    for spec in specs:
        tenant, _, weight = spec.partition(":")
        if not weight.isdigit() and weight:
            raise argparse.ArgumentTypeError(f"{spec!r}: expected TENANT or TENANT:WEIGHT")
        out[tenant] = int(weight or 1)
    return out


def cmd_agent(args: argparse.Namespace) -> int:
    from fsapps.cli import _store

    if args.action == "add" and args.contact:
        try:
            escape.dial_target(args.contact)
        except escape.UnsafeValue as exc:
            print(f"fsapps: --contact: {exc}", file=sys.stderr)
            return 2
    with _store(args) as store, store.operator() as op:
        if args.action == "add":
            try:
                agents.create_agent(
                    op, args.id, args.name or args.id, _tenants(args.tenant), args.contact,
                    wrap_up_time=args.wrap_up_time, max_no_answer=args.max_no_answer,
                )  # fmt: skip
            except agents.AgentTaken:
                print(f"fsapps: agent {args.id} exists already", file=sys.stderr)
                return 1
            print(f"agent {args.id} added (Logged Out)")
        elif args.action == "status":
            acd.ensure_agent(op.conn, args.id)
            if not acd.set_status(op.conn, args.id, STATUSES[args.status], time.time(), args.reason):
                print(f"fsapps: no agent {args.id}")
                return 1
            print(f"{args.id}: {STATUSES[args.status]}" + (f" ({args.reason})" if args.reason else ""))
        else:
            rows = acd.agents_overview(op.conn)
            for r in rows:
                status = r["status"] or AgentStatus.LOGGED_OUT
                reason = f" ({r['break_reason']})" if r["break_reason"] else ""
                print(f"{r['id']}\t{status}{reason}\t{r['state'] or 'Waiting'}\t{r['tenants'] or '-'}")
    return 0


def cmd_agent_call(args: argparse.Namespace) -> int:
    """Call control for an agent's queue call (agent's own, or a supervisor's)."""
    from fsapps import config
    from fsapps.acd.operations import OperationError, operations_for, run
    from fsapps.cli import _store

    settings = config.load(args.config)
    with _store(args) as store:
        try:
            ops = operations_for(settings, store)
            given = {k: getattr(args, k, None) for k in ("to_agent", "to_queue", "from_agent", "caller")}
            leg = run(ops, args.action, args.id, dial=args.dial, **given)
        except OperationError as exc:
            print(f"fsapps: {exc}")
            return 1
    if leg is not None:
        print(leg)
    return 0


def add_parsers(sub: argparse._SubParsersAction) -> None:
    a = sub.add_parser("agent", help="agents: add, status (available, on-demand, break, logout), list")
    asub = a.add_subparsers(dest="action", required=True)
    add = asub.add_parser("add")
    add.add_argument("id")
    add.add_argument("--name")
    add.add_argument(
        "--tenant", action="append", required=True, help="TENANT or TENANT:WEIGHT (repeat: shared)"
    )
    add.add_argument("--contact", help="dial string of the agent's phone, e.g. user/1001@acme.example")
    add.add_argument("--wrap-up-time", type=int, default=0)
    add.add_argument("--max-no-answer", type=int, default=0)
    st = asub.add_parser("status")
    st.add_argument("id")
    st.add_argument("status", choices=sorted(STATUSES))
    st.add_argument("--reason", default="", help="the break's reason code")
    ls = asub.add_parser("list")
    calls = []
    for action in CALL_ACTIONS:
        c = asub.add_parser(action, help=CALL_HELP[action])
        c.add_argument("id", help="the agent whose call it is")
        c.add_argument(
            "--dial", help="a dial string: the transfer target, the third party, the supervisor's phone"
        )
        if action in ("transfer", "consult"):
            c.add_argument("--to-agent", help="another agent (their phone)")
        if action == "transfer":
            c.add_argument("--to-queue", help="one of the tenant's queues (the caller waits there)")
        if action == "pickup":
            c.add_argument("--from-agent", help="the agent whose phone rings with the call")
            c.add_argument("--caller", help="the ringing caller's channel UUID")
        c.set_defaults(func=cmd_agent_call)
        calls.append(c)
    for x in (add, st, ls, *calls):
        x.add_argument("--config")
    a.set_defaults(func=cmd_agent)
