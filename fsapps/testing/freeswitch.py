"""A real FreeSWITCH for tests: started from a prefix as a child process.

The configuration is the prefix's vanilla one, copied into a directory of
its own and made safe and offline (../shared/FACTS.md): SIP and the Event
Socket on loopback at free ports, STUN lookups replaced by 127.0.0.1, a
generated Event Socket password and directory password (never ``ClueCon``
or ``1234``), the modules the kit builds, sessions-per-second raised.
Extra files (rendered dialplans, scripts) are dropped into the copy.

    with RealSwitch.from_env(files={"dialplan/public/00_test.xml": xml}) as fs:
        conn = fs.connect()            # an authenticated fsapps.esl Connection
        fs.sip_port("external")        # where to send SIP

A switch that does not come up (bad XML, port taken) raises
``SwitchFailed`` carrying the tail of its log; it never hangs.
"""

from __future__ import annotations

import os
import random
import re
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path

DEFAULT_PREFIX = "/opt/fsapps/freeswitch-1.10.12"

# Modules to load when the prefix has them: the vanilla set the kit builds,
# plus what fsapps uses that the vanilla file leaves commented out.
MODULES = [
    "mod_console", "mod_logfile", "mod_cdr_csv", "mod_event_socket", "mod_sofia", "mod_loopback",
    "mod_rtc", "mod_commands", "mod_conference", "mod_db", "mod_dptools", "mod_expr", "mod_fifo",
    "mod_hash", "mod_voicemail", "mod_esf", "mod_valet_parking", "mod_httapi", "mod_callcenter",
    "mod_avmd", "mod_spy", "mod_dialplan_xml", "mod_spandsp", "mod_g723_1", "mod_opus",
    "mod_sndfile", "mod_native_file", "mod_local_stream", "mod_tone_stream", "mod_python3",
    "mod_flite", "mod_say_en", "mod_say_zh", "mod_xml_curl",
]  # fmt: skip


class SwitchFailed(RuntimeError):
    """FreeSWITCH did not start; the message ends with the tail of its log."""


# Ports for a test's servers come from below the kernel's ephemeral range (32768-60999 on
# Linux), where outgoing connections take theirs, and below FreeSWITCH's default RTP range
# (16384-32768): a port picked from the ephemeral range and let go could be taken by any
# client socket before the server binds it (sofia then fails with "Error Creating SIP UA").
# FSAPPS_TEST_PORTS ("13000-16383") narrows it to a share of its own for test processes
# run side by side (./dev test's tiers): a port one finds free and lets go until its server
# binds it can't be taken meanwhile by the other.
def port_share(spec: str | None) -> range:
    low, _, high = (spec or "").partition("-")
    # At least sipp's four media ports (from an even base) fit in it.
    if not (low.isdigit() and high.isdigit() and int(low) >= 1024 and int(low) + 7 <= int(high) <= 16_383):
        return range(10_000, 16_384)
    return range(int(low), int(high) + 1)


PORTS = port_share(os.environ.get("FSAPPS_TEST_PORTS"))


# Ports this process handed out lately -> when: free when found, they stay free only until
# whoever they were for binds them (a sipp started in the background), so they are not
# handed out again meanwhile.
_HANDED: dict[int, float] = {}
HANDED_FOR = 30.0  # seconds: a background sipp binds its ports well within it


def fresh(ports: range | list[int]) -> bool:
    now = time.monotonic()
    for port, at in list(_HANDED.items()):
        if now - at > HANDED_FOR:
            del _HANDED[port]
    return not any(p in _HANDED for p in ports)


def hand_out(ports: range | list[int]) -> None:
    now = time.monotonic()
    for p in ports:
        _HANDED[p] = now


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    """A loopback port nothing holds over TCP or UDP (sofia binds both for a profile's
    port, whichever ``kind`` is asked for), picked at random so that test processes
    running side by side rarely race for the same one."""
    del kind  # both transports are checked
    for _ in range(500):
        port = random.choice(PORTS)
        if fresh([port]) and all(bindable(port, k) for k in (socket.SOCK_STREAM, socket.SOCK_DGRAM)):
            hand_out([port])
            return port
    raise OSError(f"no free loopback port in {PORTS.start}-{PORTS.stop - 1}")


def bindable(port: int, kind: int) -> bool:
    s = socket.socket(socket.AF_INET, kind)
    try:
        s.bind(("127.0.0.1", port))
    except OSError:
        return False
    finally:
        s.close()
    return True


def find_prefix() -> Path | None:
    prefix = Path(os.environ.get("FSAPPS_FREESWITCH_PREFIX", DEFAULT_PREFIX))
    return prefix if (prefix / "bin" / "freeswitch").is_file() else None


def switch_environment(base: Mapping[str, str], extra: Mapping[str, str]) -> dict[str, str]:
    """The switch's environment: ``base`` and ``extra``, outside any activated virtualenv.

    mod_python3's embedded interpreter has no PYTHONHOME and finds its prefix by looking
    for ``python3`` on PATH (CPython's Modules/getpath.py). An activated virtualenv's
    python3 made it read that venv's base interpreter's standard library: with a venv of
    pyenv's 3.11.7 its ``_ssl`` failed to load into Debian's libpython3.11 (undefined
    symbol ``_PyModule_Add``). So do a venv's ``bin`` on PATH without VIRTUAL_ENV (a shell
    that ran ``env -u VIRTUAL_ENV``) and another installation's (a pyenv version, a conda
    env): their entries are left out."""
    env = {**base, **extra}
    venv = env.pop("VIRTUAL_ENV", None)
    if "PATH" in env:
        bin_dir = os.path.normpath(os.path.join(venv, "bin")) if venv else None
        kept = [p for p in env["PATH"].split(os.pathsep)
                if os.path.normpath(p) != bin_dir and not _another_python(p)]  # fmt: skip
        env["PATH"] = os.pathsep.join(kept)
    return env


def _another_python(entry: str) -> bool:
    """Whether PATH's ``entry`` holds a ``python3`` of a virtualenv or of an installation
    other than the system's (/usr): what the switch's interpreter must not take its prefix
    from. A directory of wrapper scripts (pyenv's shims) has no prefix of its own and leads
    the search nowhere, so it stays."""
    d = Path(entry or ".")
    if not (d / "python3").exists():
        return False
    prefix = d.resolve().parent
    if (prefix / "pyvenv.cfg").exists():
        return True
    if prefix == Path("/usr").resolve():
        return False
    return any(prefix.glob("lib/python3*/os.py"))


class RealSwitch:
    def __init__(
        self,
        prefix: str | os.PathLike[str],
        files: dict[str, str] | None = None,
        prepare: Callable[[Path], object] | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        self.prefix = Path(prefix)
        self.files = dict(files or {})
        self.prepare = prepare  # called with the conf directory once it is written
        self.env = dict(env or {})  # added to the child's environment (PYTHONPATH for mod_python3)
        self._tmp = tempfile.TemporaryDirectory(prefix="fsapps-fs-")
        self.dir = Path(self._tmp.name)
        self.conf = self.dir / "conf"
        self.password = secrets.token_urlsafe(18)
        self.esl_port = free_port()
        self.ports = {"internal": free_port(socket.SOCK_DGRAM), "external": free_port(socket.SOCK_DGRAM)}
        self.proc: subprocess.Popen[bytes] | None = None

    @classmethod
    def from_env(
        cls,
        files: dict[str, str] | None = None,
        prepare: Callable[[Path], object] | None = None,
        env: dict[str, str] | None = None,
    ) -> RealSwitch:
        prefix = find_prefix()
        if prefix is None:
            raise SwitchFailed(
                "no FreeSWITCH build: run ../shared/freeswitch/build.sh or set FSAPPS_FREESWITCH_PREFIX"
            )
        return cls(prefix, files, prepare, env)

    # --- configuration ---------------------------------------------------------------

    def sip_port(self, profile: str = "external") -> int:
        return self.ports[profile]

    @property
    def log_file(self) -> Path:
        return self.dir / "log" / "freeswitch.log"

    def write_config(self) -> None:
        shutil.copytree(self.prefix / "etc" / "freeswitch", self.conf)
        vars_xml = self.conf / "vars.xml"
        text = vars_xml.read_text()
        text = re.sub(r'<X-PRE-PROCESS cmd="stun-set" data="(external_(?:rtp|sip)_ip)=[^"]*"/>',
                      r'<X-PRE-PROCESS cmd="set" data="\1=127.0.0.1"/>', text)  # fmt: skip
        text = text.replace(
            'data="default_password=1234"', f'data="default_password={secrets.token_urlsafe(12)}"'
        )
        for name, port in (
            ("internal_sip_port", self.ports["internal"]),
            ("external_sip_port", self.ports["external"]),
        ):
            text = re.sub(rf'data="{name}=\d+"', f'data="{name}={port}"', text)
        # Everything on loopback: local_ip_v4 is what the SIP profiles bind to.
        text = text.replace(
            "<include>", '<include>\n  <X-PRE-PROCESS cmd="set" data="local_ip_v4=127.0.0.1"/>', 1
        )
        vars_xml.write_text(text)
        mod_dir = self.prefix / "lib" / "freeswitch" / "mod"
        loads = "\n".join(f'    <load module="{m}"/>' for m in MODULES if (mod_dir / f"{m}.so").exists())
        (self.conf / "autoload_configs" / "modules.conf.xml").write_text(
            '<configuration name="modules.conf" description="Modules">\n'
            f"  <modules>\n{loads}\n  </modules>\n</configuration>\n"
        )
        (self.conf / "autoload_configs" / "event_socket.conf.xml").write_text(
            '<configuration name="event_socket.conf" description="Socket Client">\n  <settings>\n'
            '    <param name="nat-map" value="false"/>\n'
            '    <param name="listen-ip" value="127.0.0.1"/>\n'
            f'    <param name="listen-port" value="{self.esl_port}"/>\n'
            f'    <param name="password" value="{self.password}"/>\n'
            '    <param name="apply-inbound-acl" value="loopback.auto"/>\n'
            "  </settings>\n</configuration>\n"
        )
        switch_xml = self.conf / "autoload_configs" / "switch.conf.xml"
        sw = switch_xml.read_text()
        sw = re.sub(r'name="sessions-per-second" value="\d+"', 'name="sessions-per-second" value="1000"', sw)
        sw = re.sub(r'name="max-sessions" value="\d+"', 'name="max-sessions" value="5000"', sw)
        switch_xml.write_text(sw)
        for rel, content in self.files.items():
            path = self.conf / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content)
        if self.prepare is not None:
            self.prepare(self.conf)
        for d in ("log", "db", "run", "scripts", "sounds", "recordings", "storage", "cache", "temp"):
            (self.dir / d).mkdir(exist_ok=True)

    # --- lifecycle ---------------------------------------------------------------------

    def start(self, timeout: float = 60.0) -> RealSwitch:
        self.write_config()
        d = self.dir
        cmd = [
            str(self.prefix / "bin" / "freeswitch"), "-nf", "-nc", "-nonat",
            "-conf", str(self.conf), "-log", str(d / "log"), "-db", str(d / "db"),
            "-run", str(d / "run"), "-scripts", str(d / "scripts"), "-sounds", str(d / "sounds"),
            "-recordings", str(d / "recordings"), "-storage", str(d / "storage"),
            "-cache", str(d / "cache"), "-temp", str(d / "temp"),
        ]  # fmt: skip
        self.proc = subprocess.Popen(
            cmd,
            stdout=subprocess.DEVNULL,
            stderr=(d / "log" / "stderr.log").open("wb"),
            start_new_session=True,
            env=switch_environment(os.environ, self.env),
        )
        deadline = time.monotonic() + timeout
        try:
            self._wait_ready(deadline)
        except Exception:
            self.stop()
            raise
        return self

    def _wait_ready(self, deadline: float) -> None:
        from fsapps.esl.client import Connection

        last = ""
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise SwitchFailed(f"FreeSWITCH exited with {self.proc.returncode}\n{self.log_tail()}")
            try:
                conn = Connection("127.0.0.1", self.esl_port, self.password, timeout=2)
                conn.connect()
            except Exception as exc:
                last = str(exc)
                time.sleep(0.2)
                continue
            try:
                # The Event Socket answers before SIP is up (FACTS.md): wait for both profiles.
                while time.monotonic() < deadline:
                    status = conn.api("sofia status")
                    if status.count("RUNNING") >= 2:
                        return
                    time.sleep(0.2)
            finally:
                conn.stop()
        raise SwitchFailed(f"FreeSWITCH not ready in time ({last})\n{self.log_tail()}")

    def connect(self):  # -> fsapps.esl.client.Connection
        from fsapps.esl.client import Connection

        conn = Connection("127.0.0.1", self.esl_port, self.password)
        conn.connect()
        return conn

    def log_tail(self, lines: int = 60) -> str:
        out = []
        for f in (self.log_file, self.dir / "log" / "stderr.log"):
            if f.exists():
                out += f.read_text(errors="replace").splitlines()[-lines:]
        return "\n".join(out[-lines:])

    def stop(self, timeout: float = 15.0) -> None:
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)

    def cleanup(self) -> None:
        self.stop()
        self._tmp.cleanup()

    def __enter__(self) -> RealSwitch:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.cleanup()
