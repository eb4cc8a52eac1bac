"""``fsapps agent``: agents and their live status, as supervisors set them
(mod_callcenter's ``callcenter_config agent set status``)."""

from __future__ import annotations

import argparse
import time

from fsapps.acd.model import AgentStatus
from fsapps.store import acd

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

    with _store(args) as store, store.operator() as op:
        if args.action == "add":
            op.add_agent(args.id, args.name or args.id, _tenants(args.tenant), args.contact)
            acd.ensure_agent(
                op.conn, args.id, wrap_up_time=args.wrap_up_time, max_no_answer=args.max_no_answer
            )
            print(f"agent {args.id} added (Logged Out)")
        elif args.action == "status":
            acd.ensure_agent(op.conn, args.id)
            if not acd.set_status(op.conn, args.id, STATUSES[args.status], time.time(), args.reason):
                print(f"fsapps: no agent {args.id}")
                return 1
            print(f"{args.id}: {STATUSES[args.status]}" + (f" ({args.reason})" if args.reason else ""))
        else:
            rows = op._all(
                "SELECT a.id, s.status, s.state, s.break_reason,"
                "       string_agg(t.tenant_id, ',' ORDER BY t.tenant_id) AS tenants"
                "  FROM agents a LEFT JOIN agent_state s ON s.agent_id = a.id"
                "  LEFT JOIN agent_tenants t ON t.agent_id = a.id"
                " GROUP BY a.id, s.status, s.state, s.break_reason ORDER BY a.id"
            )
            for r in rows:
                status = r["status"] or AgentStatus.LOGGED_OUT
                reason = f" ({r['break_reason']})" if r["break_reason"] else ""
                print(f"{r['id']}\t{status}{reason}\t{r['state'] or 'Waiting'}\t{r['tenants'] or '-'}")
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
    for x in (add, st, ls):
        x.add_argument("--config")
    a.set_defaults(func=cmd_agent)
