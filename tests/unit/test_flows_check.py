"""fsapps check: each kind of mistake, reported at its file:line:col with what was expected."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from fsapps.flows.check import check

TENANT = """\
id: acme
name: Acme
domain: acme.example
timezone: Asia/Shanghai
language: en
access_numbers:
  "4000": main
calendars:
  business:
    weekly:
      mon-fri: "08:00-20:00"
prompts:
  hello: {text: "Hello."}
  menu: {text: "Press 1 or 2."}
queues:
  support: {}
"""

FLOW = """\
nodes:
  start:
    type: answer
    children: {_: hours}
  hours:
    type: time_route
    data: {calendar: business}
    children: {open: menu, closed: bye}
  menu:
    type: menu
    data: {prompt: menu}
    children: {"1": hello, "2": support, timeout: bye, invalid: bye}
  hello:
    type: play
    data: {prompt: hello}
    children: {_: bye}
  support:
    type: queue
    data: {queue: support}
  bye:
    type: hangup
"""


def make(tmp_path: Path, tenant: str = TENANT, flow: str = FLOW, extra: dict[str, str] | None = None) -> Path:
    root = tmp_path / "dialplan"
    (root / "acme" / "flows").mkdir(parents=True)
    (root / "acme" / "tenant.yaml").write_text(tenant)
    (root / "acme" / "flows" / "main.yaml").write_text(flow)
    for rel, text in (extra or {}).items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(textwrap.dedent(text))
    return root


def problems(root: Path) -> list[str]:
    return [f"{Path(p.where.file).relative_to(root)}:{p.where.line}:{p.where.col}: {p.message}"
            for p in check(root, sounds=root.parent / "sounds").problems]  # fmt: skip


def test_a_clean_tenant_has_no_problems(tmp_path) -> None:
    assert problems(make(tmp_path)) == []


CASES = [
    # (what, how to break it (tenant, flow), expected problem)
    ("unknown node type", None, FLOW.replace("type: hangup", "type: hang_up"),
     "acme/flows/main.yaml:21:11: unexpected value 'hang_up' (expected one of: answer,"),
    ("unknown field", None, FLOW.replace("data: {prompt: hello}", "data: {prompt: hello, loud: true}"),
     "acme/flows/main.yaml:15:27: unknown field 'loud' (expected one of: prompt)"),
    ("unknown top-level tenant field", TENANT + "colour: blue\n", None,
     "acme/tenant.yaml:17:1: unknown field 'colour' (expected one of: access_numbers,"),
    ("missing prompt", None, FLOW.replace("data: {prompt: hello}", "data: {prompt: hallo}"),
     "acme/flows/main.yaml:15:20: unknown prompt 'hallo' (expected one of: hello, menu)"),
    ("missing prompt file", TENANT.replace('hello: {text: "Hello."}', "hello: {file: acme/hello.wav}"), None,
     "acme/tenant.yaml:13:10: prompt file 'acme/hello.wav' not found"),
    ("bad regex", None, FLOW.replace("data: {prompt: hello}\n    children: {_: bye}",
                                     "data: {prompt: hello, variable: acct, regex: '[0-9'}\n    children: {_: bye}")
     .replace("type: play", "type: collect"),
     "acme/flows/main.yaml:15:50: bad regex: unterminated character set at position 0 (expected a PCRE pattern)"),
    ("unreachable node", None, FLOW + "  lost:\n    type: hangup\n",
     "acme/flows/main.yaml:22:3: node 'lost' cannot be reached from the start node 'start'"),
    ("loop with no exit", None, FLOW.replace("children: {_: bye}", "children: {_: again}")
     + "  again:\n    type: play\n    data: {prompt: hello}\n    children: {_: hello}\n",
     "acme/flows/main.yaml:13:3: node 'hello' is in a loop with no exit"),
    ("digit collision", None, FLOW.replace('{"1": hello, "2": support,', '{"1": hello, 1: support,'),
     "acme/flows/main.yaml:12:28: duplicate key '1'"),
    ("two-digit menu branch", None, FLOW.replace('"2": support', '"22": support'),
     "acme/flows/main.yaml:12:28: unknown branch '22' for a menu node (expected: a digit 0-9 * #, invalid, timeout)"),
    ("undefined queue", None, FLOW.replace("data: {queue: support}", "data: {queue: sales}"),
     "acme/flows/main.yaml:19:19: unknown queue 'sales' (expected one of: support)"),
    ("misspelt queue setting", TENANT.replace("support: {}", "support: {max-wait: 30}"), None,
     "acme/tenant.yaml:16:13: unknown field 'max-wait' (expected one of: abandoned-resume-allowed,"),
    ("unknown strategy", TENANT.replace("support: {}", "support: {strategy: longest-idle}"), None,
     "acme/tenant.yaml:16:23: unexpected value 'longest-idle'"),
    ("queue music not a prompt", TENANT.replace("support: {}", "support: {moh-sound: jazz}"), None,
     "acme/tenant.yaml:16:24: moh-sound names unknown prompt 'jazz' (expected one of: hello, menu)"),
    ("undefined flow", None, FLOW.replace("type: hangup", "type: goto\n    data: {flow: other}"),
     "acme/flows/main.yaml:22:18: unknown flow 'other' (expected one of: main)"),
    ("undefined calendar", None, FLOW.replace("calendar: business", "calendar: weekend"),
     "acme/flows/main.yaml:7:22: unknown calendar 'weekend' (expected one of: business)"),
    ("undefined node", None, FLOW.replace("closed: bye", "closed: gone"),
     "acme/flows/main.yaml:8:36: branch 'closed' goes to unknown node 'gone'"),
    ("unparseable time", TENANT.replace('"08:00-20:00"', '"8am-8pm"'), None,
     "acme/tenant.yaml:11:16: unexpected value '8am-8pm' (expected a time range like 08:00-18:30)"),
    ("time going backwards", TENANT.replace('"08:00-20:00"', '"20:00-08:00"'), None,
     "acme/tenant.yaml:11:16: time range '20:00-08:00' does not go forward within a day"),
    ("bad holiday", TENANT.replace("      mon-fri:", "      mon-fri:").replace(
        "prompts:", "    holidays: ['2026-02-30']\nprompts:"), None,
     "acme/tenant.yaml:12:16: '2026-02-30' is not a date (expected YYYY-MM-DD)"),
    ("unknown timezone", TENANT.replace("Asia/Shanghai", "Mars/Olympus"), None,
     "acme/tenant.yaml:4:11: unknown timezone 'Mars/Olympus' (expected an IANA zone like Asia/Shanghai)"),
    ("access number to a missing flow", TENANT.replace('"4000": main', '"4000": mian'), None,
     "acme/tenant.yaml:7:11: access number 4000 starts flow 'mian', which is not defined (expected one of: main)"),
    ("missing required branch", None, FLOW.replace("children: {open: menu, closed: bye}", "children: {open: menu}"),
     "acme/flows/main.yaml:5:3: a time_route node needs a 'closed' branch"),
    ("YAML syntax", None, FLOW.replace("children: {_: hours}", "children: {_: hours"),
     "acme/flows/main.yaml:4:15: the { opened here is not closed (expected '}' after its last item"),
]  # fmt: skip


@pytest.mark.parametrize(("what", "tenant", "flow", "want"), CASES, ids=[c[0] for c in CASES])
def test_each_mistake_is_located(tmp_path, what, tenant, flow, want) -> None:
    root = make(tmp_path, tenant or TENANT, flow or FLOW)
    got = problems(root)
    assert any(line.startswith(want) for line in got), "\n".join(got)


def test_access_number_used_by_two_tenants(tmp_path) -> None:
    root = make(tmp_path)
    other = root / "bank"
    (other / "flows").mkdir(parents=True)
    (other / "tenant.yaml").write_text(TENANT.replace("acme", "bank"))
    (other / "flows" / "main.yaml").write_text(FLOW)
    got = problems(root)
    assert any(
        line.startswith("bank/tenant.yaml:7:11: access number 4000 is already used by tenant 'acme' at ")
        for line in got
    ), got


def test_all_problems_not_just_the_first(tmp_path) -> None:
    broken = FLOW.replace("prompt: hello}", "prompt: nope}").replace("calendar: business", "calendar: nope")
    assert len(problems(make(tmp_path, flow=broken))) >= 2


def test_a_file_that_is_not_utf8_is_a_problem_not_a_crash(tmp_path) -> None:
    root = make(tmp_path)
    (root / "acme" / "flows" / "main.yaml").write_bytes(b"nodes:\n  start: {type: answer}\n  \xff\xfe: x\n")
    assert "acme/flows/main.yaml:3:3: not UTF-8 text (expected a UTF-8 YAML file)" in problems(root)
