"""Flow rendering at scale: 1,000 tenants x 20 nodes.

Generates a dialplan/ of N tenants, each with one 20-node flow (menu,
collect, lookup, time route, queues, voicemail, survey), then times in the
same process:

- load: reading the YAML with positions (the bound: nothing can be faster
  than parsing the input), and plain yaml.safe_load for reference;
- check: load + schema + meaning checks;
- render: the pure model -> XML step;
- install: writing and validating the generation.

    ./dev bench render [--tenants 1000]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fsapps.flows import yamlsrc
from fsapps.flows.check import check
from fsapps.flows.install import install
from fsapps.flows.render import render

TENANT = """\
id: {id}
name: Tenant {n}
domain: {id}.example
timezone: Asia/Shanghai
language: en
access_numbers:
  "{number}": main
calendars:
  hours:
    weekly: {{mon-fri: "08:00-20:00", sat: "09:00-12:00"}}
    holidays: ["2027-01-01"]
prompts:
  welcome: {{text: "Welcome to tenant {n}."}}
  menu: {{text: "Press 1 for sales, 2 for your account, 3 for support."}}
  invalid: {{text: "Sorry."}}
  account: {{text: "Enter your account number."}}
  balance: {{text: "Your balance is"}}
  closed: {{text: "We are closed."}}
  bye: {{text: "Goodbye."}}
queues:
  sales: {{}}
  support: {{}}
"""

FLOW = """\
nodes:
  start: {type: answer, children: {_: welcome}}
  welcome: {type: play, data: {prompt: welcome}, children: {_: hours}}
  hours: {type: time_route, data: {calendar: hours}, children: {open: menu, closed: closed}}
  menu:
    type: menu
    data: {prompt: menu, invalid_prompt: invalid}
    children: {"1": sales, "2": account, "3": support, timeout: goodbye, invalid: goodbye}
  sales: {type: queue, data: {queue: sales, priority: 3}, children: {_: survey, timeout: vm}}
  account:
    type: collect
    data: {prompt: account, variable: acct, min: 6, max: 8}
    children: {_: lookup, invalid: menu}
  lookup:
    type: lookup
    data: {source: {table: accounts}, key: acct, fields: [balance], prefix: t_}
    children: {found: balance, not_found: menu, fallback: menu}
  balance: {type: play, data: {prompt: balance}, children: {_: say}}
  say: {type: say, data: {type: money, value: "${t_balance}"}, children: {_: again}}
  again: {type: set, data: {variables: {heard_balance: "yes"}}, children: {_: menu}}
  support: {type: queue, data: {queue: support, skills: {tech: 2}}, children: {_: survey, timeout: vm}}
  survey: {type: survey, data: {questions: [welcome]}, children: {_: goodbye}}
  closed: {type: play, data: {prompt: closed}, children: {_: vm}}
  vm: {type: voicemail, data: {box: general}}
  goodbye: {type: play, data: {prompt: bye}, children: {_: bye}}
  bye: {type: hangup}
  blocked: {type: blacklist, children: {_: welcome}}
  notice: {type: outage_notice, children: {_: blocked}}
  entry: {type: goto, data: {flow: main}}
  spare: {type: hangup, data: {cause: USER_BUSY}}
"""


def generate(root: Path, tenants: int) -> None:
    for n in range(tenants):
        tid = f"t{n:05d}"
        d = root / tid / "flows"
        d.mkdir(parents=True)
        (root / tid / "tenant.yaml").write_text(TENANT.format(id=tid, n=n, number=f"8{n:07d}"))
        (d / "main.yaml").write_text(FLOW)


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tenants", type=int, default=1000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "dialplan"
        generate(root, args.tenants)
        (Path(tmp) / "sounds").mkdir()
        files = sorted(root.rglob("*.yaml"))
        _, t_plain = timed(lambda: [yaml.safe_load(f.read_text()) for f in files])
        _, t_load = timed(lambda: [yamlsrc.load(f) for f in files])
        project, t_check = timed(lambda: check(root))
        unreachable = [p for p in project.problems if "cannot be reached" in p.message]
        assert len(project.problems) == len(unreachable), project.problems[:3]
        project.problems = []  # the 4 spare nodes per flow are unreachable on purpose
        out, t_render = timed(lambda: render(project))
        _, t_install = timed(lambda: install(out, Path(tmp) / "conf"))
        nodes = sum(len(f.nodes) for t in project.tenants for f in t.flows.values())
        size = sum(len(x) for x in out.values())
        print(f"{args.tenants} tenants, {nodes} nodes, {len(files)} YAML files -> {len(out)} XML files, "
              f"{size / 1e6:.1f} MB")  # fmt: skip
        print(f"yaml.safe_load (reference)   {t_plain:7.2f} s")
        print(f"load with positions (bound)  {t_load:7.2f} s")
        print(f"check (load + checks)        {t_check:7.2f} s   {t_check / t_load:5.2f}x load")
        print(f"render                       {t_render:7.2f} s   {t_render / t_load:5.2f}x load")
        print(f"install (write + validate)   {t_install:7.2f} s   {t_install / t_load:5.2f}x load")
        total = t_check + t_render
        print(f"check + render               {total:7.2f} s   {total / t_load:5.2f}x load, "
              f"{nodes / total:,.0f} nodes/s")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
