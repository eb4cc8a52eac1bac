"""The live event stream: server-sent events of the ACD, as the asking user may see them
(fsapps.web.visibility), fed by the ACD's notifier (fsapps.web.live), never by reading
the database.

Each event is::

    id: <epoch>-<number>
    event: agent_state | offer | queue | member | leg | handover | ticket_escalated | direct_call | reset
    data: <the event's fields, one line of JSON>

A client that lost its stream sends the last id it saw (``Last-Event-ID``, or the
``last_event_id`` query parameter for clients that cannot set headers) and gets what
it missed from the recent history; an id that is unknown (another process, a restart)
or too old gets a ``reset`` event first: the client reads the state again, then
follows on. Comment lines (``: ...``) every ``heartbeat`` seconds keep proxies from
closing a quiet stream, and reveal a client that went away.

Streams are bounded apart from the API's other requests (``api.max_streams``: 503
``too_many_streams`` past it). A stream ends when its client goes away, when it falls
so far behind that its subscription is dropped (the client resumes), and when its
credentials stop holding (a revoked token, a disabled user).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

from apiflask import APIBlueprint
from flask import Response, g, request

from fsapps.acd import wire
from fsapps.acd.notifier import Subscription
from fsapps.web import schemas
from fsapps.web.app import COOKIE, PREFIX, context, service, still_signed_in
from fsapps.web.errors import ApiError
from fsapps.web.live import LiveEvents, StreamSlots
from fsapps.web.visibility import Viewer, sees, shown

SSE = "text/event-stream"
STREAM: dict[int | str, dict[str, Any]] = {
    200: {"description": "the stream: `id:`, `event:` (agent_state, offer, queue, member, leg, handover,"
          " ticket_escalated, direct_call,"
          " reset) and"
          " `data:` (one line of JSON) per event; `:` comments as heartbeats",
          "content": {SSE: {"schema": {"type": "string"}}}},
    401: {"description": "Unauthorized"},
    403: {"description": "Forbidden"},
    404: {"description": "Not found"},
    422: {"description": "Validation error"},
    503: {"description": "too many streams open, or no live events here"},
}  # fmt: skip
bp = APIBlueprint("events", __name__, url_prefix=PREFIX + "/tenants/<tenant>", tag="Live events")
everyone = APIBlueprint("events_all", __name__, url_prefix=PREFIX, tag="Live events")


@bp.get("/events")
@bp.input(schemas.EventsQuery, location="query", arg_name="query")
@bp.doc(summary="The tenant's live ACD events, as server-sent events, as this user may see them"
               " (an agent: their own; a supervisor: their groups')", responses=STREAM)  # fmt: skip
def tenant_events(tenant: str, query: dict[str, Any]) -> Any:
    return _stream(service().viewer(tenant), query)


@everyone.get("/events")
@everyone.input(schemas.EventsQuery, location="query", arg_name="query")
@everyone.doc(summary="Every tenant's live ACD events, as server-sent events (operator)", responses=STREAM)
def all_events(query: dict[str, Any]) -> Any:
    return _stream(service().viewer(None), query)


def _stream(viewer: Viewer, query: dict[str, Any]) -> Response:
    ctx = context()
    live = ctx.live
    if live is None:
        raise ApiError(503, "no_live_events", "this server follows no ACD: no live events here")
    user = g.principal.user_id
    why = ctx.streams.take(user)
    if why is not None:
        raise ApiError(503, "too_many_streams", why, headers={"Retry-After": "5"})
    header, session = request.headers.get("Authorization", ""), request.cookies.get(COOKIE, "")
    last = request.headers.get("Last-Event-ID") or query.get("last_event_id") or ""
    try:
        signed_in = lambda: still_signed_in(ctx, header, session)  # noqa: E731
        stream = EventStream(live, viewer, last, ctx.streams, user, ctx.heartbeat, signed_in)
    except BaseException:
        ctx.streams.give_back(user)
        raise
    resp = Response(stream, mimetype=SSE)
    resp.headers["X-Accel-Buffering"] = "no"  # nginx: pass each event on as it comes
    return resp


def frame(event_id: str, kind: str, data: str) -> bytes:
    return f"id: {event_id}\nevent: {kind}\ndata: {data}\n\n".encode()


class EventStream:
    """The response body: subscribed at once (so nothing published after the request is
    missed), written as events come. ``close`` (the server calls it however the response
    ends, even unstarted) gives the slot back."""

    def __init__(self, live: LiveEvents, viewer: Viewer, last_id: str, slots: StreamSlots, user: int,
                 heartbeat: float, signed_in: Callable[[], bool]) -> None:  # fmt: skip
        self.live, self.viewer = live, viewer
        self.slots, self.user = slots, user
        self.heartbeat, self.signed_in = heartbeat, signed_in
        notifier, self.epoch, seq = live.where()
        self.reset: dict[str, str] | None = None
        after = seq
        if last_id:
            point = live.resume_point(last_id, notifier, self.epoch, seq)
            if point is None:
                self.reset = {"reason": "unknown_or_too_old", "last_event_id": last_id[:100]}
            else:
                after = point
        self.position = f"{self.epoch}-{seq}"
        self.sub: Subscription = notifier.subscribe(lambda e: sees(viewer, e, live.tenants_of), after=after)
        self._closed = False

    def __iter__(self) -> Iterator[bytes]:
        try:
            yield b"retry: 2000\n: stream of " + self.position.encode() + b"\n\n"
            if self.reset is not None:
                yield frame(self.position, "reset", json.dumps(self.reset, separators=(",", ":")))
            while True:
                item = self.sub.get(timeout=self.heartbeat)
                if item is None:
                    if self.sub.closed:
                        return  # dropped (too slow), or the events started again: the client resumes
                    if not self.signed_in():
                        return
                    yield b": heartbeat\n\n"
                    continue
                event = shown(self.viewer, item.event, self.live.tenants_of)
                yield frame(f"{self.epoch}-{item.seq}", wire.kind_of(event), wire.to_json(event))
        finally:
            self.close()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self.sub.close()
        self.slots.give_back(self.user)

