"""Where a tenant's webhook may point: an http or https URL whose host resolves only to
public addresses, so that a tenant cannot make the operator's servers probe the
operator's own network (loopback, private, link-local, ...). The operator may allow
private addresses (``webhooks.allow_private``: a CRM on the LAN, the tests' receiver).

``check_url`` is pure (the form, and a host written as an address); ``resolve`` asks the
resolver and returns the addresses to connect to, so that the address checked is the
one used (a name that resolves again to something else is never followed)."""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit


class Refused(ValueError):
    """A URL the webhook may not use, and why."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str  # with the query


def check_url(url: str, allow_private: bool) -> Target:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise Refused(f"not a URL: {exc}") from None
    if parts.scheme not in ("http", "https"):
        raise Refused("only http:// and https:// URLs")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise Refused("no host in the URL")
    if parts.username or parts.password:
        raise Refused("no user or password in the URL (the secret signs each request)")
    if not allow_private:
        if host in ("localhost", "localhost.localdomain") or host.endswith(".localhost"):
            raise Refused(f"{host} is this server: not allowed")
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            address = None
        if address is not None and not public(address):
            raise Refused(f"{host} is not a public address: not allowed")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(parts.scheme, host, port or (443 if parts.scheme == "https" else 80), path)


def public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return public(address.ipv4_mapped)
    return address.is_global and not address.is_multicast


def resolve(target: Target, allow_private: bool) -> list[str]:
    """The addresses to connect to; Refused when none may be used."""
    try:
        infos = socket.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise Refused(f"{target.host} does not resolve: {exc}") from None
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    if not allow_private:
        bad = [a for a in addresses if not public(ipaddress.ip_address(a.split("%")[0]))]
        if bad:  # one private answer is enough to refuse: the name points inside
            raise Refused(f"{target.host} resolves to {bad[0]}, not a public address: not allowed")
    if not addresses:
        raise Refused(f"{target.host} has no address")
    return addresses
