"""``fsapps check dialplan/`` as a user runs it, on one scratch folder that carries every mistake
the README says check finds: each is printed at its ``file:line:col: message (expected ...)``,
all in the one run, and the exit status is 1.

The mistakes are tests/unit/test_flows_check.py's rows (the README's list, YAML's misreadings
and slips, the tenant walls), each in a tenant of its own: the row's ``acme`` renamed ``tNNN``
and its access number 4000 ``5NNN``, both the same length, so every line and column stays as
the row says. A few tenants more carry what needs several files: an access number and a domain
claimed twice, YAML aliases, a lookup host listed only for another port."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from tests.unit.test_flows_check import BOMB, CASES, FLOW, TENANT, WALLED

ROOT = Path(__file__).resolve().parents[2]
OPERATOR = "lookup_hosts: [orders.t999.example:443]\n"


def renamed(text: str, i: int) -> str:
    return text.replace("acme", f"t{i:03d}").replace("4000", f"{5000 + i}")


def write_tenant(root: Path, name: str, tenant: str, flow: str) -> None:
    (root / name / "flows").mkdir(parents=True)
    (root / name / "tenant.yaml").write_text(tenant)
    (root / name / "flows" / "main.yaml").write_text(flow)


def test_check_prints_every_mistake_the_readme_lists_at_its_place_in_one_run(tmp_path) -> None:
    root = tmp_path / "dialplan"
    root.mkdir()
    (root / "operator.yaml").write_text(OPERATOR)
    want: list[str] = []
    for i, (_, tenant, flow, expected) in enumerate(CASES):
        write_tenant(root, f"t{i:03d}", renamed(TENANT if tenant is None else tenant, i),
                     renamed(FLOW if flow is None else flow, i))  # fmt: skip
        # With lookup_hosts listed, a host not among them is told which are.
        expected = expected.replace(
            "(expected it listed there; none are)", "(expected one of: orders.t999.example:443"
        )
        want.append(renamed(expected, i))
    # An access number and a domain another tenant (t000, t001) already has.
    # Both name agents in tiers, which no roster (no database) can check: said once.
    tiers = "support: {tiers: [alice]}"
    twice = (
        TENANT.replace("acme", "t990")
        .replace("4000", "5000")
        .replace("domain: t990.example", "domain: t001.example")
    )
    write_tenant(root, "t990", twice.replace("support: {}", tiers), FLOW)
    want += ["t990/tenant.yaml:3:9: domain t001.example is already used by tenant 't001' at ",
             "t990/tenant.yaml:7:11: access number 5000 is already used by tenant 't000' at "]  # fmt: skip
    # YAML anchors and aliases (nested, a billion laughs): refused at the first alias.
    write_tenant(root, "t991", renamed(TENANT, 991) + "calendars_x:\n" + BOMB, renamed(FLOW, 991))
    want.append("t991/tenant.yaml:19:12: an alias *l0 (expected the value written out: "
                "fsapps files take no YAML anchors and aliases)")  # fmt: skip
    # A lookup host listed in operator.yaml for another port (host:port is for that port only).
    write_tenant(root, "t999", renamed(TENANT, 999).replace("support: {}", tiers), renamed(WALLED, 999))
    want.append("t999/flows/main.yaml:7:26: lookup host orders.t999.example:8080 is not in operator.yaml's"
                " lookup_hosts (expected one of: orders.t999.example:443)")  # fmt: skip

    # A value of the wrong type that is none of the choices either: said once, with the choices.
    write_tenant(root, "t992", renamed(TENANT, 992).replace("support: {}", "support: {strategy: 7}"),
                 renamed(FLOW, 992) + "    data: {cause: 3}\n")  # fmt: skip
    once = [
        "t992/tenant.yaml:16:23: unexpected value 7 (expected one of: ring-all, longest-idle-agent, ",
        "t992/flows/main.yaml:22:19: unexpected value 3 (expected one of: ACCESS_INFO_DISCARDED, ",
    ]
    want += once

    env = {k: v for k, v in os.environ.items() if not k.startswith("FSAPPS_")}
    env["PYTHONPATH"] = str(ROOT)
    got = subprocess.run([sys.executable, "-m", "fsapps.cli", "check", "dialplan/"], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=120)  # fmt: skip
    assert got.returncode == 1, got.stderr
    printed = got.stdout.splitlines()
    # Each problem on one line, as file:line:col: message, the file named from the folder given.
    assert printed and all(line.startswith("dialplan/t") for line in printed), printed[:5]
    missing = [w for w in want if not any(line.startswith(f"dialplan/{w}") for line in printed)]
    assert missing == [], "\n".join([*missing, "-- printed:", *printed])
    for w in once:
        at = [line for line in printed if line.startswith(f"dialplan/{w.split(' ', 1)[0]}")]
        assert len(at) == 1, at
    # Most say what was expected; these kinds alone do not.
    bare = [line for line in printed if "(expected" not in line]
    assert all(
        re.search(r"cannot be reached|duplicate key|needs a '\w+' branch|: expected a ", b) for b in bare
    ), bare
    # All at once: the count on stderr is every line printed; and the note that no roster was read, once.
    assert f"dialplan/: {len(printed)} problems\n" in got.stderr, got.stderr
    assert got.stderr.count("note: queue tiers were not checked") == 1, got.stderr


def test_python_m_fsapps_flows_schema_rewrites_the_schemas_editors_read(tmp_path) -> None:
    """``python -m fsapps.flows.schema``, run on a copy of the package whose schemas are gone,
    writes each one back, byte for byte the file checked in, the one the README's tenant.yaml
    names on its first line among them."""
    import shutil

    shutil.copytree(ROOT / "fsapps", tmp_path / "fsapps", ignore=shutil.ignore_patterns("__pycache__"))
    schemas = tmp_path / "fsapps" / "flows" / "schemas"
    shutil.rmtree(schemas)
    env = {k: v for k, v in os.environ.items() if not k.startswith("FSAPPS_")}
    env["PYTHONPATH"] = str(tmp_path)
    got = subprocess.run([sys.executable, "-m", "fsapps.flows.schema"], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=60)  # fmt: skip
    assert got.returncode == 0, got.stderr
    written = sorted(Path(line).name for line in got.stdout.splitlines())
    shipped = ROOT / "fsapps" / "flows" / "schemas"
    assert written == sorted(p.name for p in shipped.iterdir()) and "tenant.schema.json" in written
    for name in written:
        assert (schemas / name).read_bytes() == (shipped / name).read_bytes(), name
    assert all(str(schemas) in line for line in got.stdout.splitlines()), got.stdout  # the copy's, not ours
