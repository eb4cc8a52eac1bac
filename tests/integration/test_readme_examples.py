"""Every example in the README, run as a user runs it, and held to what the README says it does.

Each ``fsapps`` line of a ``sh`` block (and each alternative its comment offers) is run through
``fsapps.cli.main`` in a directory laid out as the README assumes (``dialplan/``, ``sounds/``,
``plan.yaml``, ``secret.txt``), with a settings file (``FSAPPS_CONFIG``) naming a scratch
PostgreSQL and, where a switch is needed, the emulator; calls are real calls through the
rendered example tenants, a controller and the emulator. ``EXAMPLES`` says which test runs which
line: a line of the README that no test runs, or a test that runs a line the README no longer
has, fails ``test_every_readme_example_is_run_here``. ``BLOCKS`` does the same for every other
fenced block (YAML loaded as settings, a plan, queues, a tenant and a flow that ``fsapps check``
passes; Python run; SQL run; XML run on the emulator or found in what is rendered) and
``INLINE`` for commands the prose gives in backticks. Paths are replaced only where the README
names a system directory (``/etc/freeswitch``) or elides (``UUID``, ``ID``, ``0755...``).

The live tests each start their own emulator and controller: the agents' runs on a clock set to
cablenet's opening hours, the others on the wall clock that the command line's outage and
blacklist times are read against.
"""

from __future__ import annotations

import ast
import contextlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import wave
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import jsonschema
import psycopg
import pytest
import yaml
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from fsapps import cli, config
from fsapps.apps import APPLICATIONS
from fsapps.apps.context import AppContext
from fsapps.config import ControllerSettings, Settings
from fsapps.controller import Controller
from fsapps.flows.check import check
from fsapps.flows.model import Operator, Project
from fsapps.sim.channel import Channel
from fsapps.sim.dialplan import StaticDialplan
from fsapps.sim.endpoints import CallerScript, Endpoint
from fsapps.sim.switch import Switch, SwitchConfig
from fsapps.sim.xmldialplan import XmlDialplan
from fsapps.store import acd, selfservice
from fsapps.store.db import Store, verify_password
from fsapps.store.durable import DurableWriter
from fsapps.store.records import CallbackRequest, SurveyAnswer, UsageRecord
from tests.support import readme
from tests.support.controllers import start_controller, switch_on_conf
from tests.support.waiting import wait_for

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Example:
    test: str  # the test below that runs the line
    instead: tuple[str, ...] = ()  # what the line's comment offers in its place, as one would type it


T_DATA = "test_database_tenants_users_and_a_bill"
T_SELF = "test_self_service_commands_change_what_callers_meet"
T_ACD = "test_agents_and_supervisors_on_live_calls"
# Examples another module runs, as "file::test".
T_API = "tests/integration/test_api_serve.py::test_serve_mounts_the_api_and_the_readme_example_runs"
T_SERVE = (
    "tests/integration/test_serve_settings.py::"
    "test_serve_runs_the_readme_settings_with_the_environment_winning_and_no_default_password"
)

EXAMPLES: dict[str, Example] = {
    # Data: tenants, CDRs, usage records, bills
    "fsapps db migrate # numbered migrations, once each, safe with two at once": Example(T_DATA),
    "fsapps db status": Example(T_DATA),
    "fsapps tenant add acme --domain acme.example --timezone Asia/Shanghai --number 4000 --plan plan.yaml":
        Example(T_DATA),
    "fsapps tenant list": Example(T_DATA),
    "fsapps user add boss --role tenant_admin --tenant acme --password-stdin < secret.txt": Example(T_DATA),
    "fsapps bill --tenant acme --month 2026-11 --out statements/": Example(T_DATA),
    # Self-service applications
    'fsapps blacklist add 0755 --prefix --reason "fraud ring" --tenant harbourbank': Example(T_SELF),
    "fsapps blacklist add +8613800000000 --until 2027-01-01T00:00+08:00 --tenant harbourbank": Example(T_SELF),
    'fsapps outage post --tenant cablenet --prefix 0755 --message "南山区光缆中断，预计下午三点恢复。" --hours 6':
        Example(T_SELF),
    "fsapps outage list --tenant cablenet # fsapps outage end ID --tenant cablenet":
        Example(T_SELF, ("fsapps outage end ID --tenant cablenet",)),
    "fsapps callbacks --tenant harbourbank # oldest place first": Example(T_SELF),
    "fsapps surveys --tenant harbourbank": Example(T_SELF),
    # Queues, agents and supervisors
    "fsapps agent add cn_li --tenant cablenet --contact user/1001@cablenet.example --max-no-answer 3": Example(T_ACD),
    "fsapps agent status cn_li available # on-demand | break --reason lunch | logout": Example(T_ACD, (
        "fsapps agent status cn_li on-demand", "fsapps agent status cn_li break --reason lunch",
        "fsapps agent status cn_li logout")),
    "fsapps agent list": Example(T_ACD),
    "fsapps agent wrap-up-done cn_li": Example(T_ACD),
    "fsapps agent transfer cn_li --to-agent cn_wang # or --to-queue complaints, --dial sofia/gateway/carrier/0755...":
        Example(T_ACD, ("fsapps agent transfer cn_li --to-queue complaints",
                        "fsapps agent transfer cn_li --dial sofia/gateway/carrier/0755...")),
    "fsapps agent consult cn_li --to-agent cn_wang # or --dial ...: attended transfer, the caller holds":
        Example(T_ACD, ("fsapps agent consult cn_li --dial ...",)),
    "fsapps agent complete cn_li # the caller goes to cn_wang, cn_li leaves the call": Example(T_ACD),
    "fsapps agent cancel cn_li # cn_wang hung up, cn_li back with the caller": Example(T_ACD),
    "fsapps agent pickup cn_wang --from-agent cn_li # or --caller UUID: a call ringing at cn_li, on cn_wang's phone":
        Example(T_ACD, ("fsapps agent pickup cn_wang --caller UUID",)),
    "fsapps agent three-way cn_li --dial user/1009@cablenet.example": Example(T_ACD),
    "fsapps agent whisper cn_li --dial user/2000@cablenet.example # listen | whisper | barge": Example(T_ACD, (
        "fsapps agent listen cn_li --dial user/2000@cablenet.example",
        "fsapps agent barge cn_li --dial user/2000@cablenet.example")),
    "fsapps agent hangup cn_li": Example(T_ACD),
    # The HTTP API
    "fsapps tenant add acme --domain acme.example": Example(T_API),
    "fsapps user token ops --name reports > token": Example(T_API),
    # Call flows
    "fsapps check dialplan/ # every problem as file:line:col: message, most with (expected ...); exit 1 if any":
        Example(T_ACD),
    "fsapps render dialplan/ --out /etc/freeswitch --reload # check, write, swap in, reloadxml": Example(T_ACD),
    'fsapps simulate dialplan/cablenet --to 96171 --from 13905710000 --digits 2,12345678 --at "2026-11-23 10:00"':
        Example("test_simulate_prints_what_the_readme_shows"),
}  # fmt: skip

T_PYTHON = "test_the_python_and_xml_examples_run_on_the_emulator_through_the_controller"
T_ACME = "test_the_acme_example_checks_renders_and_reads_a_balance_from_its_lookup_table"

# Every other fenced block, by its language and first line: the test that loads or runs it
# (the sh blocks' fsapps lines are EXAMPLES'). A block added to the README fails the guard
# until it is here.
BLOCKS: dict[str, str] = {
    "sh: ./dev demo # set up, open a call center on the emulator with its web console; callers arrive until Ctrl-C":
        "not run here: ./dev test runs the whole suite (its demo is test_demo_live.py's and test_demo.py's)",
    "text: Console: http://127.0.0.1:8080/console/": "tests/integration/test_demo_live.py::"
        "test_fsapps_demo_prints_the_console_and_logins_that_work_and_ctrl_c_stops_it_and_removes_its_database",
    'xml: <action application="set" data="socket_resume=true"/>': T_PYTHON,
    "yaml: esl: {host: 127.0.0.1, port: 8021} # password: use FSAPPS_ESL_PASSWORD":
        T_SERVE,  # and test_the_settings_example_loads_as_the_readme_says, value by value
    "sh: fsapps db migrate # numbered migrations, once each, safe with two at once": T_DATA,
    ": # TYPE DATABASE USER ADDRESS METHOD": T_DATA,
    "yaml: currency: EUR": T_DATA,
    "python: from fsapps.apps.registry import application": T_PYTHON,
    "sql: CREATE TABLE lookup.accounts (tenant_id text NOT NULL, account_no text, balance numeric, due_date date);":
        T_ACME,
    'sh: fsapps blacklist add 0755 --prefix --reason "fraud ring" --tenant harbourbank': T_SELF,
    'xml: <action application="python" data="fsapps.embedded flow"/>': T_ACME,
    "yaml: queues:": T_ACD,
    "sh: fsapps agent add cn_li --tenant cablenet --contact user/1001@cablenet.example --max-no-answer 3": T_ACD,
    "yaml: # dialplan/acme/tenant.yaml": T_ACME,
    "yaml: # dialplan/acme/flows/main.yaml": T_ACME,
    "sh: fsapps check dialplan/ # every problem as file:line:col: message, most with (expected ...); exit 1 if any": T_ACD,
    ": 7.3s node main.menu (menu)": "test_simulate_prints_what_the_readme_shows",
    "python: from fsapps.sim.switch import Switch": T_PYTHON,
    "sh: printf '%s\\n' 'a-long-secret' | fsapps user add ops --role operator_admin --password-stdin": T_API,
    "sh: TOKEN=$(cat token)": T_API,
    "text: retry: 2000": T_API,  # the stream's shape: retry, the stream's comment, id, event, data
    "sh: curl -sN -H \"Authorization: Bearer $TOKEN\" http://127.0.0.1:8086/api/v1/tenants/acme/events": T_API,
}  # fmt: skip


# Commands the prose gives in backticks: the test that runs each, here or as "file::test".
INLINE: dict[str, str] = {
    "fsapps user add": T_API,
    "fsapps agent hold|unhold AGENT": "tests/integration/test_acd_operations.py::test_cli_holds_and_resumes_an_agents_caller",
    "fsapps agent status": T_API,  # announced to the event stream from the CLI's own process  # the console's users: the API example's, whose serve has /console/
    "fsapps check dialplan": "test_simulate_prints_what_the_readme_shows",
    "fsapps render dialplan/ --out /etc/freeswitch":
        "tests/integration/test_cli_claims.py::test_render_into_the_vanilla_conf_edits_none_of_its_files",
    "fsapps serve --config fsapps.yaml": T_SERVE,
    "fsapps sim --conf conf/":
        "tests/integration/test_cli_claims.py::test_sim_runs_a_rendered_conf_and_render_reload_puts_it_live_or_says_why_not",
    "fsapps sim --port 8021 --socket 127.0.0.1:8084/welcome":
        "tests/integration/test_cli_claims.py::test_sim_hands_every_call_to_the_socket_and_prints_a_generated_password",
    "python -m fsapps.flows.schema":
        "tests/integration/test_check_claims.py::test_python_m_fsapps_flows_schema_rewrites_the_schemas_editors_read",
    "fsapps openapi --out FILE": "tests/integration/test_api_http.py::test_fsapps_openapi_writes_the_document_the_api_serves",
    "fsapps agent add": T_ACD,
}  # fmt: skip


def block_key(block: readme.Block) -> str:
    return f"{block.lang}: {readme.example_key(block.first)}"


def block(key: str) -> readme.Block:
    """The README's block ``key`` names (its language and first line)."""
    assert key in BLOCKS, key
    found = [b for b in readme.blocks() if block_key(b) == key]
    assert len(found) == 1, f"the README has {len(found)} block(s) {key!r}"
    return found[0]


def line_of(example: str) -> str:
    """The README line (comment included) whose command is ``example``'s."""
    found = [k for k in readme.shell_examples() if readme.command(k) == readme.command(example)]
    assert len(found) == 1, f"the README has {len(found)} line(s) running {example!r}"
    assert found[0] in EXAMPLES, f"{found[0]!r} is not in EXAMPLES"
    return found[0]


@dataclass
class Result:
    code: int
    out: str
    err: str


@dataclass
class Shell:
    """A user's shell in ``home``: runs README lines (and setup commands) with ``fsapps``."""

    test: str
    home: Path
    capsys: pytest.CaptureFixture[str]
    monkeypatch: pytest.MonkeyPatch
    ran: dict[str, set[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        for name in [n for n in os.environ if n.startswith("FSAPPS_")]:
            self.monkeypatch.delenv(name)
        self.monkeypatch.setenv("FSAPPS_CONFIG", str(self.home / "fsapps.yaml"))
        self.monkeypatch.chdir(self.home)

    def settings(self, **sections: object) -> None:
        """The settings file every command reads (FSAPPS_CONFIG)."""
        (self.home / "fsapps.yaml").write_text(yaml.safe_dump(sections))

    def __call__(self, example: str, instead: str | None = None, **words: str) -> Result:
        """Run the README's line ``example`` (or the alternative ``instead`` its comment offers),
        its words in ``words`` replaced: ``{"UUID": uuid}``."""
        key = line_of(example)
        if instead is not None:
            assert instead in EXAMPLES[key].instead, f"{instead!r} is not an alternative of {example!r}"
        text = key if instead is None else instead
        self.ran.setdefault(key, set()).add(text)
        return self.run(*(words.get(w, w) for w in readme.command(text)))

    def run(self, *argv: str) -> Result:
        """``argv`` as typed (``fsapps ...``, ``< file`` for standard input)."""
        assert argv[0] == "fsapps", argv
        stdin = ""
        if "<" in argv:
            at = argv.index("<")
            stdin = (self.home / argv[at + 1]).read_text()
            argv = argv[:at]
        self.monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        code = cli.main(list(argv[1:]))
        out, err = self.capsys.readouterr()
        return Result(code, out, err)

    def setup(self, line: str) -> Result:
        """A command the README takes as done (another tenant, another agent): it must work."""
        got = self.run(*readme.command(line))
        assert got.code == 0, (line, got)
        return got

    def spawn(self, example: str) -> subprocess.Popen[str]:
        """The README's line as its own process (the ``fsapps`` entry point)."""
        key = line_of(example)
        self.ran.setdefault(key, set()).add(key)
        argv = readme.command(key)
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        return subprocess.Popen(
            [sys.executable, "-m", "fsapps.cli", *argv[1:]], cwd=self.home, env=env,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip

    def finished(self) -> None:
        """Every line this test owns ran, with every alternative its comment offers."""
        owed = {k: {k, *e.instead} for k, e in EXAMPLES.items() if e.test == self.test}
        missing = {k: sorted(want - self.ran.get(k, set())) for k, want in owed.items()}
        assert not {k: v for k, v in missing.items() if v}, missing


# --- the guard -------------------------------------------------------------------------------


def test_every_readme_example_is_run_here() -> None:
    lines = readme.shell_examples()
    assert len(lines) == len(set(lines)), "a README example appears twice"
    assert sorted(set(lines) - set(EXAMPLES)) == [], "README examples no test runs"
    assert sorted(set(EXAMPLES) - set(lines)) == [], "tests of examples the README no longer has"
    tests = {name for name, value in globals().items() if name.startswith("test_") and callable(value)}
    assert {e.test for e in EXAMPLES.values() if "::" not in e.test} <= tests
    elsewhere = {e.test for e in EXAMPLES.values() if "::" in e.test} | {t for t in BLOCKS.values() if "::" in t}
    keys = [block_key(b) for b in readme.blocks()]
    assert len(keys) == len(set(keys)), "two README blocks start alike"
    assert sorted(set(keys) - set(BLOCKS)) == [], "README blocks no test loads or runs"
    assert sorted(set(BLOCKS) - set(keys)) == [], "tests of blocks the README no longer has"
    assert {t for t in BLOCKS.values() if t.startswith("test_")} <= tests
    inline = readme.inline_commands()
    assert sorted(set(inline) - set(INLINE)) == [], "commands in the README's prose no test runs"
    assert sorted(set(INLINE) - set(inline)) == [], "tests of commands the README's prose no longer has"
    for where in {*INLINE.values(), *elsewhere}:
        path, _, name = where.rpartition("::")
        source = (ROOT / path).read_text() if path else Path(__file__).read_text()
        assert re.search(rf"^def {name}\(", source, re.M), where
    for key, example in EXAMPLES.items():
        # An alternative is the example with what its comment offers in place of some words.
        said, words = readme.comment(key), readme.command(key)
        for alternative in example.instead:
            new = [w for w in readme.command(alternative) if w not in words]
            assert new and all(w in said for w in new), (key, alternative)


# --- The controller: its settings ------------------------------------------------------------


def test_the_settings_example_loads_as_the_readme_says(tmp_path) -> None:
    """The settings example is read as written; the environment wins (the README's
    allow_from example); metrics are off and both sockets on loopback unless told;
    an unquoted ``::1`` is refused, with where."""
    body = block("yaml: esl: {host: 127.0.0.1, port: 8021} # password: use FSAPPS_ESL_PASSWORD").body
    path = tmp_path / "fsapps.yaml"
    path.write_text(body)
    got = config.load(path, env={})
    assert (got.esl.host, got.esl.port, got.esl.password) == ("127.0.0.1", 8021, None)
    assert got.controller == ControllerSettings(
        listen="127.0.0.1", port=8084, max_connections=1000, max_pending=100, connect_timeout=5,
        allow_from=["127.0.0.0/8", "::1"], shutdown_grace=10)  # fmt: skip
    assert (got.log.level, got.log.format, got.flows.dir) == ("info", "json", "dialplan")
    assert (got.metrics.listen, got.metrics.port, got.metrics.read_timeout, got.metrics.max_connections) == (
        "127.0.0.1", 9184, 10, 10)  # fmt: skip

    said = re.search(r"`FSAPPS_CONTROLLER_ALLOW_FROM=([^`]+)`", readme.TEXT)
    assert said is not None
    env = {"FSAPPS_CONTROLLER_ALLOW_FROM": said.group(1), "FSAPPS_ESL_PASSWORD": "s3cret",
           "FSAPPS_METRICS_PORT": "9185"}  # fmt: skip
    got = config.load(path, env=env)
    assert (got.controller.allow_from, got.esl.password, got.metrics.port) == (
        ["127.0.0.1", "10.0.0.5"], "s3cret", 9185)  # fmt: skip

    default = config.load(None, env={})
    assert (default.metrics.port, default.metrics.listen, default.controller.listen) == (0, "127.0.0.1", "127.0.0.1")
    assert default.esl.password is None

    path.write_text(body.replace('"::1"', "::1"))
    with pytest.raises(config.SettingsError, match=rf"^{re.escape(str(path))}:3:\d+: not valid YAML"):
        config.load(path, env={})


# --- Data: tenants, CDRs, usage records, bills ------------------------------------------------


def empty_database(pg_server) -> str:
    """A database nobody has migrated."""
    name = f"readme_{os.getpid()}_{datetime.now().strftime('%H%M%S%f')}"
    with psycopg.connect(pg_server.dsn, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return make_conninfo(pg_server.dsn, dbname=name)


def dsn_name(dsn: str) -> str:
    return conninfo_to_dict(dsn)["dbname"]  # type: ignore[return-value]


def test_database_tenants_users_and_a_bill(pg_server, tmp_path, capsys, monkeypatch) -> None:
    dsn = empty_database(pg_server)
    sh = Shell(T_DATA, tmp_path, capsys, monkeypatch)
    sh.settings(database={"dsn": dsn}, state_dir=str(tmp_path / "var"))
    # Two at once on a fresh database: each migration applied once, by one of them.
    first, second = (sh.spawn("fsapps db migrate") for _ in range(2))
    outs = [p.communicate(timeout=120) for p in (first, second)]
    assert (first.returncode, second.returncode) == (0, 0), outs
    applied = sorted(o.strip() for o, _ in outs)
    assert applied[0] == "applied 0 migration(s)", outs
    migrations = sorted((ROOT / "fsapps" / "store" / "migrations").glob("[0-9]*.sql"))
    assert applied[1].startswith(f"applied {len(migrations)} migration(s): 0001_tenants_users_agents,"), outs
    with psycopg.connect(dsn) as conn:
        versions = [v for (v,) in conn.execute("SELECT version FROM schema_version ORDER BY version")]
    assert versions == [int(m.name[:4]) for m in migrations]  # each applied once, in order
    # migrate made the tenants' login role the pg_hba.conf example lets in: fsapps_app_<database>,
    # no superuser, no BYPASSRLS, a member of fsapps_tenant only; its password only the owner reads.
    hba = [line.split() for line in block(": # TYPE DATABASE USER ADDRESS METHOD").body.splitlines()[1:]]
    assert hba and all(row[2] == f"fsapps_app_{row[1]}" for row in hba), hba
    role = f"fsapps_app_{dsn_name(dsn)}"
    with psycopg.connect(dsn) as conn:
        got = conn.execute(
            "SELECT r.rolcanlogin, r.rolsuper, r.rolbypassrls, array(SELECT g.rolname FROM pg_auth_members m"
            " JOIN pg_roles g ON g.oid = m.roleid WHERE m.member = r.oid),"
            " has_table_privilege(r.oid, 'fsapps_private.tenant_login', 'SELECT')"
            " FROM pg_roles r WHERE r.rolname = %s", (role,)).fetchone()  # fmt: skip
    assert got == (True, False, False, ["fsapps_tenant"], False), (role, got)
    got = sh("fsapps db status")
    assert got.code == 0 and "0010_member_dispatch_state: applied" in got.out
    assert "pending" not in got.out and got.out.endswith("database: configured database.dsn\n")

    # The plan the README's billing section describes.
    (tmp_path / "plan.yaml").write_text(block("yaml: currency: EUR").body)
    got = sh("fsapps tenant add acme --domain acme.example --timezone Asia/Shanghai --number 4000 --plan plan.yaml")
    assert (got.code, got.out) == (0, "tenant acme added\n")
    got = sh("fsapps tenant list")
    assert (got.code, got.out) == (0, "acme\tactive\tacme.example\tAsia/Shanghai\tacme\n")

    (tmp_path / "secret.txt").write_text("correct horse battery staple\n")
    got = sh("fsapps user add boss --role tenant_admin --tenant acme --password-stdin < secret.txt")
    assert (got.code, got.out) == (0, "user boss (tenant_admin, acme) added\n")
    store = Store(dsn).open()
    try:
        with store.operator() as op:
            found = op.find_user("boss")
            assert found is not None
            user, password_hash = found
            assert (user.role, user.tenant_id) == ("tenant_admin", "acme")
            assert password_hash.startswith("$argon2") and verify_password(password_hash, "correct horse battery staple")
            assert op._all("SELECT number, tenant_id FROM access_numbers") == [{"number": "4000", "tenant_id": "acme"}]
            # A seat: an agent serving acme; November's calls, in Shanghai time.
            op.add_agent("acme_a1", "acme_a1", {"acme": 1}, "user/1001@acme.example")
        calls = [(datetime(2026, 10, 31, 16, 30, tzinfo=UTC), "600", "answered"),  # 1 Nov 00:30 in Shanghai
                 (datetime(2026, 11, 30, 15, 0, tzinfo=UTC), "400", "answered"),
                 (datetime(2026, 11, 30, 16, 30, tzinfo=UTC), "900", "answered")]  # 1 Dec in Shanghai
        with store.tenant("acme") as t:
            t.add_usage([UsageRecord("acme", "agent", "handled_call", at, at + timedelta(seconds=int(s)),
                                     Decimal(s), "seconds", outcome) for at, s, outcome in calls])  # fmt: skip
    finally:
        store.close()
    got = sh("fsapps bill --tenant acme --month 2026-11 --out statements/")
    assert got.code == 0, got
    # 25.00 (one seat) + 2 x 0.40 (answered calls) + 1000 s x 0.0010 = 26.80
    assert got.out.splitlines()[0] == "acme 2026-11: 3 line(s), 2 usage record(s), total 26.80 EUR", got.out
    statement = json.loads((tmp_path / "statements" / "statement-acme-2026-11.json").read_text())
    assert (statement["total"], statement["currency"], statement["records"]) == ("26.80", "EUR", 2)
    assert (tmp_path / "statements" / "statement-acme-2026-11.csv").read_text().startswith("description,")
    sh.finished()


# --- Writing an application; The emulator ---------------------------------------------------




def run_block(block: readme.Block, replace: dict[str, str] | None = None) -> tuple[dict, str]:
    """Run a README block as a module would (its names, what it printed)."""
    body = block.body
    for old, new in (replace or {}).items():
        assert old in body, old
        body = body.replace(old, new)
    names: dict = {"__name__": f"readme_line_{block.line}"}
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(body, f"{readme.PATH}:{block.line + 1}", "exec"), names)
    return names, printed.getvalue()


def socket_actions(port: int, application: str) -> list[tuple[str, str]]:
    """The README's socket example as the emulator's actions, aimed at ``port``; its target
    naming ``application`` instead of ``welcome`` (the demo's menu) when told."""
    xml = block('xml: <action application="set" data="socket_resume=true"/>').body
    actions = [(a.get("application"), a.get("data")) for a in ET.fromstring(f"<x>{xml}</x>")]
    assert actions[1] == ("socket", "127.0.0.1:8084/welcome async full"), actions
    actions[1] = ("socket", f"127.0.0.1:{port}/{application} async full")
    return actions  # type: ignore[return-value]


def test_the_python_and_xml_examples_run_on_the_emulator_through_the_controller() -> None:
    """The application example runs as an application (the decorator registers it; the
    controller runs it by the socket target's name); the emulator example runs as written,
    the controller it names on a free port; the controller's dialplan example reaches the
    application it names, and with a name no application has, the next action runs."""
    controller = Controller(
        Settings(controller=ControllerSettings(listen="127.0.0.1", port=0)),
        context=AppContext(Project("", Operator(), [])),
    ).start()
    port = controller.server.port
    try:
        names, _ = run_block(block("python: from fsapps.apps.registry import application"))
        try:
            assert APPLICATIONS["hours"] is names["hours"]
            target = f"127.0.0.1:{port}/hours async full"
            dialplan = StaticDialplan().add("public", r"^1000$", [("socket", target)])
            with Switch(dialplan=dialplan, speed=10) as sw:
                call = sw.place_call("1000", script=CallerScript(answers=[("Press 1 for opening hours", "1")]))
                assert call.destroyed.wait(30)
                log = sw.call_log(call.uuid)
        finally:
            del APPLICATIONS["hours"]
        heard = [line for line in log if line.startswith(("heard", "caller pressed", "hangup"))]
        assert heard == [
            "heard say:Press 1 for opening hours.",
            "caller pressed 1",
            "heard (tts) We are open from nine to five.",
            "hangup NORMAL_CLEARING",
        ], log

        _, printed = run_block(
            block("python: from fsapps.sim.switch import Switch"),
            {"127.0.0.1:8084/welcome": f"127.0.0.1:{port}/welcome"},
        )
        log = ast.literal_eval(printed)
        assert [line for line in log if line.startswith(("heard", "caller pressed", "hangup"))] == [
            "heard (tts) Welcome to fsapps.",
            "heard say:For sales press 1. For support press 2.",
            "caller pressed 1",
            "heard say:Connecting you to sales. Goodbye.",
            "hangup NORMAL_CLEARING",
        ], log
        assert f"socket(127.0.0.1:{port}/welcome async full)" in log

        busy = "playback(ivr/ivr-all_circuits_busy.wav)"
        dialplan = StaticDialplan().add("public", r"^1000$", socket_actions(port, "welcome"))
        dialplan.add("public", r"^1001$", socket_actions(port, "no_such_application"))
        with Switch(dialplan=dialplan, speed=10) as sw:
            welcome = sw.place_call("1000", script=CallerScript(answers=[("For sales", "1")]))
            unknown = sw.place_call("1001")
            assert welcome.destroyed.wait(30) and unknown.destroyed.wait(30)
            logs = {"welcome": sw.call_log(welcome.uuid), "unknown": sw.call_log(unknown.uuid)}
    finally:
        controller.stop(grace=1.0)
    assert "heard say:Connecting you to sales. Goodbye." in logs["welcome"], logs["welcome"]
    assert busy not in logs["welcome"], logs["welcome"]
    assert logs["unknown"].index(busy) > logs["unknown"].index(
        f"socket(127.0.0.1:{port}/no_such_application async full)"), logs["unknown"]  # fmt: skip
    assert not any("Welcome to fsapps" in line for line in logs["unknown"]), logs["unknown"]


# --- Call flows: simulate ---------------------------------------------------------------------

T_SIMULATE = "test_simulate_prints_what_the_readme_shows"


def home_with_examples(home: Path) -> Path:
    """``home`` with a copy of the example tenants (dialplan/) and their prompts (sounds/)."""
    shutil.copytree(ROOT / "dialplan", home / "dialplan")
    (home / "sounds").symlink_to(ROOT / "sounds")
    return home


def trace_shape(line: str) -> str:
    """A line of ``fsapps simulate``'s output without its time (and a hand-off's port)."""
    at, _, rest = line.strip().partition("  ")
    assert re.fullmatch(r"\d+\.\ds", at), line
    return re.sub(r"127\.0\.0\.1:\d+/", "127.0.0.1:PORT/", rest.strip())


def test_simulate_prints_what_the_readme_shows(tmp_path, capsys, monkeypatch) -> None:
    """The README's sample output is a run of lines of what its simulate example prints today."""
    sh = Shell(T_SIMULATE, home_with_examples(tmp_path), capsys, monkeypatch)
    sh.settings(state_dir=str(tmp_path / "var"))  # no database: the roster is not checked, once said
    # The example tenants as the table of contents runs them: clean, and without a database
    # configured, check says once that the roster was not checked.
    got = sh.run("fsapps", "check", "dialplan")
    assert got.code == 0 and got.out == "dialplan: 4 tenant(s), 5 flow(s), 80 node(s), no problems\n", got
    assert got.err.count("\n") == 1 and "not checked against the agent roster" in got.err, got.err
    # Its own process: what the user sees on stderr is one note, nothing else.
    proc = sh.spawn('fsapps simulate dialplan/cablenet --to 96171 --from 13905710000 --digits 2,12345678 --at "2026-11-23 10:00"')
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, (out, err)
    assert err.count("\n") == 1 and "queue tiers were not checked against the agent roster" in err, err
    printed = [trace_shape(line) for line in out.splitlines()]
    sample = block(": 7.3s node main.menu (menu)")
    shown = [trace_shape(line) for line in sample.body.splitlines()]
    assert len(shown) >= 5
    starts = [i for i in range(len(printed)) if printed[i : i + len(shown)] == shown]
    assert starts, "\n".join(["README:", *shown, "printed:", *printed])
    sh.finished()


# --- The example tenants live: the emulator, a controller, the rendered dialplan -------------

# The roster the example tenants' queues name (check reads it when a database is configured).
ROSTER = {
    "cn_li": ("cablenet", "user/1001@cablenet.example"), "cn_wang": ("cablenet", "user/1002@cablenet.example"),
    "cn_zhao": ("cablenet", "user/1003@cablenet.example"),
    **{a: ("harbourbank", None) for a in ("hb_ann", "hb_ben", "hb_cat", "hb_dan")},
    **{a: ("shopwise,travelgo", None) for a in ("bpo1", "bpo2", "bpo3")},
}  # fmt: skip
TENANTS = {
    "cablenet": "--domain cablenet.example --timezone Asia/Shanghai --language zh --number 96171",
    "harbourbank": "--domain harbourbank.example --timezone Asia/Hong_Kong --number 95555",
    "shopwise": "--domain shopwise.example --timezone Europe/London",
    "travelgo": "--domain travelgo.example --timezone Europe/London",
}


@dataclass
class Live:
    sh: Shell
    switch: Switch
    controller: Controller
    conf: Path  # what the README calls /etc/freeswitch

    def call(self, to: str, caller: str, **script: object) -> Channel:
        return self.switch.place_call(to, caller_id_number=caller, script=CallerScript(**script))  # type: ignore[arg-type]

    def heard(self, ch: Channel, text: str) -> bool:
        return any(line.startswith("heard") and text in line for line in self.switch.call_log(ch.uuid))


def readme_queues() -> readme.Block:
    return block("yaml: queues:")


@contextmanager
def live(
    sh: Shell, store, tmp_path: Path, start: datetime | None, speed: float, adds: tuple[str, ...] = ()
) -> Iterator[Live]:
    """The example tenants on the emulator with a controller, the way the README sets them up:
    their tenants in the database, the agents their queues name (those ``sh`` is not to add
    itself), the flows checked and rendered into the switch's conf by the README's own
    ``fsapps check`` and ``fsapps render --reload``. The controller is the one the copy's
    operator.yaml names; cablenet's business queue is the README's queue example."""
    home = home_with_examples(sh.home)
    tenant_yaml = home / "dialplan" / "cablenet" / "tenant.yaml"
    tenant = yaml.safe_load(tenant_yaml.read_text())
    tenant["queues"].update(yaml.safe_load(readme_queues().body)["queues"])
    tenant_yaml.write_text(yaml.safe_dump(tenant, allow_unicode=True))
    share = tmp_path / "share"  # $${sounds_dir}: the operator deploys sounds/ as fsapps/ there
    share.mkdir()
    (share / "fsapps").symlink_to(home / "sounds")
    conf = tmp_path / "etc" / "freeswitch"
    config = SwitchConfig(speed=speed, start=start.timestamp() if start else None,
                          recordings_dir=str(tmp_path / "recordings"))  # fmt: skip
    switch = switch_on_conf(conf, share, config).start()
    project = check(home / "dialplan")
    assert project.problems == [], project.problems
    controller = start_controller(project, store, switch.clock, tmp_path / "c")
    try:
        operator_yaml = home / "dialplan" / "operator.yaml"
        operator = yaml.safe_load(operator_yaml.read_text())
        operator["controllers"] = [f"127.0.0.1:{controller.server.port}"]
        operator_yaml.write_text(yaml.safe_dump(operator))
        sh.settings(
            database={"dsn": store.dsn}, state_dir=str(tmp_path / "var"),
            esl={"host": "127.0.0.1", "port": switch.port, "password": switch.password},
        )  # fmt: skip
        for tenant_id, options in TENANTS.items():
            sh.setup(f"fsapps tenant add {tenant_id} {options}")
        with store.operator() as op:
            for agent, (tenants, contact) in ROSTER.items():
                if agent not in adds:
                    op.add_agent(agent, agent, dict.fromkeys(tenants.split(","), 1), contact)
                    acd.ensure_agent(op.conn, agent)
        yield Live(sh, switch, controller, conf)
    finally:
        controller.stop(grace=1.0)
        switch.stop()


def bring_up(lv: Live) -> None:
    """The README's check and render: the switch runs the example tenants."""
    got = lv.sh("fsapps check dialplan/")
    assert got.code == 0 and got.err == "", got
    assert got.out == "dialplan/: 4 tenant(s), 5 flow(s), 80 node(s), no problems\n", got.out
    got = lv.sh("fsapps render dialplan/ --out /etc/freeswitch --reload", **{"/etc/freeswitch": str(lv.conf)})
    assert got.code == 0, got
    assert got.out.splitlines() == [
        f"dialplan/: 4 tenant(s), 5 flow(s), 80 node(s) -> {lv.conf}/fsapps/{os.readlink(lv.conf / 'fsapps' / 'current')}"
        " (installed)",
        "reloadxml: +OK [Success]",
    ], got.out
    dialplan = lv.switch.dialplan
    assert isinstance(dialplan, XmlDialplan)
    assert {"public", "fsapps_cablenet", "fsapps_harbourbank"} <= {c.get("name") for c in dialplan.section.iter("context")}


def test_self_service_commands_change_what_callers_meet(store, tmp_path, capsys, monkeypatch) -> None:
    """Outage notices and blacklists, posted and ended from the command line, on calls to the
    example tenants; callback requests and survey answers as the applications write them."""
    sh = Shell(T_SELF, tmp_path / "home", capsys, monkeypatch)
    with live(sh, store, tmp_path, start=None, speed=10.0) as lv:
        bring_up(lv)
        got = sh('fsapps outage post --tenant cablenet --prefix 0755 --message "南山区光缆中断，预计下午三点恢复。" --hours 6')
        assert got.code == 0, got
        message = "南山区光缆中断，预计下午三点恢复。"
        posted = re.fullmatch(r"outage (\d+) posted for prefix 0755 until (\S+)\n", got.out)
        assert posted is not None, got.out
        outage, until = posted.group(1), datetime.fromisoformat(posted.group(2))
        assert timedelta(hours=5, minutes=59) < until - datetime.now(UTC) <= timedelta(hours=6)
        # A caller from Shenzhen (0755) hears it before the menu; a Beijing number does not.
        shenzhen, beijing = lv.call("96171", "075512345678"), lv.call("96171", "01012345678")
        assert wait_for(lambda: lv.heard(shenzhen, message), timeout=20), lv.switch.call_log(shenzhen.uuid)
        assert wait_for(lambda: lv.heard(beijing, "welcome.wav"), timeout=20), lv.switch.call_log(beijing.uuid)
        assert not lv.heard(beijing, message)
        got = sh("fsapps outage list --tenant cablenet")
        assert got.code == 0 and got.out.split("\t")[:3] == [outage, "prefix", "0755"], got.out
        assert got.out.rstrip("\n").split("\t")[4:] == [until.isoformat(), message]
        got = sh("fsapps outage list --tenant cablenet", "fsapps outage end ID --tenant cablenet", ID=outage)
        assert (got.code, got.out) == (0, f"outage {outage} ended\n")
        assert sh("fsapps outage list --tenant cablenet").out == ""
        again = lv.call("96171", "075512345678")
        assert wait_for(lambda: lv.heard(again, "welcome.wav"), timeout=20), lv.switch.call_log(again.uuid)
        assert not lv.heard(again, message)

        # harbourbank screens its callers (its main flow's blacklist node): listed ones hear
        # the notice and are cut off.
        got = sh('fsapps blacklist add 0755 --prefix --reason "fraud ring" --tenant harbourbank')
        assert (got.code, got.out) == (0, "harbourbank: 0755 blacklisted (prefix)\n")
        got = sh("fsapps blacklist add +8613800000000 --until 2027-01-01T00:00+08:00 --tenant harbourbank")
        assert (got.code, got.out) == (0, "harbourbank: +8613800000000 blacklisted\n")
        with store.tenant("harbourbank") as t:
            listed = {r["number"]: r for r in selfservice.list_blacklist(t)}
        assert (listed["0755"]["match"], listed["0755"]["reason"], listed["0755"]["expires_at"]) == (
            "prefix", "fraud ring", None)  # fmt: skip
        expiry = datetime.fromisoformat("2027-01-01T00:00+08:00")
        assert (listed["+8613800000000"]["match"], listed["+8613800000000"]["expires_at"]) == ("exact", expiry)
        with store.tenant("harbourbank") as t:  # --until: listed up to that moment, not from it
            assert selfservice.blacklisted(t, "+8613800000000", expiry - timedelta(seconds=1)) is not None
            assert selfservice.blacklisted(t, "+8613800000000", expiry) is None
            assert selfservice.blacklisted(t, "075599990000", expiry + timedelta(days=3650)) is not None
        calls = {n: lv.call("95555", n) for n in ("075599990000", "+8613800000000", "85261230000")}
        for ch in calls.values():
            assert wait_for(lambda ch=ch: lv.heard(ch, "blocked.wav") or lv.heard(ch, "welcome.wav"), timeout=20)
        blocked = {n for n, ch in calls.items() if lv.heard(ch, "blocked.wav")}
        before_expiry = lv.switch.clock.now() < expiry.timestamp()
        assert blocked == ({"075599990000", "+8613800000000"} if before_expiry else {"075599990000"}), blocked
        for n in blocked:
            assert calls[n].destroyed.wait(10) and not lv.heard(calls[n], "welcome.wav")

        # What the callback and survey applications write: a callback that kept its place
        # in the queue is first, however late it was asked for.
        t0 = datetime.now(UTC).replace(microsecond=0)
        DurableWriter(store, tmp_path / "spool").write(
            CallbackRequest("harbourbank", "85261230002", t0 - timedelta(minutes=5)),
            CallbackRequest("harbourbank", "85261230001", t0, queue="general",
                            queue_entered_at=t0 - timedelta(minutes=20)),
            SurveyAnswer("harbourbank", "main", "rate_service", 4, t0, agent_id="hb_ann", queue="general"),
        )  # fmt: skip
        got = sh("fsapps callbacks --tenant harbourbank")
        assert got.code == 0 and [line.split("\t")[:3] for line in got.out.splitlines()] == [
            ["85261230001", "general", (t0 - timedelta(minutes=20)).isoformat()],
            ["85261230002", "-", "-"],
        ], got.out
        got = sh("fsapps surveys --tenant harbourbank")
        assert (got.code, got.out) == (0, f"{t0.isoformat()}\tmain\trate_service\t4\thb_ann\tgeneral\n")
        for ch in lv.switch.channels.copy().values():
            ch.hangup("NORMAL_CLEARING")
    sh.finished()


def next_monday_morning() -> datetime:
    """10:00 next Monday in Shanghai: cablenet's service hours, ahead of the wall clock, which
    the command line's operations read (the controller reads the emulator's)."""
    zone = ZoneInfo("Asia/Shanghai")
    today = datetime.now(zone).date()
    return datetime.combine(today + timedelta(days=7 - today.weekday()), time(10), zone)


def agent_row(store, agent: str) -> dict:
    with store.operator() as op:
        return op._one("SELECT * FROM agent_state WHERE agent_id = %s", (agent,))


def on_a_queue_call(store, agent: str) -> dict:
    """The agent's state row once they are on a queue call (offered and answered)."""
    assert wait_for(lambda: agent_row(store, agent)["state"] == "In a queue call", timeout=30), agent_row(store, agent)
    return agent_row(store, agent)


def queue_calls(store, tenant: str = "cablenet") -> list[dict]:
    with store.tenant(tenant) as t:
        return t._all("SELECT queue, outcome, agent_id FROM queue_calls ORDER BY joined_at")


def test_agents_and_supervisors_on_live_calls(store, tmp_path, capsys, monkeypatch) -> None:
    """The agent commands, in the README's own situations: a caller of cablenet's business
    queue (the README's queue example) talking to cn_li, consulting cn_wang, ringing at cn_li."""
    sh = Shell(T_ACD, tmp_path / "home", capsys, monkeypatch)
    with live(sh, store, tmp_path, start=next_monday_morning(), speed=8.0, adds=("cn_li",)) as lv:
        sw = lv.switch
        phones = {n: sw.register_user(n, Endpoint(answer_after=0.5)) for n in ("1001", "1002", "1003", "1009", "2000")}
        carrier = sw.register_gateway("carrier", Endpoint(answer_after=0.5))
        got = sh("fsapps agent add cn_li --tenant cablenet --contact user/1001@cablenet.example --max-no-answer 3")
        assert (got.code, got.out) == (0, "agent cn_li added (Logged Out)\n")
        with store.operator() as op:
            added = op._one("SELECT a.contact, s.status, s.max_no_answer, array_agg(t.tenant_id) AS tenants"
                            " FROM agents a JOIN agent_state s ON s.agent_id = a.id JOIN agent_tenants t"
                            " ON t.agent_id = a.id WHERE a.id = 'cn_li' GROUP BY 1, 2, 3")  # fmt: skip
        assert added == {"contact": "user/1001@cablenet.example", "status": "Logged Out", "max_no_answer": 3,
                         "tenants": ["cablenet"]}  # fmt: skip
        bring_up(lv)
        check_reports_every_problem(lv)

        # Status: each of the comment's, then available.
        for instead, said, status, reason in (
            ("fsapps agent status cn_li on-demand", "cn_li: Available (On Demand)", "Available (On Demand)", ""),
            ("fsapps agent status cn_li break --reason lunch", "cn_li: On Break (lunch)", "On Break", "lunch"),
            ("fsapps agent status cn_li logout", "cn_li: Logged Out", "Logged Out", ""),
            (None, "cn_li: Available", "Available", ""),
        ):
            got = sh("fsapps agent status cn_li available", instead)
            assert (got.code, got.out) == (0, said + "\n"), got
            row = agent_row(store, "cn_li")
            assert (row["status"], row["break_reason"]) == (status, reason)
        got = sh("fsapps agent list")
        assert got.code == 0
        assert {"cn_li\tAvailable\tWaiting\tcablenet", "cn_wang\tLogged Out\tWaiting\tcablenet",
                "bpo1\tLogged Out\tWaiting\tshopwise,travelgo"} <= set(got.out.splitlines()), got.out  # fmt: skip
        with store.operator() as op:  # cn_li wraps up for ten minutes after each call
            acd.ensure_agent(op.conn, "cn_li", wrap_up_time=600)

        def answered_by_li(number: str) -> tuple[Channel, str]:
            """A caller of the business queue (1 at the menu), answered at cn_li's phone."""
            caller = lv.call("96171", number, keypad=["1"])
            row = on_a_queue_call(store, "cn_li")
            assert row and str(row["offered_member"]) == caller.uuid, sw.call_log(caller.uuid)[-20:]
            return caller, str(row["agent_leg"])

        def bridged(a: str, b: str) -> bool:
            ch = sw.channels.get(a)
            return ch is not None and ch.bridged_to is not None and ch.bridged_to.uuid == b

        def hang_up(caller: Channel) -> None:
            sw.api("uuid_kill", caller.uuid)
            assert caller.destroyed.wait(10)

        def wrap_up_done() -> None:
            assert wait_for(lambda: agent_row(store, "cn_li")["state"] == "Waiting")
            assert sh("fsapps agent wrap-up-done cn_li") == Result(0, "", "")

        # A call: a third party, the supervisor listening, whispering, barging, then hanging up.
        caller, li = answered_by_li("13800000001")
        got = sh("fsapps agent three-way cn_li --dial user/1009@cablenet.example")
        third = got.out.strip()
        assert got.code == 0 and phones["1009"].calls == [third], got
        assert wait_for(lambda: f"three_way({li})" in sw.call_log(third)), sw.call_log(third)
        for mode, aleg, bleg in (("listen", None, None), ("whisper", "true", None), ("barge", "true", "true")):
            instead = None if mode == "whisper" else f"fsapps agent {mode} cn_li --dial user/2000@cablenet.example"
            got = sh("fsapps agent whisper cn_li --dial user/2000@cablenet.example", instead)
            spy = got.out.strip()
            assert got.code == 0 and phones["2000"].calls[-1] == spy, got
            assert wait_for(lambda spy=spy: f"eavesdrop({li})" in sw.call_log(spy)), sw.call_log(spy)
            leg = sw.channels[spy]
            assert (leg.get_var("eavesdrop_whisper_aleg"), leg.get_var("eavesdrop_whisper_bleg")) == (aleg, bleg)
            sw.api("uuid_kill", spy)
        assert sh("fsapps agent hangup cn_li") == Result(0, "", "")
        assert caller.destroyed.wait(10)
        assert wait_for(lambda: queue_calls(store)) == [{"queue": "business", "outcome": "answered", "agent_id": "cn_li"}]

        # cn_li wraps up: the next caller waits, with music, until wrap-up-done.
        caller = lv.call("96171", "13800000002", keypad=["1"])

        def hold_clips() -> int:
            return sum(line.startswith("heard tone_stream://") for line in sw.call_log(caller.uuid))

        # Two hold clips (about 25 s on the switch's clock) heard while cn_li, the queue's only
        # Available agent, is Waiting but not offered the call.
        assert wait_for(lambda: hold_clips() >= 2, timeout=30), sw.call_log(caller.uuid)
        row = agent_row(store, "cn_li")
        assert (row["status"], row["state"], row["offered_member"]) == ("Available", "Waiting", None)
        assert sh("fsapps agent wrap-up-done cn_li") == Result(0, "", "")
        row = on_a_queue_call(store, "cn_li")
        assert str(row["offered_member"]) == caller.uuid
        li = str(row["agent_leg"])

        # Consult cn_wang and cancel; consult a number and cancel; consult cn_wang and complete.
        def consult(instead: str | None = None, **words: str) -> str:
            got = sh("fsapps agent consult cn_li --to-agent cn_wang", instead, **words)
            assert got.code == 0, got
            leg = got.out.strip()
            assert wait_for(lambda: bridged(li, leg), timeout=15), sw.call_log(li)[-10:]
            assert sw.channels[caller.uuid].bridged_to is None  # the caller holds, with music
            assert wait_for(lambda: any(line.startswith("playback(") for line in sw.call_log(caller.uuid)[-3:]))
            return leg

        for target, instead, words in (
            (phones["1002"], None, {}),
            (phones["1009"], "fsapps agent consult cn_li --dial ...", {"...": "user/1009@cablenet.example"}),
        ):
            leg = consult(instead, **words)
            assert target.calls[-1] == leg
            assert sh("fsapps agent cancel cn_li") == Result(0, "", "")
            assert wait_for(lambda: bridged(caller.uuid, li), timeout=15)
            assert leg not in sw.channels
        wang = consult()
        assert phones["1002"].calls[-1] == wang
        assert sh("fsapps agent complete cn_li") == Result(0, "", "")
        assert wait_for(lambda: bridged(caller.uuid, wang), timeout=15)
        assert wait_for(lambda: li not in sw.channels)
        hang_up(caller)
        wrap_up_done()

        # Blind transfers: to cn_wang's phone, to the complaints queue, to a number via the carrier.
        caller, li = answered_by_li("13800000003")
        assert sh("fsapps agent transfer cn_li --to-agent cn_wang") == Result(0, "", "")
        assert wait_for(lambda: bridged(caller.uuid, phones["1002"].calls[-1]), timeout=15)
        assert wait_for(lambda: li not in sw.channels)
        hang_up(caller)
        wrap_up_done()

        caller, li = answered_by_li("13800000004")
        sh.setup("fsapps agent status cn_zhao available")  # complaints is top-down: cn_zhao first
        got = sh("fsapps agent transfer cn_li --to-agent cn_wang", "fsapps agent transfer cn_li --to-queue complaints")
        assert got == Result(0, "", "")
        row = on_a_queue_call(store, "cn_zhao")
        assert str(row["offered_member"]) == caller.uuid
        assert wait_for(lambda: bridged(caller.uuid, str(row["agent_leg"])), timeout=15)
        sh.setup("fsapps agent status cn_zhao break")
        hang_up(caller)
        wrap_up_done()

        caller, li = answered_by_li("13800000005")
        got = sh("fsapps agent transfer cn_li --to-agent cn_wang", "fsapps agent transfer cn_li --dial sofia/gateway/carrier/0755...",
                 **{"sofia/gateway/carrier/0755...": "sofia/gateway/carrier/075512345678"})
        assert got == Result(0, "", "")
        assert wait_for(lambda: carrier.calls and bridged(caller.uuid, carrier.calls[-1]), timeout=15)
        assert sw.channels[carrier.calls[-1]].name == "sofia/external/075512345678"
        hang_up(caller)
        wrap_up_done()

        # Pickups: a call ringing at cn_li (whose phone is not answered) taken on cn_wang's phone.
        sw.register_user("1001", Endpoint(answer_after=None))
        for instead in (None, "fsapps agent pickup cn_wang --caller UUID"):
            caller = lv.call("96171", "13800000006", keypad=["1"])
            assert wait_for(lambda: agent_row(store, "cn_li")["state"] == "Receiving", timeout=30)
            got = sh("fsapps agent pickup cn_wang --from-agent cn_li", instead, UUID=caller.uuid)
            leg = got.out.strip()
            assert got.code == 0, got
            assert wait_for(lambda c=caller, leg=leg: phones["1002"].calls[-1] == leg and bridged(c.uuid, leg), timeout=15)
            # The bridge is the switch's; the agent's row follows when the controller sees it.
            assert wait_for(lambda: agent_row(store, "cn_wang")["state"] == "In a queue call", timeout=10)
            wang, li_row = agent_row(store, "cn_wang"), agent_row(store, "cn_li")
            assert (wang["state"], str(wang["offered_member"])) == ("In a queue call", caller.uuid)
            assert (li_row["state"], li_row["no_answer_count"]) == ("Waiting", 0)  # withdrawn, not missed
            hang_up(caller)
            assert wait_for(lambda: agent_row(store, "cn_wang")["state"] == "Waiting")
        assert wait_for(lambda: len(queue_calls(store)) == 8), queue_calls(store)
        rows = queue_calls(store)
        assert [(r["queue"], r["agent_id"]) for r in rows] == [
            ("business", "cn_li"), ("business", "cn_li"), ("business", "cn_li"), ("business", "cn_li"),
            ("complaints", "cn_zhao"), ("business", "cn_li"), ("business", "cn_wang"), ("business", "cn_wang"),
        ], rows  # fmt: skip
        assert {r["outcome"] for r in rows} == {"answered"}
    sh.finished()


def check_reports_every_problem(lv: Live) -> None:
    """check's comment: every problem as file:line:col: message, most with (expected ...); exit 1 if any.
    render's: it checks first, so the same problems leave the live generation as it was."""
    sh = lv.sh
    flows = {t: sh.home / "dialplan" / t / "flows" / "main.yaml" for t in ("cablenet", "harbourbank")}
    kept = {t: f.read_text() for t, f in flows.items()}
    try:
        for f in flows.values():
            f.write_text(f.read_text().replace("    type: hangup\n", "    type: hang_up\n", 1))
        got = sh("fsapps check dialplan/")
        assert got.code == 1, got
        problems = got.out.splitlines()
        assert len(problems) == 2, got.out
        for problem, f in zip(problems, flows.values(), strict=True):
            line = f.read_text().splitlines().index("    type: hang_up") + 1
            assert problem.startswith(f"dialplan/{f.relative_to(sh.home / 'dialplan')}:{line}:11: "), problem
            assert "'hang_up'" in problem and "(expected " in problem, problem
        current = os.readlink(lv.conf / "fsapps" / "current")
        got = sh("fsapps render dialplan/ --out /etc/freeswitch --reload", **{"/etc/freeswitch": str(lv.conf)})
        assert got.code == 1 and got.out.splitlines() == problems, got
        assert os.readlink(lv.conf / "fsapps" / "current") == current
        assert sorted(p.name for p in (lv.conf / "fsapps").iterdir()) == sorted(["current", current]), current
    finally:
        for t, f in flows.items():
            f.write_text(kept[t])


# --- Call flows: the acme example, with its lookup table ---------------------------------------


def silence(path: Path, seconds: float = 1.0) -> None:
    """A recorded prompt as sounds/ holds them: 8 kHz 16-bit mono WAV."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\0\0" * int(8000 * seconds))


def test_the_acme_example_checks_renders_and_reads_a_balance_from_its_lookup_table(
    store, tmp_path, capsys, monkeypatch
) -> None:
    """The README's acme tenant and flow, written where their first lines say, check clean
    with ``fsapps check`` (the prompt where the tenant's comment says; without it, check says
    where), its tenant file against the schema it names; the lookup table made by the README's
    SQL shows a tenant only its own rows; rendered and reloaded into the emulator, a caller who
    presses 2 and keys an account number hears its balance, found in that table by the
    controller. Rendered with ``runtime: embedded``, the lookup is the README's python action
    and the queue still goes to the controller."""
    sh = Shell(T_ACME, tmp_path / "home", capsys, monkeypatch)
    files = {}
    for name in ("dialplan/acme/tenant.yaml", "dialplan/acme/flows/main.yaml"):
        body = block(f"yaml: # {name}").body
        files[name] = sh.home / name
        files[name].parent.mkdir(parents=True, exist_ok=True)
        files[name].write_text(body)
    shutil.copy(ROOT / "dialplan" / "operator.yaml", sh.home / "dialplan" / "operator.yaml")
    tenant = yaml.safe_load(files["dialplan/acme/tenant.yaml"].read_text())
    said = re.search(r"hello: \{file: acme/hello\.wav\} +# (\S+)", block("yaml: # dialplan/acme/tenant.yaml").body)
    assert said is not None and tenant["prompts"]["hello"] == {"file": "acme/hello.wav"}
    prompt = sh.home / said.group(1)
    assert prompt == sh.home / "sounds" / tenant["language"] / "acme" / "8000" / "hello.wav"
    silence(prompt)
    # The schema its first line names, from where the file would be in this repository.
    schema_line = files["dialplan/acme/tenant.yaml"].read_text().splitlines()[1]
    schema = (ROOT / "dialplan" / "acme" / schema_line.split("$schema=")[1]).resolve()
    assert schema == ROOT / "fsapps" / "flows" / "schemas" / "tenant.schema.json"
    jsonschema.validate(tenant, json.loads(schema.read_text()))

    share = tmp_path / "share"  # $${sounds_dir}, where operator.yaml says sounds/ is deployed
    share.mkdir()
    (share / "fsapps").symlink_to(sh.home / "sounds")
    conf = tmp_path / "etc" / "freeswitch"
    switch = switch_on_conf(conf, share, SwitchConfig(speed=10.0, start=next_monday_morning().timestamp())).start()
    project = check(sh.home / "dialplan")
    assert project.problems == [], project.problems
    controller = start_controller(project, store, switch.clock, tmp_path / "c")
    try:
        operator_yaml = sh.home / "dialplan" / "operator.yaml"
        operator = yaml.safe_load(operator_yaml.read_text())
        operator["controllers"] = [f"127.0.0.1:{controller.server.port}"]
        operator_yaml.write_text(yaml.safe_dump(operator))
        sh.settings(
            database={"dsn": store.dsn}, state_dir=str(tmp_path / "var"),
            esl={"host": "127.0.0.1", "port": switch.port, "password": switch.password},
        )  # fmt: skip
        sh.setup("fsapps tenant add acme --domain acme.example --timezone Asia/Shanghai --number 4000")

        got = sh.run("fsapps", "check", "dialplan/")
        assert (got.code, got.out, got.err) == (0, "dialplan/: 1 tenant(s), 1 flow(s), 9 node(s), no problems\n", "")
        prompt.rename(prompt.with_suffix(".kept"))
        got = sh.run("fsapps", "check", "dialplan/")
        line = files["dialplan/acme/tenant.yaml"].read_text().splitlines().index(
            next(x for x in files["dialplan/acme/tenant.yaml"].read_text().splitlines() if x.startswith("  hello:"))) + 1
        assert got.code == 1 and got.out.startswith(f"dialplan/acme/tenant.yaml:{line}:"), got
        assert "hello.wav" in got.out and len(got.out.splitlines()) == 1, got.out
        prompt.with_suffix(".kept").rename(prompt)

        # The README's SQL, run by the operator; each tenant's rows.
        sh.setup("fsapps tenant add harbourbank --domain harbourbank.example --timezone Asia/Hong_Kong")
        with store.operator() as op:
            op.conn.execute(block(
                "sql: CREATE TABLE lookup.accounts (tenant_id text NOT NULL, account_no text, balance numeric,"
                " due_date date);").body)  # fmt: skip
            op.conn.execute(
                "INSERT INTO lookup.accounts VALUES ('acme', '123456', 42.10, '2026-12-01'),"
                " ('harbourbank', '123456', 999.00, '2026-12-01'), ('harbourbank', '654321', 7.00, NULL)")  # fmt: skip
        with store.tenant("acme") as t:
            assert t._all("SELECT tenant_id, account_no, balance FROM lookup.accounts") == [
                {"tenant_id": "acme", "account_no": "123456", "balance": Decimal("42.10")}]  # fmt: skip
        with store.tenant("harbourbank") as t:
            assert sorted(r["account_no"] for r in t._all("SELECT account_no FROM lookup.accounts")) == [
                "123456", "654321"]  # fmt: skip
        # "(SELECT fsapps_current_tenant()) checks the tenant's binding once per statement;
        # written bare, it is checked for every row scanned": the plans say so.
        with store.operator() as op:
            op.conn.execute("CREATE TABLE lookup.bare (LIKE lookup.accounts)")
            op.conn.execute("ALTER TABLE lookup.bare ENABLE ROW LEVEL SECURITY")
            op.conn.execute("CREATE POLICY tenant_rows ON lookup.bare TO fsapps_tenant"
                            " USING (tenant_id = fsapps_current_tenant())")  # fmt: skip
            op.conn.execute("GRANT SELECT ON lookup.bare TO fsapps_tenant")
        with store.tenant("acme") as t:
            once, bare = (
                [r["QUERY PLAN"] for r in t._all(f"EXPLAIN (COSTS OFF) SELECT account_no FROM lookup.{table}")]
                for table in ("accounts", "bare")
            )
        assert any("InitPlan" in line for line in once), once  # evaluated once, before the scan
        assert not any("fsapps_current_tenant" in line for line in once if "Filter" in line), once
        assert any("Filter" in line and "fsapps_current_tenant()" in line for line in bare), bare
        assert not any("InitPlan" in line for line in bare), bare

        got = sh.run("fsapps", "render", "dialplan/", "--out", str(conf), "--reload")
        assert got.code == 0 and got.out.endswith("reloadxml: +OK [Success]\n"), got
        call = switch.place_call("4000", caller_id_number="13900000000", script=CallerScript(keypad=["2", "123456"]))
        # The lookup's found branch (say), with acme's balance, not harbourbank's for the same number.
        balance = "heard say://en/CURRENCY/42.10"
        assert wait_for(lambda: balance in switch.call_log(call.uuid), timeout=30), switch.call_log(call.uuid)
        log = switch.call_log(call.uuid)
        assert log.index(f"socket(127.0.0.1:{controller.server.port}/flow async full)") < log.index(
            "transferred to fx__main__say") < log.index(balance)  # fmt: skip
        assert "caller pressed 2" in log and not any("999" in line for line in log)
        switch.api("uuid_kill", call.uuid)
        assert call.destroyed.wait(10)
    finally:
        controller.stop(grace=1.0)
        switch.stop()

    # The same flows rendered for mod_python3: the lookup in the switch, the queue not.
    operator["runtime"] = "embedded"
    operator_yaml.write_text(yaml.safe_dump(operator))
    embedded = tmp_path / "embedded"
    got = sh.run("fsapps", "render", "dialplan/", "--out", str(embedded))
    assert got.code == 0, got
    context = (embedded / "fsapps" / "current" / "contexts" / "acme.xml").read_text()
    action = block('xml: <action application="python" data="fsapps.embedded flow"/>').first.strip()
    assert context.count(action) == 1, context
    assert 'application="socket"' in context
