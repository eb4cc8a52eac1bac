"""The ``flow`` application: run the logic of the flow node the call is at.

The rendered dialplan sets fsapps_tenant, fsapps_flow and fsapps_node and
hands the call over; this finds the node in the checked flows, runs the
node type's application and names the branch in ``fsapps_branch``. With
no branch (an unknown node, a type with no application, a failed lookup)
the dialplan takes the node's ``fallback``, the same path as when no
controller answers.
"""

from __future__ import annotations

import logging

import psycopg
from psycopg_pool import PoolTimeout

from fsapps.apps.context import current
from fsapps.apps.node import NodeCall
from fsapps.apps.registry import NODE_APPLICATIONS, application
from fsapps.apps.runner import AppResult
from fsapps.session import Session
from fsapps.store.db import StoreError

# What a database outage looks like from a repository call.
STORE_DOWN = (psycopg.OperationalError, psycopg.InterfaceError, PoolTimeout, StoreError)

log = logging.getLogger("fsapps.apps")


@application("flow")
def flow(session: Session, args: str) -> AppResult:
    # The runtime hands its context on the session (several controllers can share a process, as in tests).
    ctx = getattr(session, "context", None) or current()
    tenant_id = session.getVariable("fsapps_tenant") or ""
    flow_name = session.getVariable("fsapps_flow") or ""
    node_id = session.getVariable("fsapps_node") or ""
    found = ctx.node(tenant_id, flow_name, node_id)
    if found is None:
        # The names stay in the log line only: a metric label or a record takes no name
        # the checked flows do not have.
        log.error("no node %r.%r for tenant %r: taking its fallback", flow_name, node_id, tenant_id)
        return AppResult("unknown_node")
    tenant, f, node = found
    run = NODE_APPLICATIONS.get(node.type)
    if run is None:
        log.error("node type %r has no application: taking the fallback of %s.%s", node.type, f.name, node.id)
        return AppResult("no_application", f.name, node.id)
    call = NodeCall(session, ctx, tenant, f, node)
    try:
        branch = run(call)
    except STORE_DOWN as exc:
        # The node's fallback (or, for a check like the blacklist, going on) serves the caller.
        log.warning("%s.%s: database unavailable (%s): taking the fallback", f.name, node.id, exc)
        return AppResult("store_unavailable", f.name, node.id)
    except BaseException as exc:
        exc.fsapps_flow, exc.fsapps_node = f.name, node.id  # type: ignore[attr-defined]
        raise
    if not call.ended_call and not session.ready():
        # Media calls return once the caller has gone (an ESL execute completes, a
        # mod_python3 call returns); whatever the application made of that, the caller left.
        return AppResult("caller_hung_up", f.name, node.id)
    if branch is None:
        return AppResult("fallback", f.name, node.id)
    if session.ready():
        session.setVariable("fsapps_branch", branch)
    return AppResult(branch, f.name, node.id)
