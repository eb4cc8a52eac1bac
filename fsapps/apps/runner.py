"""Run one application for one call: the outcome, its usage record, its metric.

Shared by the outbound-ESL controller and the mod_python3 entry point, so a
call is counted and billed the same way whichever runtime ran it.

What the call names (fsapps_tenant, fsapps_flow, fsapps_node) is only as
trustworthy as whoever handed it over. The flow application serves the
checked flows' tenants only, so a ``flow`` call naming another tenant is
counted nowhere; metric labels and a record's resource name a flow and node
only when the checked flows have them. (The controller also drops records
naming a tenant that is in neither the flows nor the database:
fsapps.apps.known.)
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from fsapps.apps.context import AppContext
from fsapps.apps.registry import Handler
from fsapps.esl.server import CallerHungUp
from fsapps.metrics import IVR_SESSIONS
from fsapps.store.records import UsageRecord

log = logging.getLogger("fsapps.apps")


@dataclass(frozen=True)
class AppResult:
    """What an application reports: its outcome, and which flow node it was."""

    outcome: str
    flow: str = ""
    node: str = ""


class Timing:
    """When the application's share of the call started and how long it took.
    The default reads the context's clock; the controller times by the switch's
    own event timestamps, as its CDRs are."""

    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx
        self.started = ctx.now()

    def span(self) -> tuple[datetime, float]:
        return self.started, max((self.ctx.now() - self.started).total_seconds(), 0.0)


def run_application(
    ctx: AppContext,
    name: str,
    handler: Handler,
    session: Any,
    args: str,
    *,
    timing: Timing | None = None,
    call_uuid: str | None = None,
    on_switch: Callable[[], bool] | None = None,
) -> AppResult:
    """``on_switch``: whether the call is really on the switch (the controller asks
    it over its own authenticated connection); a call that is not gets no record."""
    timing = timing or Timing(ctx)
    result = AppResult("completed")
    try:
        got = handler(session, args)
        if isinstance(got, AppResult):
            result = got
        elif isinstance(got, str):
            result = AppResult(got)
    except CallerHungUp as exc:
        result = AppResult("caller_hung_up", *_where(exc))
        raise
    except Exception as exc:
        result = AppResult("failed", *_where(exc))
        raise
    finally:
        _account(ctx, name, session, result, timing, call_uuid, on_switch)
    return result


def _where(exc: BaseException) -> tuple[str, str]:
    """The flow node an exception left, when the flow application noted it."""
    return getattr(exc, "fsapps_flow", ""), getattr(exc, "fsapps_node", "")


def _account(
    ctx: AppContext,
    name: str,
    session: Any,
    result: AppResult,
    timing: Timing,
    call_uuid: str | None,
    on_switch: Callable[[], bool] | None,
) -> None:
    tenant = _variable(session, "fsapps_tenant")
    if not tenant:
        return
    uuid = call_uuid or _variable(session, "uuid") or None
    if name == "flow" and tenant not in ctx.tenants:
        log.warning("call %s names tenant %r, which has no checked flows: not counted", uuid, tenant[:64])
        return
    if on_switch is not None and not on_switch():
        log.warning("call %s is not on the switch: no usage record", uuid)
        return
    # Labels and the record's resource come from the checked flows, never from the call.
    flow, node = result.flow, result.node
    if (flow or node) and ctx.node(tenant, flow, node) is None:
        flow = node = ""
    if name == "flow":
        IVR_SESSIONS.labels(tenant, flow or "?", node or "?", result.outcome).inc()
    started, seconds = timing.span()
    record = UsageRecord(
        tenant_id=tenant,
        resource="ivr",
        kind="ivr_session",
        resource_id=f"{flow}.{node}" if node else name,
        started_at=started,
        ended_at=started + timedelta(seconds=seconds),
        workload=Decimal(f"{seconds:.3f}"),
        unit="seconds",
        outcome=result.outcome,
        call_uuid=uuid,
    )
    try:
        (ctx.write_later or ctx.write)(record)
    except Exception:
        log.exception("usage record for call %s not written", record.call_uuid)


def _variable(session: Any, name: str) -> str:
    # The variables read at connect stay readable after the caller hung up.
    try:
        return session.getVariable(name) or ""
    except CallerHungUp:
        return ""
