"""Agents' phones on calls the queues did not make: the fact behind
``skip-agents-with-external-calls``.

mod_callcenter counts an agent's external calls in ``agents.external_calls_count``:
its ``callcenter_track <agent>`` dialplan application adds one and a hangup hook on
that channel takes it away (mod_callcenter.c:3348-3377, 3326-3346); the dispatch then
passes over an agent whose count is above 0 (l.2341-2344). Only calls whose dialplan
runs ``callcenter_track`` count there. fsapps counts every live channel of the agent's
phone on the switch instead, so an agent's own calls and calls made to them directly
count without a dialplan step.

A channel is the phone's when it carries the contact's address (the parts of a channel
FreeSWITCH gives the phone's calls, both ways):

- ``user/<id>@<domain>``: ``presence_id`` ``<id>@<domain>``, set on the leg the user
  endpoint rings (mod_dptools.c:4411-4412, user_outgoing_channel), or a sofia channel
  named after that address: a call from the registered phone, named after its From
  (sofia.c:2576-2586, sofia_glue.c:60-69);
- ``sofia/<profile>/<target>``: the channel of that name, the leg rung at it
  (mod_sofia.c:5027 names it ``sofia/<profile>/<target>`` up to a ``;``) or a call from
  it on that profile.

Gateways, loopback and other endpoints name no one phone: never counted.

``PhoneCalls`` keeps the switch's live channels from the inbound Event Socket's
CHANNEL_CREATE (fired once a channel's variables are set: switch_ivr_originate.c:3124-3143
before the launch at 3254; switch_core_state_machine.c:626) and CHANNEL_HANGUP_COMPLETE,
and reads ``show channels as json`` on each (re)connect, so a dispatch pass asks the
switch nothing. The channels of the switch this controller's Event Socket reaches.
"""

from __future__ import annotations

import functools
import json
import logging
import re
from collections.abc import Callable, Iterable, Mapping

import gevent

from fsapps.esl import codec
from fsapps.esl.client import Connection, InboundClient

log = logging.getLogger("fsapps.acd")

# A dial string's leading {global} and [leg] variables (switch_ivr_originate.c), not escaped.
_VARIABLES = re.compile(r"^\s*(?:\{(?:\\.|[^}])*\}|\[(?:\\.|[^\]])*\]|<(?:\\.|[^>])*>)\s*")
_TARGETS = re.compile(r":_:|[,|]")


@functools.lru_cache(maxsize=8192)
def contact_addresses(contact: str) -> frozenset[str]:
    """The addresses a channel of this agent's phone carries (see the module), lower case.
    Every target of a dial string with several (``,``, ``|``, ``:_:``). Kept per contact:
    each dispatch pass asks it of every free agent, and contacts rarely change."""
    out: set[str] = set()
    for target in _TARGETS.split(contact):
        while (m := _VARIABLES.match(target)) and m.end():
            target = target[m.end() :]
        target = target.strip().split(";", 1)[0]
        tech, _, rest = target.partition("/")
        tech = tech.lower()
        if tech == "user" and "@" in rest:
            out.add("addr:" + rest.lower())
        elif tech == "sofia" and "/" in rest and not rest.lower().startswith("gateway/"):
            out.add("chan:" + target.lower())
    return frozenset(out)


def channel_addresses(name: str, presence_id: str) -> frozenset[str]:
    """The addresses a channel carries: its name, the address its sofia name ends in, its
    presence_id."""
    out: set[str] = set()
    name = name.strip().split(";", 1)[0].lower()
    if name:
        out.add("chan:" + name)
        parts = name.split("/", 2)
        if len(parts) == 3 and parts[0] == "sofia" and "@" in parts[2]:
            out.add("addr:" + parts[2].removeprefix("sip:"))
    if presence_id.strip():
        out.add("addr:" + presence_id.strip().lower())
    return frozenset(out)


class PhoneCalls:
    """The switch's live channels by address. ``on_free``: called when the last channel of an
    address ends (an agent skipped for it may be offered a caller now)."""

    def __init__(self, client: InboundClient, on_free: Callable[[], None] | None = None) -> None:
        self.on_free = on_free
        self.channels: dict[str, frozenset[str]] = {}  # uuid -> its addresses
        self.by_address: dict[str, set[str]] = {}  # address -> live uuids
        # While ``show channels`` is read: what the events said meanwhile, which it may lack.
        self._seeding: tuple[dict[str, frozenset[str]], set[str]] | None = None
        for name in ("CHANNEL_CREATE", "CHANNEL_HANGUP_COMPLETE"):
            if name not in client.events:
                client.events.append(name)
        client.on("CHANNEL_CREATE", self.on_create)
        client.on("CHANNEL_HANGUP_COMPLETE", self.on_hangup)
        client.on_connect.append(lambda conn: gevent.spawn(self.seed, conn))

    def calls(self, contact: str) -> int:
        """Live channels of the phone this contact rings."""
        uuids: set[str] = set()
        for address in contact_addresses(contact):
            uuids.update(self.by_address.get(address, ()))
        return len(uuids)

    # --- from the switch ---------------------------------------------------------------

    def on_create(self, event: codec.Event) -> None:
        f = event.fields
        uuid = f.get("Unique-ID", "")
        if uuid:
            addresses = channel_addresses(f.get("Channel-Name", ""), f.get("Channel-Presence-ID", ""))
            if self._seeding is not None:
                self._seeding[0][uuid] = addresses
            self._add(uuid, addresses)

    def on_hangup(self, event: codec.Event) -> None:
        uuid = event.fields.get("Unique-ID", "")
        if self._seeding is not None:
            self._seeding[1].add(uuid)
        self._remove(uuid)

    def seed(self, conn: Connection) -> None:
        """Every live channel, from ``show channels as json`` (mod_commands' show, the core's
        channels table: switch_core_sqldb.c), with what the events said while it was read."""
        created: dict[str, frozenset[str]] = {}
        ended: set[str] = set()
        self._seeding = created, ended
        try:
            text = conn.api("show channels as json", 10.0)
            rows = json.loads(text).get("rows", []) if text.lstrip().startswith("{") else None
        except Exception as exc:
            log.warning("could not read the switch's channels (%s): agents' outside calls unknown", exc)
            return
        finally:
            self._seeding = None
        if rows is None:
            log.warning("show channels answered %r: agents' outside calls unknown", text[:80])
            return
        live = {r["uuid"]: channel_addresses(r.get("name", ""), r.get("presence_id", ""))
                for r in rows if isinstance(r, Mapping) and r.get("uuid")}  # fmt: skip
        live.update(created)
        for uuid in ended:
            live.pop(uuid, None)
        for uuid in set(self.channels) - set(live):
            self._remove(uuid)
        for uuid, addresses in live.items():
            self._add(uuid, addresses)

    def _add(self, uuid: str, addresses: Iterable[str]) -> None:
        if uuid in self.channels:
            return
        self.channels[uuid] = frozenset(addresses)
        for address in self.channels[uuid]:
            self.by_address.setdefault(address, set()).add(uuid)

    def _remove(self, uuid: str) -> None:
        freed = False
        for address in self.channels.pop(uuid, ()):
            held = self.by_address.get(address)
            if held is None:
                continue
            held.discard(uuid)
            if not held:
                del self.by_address[address]
                freed = True
        if freed and self.on_free is not None:
            self.on_free()
