"""What applications reach beyond the call: the tenants' flows, the store,
the record writer, the clock, HTTP.

One ``AppContext`` per process: ``fsapps serve`` installs its own; inside
FreeSWITCH (mod_python3) ``fsapps.embedded`` builds one from the settings
file on first use. Tests install one with their own clock and store.
"""

from __future__ import annotations

import http.client
import json
import logging
import socket
import ssl
import threading
import urllib.parse
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from fsapps.flows.model import Flow, Node, Operator, Project, Tenant
from fsapps.flows.walls import host_listed, is_public, url_host
from fsapps.store.db import Store

log = logging.getLogger("fsapps.apps")


class RecordWriter(Protocol):
    def write(self, *records: Any) -> None: ...


class HttpError(Exception):
    """An HTTP lookup that did not give an answer. ``kind``: timeout, unreachable, refused (a
    private address not listed, or not an http(s) URL), redirect, status (not 2xx), bad_response,
    not_json."""

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(f"{kind}: {detail}")
        self.kind = kind


class _PinnedHTTP(http.client.HTTPConnection):
    """Connects to the addresses that were checked, not to a second resolution of the name
    (which could answer another address: DNS rebinding)."""

    def __init__(self, host: str, port: int, addresses: list[str], timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self.addresses = addresses

    def connect(self) -> None:
        self.sock = _connect(self.addresses, self.port, self.timeout)


class _PinnedHTTPS(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, addresses: list[str], timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self.addresses = addresses

    def connect(self) -> None:
        sock = _connect(self.addresses, self.port, self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


def _connect(addresses: list[str], port: int, timeout: float | None) -> socket.socket:
    """The first of ``addresses`` that answers (as socket.create_connection tries a name's)."""
    error: OSError = OSError("no address")
    for address in addresses:
        try:
            return socket.create_connection((address, port), timeout)
        except TimeoutError:
            raise
        except OSError as exc:
            error = exc
    raise error


def _checked_addresses(host: str, port: int, allowed: Iterable[str]) -> list[str]:
    """The addresses to call: every address ``host`` resolves to is public, or it is listed."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise HttpError("unreachable", f"{host}: {getattr(exc, 'strerror', None) or exc}") from None
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    if not addresses:
        raise HttpError("unreachable", f"{host}: no address")
    allowed = list(allowed)
    for address in addresses:
        if not is_public(address) and not host_listed([host, address], port, allowed):
            raise HttpError(
                "refused",
                f"{host} is at {address}, not a public address, and not in operator.yaml's lookup_hosts",
            )
    return addresses


def http_get_json(url: str, params: dict[str, str], timeout: float, allowed: Iterable[str] = ()) -> Any:
    """GET ``url?params`` and decode its JSON; None for 404. Cooperative under
    gevent's patched sockets (the controller), plain blocking in mod_python3.

    A redirect is not followed (it is an error of its own kind): it could lead
    anywhere. A host on a private, loopback, link-local or otherwise non-global
    address is called only when it, or that address, is in ``allowed`` (the
    operator's lookup_hosts): a tenant's URL must not reach the operator's network.
    """
    full = url + ("&" if "?" in url else "?") + urllib.parse.urlencode(params)
    try:
        host, port = url_host(full)
    except ValueError as exc:
        raise HttpError("refused", str(exc)) from None
    parts = urllib.parse.urlsplit(full)
    addresses = _checked_addresses(host, port, allowed)
    kind = _PinnedHTTPS if parts.scheme == "https" else _PinnedHTTP
    conn = kind(host, port, addresses, timeout)
    try:
        conn.request("GET", (parts.path or "/") + "?" + parts.query, headers={"Accept": "application/json"})
        resp = conn.getresponse()
        if 300 <= resp.status < 400:
            raise HttpError("redirect", f"{resp.status} to {resp.getheader('Location') or '?'}, not followed")
        if resp.status == 404:
            return None
        if not 200 <= resp.status < 300:
            raise HttpError("status", str(resp.status))
        body = resp.read(1 << 20)
    except TimeoutError:
        raise HttpError("timeout", f"no answer within {timeout:g} s") from None
    except http.client.HTTPException as exc:
        raise HttpError("bad_response", f"{type(exc).__name__}: {exc}") from None
    except OSError as exc:
        raise HttpError("unreachable", str(exc)) from None
    finally:
        conn.close()
    try:
        return json.loads(body)
    except ValueError:
        raise HttpError("not_json", body[:60].decode("utf-8", "replace")) from None


@dataclass
class AppContext:
    """``project``: the checked tenants' flows. ``store``: None runs without a
    database (lookups, blacklist and outages then take their fallback)."""

    project: Project
    store: Store | None = None
    records: RecordWriter | None = None
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    http_get: Callable[[str, dict[str, str], float], Any] = http_get_json
    db_timeout: float = 2.0
    # Where a finished application's usage record goes: by default ``write``; the
    # controller writes it after handing the call back, so the caller never waits on it.
    write_later: Callable[..., Any] | None = None
    acd: Any = None  # the controller's ACD dispatcher (fsapps.acd.dispatch), when it has a database

    def __post_init__(self) -> None:
        self.tenants: dict[str, Tenant] = {t.id: t for t in self.project.tenants}
        if self.http_get is http_get_json:
            self.http_get = self._lookup_get

    def _lookup_get(self, url: str, params: dict[str, str], timeout: float) -> Any:
        """The lookups' HTTP, with the operator's lookup_hosts as they are now."""
        return http_get_json(url, params, timeout, allowed=self.operator.lookup_hosts)

    def adopt(self, project: Project) -> None:
        """Run these flows from now on (an upload the switch has loaded): calls already in
        a flow look their next node up here, and the dispatcher reads the queues at its
        next pass."""
        self.project = project
        self.tenants = {t.id: t for t in project.tenants}

    @property
    def operator(self) -> Operator:
        return self.project.operator

    def node(self, tenant_id: str, flow: str, node: str) -> tuple[Tenant, Flow, Node] | None:
        tenant = self.tenants.get(tenant_id)
        f = tenant.flows.get(flow) if tenant else None
        n = f.nodes.get(node) if f else None
        if tenant is None or f is None or n is None:
            return None
        return tenant, f, n

    def write_soon(self, *records: Any) -> None:
        """Records the caller must not wait for (the controller writes them in the background)."""
        (self.write_later or self.write)(*records)

    def write(self, *records: Any) -> None:
        if self.records is None:
            log.warning("no record writer: %d record(s) not kept", len(records))
            return
        self.records.write(*records)


_current: AppContext | None = None
_lock = threading.Lock()


def install(ctx: AppContext | None) -> None:
    global _current
    with _lock:
        _current = ctx


def current(factory: Callable[[], AppContext] | None = None) -> AppContext:
    """The process's context; ``factory`` builds it on first use (mod_python3)."""
    global _current
    if _current is None:
        with _lock:
            if _current is None:
                if factory is None:
                    raise RuntimeError("no application context installed")
                _current = factory()
    return _current
