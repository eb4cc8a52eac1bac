"""One Event Socket connection, FreeSWITCH's side (mod_event_socket.c).

The same listener serves an inbound client (auth first) and an outbound
``socket`` connection (bound to a channel, already authenticated). Replies
to a command go out before any event fired while it ran, as in listener_run,
which writes the reply and only then drains its event queue.
"""

from __future__ import annotations

import contextlib
import hmac
import logging
import re
import uuid as uuidlib
from collections import deque
from typing import TYPE_CHECKING

import gevent
from gevent import socket
from gevent.event import Event as GEvent

from fsapps.esl import codec
from fsapps.esl.codec import Command, CommandReader
from fsapps.sim.events import EVENT_NAME_SET, SimEvent

if TYPE_CHECKING:
    from fsapps.sim.channel import Channel
    from fsapps.sim.switch import Switch

log = logging.getLogger("fsapps.sim.esl")

MAX_QUEUE_LEN = 100_000  # mod_event_socket.c:34
MAX_MISSED = 500  # mod_event_socket.c:35

MYEVENTS = codec.MYEVENTS  # parse_command, mod_event_socket.c:2096-2118


class Listener:
    def __init__(
        self,
        switch: Switch,
        sock: socket.socket,
        *,
        session: Channel | None = None,
        async_mode: bool = False,
        full: bool = False,
        max_queue: int = MAX_QUEUE_LEN,
    ) -> None:
        self.switch = switch
        self.sock = sock
        self.session = session
        self.outbound = session is not None
        self.authed = self.outbound
        self.async_mode = async_mode
        self.full = full
        self.connected = GEvent()  # LFLAG_CONNECTED: the controller sent `connect`
        self.finished = GEvent()
        self.running = True
        self.format = "plain"
        self.events_on = False
        self.event_list: set[str] = set()
        self.all_events = False
        self.custom_all = False
        self.custom: set[str] = set()
        self.filters: list[tuple[str, str]] = []
        self.myevents = False
        self.linger: int | None = None
        self.resume = False
        self.queue: deque[SimEvent] = deque()
        self.max_queue = max_queue
        self.lost = 0
        self.holding = False
        self._wake = GEvent()
        self._down_notified = False
        self._writer: gevent.Greenlet | None = None
        self._sending = 0  # greenlets inside sock.sendall
        self.commands_seen = 0
        self.commands_at_connect = 0
        self.peer = ""

    # --- event subscription (event_handler, mod_event_socket.c:250) -----------

    def offer(self, ev: SimEvent) -> None:
        if not self.running or not self.events_on:
            return
        if not self._wants(ev):
            return
        if len(self.queue) >= self.max_queue:
            self.lost += 1
            if self.lost > MAX_MISSED:
                log.warning("killing listener %s: %d events lost", self.peer, self.lost)
                self.kill("killed listener because of lost events\n")
            return
        self.lost = 0
        self.queue.append(ev)
        self._wake.set()

    def _wants(self, ev: SimEvent) -> bool:
        send = False
        if self.all_events:
            send = True
        elif ev.name in self.event_list:
            send = ev.name != "CUSTOM" or not ev.subclass or self.custom_all or ev.subclass in self.custom
        if send and self.filters:
            send = self._filtered(ev)
        if send and self.myevents:
            uid = ev.get("Unique-ID")
            if not uid or (self.session is not None and uid != self.session.uuid):
                send = False
            if self.session is not None and ev.get("Job-Owner-UUID") == self.session.uuid:
                send = True
        return send

    def _filtered(self, ev: SimEvent) -> bool:
        # mod_event_socket.c:318-366: '+'/'-' prefixes, '/regex/' values.
        send = False
        for name, value in self.filters:
            hval = ev.get(name)
            if hval is None:
                continue
            pos = True
            comp = value
            while comp and comp[0] in "+- ":
                if comp[0] == "+":
                    pos = True
                elif comp[0] == "-":
                    pos = False
                comp = comp[1:]
            if send and pos:
                continue
            if value.startswith("/"):
                pattern = comp[1:] if comp.startswith("/") else comp
                pattern = pattern[:-1] if pattern.endswith("/") else pattern
                try:
                    cmp = re.search(pattern, hval) is not None
                except re.error:
                    cmp = False
            else:
                cmp = hval.lower() == comp.lower()
            if cmp:
                if pos:
                    send = True
                else:
                    return False
        return send

    # --- I/O -------------------------------------------------------------------

    def _send(self, data: bytes) -> None:
        self._sending += 1
        try:
            self.sock.sendall(data)
        except OSError:
            self.running = False
        finally:
            self._sending -= 1

    def _reply(self, text: str, extra: list[tuple[str, str]] | None = None) -> None:
        self._send(codec.encode_reply(text, extra or []))

    def _writer_loop(self) -> None:
        while self.running:
            self._wake.clear()
            if not self.holding:
                while self.queue and self.running and not self.holding:
                    ev = self.queue.popleft()
                    self._send(ev.wire(self.format, codec.encode_event))
                    self._after_event(ev)
            self._wake.wait(1.0)

    def _after_event(self, ev: SimEvent) -> None:
        s = self.session
        if s is None or self._down_notified or s.up or ev.name != "CHANNEL_HANGUP_COMPLETE":
            return
        self._session_down()

    def _session_down(self) -> None:
        """listener_run's check of switch_channel_down (mod_event_socket.c:1478)."""
        s = self.session
        assert s is not None
        self._down_notified = True
        if self.linger is not None:
            notice = [
                ("Content-Type", "text/disconnect-notice"),
                ("Controlled-Session-UUID", s.uuid),
                ("Content-Disposition", "linger"),
                ("Channel-Name", s.name),
                ("Linger-Time", str(self.linger)),
                ("Content-Length", "0"),
            ]
            self._send("".join(f"{k}: {v}\n" for k, v in notice).encode() + b"\n")
            if self.linger >= 0:
                gevent.spawn_later(self.switch.clock.to_wall(self.linger), self.stop)
        else:
            self.stop()

    def stop(self) -> None:
        if self.running:
            self.running = False
            self._wake.set()
            with contextlib.suppress(OSError):
                self.sock.shutdown(socket.SHUT_RD)

    def kill(self, message: str) -> None:
        """kill_listener: a notice, then the socket is shut down (mod_event_socket.c:661).

        A listener killed for lost events is one whose peer stopped reading: the writer is
        blocked mid-send, so the notice could only wait behind it (and gevent refuses a
        second waiter on one socket, which would raise into whatever fired the event). The
        shutdown wakes that send with an error; the peer gets what was sent, then EOF."""
        if not self._sending:
            self._send_disconnect(message)
        self.running = False
        self._wake.set()
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)

    def _send_disconnect(self, message: str = codec.GOODBYE) -> None:
        extra = []
        if self.session is not None:
            extra = [
                ("Controlled-Session-UUID", self.session.uuid),
                ("Content-Disposition", "disconnect"),
            ]
        self._send(codec.encode_disconnect_notice(extra, message))

    def run(self) -> None:
        """listener_run (mod_event_socket.c:2640)."""
        try:
            self.peer = "{}:{}".format(*self.sock.getpeername()[:2])
        except OSError:
            self.peer = "?"
        self.switch.add_listener(self)
        if self.session is not None:
            self.session.lock()
        self._writer = gevent.spawn(self._writer_loop)
        reader = CommandReader()
        try:
            if not self.outbound:
                self._send(codec.encode_auth_request())
            while self.running:
                try:
                    data = self.sock.recv(65536)
                except OSError:
                    break
                if not data:
                    break
                try:
                    commands = reader.feed(data)
                except codec.ProtocolError as exc:
                    log.warning("listener %s: %s", self.peer, exc)
                    break
                for cmd in commands:
                    if not self.running:
                        break
                    self.holding = True
                    try:
                        self.handle(cmd)
                    finally:
                        self.holding = False
                        self._wake.set()
        finally:
            self._close()

    def _close(self) -> None:
        self.running = False
        self._wake.set()
        self.switch.remove_listener(self)
        s = self.session
        if s is not None and s.up and (self.resume or (s.get_var("socket_resume") or "") == "true"):
            # listener_run end: a resumable socket hands the call back to the dialplan.
            s.reset_requested = True
            s.kick()
        self._send_disconnect()
        with contextlib.suppress(OSError):
            self.sock.close()
        self.finished.set()
        if s is not None:
            # CF_CONTROLLED cleared (l.2838): a parked socket call goes on in the dialplan.
            s.controlled = False
            s.unlock()
            s.kick()
        if self._writer is not None:
            self._writer.kill(block=False)

    # --- parse_command (mod_event_socket.c:1714) ------------------------------

    def handle(self, cmd: Command) -> None:
        self.commands_seen += 1
        line = cmd.line.strip()
        low = line.lower()
        if low.startswith("exit") or low.startswith("..."):
            self._reply("+OK bye")
            self.running = False
            return
        if not self.authed:
            if low.startswith("auth "):
                # In constant time, unlike the switch's strcmp (mod_event_socket.c:1748):
                # the emulator must not teach a guessing peer the password's prefix.
                if hmac.compare_digest(line[5:].encode("utf-8"), self.switch.password.encode("utf-8")):
                    self.authed = True
                    self._reply("+OK accepted")
                else:
                    self._reply("-ERR invalid")
                    self.running = False
                return
            # Before auth, read_packet waits for auth: anything else is ignored
            # with the standard error (parse_command: not authed, no reply set).
            self._reply("-ERR command not found")
            return
        if low.startswith("filter "):
            return self._filter(line[7:])
        if self.session is not None and low.startswith("resume"):
            self.resume = True
            self.session.set_var("socket_resume", "true")
            return self._reply("+OK")
        if self.session is not None or low.startswith("myevents "):
            if low.startswith("connect"):
                return self._connect()
            if low.startswith("getvar"):
                parts = line.split(" ", 1)
                val = ""
                if len(parts) > 1 and self.session is not None:
                    val = self.session.get_var(parts[1].strip()) or ""
                return self._reply(val or "-ERR command not found")
            if low.startswith("myevents"):
                return self._myevents(line)
        if low.startswith("divert_events"):
            if self.session is None:
                return self._reply("-ERR not controlling a session.")
            onoff = line[13:].strip()
            if not onoff:
                return self._reply("-ERR missing value.")
            return self._reply("+OK events diverted" if onoff.lower() == "on" else "+OK events not diverted")
        if low.startswith("sendmsg"):
            return self._sendmsg(cmd, line[7:].strip())
        if self.outbound and not self.full:
            return self._reply("-ERR command not found")
        if low.startswith("sendevent"):
            return self._sendevent(cmd, line[9:].strip())
        if low.startswith("api "):
            return self._api(line[4:])
        if low.startswith("bgapi "):
            return self._bgapi(cmd, line[6:])
        if low.startswith("log"):
            return self._reply(f"+OK log level {line[3:].strip() or 'debug'} [7]")
        if low.startswith("linger"):
            if self.session is None:
                return self._reply("-ERR not controlling a session")
            arg = line[6:]
            if arg.startswith(" ") and arg.strip():
                try:
                    self.linger = int(arg.strip())
                except ValueError:
                    self.linger = 0
                return self._reply(f"+OK will linger {self.linger} seconds")
            self.linger = -1
            return self._reply("+OK will linger")
        if low.startswith("nolinger"):
            if self.session is None:
                return self._reply("-ERR not controlling a session")
            self.linger = None
            return self._reply("+OK will not linger")
        if low.startswith("nolog"):
            return self._reply("-ERR not loging")
        if low.startswith("event"):
            return self._event(line)
        if low.startswith("nixevent"):
            return self._nixevent(line)
        if low.startswith("noevents"):
            if self.events_on:
                self.events_on = False
                self.event_list.clear()
                self.all_events = False
                self.custom.clear()
                self.custom_all = False
                self.queue.clear()
                return self._reply("+OK no longer listening for events")
            return self._reply("-ERR not listening for events")
        self._reply("-ERR command not found")

    def _filter(self, rest: str) -> None:
        rest = rest.lstrip(" ")
        name, sep, value = rest.partition(" ")
        if name.lower() == "delete" and sep:
            name, sep2, value = value.partition(" ")
            if name.lower() == "all":
                self.filters.clear()
            else:
                self.filters = [
                    (n, v) for n, v in self.filters if not (n == name and (not sep2 or v == value))
                ]
            return self._reply(f"+OK filter deleted. [{name}][{value if sep2 else '(null)'}]")
        if sep:
            if name.lower() == "add":
                name, _, value = value.partition(" ")
            self.filters.append((name, value))
            return self._reply(f"+OK filter added. [{name}]=[{value}]")
        return self._reply("-ERR invalid syntax")

    def _connect(self) -> None:
        # What the controller had sent when it said connect: the call parks once
        # it sends anything more (fsapps.sim.outbound), however late the channel wakes.
        self.commands_at_connect = self.commands_seen
        self.connected.set()
        s = self.session
        if s is not None:
            s.kick()
        ev = self.switch.new_event("CHANNEL_DATA")
        if s is not None:
            # mod_event_socket.c:2020: the caller profile as Channel-*, then the
            # channel's own data.
            ev.extend(s.profile.headers("Channel"))
            ev.extend(s.basic_data())
            ev.extend((f"variable_{k}", v) for k, v in s.variables.items())
        ev.add("Content-Type", "command/reply")
        ev.add("Reply-Text", "+OK\n")
        ev.add("Socket-Mode", "async" if self.async_mode else "static")
        ev.add("Control", "full" if self.full else "single-channel")
        self._send(codec.serialize_plain(ev.headers).encode("utf-8"))

    def _myevents(self, line: str) -> None:
        if self.myevents:
            return self._reply("-ERR aready enabled.")
        if self.session is None:
            rest = line[9:].strip()
            uid, _, fmt = rest.partition(" ")
            ch = self.switch.channels.get(uid)
            if ch is None:
                if fmt:
                    return self._reply("-ERR invalid uuid")
            else:
                self.session = ch
            self.async_mode = True
            if fmt.lower() in ("xml", "plain", "json"):
                self.format = fmt.lower()
        self.event_list |= MYEVENTS
        self.myevents = True
        self.events_on = True
        if "xml" in line or "XML" in line:
            self.format = "xml"
        if "json" in line or "JSON" in line:
            self.format = "json"
        self._reply("+OK Events Enabled")

    def _sendmsg(self, cmd: Command, uid: str) -> None:
        is_async = self.async_mode or (cmd.header("async") or "").lower() in (
            "true",
            "1",
            "yes",
            "on",
        )
        if not uid:
            uid = cmd.header("session-id") or ""
        if uid and self.session is not None and uid == self.session.uuid:
            uid = ""
        if not uid and self.session is not None:
            if is_async:
                self.session.queue_private_event(cmd)
            else:
                # Static (sync) mode runs it here and replies when it is done.
                self.switch.parse_private_event(self.session, cmd)
            return self._reply("+OK")
        target = self.switch.channels.get(uid) if uid else None
        if target is None:
            return self._reply(f"-ERR invalid session id [{uid or '(null)'}]")
        target.queue_private_event(cmd)
        self._reply("+OK")

    def _sendevent(self, cmd: Command, ename: str) -> None:
        event_uuid = str(uuidlib.uuid4())
        name = ename.split(" ", 1)[0].upper() if ename else "CUSTOM"
        if name not in EVENT_NAME_SET or name == "ALL":
            name = "CUSTOM"
        subclass = cmd.header("Event-Subclass") if name == "CUSTOM" else None
        ev = SimEvent(name, list(cmd.headers), cmd.body or None, subclass=subclass)
        ev.add("Event-UUID", event_uuid)
        ev.headers.insert(0, ("Event-Name", name))
        self.switch.fire(ev)
        self._reply(f"+OK {event_uuid}")

    def _api(self, rest: str) -> None:
        command, _, arg = rest.partition(" ")
        body = self.switch.api(command, arg or None, listener=self)
        if not body:
            body = "-ERR no reply\n"
        self._send(codec.encode_api_response(body))

    def _bgapi(self, cmd: Command, rest: str) -> None:
        command, _, arg = rest.partition(" ")
        job = cmd.header("job-uuid") or str(uuidlib.uuid4())
        owner = self.session.uuid if self.session is not None else None
        self._reply(f"+OK Job-UUID: {job}", [("Job-UUID", job)])

        def run() -> None:
            out = self.switch.api(command, arg or None, listener=None)
            ev = self.switch.new_event("BACKGROUND_JOB")
            ev.add("Job-UUID", job)
            ev.add("Job-Owner-UUID", owner)
            ev.add("Job-Command", command)
            if arg:
                ev.add("Job-Command-Arg", arg)
            ev.body = out or "Command returned no output!"
            self.switch.fire(ev)

        gevent.spawn(run)

    def _event(self, line: str) -> None:
        words = line.split(" ")[1:]
        key_count = 0
        custom = False
        for i, word in enumerate(w for w in words if w):
            if i == 0 and word.lower() in ("plain", "json", "xml"):
                self.format = word.lower()
                continue
            if custom:
                self.custom.add(word)
                continue
            name = word.upper()
            if name in EVENT_NAME_SET:
                key_count += 1
                if name == "ALL":
                    self.all_events = True
                    self.custom_all = True
                self.event_list.add(name)
                if name == "CUSTOM":
                    custom = True
        if not key_count:
            return self._reply("-ERR no keywords supplied")
        self.events_on = True
        self._reply(f"+OK event listener enabled {self.format}")

    def _nixevent(self, line: str) -> None:
        key_count = 0
        custom = False
        for word in (w for w in line.split(" ")[1:] if w):
            if custom:
                self.custom.discard(word)
                continue
            name = word.upper()
            if name not in EVENT_NAME_SET:
                continue
            key_count += 1
            if name == "CUSTOM":
                custom = True
            elif name == "ALL":
                self.all_events = False
                self.event_list.clear()
            else:
                if self.all_events:
                    self.all_events = False
                    self.event_list |= EVENT_NAME_SET - {"ALL"}
                self.event_list.discard(name)
        if not key_count:
            return self._reply("-ERR no keywords supplied")
        self.events_on = True
        self._reply("+OK events nixed")
