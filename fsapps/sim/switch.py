"""fsapps.sim: a FreeSWITCH emulator that speaks the real Event Socket.

``Switch`` owns the channels, fires events to every Event Socket listener,
runs dialplan applications (fsapps.sim.apps) and API commands
(fsapps.sim.api), and offers a Python control API for tests and the demo:
place a call with a caller script, register endpoints, wait for states and
read what happened on each channel.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket as pysocket
import tempfile
import uuid as uuidlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import gevent
from gevent import socket
from gevent.event import Event as GEvent
from gevent.server import StreamServer

from fsapps.esl.codec import Command
from fsapps.sim import cdr, sofia
from fsapps.sim.apps import APPLICATIONS
from fsapps.sim.apps.bridge import b_side_left_alone
from fsapps.sim.apps.recording import stop_all_recordings
from fsapps.sim.channel import CallerProfile, Channel
from fsapps.sim.clock import SimClock
from fsapps.sim.dialplan import Dialplan, StaticDialplan
from fsapps.sim.directory import Directory
from fsapps.sim.endpoints import CallerScript, Endpoint
from fsapps.sim.events import CALLING, SimEvent, base_headers
from fsapps.sim.hold import held_leg_left
from fsapps.sim.listener import Listener
from fsapps.sim.session import parse_event, run_inbound

log = logging.getLogger("fsapps.sim")

VERSION = "1.10.12-release+git~20240802T210227Z~a88d069d6f~64bit"
VERSION_SHORT = "1.10.12-release git a88d069 2024-08-02 21:02:27Z 64bit"


@dataclass
class CallRecord:
    """What the control API keeps of a channel after it is gone."""

    uuid: str
    name: str
    log: list[tuple[float, str]]
    variables: dict[str, str]
    hangup_cause: str | None


@dataclass
class SwitchConfig:
    password: str = "ClueCon"
    host: str = "127.0.0.1"
    port: int = 0  # 0: pick a free port
    speed: float = 1.0
    start: float | None = None  # virtual epoch seconds at start; None: now
    hostname: str = "fsapps-sim"
    sound_prefix: str = ""
    recordings_dir: str = ""
    max_sessions: int = 1000
    sessions_per_second: int = 30
    heartbeat: float = 20.0  # switch_core.c: HEARTBEAT every 20 s
    max_event_queue: int = 100_000
    globals: dict[str, str] = field(default_factory=dict)


class Switch:
    def __init__(
        self,
        config: SwitchConfig | None = None,
        *,
        dialplan: Dialplan | None = None,
        directory: Directory | None = None,
        **kw: Any,
    ) -> None:
        cfg = config or SwitchConfig(**kw)
        self.config = cfg
        self.password = cfg.password
        self.clock = SimClock(cfg.speed, cfg.start)
        self.core_uuid = str(uuidlib.uuid4())
        self.hostname = cfg.hostname
        self.ipv4 = "127.0.0.1"
        self.ipv6 = "::1"
        self.sequence = 0
        self.started = self.clock.now()
        self.channels: dict[str, Channel] = {}
        self.listeners: list[Listener] = []
        self.watchers: list[Callable[[SimEvent], None]] = []
        self.users: dict[str, Endpoint] = {}
        self.gateways: dict[str, tuple[str, Endpoint]] = {}  # name: (its sofia profile, the far end)
        self.dialplan: Dialplan = dialplan or StaticDialplan()
        self.directory: Directory | None = directory
        self.globals: dict[str, str] = {
            "hostname": cfg.hostname,
            "local_ip_v4": "127.0.0.1",
            "domain": "127.0.0.1",
            "sound_prefix": cfg.sound_prefix,
            **cfg.globals,
        }
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        if not cfg.recordings_dir:
            self._tmp = tempfile.TemporaryDirectory(prefix="fsapps-sim-")
            cfg.recordings_dir = self._tmp.name
        self.globals["recordings_dir"] = cfg.recordings_dir
        self.globals.setdefault("storage_dir", os.path.join(cfg.recordings_dir, "storage"))
        self.sessions_since_start = 0
        self.peak_sessions = 0
        self.history: dict[str, CallRecord] = {}
        self.server: StreamServer | None = None
        self._heartbeat: gevent.Greenlet | None = None
        self.apps = APPLICATIONS
        from fsapps.sim import api as api_mod

        self.api_commands = api_mod.COMMANDS

    # --- lifecycle ---------------------------------------------------------------

    def start(self) -> Switch:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.config.host, self.config.port))
        sock.listen(1024)
        self.server = StreamServer(sock, self._accept)
        self.server.start()
        self._heartbeat = gevent.spawn(self._heartbeat_loop)
        return self

    @property
    def port(self) -> int:
        assert self.server is not None, "start() the switch first"
        return self.server.server_port

    @property
    def address(self) -> tuple[str, int]:
        return (self.config.host, self.port)

    def stop(self) -> None:
        for ch in list(self.channels.values()):
            ch.hangup("SYSTEM_SHUTDOWN")
        for lst in list(self.listeners):
            lst.stop()
        if self.server is not None:
            self.server.stop(timeout=1)
            self.server = None
        if self._heartbeat is not None:
            self._heartbeat.kill()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> Switch:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _accept(self, sock: socket.socket, addr: tuple[str, int]) -> None:
        sock.setsockopt(pysocket.IPPROTO_TCP, pysocket.TCP_NODELAY, 1)
        Listener(self, sock, max_queue=self.config.max_event_queue).run()

    def _heartbeat_loop(self) -> None:
        while True:
            self.clock.sleep(self.config.heartbeat)
            ev = self.new_event("HEARTBEAT")
            uptime = int(self.clock.now() - self.started)
            ev.add("Event-Info", "System Ready")
            ev.add("Up-Time", _uptime_text(uptime))
            ev.add("FreeSWITCH-Version", VERSION)
            ev.add("Uptime-msec", str(uptime * 1000))
            ev.add("Session-Count", str(len(self.channels)))
            ev.add("Max-Sessions", str(self.config.max_sessions))
            ev.add("Session-Per-Sec", str(self.config.sessions_per_second))
            ev.add("Session-Since-Startup", str(self.sessions_since_start))
            ev.add("Idle-CPU", "99.000000")
            self.fire(ev)

    # --- events --------------------------------------------------------------------

    def new_event(
        self, name: str, *, calling: tuple[str, str, int] | None = None, subclass: str | None = None
    ) -> SimEvent:
        self.sequence += 1
        ev = SimEvent(name, subclass=subclass)
        base_headers(
            ev,
            core_uuid=self.core_uuid,
            hostname=self.hostname,
            ipv4=self.ipv4,
            ipv6=self.ipv6,
            now=self.clock.now(),
            sequence=self.sequence,
            calling=calling or CALLING.get(name, ("switch_event.c", "switch_event_fire", 0)),
        )
        return ev

    def fire(self, ev: SimEvent) -> None:
        for lst in list(self.listeners):
            lst.offer(ev)
        for w in list(self.watchers):
            try:
                w(ev)
            except Exception:
                log.exception("event watcher failed")

    def add_listener(self, lst: Listener) -> None:
        self.listeners.append(lst)

    def remove_listener(self, lst: Listener) -> None:
        with contextlib.suppress(ValueError):
            self.listeners.remove(lst)

    @contextlib.contextmanager
    def watching(self, callback: Callable[[SimEvent], None]) -> Iterator[None]:
        self.watchers.append(callback)
        try:
            yield
        finally:
            self.watchers.remove(callback)

    # --- channels --------------------------------------------------------------------

    def new_channel(
        self,
        *,
        name: str,
        direction: str,
        profile: CallerProfile,
        uuid: str | None = None,
        variables: list[tuple[str, str]] | None = None,
    ) -> Channel:
        ch = Channel(
            self,
            name=name,
            direction=direction,
            profile=profile,
            uuid=uuid,
            variables=variables or [],
        )
        self.channels[ch.uuid] = ch
        self.sessions_since_start += 1
        self.peak_sessions = max(self.peak_sessions, len(self.channels))
        return ch

    def remove_channel(self, ch: Channel) -> None:
        self.channels.pop(ch.uuid, None)
        self.history[ch.uuid] = CallRecord(ch.uuid, ch.name, ch.log, dict(ch.variables), ch.hangup_cause)

    def on_channel_hangup(self, ch: Channel) -> None:
        if ch.callstate == "HELD":
            held_leg_left(ch)
        other = ch.bridged_to
        if other is not None and other.up and other.bridge_side == "b":
            b_side_left_alone(other, ch)
        partner = ch.loopback_partner
        if partner is not None and partner.up:
            # mod_loopback unlinks the pair at once and hangs the partner up
            # when this leg reaches CS_HANGUP (channel_on_hangup, l.558). A leg
            # whose thread is busy in an application gets there a frame later,
            # so its partner first sees its media fail and its application end
            # (fs-traces s06: the uuid_kill'ed leg); an idle leg gets there at
            # once and its partner is hung up mid-application.
            if ch.busy:
                partner.break_flag = True
                partner.kick()
            else:
                partner.hangup(ch.hangup_cause or "NORMAL_CLEARING")
        if ch.endpoint is not None:
            ch.endpoint.on_hangup(ch)

    def stop_media_bugs(self, ch: Channel) -> None:
        stop_all_recordings(ch)

    def set_cdr_variables(self, ch: Channel) -> None:
        cdr.set_cdr_variables(ch)

    def find_user(self, user: str) -> Endpoint | None:
        return self.users.get(user.split("@", 1)[0])

    # --- control API ----------------------------------------------------------------

    def register_user(self, user: str, endpoint: Endpoint | None = None) -> Endpoint:
        """A directory user (user/NNNN) registered from an emulated phone."""
        ep = endpoint or Endpoint()
        self.users[user] = ep
        return ep

    def register_gateway(
        self, name: str, endpoint: Endpoint | None = None, profile: str = "external"
    ) -> Endpoint:
        """A sofia gateway (sofia/gateway/<name>/<number>) and what answers every number dialled
        through it: a carrier, as seen from the switch."""
        ep = endpoint or Endpoint()
        self.gateways[name] = (profile, ep)
        return ep

    def unregister_user(self, user: str) -> None:
        self.users.pop(user, None)

    def place_call(
        self,
        destination: str,
        *,
        caller_id_number: str = "1000",
        caller_id_name: str | None = None,
        context: str = "public",
        script: CallerScript | None = None,
        variables: dict[str, str] | None = None,
        profile: str = "external",
        uuid: str | None = None,
    ) -> Channel:
        """An inbound SIP call arrives on a sofia profile, like sipp's UAC."""
        cid_name = caller_id_name if caller_id_name is not None else caller_id_number
        port = 5080 if profile == "external" else 5060
        name = f"sofia/{profile}/{caller_id_number}@127.0.0.1:5070"
        prof = CallerProfile(
            uuid="",
            chan_name=name,
            destination_number=destination,
            context=context,
            caller_id_name=cid_name,
            caller_id_number=caller_id_number,
            orig_caller_id_name=cid_name,
            orig_caller_id_number=caller_id_number,
            network_addr="127.0.0.1",
            ani=caller_id_number,
            username=caller_id_number,
        )
        ch = self.new_channel(name=name, direction="inbound", profile=prof, uuid=uuid)
        for k, v in sofia.sofia_inbound_variables(ch, profile, port).items():
            ch.set_var(k, v)
        for k, v in (variables or {}).items():
            ch.set_var(k, v)
        ch.endpoint = script or CallerScript()
        ch.note(f"call from {caller_id_number} to {destination} ({context})")
        ch.start(run_inbound)
        ch.endpoint.attach(ch)
        return ch

    def wait_for(self, predicate: Callable[[], Any], timeout: float = 10.0, poll: float = 0.005) -> Any:
        """Wait (wall-clock seconds) until predicate() is truthy; raise TimeoutError."""
        with gevent.Timeout(timeout, TimeoutError(f"condition not met within {timeout}s")):
            while True:
                result = predicate()
                if result:
                    return result
                gevent.sleep(poll)

    def wait_event(self, match: Callable[[SimEvent], bool], timeout: float = 10.0) -> SimEvent:
        got: list[SimEvent] = []
        done = GEvent()

        def watch(ev: SimEvent) -> None:
            if not done.is_set() and match(ev):
                got.append(ev)
                done.set()

        with self.watching(watch):
            if not done.wait(timeout):
                raise TimeoutError("event not seen in time")
        return got[0]

    def call_log(self, uuid: str) -> list[str]:
        ch = self.channels.get(uuid)
        entries = ch.log if ch is not None else self.history[uuid].log
        return [text for _, text in entries]

    # --- sendmsg (switch_ivr.c switch_ivr_parse_event) ------------------------------

    def parse_private_event(self, ch: Channel, cmd: Command) -> None:
        parse_event(ch, cmd)

    # --- api ------------------------------------------------------------------------

    def api(self, command: str, arg: str | None, listener: Listener | None = None) -> str:
        """switch_api_execute: fires API, runs the command, returns its stream."""
        ev = self.new_event("API")
        ev.add("API-Command", command)
        if arg:
            ev.add("API-Command-Argument", arg)
        self.fire(ev)
        impl = self.api_commands.get(command.lower())
        if impl is None:
            return f"-ERR {command} Command not found!\n"
        try:
            return impl(self, (arg or "").strip(), listener)
        except Exception as exc:  # an emulator bug must not kill the listener
            log.exception("api %s %s failed", command, arg)
            return f"-ERR {exc}\n"

    def status_text(self) -> str:
        up = self.clock.now() - self.started
        secs = int(up)
        ms = int((up - secs) * 1000)
        us = int((up - secs) * 1_000_000) % 1000
        y, rem = divmod(secs, 365 * 86400)
        d, rem = divmod(rem, 86400)
        h, rem = divmod(rem, 3600)
        m, s = divmod(rem, 60)
        n = len(self.channels)
        return (
            f"UP {y} years, {d} days, {h} hours, {m} minutes, {s} seconds, {ms} milliseconds, "
            f"{us} microseconds\n"
            f"FreeSWITCH (Version {VERSION_SHORT}) is ready\n"
            f"{self.sessions_since_start} session(s) since startup\n"
            f"{n} session(s) - peak {self.peak_sessions}, last 5min {self.peak_sessions} \n"
            f"0 session(s) per Sec out of max {self.config.sessions_per_second}, peak 0, last 5min 0 \n"
            f"{self.config.max_sessions} session(s) max\n"
            "min idle cpu 0.00/99.00\n"
            "Current Stack Size/Max 240K/8192K\n"
        )


def _uptime_text(secs: int) -> str:
    y, rem = divmod(secs, 365 * 86400)
    d, rem = divmod(rem, 86400)
    h, rem = divmod(rem, 3600)
    m, s = divmod(rem, 60)
    return f"{y} years, {d} days, {h} hours, {m} minutes, {s} seconds, 0 milliseconds, 0 microseconds"
