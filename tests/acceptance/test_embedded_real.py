"""fsapps' applications embedded in the real FreeSWITCH through mod_python3.

A dialplan extension marks the call with a tenant, flow and node and runs
``python fsapps.embedded flow``: the node's application (a lookup in the
tenant's table in PostgreSQL) runs inside the switch, on the channel's
thread. The branch and the fields it found are read back from the channel's
variables, its usage record from the database. The same node run by the
controller over outbound ESL (``simulate`` with the real applications) must
take the same branch and set the same variables.
"""

from __future__ import annotations

import os
import sysconfig
import time
from dataclasses import dataclass, field
from pathlib import Path

import gevent
import psycopg
import pytest
import yaml

from fsapps.esl import codec
from fsapps.flows.check import check
from fsapps.flows.simulate import simulate
from fsapps.store.durable import DurableWriter
from fsapps.store.records import Tenant
from fsapps.testing.freeswitch import RealSwitch
from tests.support.targets import real_switch_available

ROOT = Path(__file__).resolve().parents[2]
KNOWN, UNKNOWN = "5551234", "5559876"  # caller IDs: one in the tenant's accounts table, one not
FIELDS = ("t1_name", "t1_balance")

TENANT_YAML = """\
id: t1
name: T1
domain: t1.example
timezone: UTC
language: en
access_numbers: {"4100": main}
prompts:
  known: {text: "We found your account."}
  unknown: {text: "We could not find your account."}
"""

FLOW_YAML = """\
start: start
nodes:
  start: {type: answer, children: {_: find}}
  find:
    type: lookup
    data: {source: {table: accounts, column: phone}, key: caller_id, fields: [name, balance], prefix: t1_}
    children: {found: known, not_found: unknown, fallback: unknown}
  known: {type: play, data: {prompt: known}, children: {_: bye}}
  unknown: {type: play, data: {prompt: unknown}, children: {_: bye}}
  bye: {type: hangup}
"""

# What the rendered flow does at a controller node, with mod_python3 in place of the socket app.
EXTENSION = """\
<include>
  <extension name="fsapps_embedded">
    <condition field="destination_number" expression="^fsapps_embedded$">
      <action application="set" data="fsapps_tenant=t1"/>
      <action application="set" data="fsapps_flow=main"/>
      <action application="set" data="fsapps_node=find"/>
      <action application="python" data="fsapps.embedded flow"/>
      <action application="log" data="NOTICE fsapps_embedded branch=${fsapps_branch} balance=${t1_balance}"/>
      <action application="hangup" data="NORMAL_CLEARING"/>
    </condition>
  </extension>
</include>
"""


def write_project(root: Path) -> Path:
    (root / "t1" / "flows").mkdir(parents=True)
    (root / "operator.yaml").write_text(
        "controllers: [127.0.0.1:8084]\ntts: {engine: flite, voice: slt}\nsounds: /nonexistent\n"
    )
    (root / "t1" / "tenant.yaml").write_text(TENANT_YAML)
    (root / "t1" / "flows" / "main.yaml").write_text(FLOW_YAML)
    problems = check(root).problems
    assert not problems, "\n".join(str(p) for p in problems)
    return root


def seed(store, db_dsn: str) -> None:
    with store.operator() as op:
        op.add_tenant(Tenant(id="t1", name="T1", domain="t1.example"))
        op.add_tenant(Tenant(id="t2", name="T2", domain="t2.example"))
    with psycopg.connect(db_dsn, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE lookup.accounts (tenant_id text NOT NULL, phone text, name text, balance numeric)"
        )
        conn.execute("ALTER TABLE lookup.accounts ENABLE ROW LEVEL SECURITY")
        conn.execute(
            "CREATE POLICY tenant_rows ON lookup.accounts TO fsapps_tenant"
            " USING (tenant_id = fsapps_current_tenant())"
        )
        conn.execute("GRANT SELECT ON lookup.accounts TO fsapps_tenant")
        conn.execute(
            "INSERT INTO lookup.accounts VALUES ('t1', %s, 'Ada Lovelace', 42.50), ('t2', %s, 'Other', 1)",
            (KNOWN, UNKNOWN),  # another tenant's row for UNKNOWN: t1's lookup must not see it
        )


def python_path() -> str:
    """The repository and the venv's packages, for FreeSWITCH's own interpreter."""
    paths = sysconfig.get_paths()
    entries = [str(ROOT), paths["purelib"], paths["platlib"]]
    return os.pathsep.join(dict.fromkeys(entries))


@dataclass
class Embedded:
    """What the switch showed of one call's -b leg."""

    uuid: str = ""
    ran: list[str] = field(default_factory=list)  # applications, in order
    variables: dict[str, str] = field(default_factory=dict)  # at the final hangup
    done: bool = False


def call_embedded(real: RealSwitch, caller: str, timeout: float = 20.0) -> Embedded:
    esl = real.connect()
    seen = Embedded()

    def on_execute(ev: codec.Event) -> None:
        if not (ev.get("Channel-Name") or "").endswith("-b"):
            return
        if ev.get("Caller-Caller-ID-Number") != caller:
            return
        app = ev.get("Application") or ""
        seen.uuid = ev.get("Unique-ID") or ""
        seen.ran.append(app)
        if app == "hangup":
            names = ("fsapps_branch", *FIELDS)
            seen.variables = {n: v for n in names if (v := ev.get(f"variable_{n}")) is not None}
            seen.done = True

    esl.on("CHANNEL_EXECUTE", on_execute)
    esl.subscribe(["CHANNEL_EXECUTE"])
    try:
        esl.bgapi(
            f"originate {{origination_caller_id_number={caller}}}loopback/fsapps_embedded/public &park()"
        )
        deadline = time.monotonic() + timeout
        while not seen.done and time.monotonic() < deadline:
            gevent.sleep(0.05)
        esl.api("hupall")
    finally:
        esl.stop()
    return seen


def logged(real: RealSwitch, *lines: str, timeout: float = 5.0) -> str:
    """The switch's log once it holds every one of ``lines`` (its log thread writes a little later)."""
    deadline = time.monotonic() + timeout
    while True:
        log = real.log_file.read_text(errors="replace") if real.log_file.exists() else ""
        missing = [line for line in lines if line not in log]
        if not missing:
            return log
        assert time.monotonic() < deadline, (missing, python_said(real))
        gevent.sleep(0.1)


def python_said(real: RealSwitch) -> str:
    """What mod_python3 and the Python inside the switch logged: the lines from each
    ``Invoking py module`` to the channel's next application, and the switch's stderr
    (where Python's logging writes with no handler configured)."""
    out: list[str] = []
    inside = False
    log = real.log_file.read_text(errors="replace").splitlines() if real.log_file.exists() else []
    for line in log:
        if "Invoking py module" in line:
            inside = True
        elif inside and " EXECUTE [depth=" in line:
            inside = False
        if inside:
            out.append(line)
    stderr = real.dir / "log" / "stderr.log"
    if stderr.exists():
        out += stderr.read_text(errors="replace").splitlines()[-40:]
    return "\n".join(out) or real.log_tail(40)


def usage_records(db_dsn: str) -> list[tuple[str, str, str, str, str]]:
    with psycopg.connect(db_dsn) as conn:
        return conn.execute(
            "SELECT call_uuid::text, resource, kind, resource_id, outcome FROM usage_records"
            " WHERE tenant_id = 't1' ORDER BY created_at"
        ).fetchall()


@pytest.mark.realswitch
def test_lookup_runs_embedded_in_mod_python3_as_over_esl(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    real_switch_available()
    # PostgreSQL only once the switch is known to be there: a skip costs nothing.
    store = request.getfixturevalue("store")
    db_dsn: str = request.getfixturevalue("db_dsn")
    root = write_project(tmp_path / "dialplan")
    seed(store, db_dsn)
    settings = tmp_path / "fsapps.yaml"
    settings.write_text(
        yaml.safe_dump(
            {
                "database": {"dsn": db_dsn},
                "flows": {"dir": str(root)},
                "state_dir": str(tmp_path / "fs-state"),
            }
        )
    )
    real = RealSwitch.from_env(
        files={"dialplan/public/00_fsapps_embedded.xml": EXTENSION},
        env={"PYTHONPATH": python_path(), "FSAPPS_CONFIG": str(settings)},
    )
    try:
        real.start()
        embedded = {caller: call_embedded(real, caller) for caller in (KNOWN, UNKNOWN)}
        for caller, seen in embedded.items():
            assert seen.done and "python" in seen.ran, (caller, seen, real.log_tail(40))
        said = python_said(real)
        assert embedded[KNOWN].variables == {
            "fsapps_branch": "found",
            "t1_name": "Ada Lovelace",
            "t1_balance": "42.50",
        }, said
        assert embedded[UNKNOWN].variables == {"fsapps_branch": "not_found"}, said
        log = logged(
            real,
            "Invoking py module: fsapps.embedded",
            "branch=found balance=42.50",
            "branch=not_found balance=",
        )
        assert "Error importing module" not in log and "Python Error" not in log, python_said(real)
        # The flows, database pool and writer were built on the first call, not again.
        built = [line for line in log.splitlines() if "fsapps.embedded: flows, database pool" in line]
        assert len(built) == 1 and log.index(built[0]) < log.index("branch=found"), built
    finally:
        real.cleanup()

    # The usage records the switch's own threads wrote, one per call.
    rows = usage_records(db_dsn)
    by_call = {r[0]: r[1:] for r in rows}
    assert by_call.get(embedded[KNOWN].uuid) == ("ivr", "ivr_session", "main.find", "found"), rows
    assert by_call.get(embedded[UNKNOWN].uuid) == ("ivr", "ivr_session", "main.find", "not_found"), rows

    # The same node, run by the controller over outbound ESL.
    writer = DurableWriter(store, tmp_path / "spool")
    for caller in (KNOWN, UNKNOWN):
        trace = simulate(root, "t1", to="4100", caller=caller, real_apps=True, store=store, records=writer)
        branch = embedded[caller].variables["fsapps_branch"]
        assert ("main.find", branch) in trace.branches, trace.lines()
        found = {n: v for n, v in trace.variables.items() if n in FIELDS}
        assert found == {n: v for n, v in embedded[caller].variables.items() if n in FIELDS}, trace.lines()
    over_esl = [r for r in usage_records(db_dsn) if r[0] not in by_call]
    assert sorted(r[1:] for r in over_esl) == [
        ("ivr", "ivr_session", "main.find", "found"),
        ("ivr", "ivr_session", "main.find", "not_found"),
    ], over_esl
