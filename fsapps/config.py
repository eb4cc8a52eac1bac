"""Settings: a YAML file, then FSAPPS_* environment variables on top.

Every key has a default that is safe on a shared host: the controller binds
loopback; there is no default Event Socket password (FreeSWITCH's vanilla
``ClueCon`` is public knowledge), so one must come from the file or
``FSAPPS_ESL_PASSWORD``.

    esl:        {host: 127.0.0.1, port: 8021, password: ...}
    controller: {listen: 127.0.0.1, port: 8084, max_connections: 1000, max_pending: 100,
                 connect_timeout: 5, allow_from: [127.0.0.0/8, "::1"], shutdown_grace: 10,
                 priority: normal}
                (priority: realtime runs the controller, and the embedded PostgreSQL it
                starts, at the switch's own real-time scheduling; see fsapps.priority)
    log:        {level: info, format: json}
    state_dir:  ./var
    database:   {dsn: null, pool_size: 20}
                (pool_size: connections each of the controller's two pools, operator and
                tenant, may open; a controller opens at most 2 x pool_size + 4 in all)
    xml_curl:   {listen: 127.0.0.1, port: 0, conf: conf, username: freeswitch, password: ...,
                 read_timeout: 10, max_connections: 100}
                (port 0: off; serves rendered tenant contexts to mod_xml_curl)
    flows:      {dir: dialplan}   (the tenants' YAML the flow application runs)
    metrics:    {listen: 127.0.0.1, port: 0, read_timeout: 10, max_connections: 10}
                (port 0: off; Prometheus scrapes /metrics)
    api:        {listen: 127.0.0.1, port: 0, read_timeout: 10, max_connections: 100,
                 session_hours: 12, cookie_secure: false, recordings_dir: "",
                 voicemail_dir: "", max_streams: 20, heartbeat: 15}
                (port 0: off; the HTTP API under /api/v1; cookie_secure: true behind TLS)
    webhooks:   {allow_private: false, api_url: "", timeout: 5, queue: 1000, workers: 4}
                (the tenants' CRM webhooks; allow_private: URLs on loopback/private networks)

The controller's outbound Event Socket server takes calls only from
``allow_from`` (addresses or networks; in the environment, comma-separated:
``FSAPPS_CONTROLLER_ALLOW_FROM=127.0.0.1,10.0.0.0/8``); it holds at most
``max_connections`` calls plus ``max_pending`` sockets still in their
handshake, closing any further connection at once, and gives the switch
``connect_timeout`` seconds to answer the handshake. The HTTP servers close
a connection that sends nothing for ``read_timeout`` seconds or has not sent
its request head within that time, and serve ``max_connections`` connections
at a time (more wait to be accepted).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import yaml


class SettingsError(ValueError):
    """A settings file or variable that cannot be used; the message says where and why."""


@dataclass
class EslSettings:
    host: str = "127.0.0.1"
    port: int = 8021
    password: str | None = None


@dataclass
class ControllerSettings:
    listen: str = "127.0.0.1"
    port: int = 8084
    max_connections: int = 1000
    max_pending: int = 100  # sockets beyond max_connections: handshakes, calls being handed back
    connect_timeout: float = 5.0
    allow_from: list[str] = field(default_factory=lambda: ["127.0.0.0/8", "::1"])
    shutdown_grace: float = 10.0
    priority: str = "normal"  # or "realtime" (fsapps.priority)


@dataclass
class LogSettings:
    level: str = "info"
    format: str = "json"  # json | text


@dataclass
class DatabaseSettings:
    dsn: str | None = None
    pool_size: int = 20


@dataclass
class XmlCurlSettings:
    listen: str = "127.0.0.1"
    port: int = 0  # 0: not served
    conf: str = "conf"  # where fsapps render --out wrote
    username: str = "freeswitch"
    password: str | None = None
    read_timeout: float = 10.0
    max_connections: int = 100


@dataclass
class MetricsSettings:
    listen: str = "127.0.0.1"
    port: int = 0  # 0: not served
    read_timeout: float = 10.0
    max_connections: int = 10


@dataclass
class ApiSettings:
    listen: str = "127.0.0.1"
    port: int = 0  # 0: not served
    read_timeout: float = 10.0
    max_connections: int = 100
    session_hours: float = 12.0  # a browser's login lasts this long
    cookie_secure: bool = False  # true once TLS fronts the API: browsers then send the cookie over https only
    recordings_dir: str = ""  # the switch's $${recordings_dir}, as seen here ("": not streamed)
    voicemail_dir: str = ""  # the switch's $${storage_dir}/voicemail/default, as seen here ("": not played)
    max_streams: int = 20  # live event streams open at once (each holds one of max_connections)
    heartbeat: float = 15.0  # seconds between a quiet event stream's keep-alive comments


@dataclass
class FlowsSettings:
    dir: str = "dialplan"


@dataclass
class WebhookSettings:
    """The tenants' CRM webhooks (fsapps.webhooks). ``allow_private``: their URLs may point at
    loopback and private addresses (off: a tenant cannot make this server probe the
    operator's network); ``api_url``: the API's public address, for recording links."""

    allow_private: bool = False
    api_url: str = ""
    timeout: float = 5.0  # seconds for one delivery's connection and answer
    queue: int = 1000  # deliveries waiting before new ones are dropped
    workers: int = 4  # deliveries in flight at once


@dataclass
class Settings:
    esl: EslSettings = field(default_factory=EslSettings)
    controller: ControllerSettings = field(default_factory=ControllerSettings)
    log: LogSettings = field(default_factory=LogSettings)
    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    xml_curl: XmlCurlSettings = field(default_factory=XmlCurlSettings)
    flows: FlowsSettings = field(default_factory=FlowsSettings)
    metrics: MetricsSettings = field(default_factory=MetricsSettings)
    api: ApiSettings = field(default_factory=ApiSettings)
    webhooks: WebhookSettings = field(default_factory=WebhookSettings)
    state_dir: str = "./var"

    def secrets(self) -> list[str]:
        """Values that must never appear in a log line."""
        return [s for s in (self.esl.password, self.xml_curl.password) if s]


_SECTIONS = {
    "esl": EslSettings,
    "controller": ControllerSettings,
    "log": LogSettings,
    "database": DatabaseSettings,
    "xml_curl": XmlCurlSettings,
    "flows": FlowsSettings,
    "metrics": MetricsSettings,
    "api": ApiSettings,
    "webhooks": WebhookSettings,
}


def _coerce(value: Any, want: type, where: str) -> Any:
    if value is None:
        return None
    if want is list:
        # A YAML list, or one string of comma-separated items (the environment's form).
        items = value if isinstance(value, list) else str(value).split(",")
        return [str(item).strip() for item in items if str(item).strip()]
    if want is bool:
        if isinstance(value, bool):
            return value
        word = str(value).strip().lower()
        if word in ("1", "true", "yes", "on"):
            return True
        if word in ("0", "false", "no", "off"):
            return False
        raise SettingsError(f"{where}: expected true or false, got {value!r}")
    try:
        if want is int:
            return int(value)
        if want is float:
            return float(value)
        return str(value)
    except (TypeError, ValueError):
        raise SettingsError(f"{where}: expected {want.__name__}, got {value!r}") from None


def _check_networks(value: list[str]) -> str | None:
    import ipaddress

    for spec in value:
        try:
            ipaddress.ip_network(spec, strict=False)
        except ValueError:
            return f"not an address or network: {spec!r}"
    return None if value else "empty: no peer could connect"


def _one_of(*allowed: str) -> Callable[[str], str | None]:
    def check(value: str) -> str | None:
        return None if value in allowed else f"expected one of {', '.join(allowed)}, got {value!r}"

    return check


def _positive(value: float) -> str | None:
    return None if value > 0 else f"must be more than 0, got {value!r}"


def _not_negative(value: int) -> str | None:
    return None if value >= 0 else f"must be 0 or more, got {value!r}"


# Values a type alone does not make safe, checked as they are read.
_CHECKS: dict[str, Callable[[Any], str | None]] = {
    "allow_from": _check_networks,
    "connect_timeout": _positive,
    "read_timeout": _positive,
    "max_connections": _positive,
    "max_pending": _not_negative,
    "session_hours": _positive,
    "max_streams": _positive,
    "heartbeat": _positive,
    "timeout": _positive,  # webhooks'
    "queue": _positive,
    "workers": _positive,
    "priority": _one_of("normal", "realtime"),
}


def _apply(target: Any, data: Mapping[str, Any], where: str) -> None:
    known = {f.name: f for f in fields(target)}
    for key, value in data.items():
        if key not in known:
            raise SettingsError(f"{where}: unknown key {key!r} (expected one of {', '.join(sorted(known))})")
        # Annotations are strings here (postponed evaluation): "int", "float", "str | None", "list[str]".
        kind = {"int": int, "float": float, "bool": bool, "list[str]": list}.get(str(known[key].type), str)
        got = _coerce(value, kind, f"{where}.{key}")
        check = _CHECKS.get(key)
        problem = check(got) if check is not None and got is not None else None
        if problem:
            raise SettingsError(f"{where}.{key}: {problem}")
        setattr(target, key, got)


def load(path: str | os.PathLike[str] | None = None, env: Mapping[str, str] | None = None) -> Settings:
    env = os.environ if env is None else env
    settings = Settings()
    path = path or env.get("FSAPPS_CONFIG")
    if path:
        p = Path(path)
        try:
            raw = yaml.safe_load(p.read_text()) or {}
        except OSError as exc:
            raise SettingsError(f"{p}: cannot read settings ({exc.strerror})") from None
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            loc = f"{p}:{mark.line + 1}:{mark.column + 1}" if mark else str(p)
            raise SettingsError(f"{loc}: not valid YAML ({getattr(exc, 'problem', exc)})") from None
        if not isinstance(raw, dict):
            raise SettingsError(f"{p}: expected a mapping of settings")
        for key, value in raw.items():
            if key in _SECTIONS:
                if not isinstance(value, dict):
                    raise SettingsError(f"{p}: {key}: expected a mapping")
                _apply(getattr(settings, key), value, f"{p}: {key}")
            elif key == "state_dir":
                settings.state_dir = str(value)
            else:
                raise SettingsError(f"{p}: unknown section {key!r}")
    for name, value in env.items():
        if not name.startswith("FSAPPS_") or name == "FSAPPS_CONFIG":
            continue
        rest = name[len("FSAPPS_") :].lower()
        if rest == "state_dir":
            settings.state_dir = value
            continue
        # Section names may hold "_" themselves (FSAPPS_XML_CURL_PASSWORD).
        for section in sorted(_SECTIONS, key=len, reverse=True):
            if rest.startswith(section + "_") and len(rest) > len(section) + 1:
                _apply(getattr(settings, section), {rest[len(section) + 1 :]: value}, f"${name}")
                break
    return settings
