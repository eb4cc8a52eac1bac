"""What the README says the commands do, run as a user runs them: ``fsapps render``
(into FreeSWITCH's vanilla conf, all or nothing, ``--reload``), ``fsapps sim``
(``--conf``, ``--socket``), ``fsapps simulate``'s flags, ``fsapps serve`` with
xml_curl, ``fsapps callbacks``, ``fsapps surveys`` and ``fsapps bill``; against
a scratch PostgreSQL and the emulator in its own process."""

from __future__ import annotations

import csv
import hashlib
import io
import os
import shutil
import subprocess
import sys
import urllib.error
import urllib.request
from base64 import b64encode
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import gevent
import gevent.event
import pytest
import yaml

from fsapps import cli
from fsapps.apps import APPLICATIONS
from fsapps.apps.context import AppContext
from fsapps.config import ControllerSettings, Settings
from fsapps.controller import Controller
from fsapps.esl.client import Connection
from fsapps.flows.check import check
from fsapps.flows.install import InstallError, install
from fsapps.flows.model import Operator, Project
from fsapps.flows.render import render
from fsapps.sim.xmlconf import load_document
from fsapps.sim.xmldialplan import XmlDialplan
from fsapps.store.durable import DurableWriter
from fsapps.store.records import CallbackRequest, SurveyAnswer, UsageRecord
from fsapps.testing.freeswitch import find_prefix, free_port
from tests.integration.test_cli_store import run  # noqa: F401  (fixture)
from tests.support.targets import real_switch_available
from tests.support.waiting import wait_for

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES, SOUNDS = ROOT / "dialplan", ROOT / "sounds"
STUBS = {"dialplan/fsapps.xml", "dialplan/public/50_fsapps.xml", "directory/fsapps.xml"}


def snapshot(conf: Path) -> dict[str, str]:
    """Every path under conf/ and what it holds (symlink targets, directories included)."""
    out = {}
    for root, dirs, files in os.walk(conf):
        for name in dirs + files:
            p = Path(root) / name
            rel = str(p.relative_to(conf))
            if p.is_symlink():
                out[rel] = "-> " + os.readlink(p)
            elif p.is_dir():
                out[rel] = "dir"
            else:
                out[rel] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def cli_run(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def examples(tmp_path: Path) -> Path:
    """A writable copy of dialplan/ and sounds/, side by side."""
    shutil.copytree(EXAMPLES, tmp_path / "dialplan")
    shutil.copytree(SOUNDS, tmp_path / "sounds")
    return tmp_path / "dialplan"


def add_number(examples: Path, number: str) -> None:
    tenant = examples / "shopwise" / "tenant.yaml"
    text = tenant.read_text()
    tenant.write_text(text.replace('"08001234567": main', f'"08001234567": main\n  "{number}": main'))


# --- render -------------------------------------------------------------------------


@pytest.mark.realswitch
def test_render_into_the_vanilla_conf_edits_none_of_its_files(tmp_path: Path, capsys) -> None:
    """README: render writes FreeSWITCH's own shape into a vanilla conf directory and edits none of
    its files; three include stubs that the vanilla X-PRE-PROCESS includes pick up."""
    real_switch_available()  # the vanilla conf comes from the FreeSWITCH build
    prefix = find_prefix()
    assert prefix is not None
    conf = tmp_path / "conf"
    shutil.copytree(prefix / "etc" / "freeswitch", conf, symlinks=True)
    before = snapshot(conf)
    code, _, err = cli_run(capsys, "render", str(EXAMPLES), "--out", str(conf))
    assert code == 0, err
    after = snapshot(conf)
    assert {k: after.get(k) for k in before} == before  # no vanilla file edited, none removed
    added = set(after) - set(before)
    assert added >= STUBS
    assert {p for p in added if p not in STUBS and not p.startswith("fsapps")} == set()
    # FreeSWITCH's own assembly of freeswitch.xml reaches the tenants through the stubs.
    document = load_document(conf)
    dialplan = XmlDialplan.from_document(document)
    contexts = {c.get("name") for c in dialplan.section.findall("context")}
    assert {"default", "public", "fsapps_cablenet", "fsapps_travelgo"} <= contexts
    public = dialplan.context("public")
    assert public is not None
    numbers = {t.id: set(t.access_numbers) for t in check(EXAMPLES).tenants}
    fsapps_public = [e for e in public.findall("extension") if (e.get("name") or "").startswith("fsapps")]
    assert len(fsapps_public) == sum(len(n) for n in numbers.values())
    domains = {d.get("name") for d in document.iter("domain")}
    assert {"cablenet.example", "travelgo.example"} <= domains  # the voicemail boxes' directory


def test_render_refuses_what_freeswitch_could_not_load_before_touching_conf(tmp_path: Path) -> None:
    """README: on any error the conf is untouched: not even a lock file or an fsapps/ directory."""
    conf = tmp_path / "conf"
    (conf / "dialplan").mkdir(parents=True)
    (conf / "dialplan" / "public.xml").write_text("<include>\n  <context name='public'/>\n</include>\n")
    before = snapshot(conf)
    broken = dict(render(check(EXAMPLES)))
    broken["contexts/shopwise.xml"] = broken["contexts/shopwise.xml"].replace("</context>", "</contxt>")
    with pytest.raises(InstallError, match=r"contexts/shopwise\.xml:\d+:\d+: not well-formed XML"):
        install(broken, conf)
    assert snapshot(conf) == before
    fresh = tmp_path / "fresh"
    with pytest.raises(InstallError):
        install(broken, fresh)
    assert not fresh.exists()


def test_a_tenant_with_no_flows_yet_renders_and_loads(tmp_path: Path, capsys) -> None:
    """A tenant just added, with no access numbers or flows yet, passes check; render
    installs it (its public file an empty include, which the switch reads as nothing) and
    the conf loads. Its context and directory stay required."""
    project = tmp_path / "dialplan"
    (project / "solo").mkdir(parents=True)
    shutil.copy(EXAMPLES / "operator.yaml", project / "operator.yaml")
    (project / "solo" / "tenant.yaml").write_text(
        "id: solo\nname: Solo\ndomain: solo.example\ntimezone: UTC\nlanguage: en\n"
    )
    conf = tmp_path / "conf"
    assert cli.main(["render", str(project), "--out", str(conf)]) == 0, capsys.readouterr()
    public = (conf / "fsapps" / "current" / "public" / "solo.xml").read_text()
    assert "<extension" not in public and "<include>" in public, public
    # As the switch assembles it: the tenant's context is there, the public context has
    # none of its extensions.
    document = load_document(conf)
    contexts = {c.get("name"): c for c in document.iter("context")}
    assert "fsapps_solo" in contexts, sorted(contexts)
    public_names = [x.get("name") or "" for x in contexts["public"].iter("extension")]
    assert not [n for n in public_names if "solo" in n], public_names
    files = dict(render(check(project)))
    files["contexts/solo.xml"] = "<include>\n</include>\n"
    with pytest.raises(InstallError, match=r"contexts/solo\.xml: expected a <context> element"):
        install(files, tmp_path / "other")


def test_renders_one_after_another_in_a_gevent_process(tmp_path: Path) -> None:
    """simulate and the controller's tests install with gevent's hub running, where closing a
    directory's descriptor waits for the hub: the conf's lock must not outlive its render."""
    gevent.sleep(0)  # the hub is running
    files = render(check(EXAMPLES))
    with gevent.Timeout(20):
        first = install(files, tmp_path / "conf")
        second = install({**files, "public/zz.xml": "<include>\n  <extension name='z'/>\n</include>\n"},
                         tmp_path / "conf")  # fmt: skip
    assert (first.changed, second.changed) == (True, True)
    assert os.readlink(tmp_path / "conf" / "fsapps" / "current") == second.generation


def test_render_writes_the_same_bytes_for_the_same_input(examples: Path, tmp_path: Path) -> None:
    """``fsapps render`` run twice, each its own process, into two conf directories: every file
    is byte for byte the same, the generation too; a third run into the first changes nothing."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FSAPPS_")}
    env["PYTHONPATH"] = str(ROOT)

    def fsapps_render(out: str) -> str:
        got = subprocess.run([sys.executable, "-m", "fsapps.cli", "render", "dialplan/", "--out", out],
                             cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)  # fmt: skip
        assert got.returncode == 0, got.stderr
        return got.stdout

    fsapps_render("a")
    fsapps_render("b")
    a, b = snapshot(tmp_path / "a"), snapshot(tmp_path / "b")
    assert len(a) > 20 and a == b
    assert "unchanged, already current" in fsapps_render("a")
    assert snapshot(tmp_path / "a") == a


def test_render_that_cannot_write_a_stub_leaves_the_conf_as_it_was(
    examples: Path, tmp_path: Path, capsys
) -> None:
    """The include stubs go in before the new generation is made current; if one cannot be
    written, what this render wrote is taken back. A first render into a conf whose
    directory/ is a file: the last stub cannot be written."""
    conf = tmp_path / "conf"
    (conf / "dialplan").mkdir(parents=True)
    (conf / "directory").write_text("not a directory\n")
    before = snapshot(conf)
    code, _, err = cli_run(capsys, "render", str(examples), "--out", str(conf))
    assert snapshot(conf) == before
    assert code == 2 and f"{conf} left as it was" in err, err


def test_a_rerender_that_cannot_write_a_stub_keeps_the_current_generation(
    examples: Path, tmp_path: Path, capsys
) -> None:
    """A conf already rendered; the next render finds a stub's place taken by a directory."""
    conf = tmp_path / "conf"
    assert cli_run(capsys, "render", str(examples), "--out", str(conf))[0] == 0
    (conf / "dialplan" / "public" / "50_fsapps.xml").unlink()
    os.mkdir(conf / "dialplan" / "public" / "50_fsapps.xml")
    before = snapshot(conf)
    add_number(examples, "08001239999")
    code, _, err = cli_run(capsys, "render", str(examples), "--out", str(conf))
    assert snapshot(conf) == before  # fsapps/current still names the generation it named
    assert code != 0 and "left as it was" in err, err


# --- the emulator as its own process --------------------------------------------------


@contextmanager
def sim_process(*args: str, password: str | None = "sim-" + os.urandom(4).hex()) -> Iterator[tuple[int, str]]:
    """``fsapps sim`` on a free port: (port, password), the generated one if none was given."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "FSAPPS_ESL_PASSWORD"}
    if password is not None:
        env["FSAPPS_ESL_PASSWORD"] = password
    proc = subprocess.Popen(
        [sys.executable, "-m", "fsapps.cli", "sim", "--port", str(port), *args],
        env=env, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == f"fsapps sim: Event Socket on 127.0.0.1:{port}"
        if password is None:
            line = proc.stdout.readline().strip()
            assert line.startswith("password (set FSAPPS_ESL_PASSWORD to choose one): "), line
            password = line.rsplit(" ", 1)[1]
        yield port, password
    finally:
        proc.terminate()
        assert proc.wait(10) == 0


def esl(port: int, password: str) -> Connection:
    conn = Connection("127.0.0.1", port, password, timeout=10)
    conn.connect()
    return conn


def routes(conn: Connection, number: str) -> bool:
    """Whether the emulator's public context takes a call to ``number``."""
    reply = conn.api(f"originate loopback/{number}/public &park()").strip()
    assert reply.startswith("+OK ") or reply == "-ERR NO_ROUTE_DESTINATION", reply
    return reply.startswith("+OK ")


def test_sim_runs_a_rendered_conf_and_render_reload_puts_it_live_or_says_why_not(
    examples: Path, tmp_path: Path, monkeypatch, capsys
) -> None:
    conf = tmp_path / "conf"
    assert cli_run(capsys, "render", str(examples), "--out", str(conf))[0] == 0
    sounds = str(examples.parent / "sounds")
    with sim_process("--conf", str(conf), "--sounds-dir", sounds, "--speed", "20") as (port, password):
        conn = esl(port, password)
        try:
            assert routes(conn, "08001234567") and routes(conn, "96171")
            assert not routes(conn, "08001239999")
            monkeypatch.setenv("FSAPPS_ESL_HOST", "127.0.0.1")
            monkeypatch.setenv("FSAPPS_ESL_PORT", str(port))
            monkeypatch.setenv("FSAPPS_ESL_PASSWORD", password)
            add_number(examples, "08001239999")
            code, out, err = cli_run(capsys, "render", str(examples), "--out", str(conf), "--reload")
            assert code == 0 and "reloadxml: +OK [Success]" in out, err
            assert routes(conn, "08001239999")
            # A file of the operator's that FreeSWITCH cannot load: reloadxml answers +OK with
            # the error, and the switch keeps the configuration it had.
            (conf / "dialplan" / "zz_broken.xml").write_text("<include>\n  <context name='x'>\n</include>\n")
            add_number(examples, "08001238888")
            code, out, err = cli_run(capsys, "render", str(examples), "--out", str(conf), "--reload")
            assert code == 2, (out, err)
            assert (
                "reloadxml: " in err and "not well-formed XML" in err and "previous configuration" in err
            ), err
            assert "Success" not in out + err
            assert not routes(conn, "08001238888") and routes(conn, "08001239999")
        finally:
            conn.stop()


def test_sim_hands_every_call_to_the_socket_and_prints_a_generated_password(capsys) -> None:
    seen: list[str] = []
    ran = gevent.event.Event()

    def hello(session, args):
        seen.append(session.getVariable("destination_number") or "")
        ran.set()
        APPLICATIONS["welcome"](session, args)

    context = AppContext(Project("", Operator(), []))
    controller = Controller(
        Settings(controller=ControllerSettings(listen="127.0.0.1", port=0)),
        applications={"welcome": hello}, context=context,
    ).start()  # fmt: skip
    try:
        target = f"127.0.0.1:{controller.server.port}/welcome"
        with sim_process("--socket", target, password=None) as (port, password):
            conn = esl(port, password)
            heard: list[str] = []
            conn.on("CHANNEL_EXECUTE", lambda ev: heard.append(ev.get("Application-Data") or ""))
            conn.subscribe(["CHANNEL_EXECUTE"])
            try:
                assert routes(conn, "4321")  # any number: the whole context goes to the socket
                assert ran.wait(15)
                assert wait_for(lambda: any("Welcome to fsapps." in h for h in heard), timeout=15), heard
            finally:
                conn.stop()
        assert seen == ["4321"]
    finally:
        controller.stop(grace=1.0)
    clash = subprocess.run(
        [sys.executable, "-m", "fsapps.cli", "sim", "--conf", "conf", "--socket", "127.0.0.1:1/x"],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert clash.returncode == 2 and "--conf brings its own dialplan" in clash.stderr


# --- simulate ---------------------------------------------------------------------------


def test_simulate_flags(capsys) -> None:
    """--digits (an empty entry lets that prompt time out), --at (the tenant's time), --branch,
    --var, --controller-down; mistakes in them are one line and exit 2."""
    cablenet = str(EXAMPLES / "cablenet")
    base = ("simulate", cablenet, "--to", "96171", "--from", "075512345678")
    code, out, err = cli_run(capsys, *base, "--digits", "2,,12345678", "--at", "2026-11-23 10:00",
                             "--branch", "outage=leave", "--var", "cn_balance=128.50")  # fmt: skip
    assert code == 0, err
    lines = [line.split(None, 1)[1] for line in out.splitlines()]
    assert "branch     outage -> leave" in lines and "branch     hours -> open" in lines
    # The first entry prompt got nothing and timed out; the second got the account number.
    entries = [i for i, line in enumerate(lines) if line.startswith("prompt     enter_account")]
    keyed = [line for line in lines if line.startswith("keyed")]
    assert len(entries) == 2 and keyed == ["keyed      2", "keyed      12345678"], out
    assert "variable   cn_account = 12345678" in lines
    assert "branch     lookup -> found" in lines and "prompt     say zh CURRENCY pronounced 128.50" in lines

    code, out, err = cli_run(capsys, *base, "--digits", "2,12345678", "--at", "2026-11-23 10:00",
                             "--branch", "lookup=not_found")  # fmt: skip
    assert code == 0, err
    assert "branch     lookup -> not_found" in out and "prompt     account_not_found" in out

    code, out, err = cli_run(capsys, *base, "--digits", "2,12345678", "--at", "2026-11-23 10:00",
                             "--controller-down")  # fmt: skip
    assert code == 0, err
    assert "controller branch" not in out  # nobody answered the hand-offs
    assert "branch     lookup -> fallback" in out and "prompt     account_not_found" in out

    code, out, err = cli_run(capsys, *base, "--digits", "2", "--at", "2026-11-23 21:00")  # Monday 21:00
    assert code == 0, err
    assert "branch     hours -> closed" in out and "main.menu" not in out

    for bad, message in (
        (("--branch", "lookup"), "--branch 'lookup': expected NODE=BRANCH"),
        (("--var", "cn_balance"), "--var 'cn_balance': expected NAME=VALUE"),
        (("--at", "9pm"), "--at '9pm': expected YYYY-MM-DD HH:MM"),
    ):
        code, out, err = cli_run(capsys, *base, *bad)
        assert (code, out) == (2, "") and message in err and len(err.strip().splitlines()) == 1


def test_check_refuses_a_node_type_with_no_runtime(examples: Path, capsys) -> None:
    """fax_receive had a schema and no application: every call took its fallback. It is gone
    until fax receive exists, and check says so at the node."""
    flow = examples / "travelgo" / "flows" / "fax.yaml"
    flow.write_text(
        "start: start\nnodes:\n  start: {type: answer, children: {_: receive}}\n"
        "  receive: {type: fax_receive, children: {_: bye}}\n  bye: {type: hangup}\n"
    )
    code, out, _ = cli_run(capsys, "check", str(examples))
    assert code == 1
    assert f"{flow}:4:" in out and "'fax_receive'" in out


# --- serve: xml_curl ----------------------------------------------------------------------


def listening(pid: int) -> set[tuple[str, int]]:
    """The (address, port) pairs process ``pid`` listens on, from /proc (IPv4 and IPv6)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    found = set()
    for table, width in (("tcp", 8), ("tcp6", 32)):
        for row in Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]:
            cols = row.split()
            if cols[3] != "0A" or cols[9] not in inodes:  # 0A: LISTEN
                continue
            hexaddr, hexport = cols[1].split(":")
            raw = bytes.fromhex(hexaddr)
            if width == 8:
                address = ".".join(str(b) for b in reversed(raw))
            else:
                words = [raw[i : i + 4][::-1] for i in range(0, 16, 4)]
                address = __import__("ipaddress").IPv6Address(b"".join(words)).compressed
            found.add((address, int(hexport, 16)))
    return found


def test_serve_hands_tenant_contexts_to_mod_xml_curl_on_loopback(db_dsn, tmp_path: Path, capsys) -> None:
    conf = tmp_path / "conf"
    install(render(check(EXAMPLES)), conf)
    controller_port, xml_port = free_port(), free_port()
    password = "xml-" + os.urandom(4).hex()
    settings = tmp_path / "fsapps.yaml"
    settings.write_text(yaml.safe_dump({
        "controller": {"port": controller_port},
        "xml_curl": {"port": xml_port, "conf": str(conf), "password": password},
        "flows": {"dir": str(EXAMPLES)},
        "state_dir": str(tmp_path / "var"),
    }))  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.startswith("FSAPPS_")}
    env["FSAPPS_DATABASE_DSN"] = db_dsn
    proc = subprocess.Popen(
        [sys.executable, "-m", "fsapps.cli", "serve", "--config", str(settings)],
        env=env, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip

    def fetch(form: str, credentials: str = f"freeswitch:{password}") -> tuple[int, str]:
        request = urllib.request.Request(
            f"http://127.0.0.1:{xml_port}/", data=form.encode(), method="POST",
            headers={"Authorization": "Basic " + b64encode(credentials.encode()).decode(),
                     "Content-Type": "application/x-www-form-urlencoded"},
        )  # fmt: skip
        try:
            with urllib.request.urlopen(request, timeout=5) as resp:
                return resp.status, resp.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, ""
        except OSError:
            return 0, ""

    try:
        assert wait_for(lambda: fetch("section=dialplan")[0] == 200, timeout=60), proc.poll()
        # mod_xml_curl's dialplan lookup: the channel's data, with the context it hunts in.
        status, body = fetch(
            "section=dialplan&Hunt-Context=fsapps_harbourbank&Caller-Destination-Number=95555"
        )
        assert status == 200 and '<context name="fsapps_harbourbank">' in body
        assert "fsapps_cablenet" not in body
        status, body = fetch("section=dialplan&Hunt-Context=public")
        assert status == 200 and 'status="not found"' in body  # the public context stays in files
        assert fetch("section=dialplan&Hunt-Context=fsapps_harbourbank", "freeswitch:wrong")[0] == 401
        # Both sockets on loopback, metrics off: nothing else listens.
        assert listening(proc.pid) == {("127.0.0.1", controller_port), ("127.0.0.1", xml_port)}
    finally:
        proc.terminate()
        code = proc.wait(30)
    assert code == 0
    assert password not in (proc.stderr.read() if proc.stderr else "")


# --- callbacks, surveys, bill ---------------------------------------------------------------


T = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def test_callbacks_oldest_place_first_and_surveys_newest_first(run, store, tmp_path) -> None:  # noqa: F811
    for tenant in ("harbourbank", "other"):
        assert run("tenant", "add", tenant, "--domain", f"{tenant}.example")[0] == 0
    writer = DurableWriter(store, tmp_path / "spool")
    writer.write(
        # Asked last, but joined the queue first: first in line.
        CallbackRequest("harbourbank", "85261230001", T + timedelta(minutes=5), queue="cards",
                        queue_entered_at=T - timedelta(minutes=20)),
        CallbackRequest("harbourbank", "85261230002", T - timedelta(minutes=5)),  # never queued
        CallbackRequest("harbourbank", "85261230003", T, queue="loans",
                        queue_entered_at=T - timedelta(minutes=10)),
        CallbackRequest("other", "4400000000", T - timedelta(hours=1)),  # another tenant's
        SurveyAnswer("harbourbank", "main", "rate_agent", 4, T, agent_id="hb_chan", queue="cards"),
        SurveyAnswer("harbourbank", "main", "rate_agent", None, T + timedelta(minutes=1)),
        SurveyAnswer("harbourbank", "main", "recommend", 5, T + timedelta(minutes=2), agent_id="hb_chan"),
        SurveyAnswer("other", "main", "rate", 1, T + timedelta(minutes=3)),
    )  # fmt: skip
    code, out, err = run("callbacks", "--tenant", "harbourbank")
    assert code == 0, err

    def when(text: str) -> datetime | str:
        return text if text == "-" else datetime.fromisoformat(text)

    listed = [line.split("\t") for line in out.splitlines()]
    assert [(n, q, when(place), when(asked)) for n, q, place, asked in listed] == [
        ("85261230001", "cards", T - timedelta(minutes=20), T + timedelta(minutes=5)),
        ("85261230003", "loans", T - timedelta(minutes=10), T),
        ("85261230002", "-", "-", T - timedelta(minutes=5)),
    ]
    assert run("callbacks", "--tenant", "harbourbank", "--status", "done")[1] == ""
    code, out, err = run("surveys", "--tenant", "harbourbank")
    assert code == 0, err
    assert [line.split("\t")[1:] for line in out.splitlines()] == [
        ["main", "recommend", "5", "hb_chan", "-"],
        ["main", "rate_agent", "-", "-", "-"],
        ["main", "rate_agent", "4", "hb_chan", "cards"],
    ]
    assert datetime.fromisoformat(out.split("\t", 1)[0]) == T + timedelta(minutes=2)
    assert len(run("surveys", "--tenant", "harbourbank", "--limit", "1")[1].splitlines()) == 1


README_PLAN = """\
currency: EUR
components:
  - {type: seat, monthly: "25.00"}                                   # per agent seat a month
  - {type: outcome, kind: handled_call, outcomes: [answered], rate: "0.40"}
  - {type: usage, resource: agent, kind: handled_call, unit: seconds, rate: "0.0010", weight: "1"}
"""


def test_bill_csv_lines_rounding_total_and_what_is_not_billed(run, store, tmp_path) -> None:  # noqa: F811
    """README, Bills: the month in the tenant's timezone; decimals rounded half-up per line; the
    total is the sum of the lines; usage no component prices is listed as not billed."""
    plan = tmp_path / "plan.yaml"
    plan.write_text(README_PLAN)
    assert run("tenant", "add", "acme", "--domain", "acme.example", "--timezone", "Asia/Shanghai",
               "--plan", str(plan))[0] == 0  # fmt: skip
    for agent in ("a1", "a2"):
        assert (
            run("agent", "add", agent, "--tenant", "acme", "--contact", f"user/{agent}@acme.example")[0] == 0
        )

    def rec(resource: str, kind: str, at: datetime, seconds: str, outcome: str) -> UsageRecord:
        ended = at + timedelta(seconds=float(seconds))
        return UsageRecord("acme", resource, kind, at, ended, Decimal(seconds), "seconds", outcome)

    with store.tenant("acme") as t:
        t.add_usage([
            # 2026-11-01 00:30 in Shanghai: November's
            rec("agent", "handled_call", datetime(2026, 10, 31, 16, 30, tzinfo=UTC), "1002", "answered"),
            rec("agent", "handled_call", datetime(2026, 11, 15, 9, 0, tzinfo=UTC), "1003", "answered"),
            rec("agent", "handled_call", datetime(2026, 11, 16, 9, 0, tzinfo=UTC), "0", "abandoned"),
            # 2026-12-01 00:30 in Shanghai: December's
            rec("agent", "handled_call", datetime(2026, 11, 30, 16, 30, tzinfo=UTC), "500", "answered"),
            rec("ivr", "ivr_session", datetime(2026, 11, 20, 9, 0, tzinfo=UTC), "90", "found"),
            rec("ivr", "ivr_session", datetime(2026, 11, 21, 9, 0, tzinfo=UTC), "30.5", "fallback"),
        ])  # fmt: skip
    code, out, err = run("bill", "--tenant", "acme", "--month", "2026-11", "--out", str(tmp_path / "st"))
    assert code == 0, err
    assert "total 52.81 EUR" in out
    assert "not in the plan: 2 ivr/ivr_session record(s), 120.500 seconds" in out
    text = (tmp_path / "st" / "statement-acme-2026-11.csv").read_text()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == ["description", "component", "quantity", "unit", "unit_price", "weight", "amount",
                             "records"]  # fmt: skip
    by_component = {r["component"]: r for r in rows}
    seat, outcome, usage = by_component["seat"], by_component["outcome"], by_component["usage"]
    assert (Decimal(seat["quantity"]), seat["unit_price"], seat["amount"]) == (2, "25.00", "50.00")
    assert (Decimal(outcome["quantity"]), outcome["amount"], outcome["records"]) == (2, "0.80", "2")
    # 2005 s x 0.0010 = 2.005: half-up gives 2.01 (half-even would give 2.00).
    assert (Decimal(usage["quantity"]), usage["amount"], usage["records"]) == (2005, "2.01", "3")
    unbilled = by_component["not billed"]
    assert unbilled["description"] == "ivr ivr_session, not in the plan"
    assert (Decimal(unbilled["quantity"]), unbilled["unit"]) == (Decimal("120.5"), "seconds")
    assert (unbilled["unit_price"], unbilled["amount"], unbilled["records"]) == ("", "", "2")
    total = rows[-1]
    assert total["description"] == "Total" and total["records"] == "5"
    billed = [Decimal(r["amount"]) for r in rows[:-1] if r["amount"]]
    assert Decimal(total["amount"]) == sum(billed) == Decimal("52.81")


def test_render_refuses_a_timezone_the_target_switch_does_not_know(tmp_path: Path, capsys) -> None:
    """A tenant's timezone is looked up in the switch's own zone table; one it lacks would
    make every time condition a coin toss, so render names the tenant.yaml line and writes
    nothing. Python's zoneinfo knows Asia/Shanghai; this switch's table does not."""
    conf = tmp_path / "conf"
    (conf / "autoload_configs").mkdir(parents=True)
    table = conf / "autoload_configs" / "timezones.conf.xml"
    table.write_text(
        '<configuration name="timezones.conf"><timezones>'
        '<zone name="UTC" value="UTC0"/><zone name="Europe/London" value="GMT0BST,M3.5.0/1,M10.5.0"/>'
        '<zone name="Asia/Hong_Kong" value="HKT-8"/></timezones></configuration>'
    )
    before = snapshot(conf)
    code, out, err = cli_run(capsys, "render", str(EXAMPLES), "--out", str(conf))
    assert code == 1, err
    assert f"{EXAMPLES / 'cablenet' / 'tenant.yaml'}:6:" in out
    assert "timezone 'Asia/Shanghai' is not in" in out and "harbourbank" not in out
    assert snapshot(conf) == before
