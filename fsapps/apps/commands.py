"""``fsapps blacklist | outage | callbacks | surveys``: what ops change and read
for the self-service applications, per tenant."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime, timedelta

from fsapps.store import selfservice


def _when(text: str) -> datetime:
    """ISO 8601; without a zone it is UTC (say the zone: 2026-11-23T15:00+08:00)."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected a time like 2026-11-23T15:00+08:00") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _number(text: str) -> str:
    if not text.lstrip("+").replace("*", "").replace("#", "").isdigit():
        raise argparse.ArgumentTypeError(f"{text!r}: expected digits (a leading + allowed)")
    return text


def cmd_blacklist(args: argparse.Namespace) -> int:
    from fsapps.cli import _store

    with _store(args) as store, store.tenant(args.tenant) as t:
        if args.action == "add":
            selfservice.add_blacklist(
                t, args.number, "prefix" if args.prefix else "exact", args.reason, args.until
            )
            print(f"{args.tenant}: {args.number} blacklisted" + (" (prefix)" if args.prefix else ""))
        elif args.action == "remove":
            if not selfservice.remove_blacklist(t, args.number, "prefix" if args.prefix else "exact"):
                print(f"fsapps: {args.number} is not on {args.tenant}'s blacklist")
                return 1
            print(f"{args.tenant}: {args.number} removed")
        else:
            for row in selfservice.list_blacklist(t):
                until = row["expires_at"].isoformat() if row["expires_at"] else "-"
                print(f"{row['number']}\t{row['match']}\t{until}\t{row['reason']}")
    return 0


def cmd_outage(args: argparse.Namespace) -> int:
    from fsapps.cli import _store

    now = datetime.now(UTC)
    with _store(args) as store, store.tenant(args.tenant) as t:
        if args.action == "post":
            start = args.start or now
            end = args.until or start + timedelta(hours=args.hours)
            if end <= start:
                print("fsapps: the outage must end after it starts")
                return 2
            kind, area = ("prefix", args.prefix) if args.prefix else ("area", args.area)
            oid = selfservice.post_outage(t, kind, area, args.message, start, end)
            print(f"outage {oid} posted for {kind} {area} until {end.isoformat()}")
        elif args.action == "end":
            if not selfservice.end_outage(t, args.id, now):
                print(f"fsapps: no current outage {args.id} for {args.tenant}")
                return 1
            print(f"outage {args.id} ended")
        else:
            for row in selfservice.list_outages(t, now, include_ended=args.all):
                print(
                    f"{row['id']}\t{row['area_kind']}\t{row['area']}\t{row['starts_at'].isoformat()}"
                    f"\t{row['ends_at'].isoformat()}\t{row['message']}"
                )
    return 0


def cmd_callbacks(args: argparse.Namespace) -> int:
    from fsapps.cli import _store

    with _store(args) as store, store.tenant(args.tenant) as t:
        for row in selfservice.callback_requests(t, args.status):
            place = row["queue_entered_at"].isoformat() if row["queue_entered_at"] else "-"
            print(f"{row['number']}\t{row['queue'] or '-'}\t{place}\t{row['requested_at'].isoformat()}")
    return 0


def cmd_surveys(args: argparse.Namespace) -> int:
    from fsapps.cli import _store

    with _store(args) as store, store.tenant(args.tenant) as t:
        for row in selfservice.survey_answers(t, args.limit):
            score = "-" if row["score"] is None else row["score"]
            print(
                f"{row['answered_at'].isoformat()}\t{row['flow']}\t{row['question']}\t{score}"
                f"\t{row['agent_id'] or '-'}\t{row['queue'] or '-'}"
            )
    return 0


def add_parsers(sub: argparse._SubParsersAction) -> None:
    b = sub.add_parser("blacklist", help="a tenant's blocked numbers and prefixes: add, remove, list")
    bsub = b.add_subparsers(dest="action", required=True)
    ba = bsub.add_parser("add")
    ba.add_argument("number", type=_number)
    ba.add_argument("--prefix", action="store_true", help="block every number starting with it")
    ba.add_argument("--reason", default="")
    ba.add_argument("--until", type=_when, help="expiry (ISO 8601); none: until removed")
    br = bsub.add_parser("remove")
    br.add_argument("number", type=_number)
    br.add_argument("--prefix", action="store_true")
    bl = bsub.add_parser("list")
    for x in (ba, br, bl):
        x.add_argument("--tenant", required=True)
        x.add_argument("--config")
    b.set_defaults(func=cmd_blacklist)

    o = sub.add_parser("outage", help="outage notices callers hear before the menu: post, end, list")
    osub = o.add_subparsers(dest="action", required=True)
    op = osub.add_parser("post")
    where = op.add_mutually_exclusive_group(required=True)
    where.add_argument("--prefix", type=_number, help="callers whose number starts with it")
    where.add_argument("--area", help="a district or account attribute (the node's variable)")
    op.add_argument("--message", required=True, help="what callers hear (spoken by TTS)")
    op.add_argument("--start", type=_when, help="default: now")
    span = op.add_mutually_exclusive_group()
    span.add_argument("--until", type=_when)
    span.add_argument("--hours", type=float, default=4.0)
    oe = osub.add_parser("end")
    oe.add_argument("id", type=int)
    ol = osub.add_parser("list")
    ol.add_argument("--all", action="store_true", help="ended ones too")
    for x in (op, oe, ol):
        x.add_argument("--tenant", required=True)
        x.add_argument("--config")
    o.set_defaults(func=cmd_outage)

    c = sub.add_parser("callbacks", help="callback requests, oldest place first")
    c.add_argument("--tenant", required=True)
    c.add_argument("--status", default="pending", choices=["pending", "dialing", "done", "failed"])
    c.add_argument("--config")
    c.set_defaults(func=cmd_callbacks)

    s = sub.add_parser("surveys", help="survey answers, newest first")
    s.add_argument("--tenant", required=True)
    s.add_argument("--limit", type=int, default=100)
    s.add_argument("--config")
    s.set_defaults(func=cmd_surveys)
