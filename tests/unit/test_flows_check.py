"""fsapps check: each kind of mistake, reported at its file:line:col with what was expected."""

from __future__ import annotations

import re
import textwrap
import tracemalloc
from pathlib import Path

import pytest

from fsapps.flows.check import check
from fsapps.flows.model import Roster

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

HELLO = "type: play\n    data: {prompt: hello}\n    children: {_: bye}"

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
    # --- tenant walls ---
    ("set writes fsapps_tenant", None, FLOW.replace(HELLO, "type: set\n    data: {variables: {fsapps_tenant: bank}}\n    children: {_: bye}"),
     "acme/flows/main.yaml:15:24: fsapps_tenant is fsapps' own variable (expected another name; flows may set only"),
    ("set writes a variable the switch runs, in any case", None,
     FLOW.replace(HELLO, "type: set\n    data: {variables: {Execute_On_Answer: 'system rm -rf /'}}\n    children: {_: bye}"),
     "acme/flows/main.yaml:15:24: Execute_On_Answer makes the switch run what it holds (expected another name)"),
    ("set writes a hangup hook", None,
     FLOW.replace(HELLO, "type: set\n    data: {variables: {api_hangup_hook: 'system x'}}\n    children: {_: bye}"),
     "acme/flows/main.yaml:15:24: api_hangup_hook makes the switch run what it holds"),
    ("set writes a call-record field", None,
     FLOW.replace(HELLO, "type: set\n    data: {variables: {billsec: 0}}\n    children: {_: bye}"),
     "acme/flows/main.yaml:15:24: billsec is set by FreeSWITCH and read into the call records"),
    ("set value runs an API command", None,
     FLOW.replace(HELLO, "type: set\n    data: {variables: {note: '${system(touch /tmp/x)}'}}\n    children: {_: bye}"),
     "acme/flows/main.yaml:15:30: ${system(touch /tmp/x)} runs a command on the switch (expected only ${name} of a variable)"),
    ("say value runs an API command (a space is enough)", None,
     FLOW.replace(HELLO, "type: say\n    data: {type: number, value: '${system id}'}\n    children: {_: bye}"),
     "acme/flows/main.yaml:15:33: ${system id} runs a command on the switch"),
    ("set value reads a switch global", None,
     FLOW.replace(HELLO, "type: set\n    data: {variables: {pw: '$${default_password}'}}\n    children: {_: bye}"),
     "acme/flows/main.yaml:15:28: $${default_password} reads the switch's global settings"),
    ("set value a set cannot carry: a dollar sign", None,
     FLOW.replace(HELLO, "type: set\n    data: {variables: {price: 'costs $5'}}\n    children: {_: bye}"),
     "acme/flows/main.yaml:15:31: text expanded twice (set) cannot hold '$' or '\\' next to references (expected text and ${name} of variables; a set value expands twice)"),
    ("set value a set cannot carry: a literal dollar before a reference", None,
     FLOW.replace(HELLO, "type: set\n    data: {variables: {price: '$${amount}'}, export: true}\n    children: {_: bye}"),
     "acme/flows/main.yaml:15:31: $${amount} reads the switch's global settings"),
    ("set copies a caller field the switch does not clean", None,
     FLOW.replace(HELLO, "type: set\n    data: {variables: {note: 'caller ${caller_id_name}'}}\n    children: {_: bye}"),
     "acme/flows/main.yaml:15:30: ${caller_id_name} is not a variable this tenant's flows store"),
    ("say reads a switch global with a plain reference", None,
     FLOW.replace(HELLO, "type: say\n    data: {type: digits, value: '${recordings_dir}'}\n    children: {_: bye}"),
     "acme/flows/main.yaml:15:33: ${recordings_dir} is not a variable this tenant's flows store"),
    ("export text ending in a dollar sign", None,
     FLOW.replace(HELLO, "type: set\n    data: {variables: {a: 'x$'}, export: true}\n    children: {_: bye}"),
     "acme/flows/main.yaml:15:27: text expanded twice (set) cannot hold '$' or '\\' next to references"),
    ("a brace right after a reference", None,
     FLOW.replace(HELLO, "type: set\n    data: {variables: {a: x, b: '${a}{hupall(MANAGER_REQUEST)}'}}\n    children: {_: bye}"),
     "acme/flows/main.yaml:15:33: a literal '$' or '{' cannot follow a ${reference}"),
    ("a NUL hides a reference", None,
     FLOW.replace(HELLO, 'type: say\n    data: {type: digits, value: "$\\0{hupall(MANAGER_REQUEST)}"}\n    children: {_: bye}'),
     "acme/flows/main.yaml:15:33: a control character in a value the switch reads"),
    ("collect regex names a variable (conditions expand it)", None,
     FLOW.replace(HELLO, "type: collect\n    data: {prompt: hello, variable: acct, regex: '^1$|${hupall(MANAGER_REQUEST)}'}\n    children: {_: bye}"),
     "acme/flows/main.yaml:15:50: ${hupall(MANAGER_REQUEST)} runs a command on the switch"),
    ("export to the agent's leg with _nolocal_", None,
     FLOW.replace(HELLO, "type: set\n    data: {variables: {_nolocal_execute_on_answer: 'system x'}, export: true}\n    children: {_: bye}"),
     "acme/flows/main.yaml:15:24: _nolocal_execute_on_answer makes the switch run what it holds"),
    ("export_vars rewritten", None,
     FLOW.replace(HELLO, "type: set\n    data: {variables: {export_vars: 'execute_on_answer'}}\n    children: {_: bye}"),
     "acme/flows/main.yaml:15:24: export_vars is read by the switch or fsapps with a meaning of its own"),
    ("recordings_dir shadowed", None,
     FLOW.replace(HELLO, "type: set\n    data: {variables: {recordings_dir: /tmp/x}}\n    children: {_: bye}"),
     "acme/flows/main.yaml:15:24: recordings_dir is read by the switch or fsapps with a meaning of its own"),
    ("uuid set by a flow", None,
     FLOW.replace(HELLO, "type: set\n    data: {variables: {uuid: 0123456789abcdef}}\n    children: {_: bye}"),
     "acme/flows/main.yaml:15:24: uuid is read by the switch or fsapps with a meaning of its own"),
    ("collect into a reserved variable", None,
     FLOW.replace(HELLO, "type: collect\n    data: {prompt: hello, variable: fsapps_queue}\n    children: {_: bye}"),
     "acme/flows/main.yaml:15:37: fsapps_queue is fsapps' own variable"),
    ("lookup field into a reserved variable", None,
     FLOW.replace(HELLO, "type: lookup\n    data: {source: {table: t}, key: caller_id, fields: [tenant], prefix: fsapps_}\n"
                         "    children: {found: bye, not_found: bye}"),
     "acme/flows/main.yaml:15:57: field 'tenant' with prefix 'fsapps_': fsapps_tenant is fsapps' own variable"),
    ("transfer into another tenant's context", None,
     FLOW.replace(HELLO, "type: transfer\n    data: {extension: fx__main__start, context: fsapps_bank}"),
     "acme/flows/main.yaml:15:49: context 'fsapps_bank' is not this tenant's (expected fsapps_acme or none)"),
    ("recording outside the tenant's directory", TENANT.replace("support: {}", "support: {record-template: '/tmp/${uuid}.wav'}"), None,
     "acme/tenant.yaml:16:30: a recording path outside $${recordings_dir}/acme/ (expected a file under it"),
    ("recording in another tenant's directory", TENANT.replace("support: {}", "support: {record-template: '$${recordings_dir}/bank/${uuid}.wav'}"), None,
     "acme/tenant.yaml:16:30: a recording path outside $${recordings_dir}/acme/"),
    ("recording path climbing out with ..", TENANT.replace("support: {}", "support: {record-template: '$${recordings_dir}/acme/../bank/${uuid}.wav'}"), None,
     "acme/tenant.yaml:16:30: a recording path outside $${recordings_dir}/acme/"),
    ("recording path running a command", TENANT.replace("support: {}", "support: {record-template: '$${recordings_dir}/acme/${system(id)}.wav'}"), None,
     "acme/tenant.yaml:16:30: a recording path may hold letters, digits, . _ - /, ${uuid} and ${strftime(<format>)} only"),
    ("recording path with a spaced strftime", TENANT.replace("support: {}", "support: {record-template: '$${recordings_dir}/acme/${strftime(%Y %m)}.wav'}"), None,
     "acme/tenant.yaml:16:30: a recording path may hold"),
    ("lookup URL on a host the operator did not list", None,
     FLOW.replace(HELLO, "type: lookup\n    data: {source: {url: 'http://10.0.0.5/customers'}, key: caller_id, fields: [name]}\n"
                         "    children: {found: bye, not_found: bye}"),
     "acme/flows/main.yaml:15:26: lookup host 10.0.0.5:80 is not in operator.yaml's lookup_hosts (expected it listed there; none are)"),
    ("prompt text runs an API command", TENANT.replace('"Hello."', '"Hello ${system(id)}"'), None,
     "acme/tenant.yaml:13:10: ${system(id)} runs a command on the switch"),
    ("prompt file outside the sounds", TENANT.replace('hello: {text: "Hello."}', "hello: {file: ../../../etc/passwd}"), None,
     "acme/tenant.yaml:13:10: prompt file '../../../etc/passwd' is outside sounds/en/ (expected a path under it, like acme/hello.wav)"),
    # --- slips check used to let through ---
    ("empty tenant.yaml", "", None, "acme/tenant.yaml:1:1: an empty tenant.yaml (expected id, name, domain, timezone, language)"),
    ("empty flow file", None, "", "acme/flows/main.yaml:1:1: an empty flow file (expected nodes: with at least one node)"),
    ("comment-only flow file", None, "# the main menu, to do\n", "acme/flows/main.yaml:1:1: an empty flow file"),
    ("unquoted access number with a leading 0", TENANT.replace('"4000": main', "02164321234: main"), None,
     'acme/tenant.yaml:7:3: YAML reads the unquoted key 02164321234 as the octal number 298951324 (expected it in quotes: "02164321234")'),
    ("unquoted access number with a leading +", TENANT.replace('"4000": main', "+8613800000000: main"), None,
     'acme/tenant.yaml:7:3: YAML reads the unquoted key +8613800000000 as the number 8613800000000 (expected it in quotes: "+8613800000000")'),
    ("unquoted transfer number with a leading 0", None,
     FLOW.replace(HELLO, "type: transfer\n    data: {number: 02164321234, gateway: carrier}"),
     'acme/flows/main.yaml:15:20: YAML reads the unquoted 02164321234 as the octal number 298951324 (expected it in quotes: "02164321234")'),
    ("unquoted callback key", TENANT.replace("support: {}", "support: {callback-key: 1}"), None,
     'acme/tenant.yaml:16:27: YAML reads the unquoted 1 as the number 1 (expected it in quotes: "1")'),
    ("collect regex shorter than min", None,
     FLOW.replace(HELLO, "type: collect\n    data: {prompt: hello, variable: acct, regex: '^\\d{4}$', min: 6, max: 8}\n    children: {_: bye}"),
     "acme/flows/main.yaml:15:50: regex '^\\d{4}$' accepts no entry of 6 to 8 digits, the min and max (expected them to allow what it accepts: 4 digits)"),
    ("collect regex of alternatives outside min..max", None,
     FLOW.replace(HELLO, "type: collect\n    data: {prompt: hello, variable: acct, regex: '^(\\d{4}|\\d{9})$', min: 5, max: 8}\n    children: {_: bye}"),
     "acme/flows/main.yaml:15:50: regex '^(\\d{4}|\\d{9})$' accepts no entry of 5 to 8 digits, the min and max (expected them to allow what it accepts: 4 or 9 digits)"),
    ("bad prompt name, at its own line", TENANT.replace('  menu: {text: "Press 1 or 2."}', '  menu: {text: "Press 1 or 2."}\n  "bad name": {text: x}'), None,
     "acme/tenant.yaml:15:3: name 'bad name' is not allowed here (expected letters, digits and _ . -)"),
    ("bad node name, at its own line", None, FLOW + "  Bad-Name:\n    type: hangup\n",
     "acme/flows/main.yaml:22:3: name 'Bad-Name' is not allowed here (expected lowercase letters, digits and _)"),
    ("full-width colon", TENANT.replace("name: Acme", "name\uff1a Acme"), None,
     "acme/tenant.yaml:2:5: a full-width colon \uff1a after 'name' (expected ':' followed by a space, as in 'name: ...')"),
    ("no space after a colon", None, FLOW.replace("type: answer", "type:answer"),
     "acme/flows/main.yaml:3:9: no space after ':' (expected ':' followed by a space, as in 'type: answer')"),
    ("tab in the indentation", None, FLOW.replace("    type: answer", "\ttype: answer"),
     "acme/flows/main.yaml:3:1: a tab in the indentation (expected spaces: YAML does not indent with tabs)"),
    ("tab before a key of a block mapping", None, FLOW.replace("    children: {_: hours}", "\tchildren: {_: hours}"),
     "acme/flows/main.yaml:4:1: a tab in the indentation (expected spaces"),
    ("unclosed quote", TENANT.replace('{text: "Hello."}', '{text: "Hello.}'), None,
     "acme/tenant.yaml:13:17: the quote \" opened here is not closed"),
    ("unquoted date shown as written", TENANT.replace("prompts:", "    holidays: [2026-10-01]\nprompts:"), None,
     'acme/tenant.yaml:12:16: YAML reads the unquoted 2026-10-01 as a date (expected it in quotes: "2026-10-01")'),
    ("empty value shown as none", None, FLOW.replace("type: hangup", "type: hangup\n    data: {cause: }"),
     "acme/flows/main.yaml:22:19: no value (expected one of: "),
    ("list shown as YAML", None, FLOW.replace("type: hangup", "type: hangup\n    data: {cause: [USER_BUSY, 2026-10-01, ~]}"),
     "acme/flows/main.yaml:22:19: unexpected value ['USER_BUSY', 2026-10-01, null] (expected one of: "),
    ("pattern shown in words", None, FLOW.replace(HELLO, "type: set\n    data: {variables: {my-var: x}}\n    children: {_: bye}"),
     "acme/flows/main.yaml:15:24: name 'my-var' is not allowed here (expected a variable name: letters, digits and _, not starting with a digit)"),
    # A tier is an id or a mapping: a mapping's mistake is said about the mapping, not "does not fit".
    ("tier level 0", TENANT.replace("support: {}", "support: {tiers: [bob, {agent: ann, level: 0}]}"), None,
     "acme/tenant.yaml:16:46: 0 is out of range (expected a number from 1)"),
    ("tier with an unknown field", TENANT.replace("support: {}", "support: {tiers: [{agent: ann, levle: 2}]}"), None,
     "acme/tenant.yaml:16:34: unknown field 'levle' (expected one of: agent, level, position)"),
]  # fmt: skip


@pytest.mark.parametrize(("what", "tenant", "flow", "want"), CASES, ids=[c[0] for c in CASES])
def test_each_mistake_is_located(tmp_path, what, tenant, flow, want) -> None:
    root = make(tmp_path, TENANT if tenant is None else tenant, FLOW if flow is None else flow)
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


def test_messages_show_yaml_not_python(tmp_path) -> None:
    """No row's messages hold a Python repr: a date object, None, doubled backslashes, a bare regex."""
    for i, (_, tenant, flow, _) in enumerate(CASES):
        root = make(tmp_path / str(i), TENANT if tenant is None else tenant, FLOW if flow is None else flow)
        for line in problems(root):
            assert not re.search(r"datetime\.|\bNone\b|\\\\|a value matching", line), line


WALLED = """\
nodes:
  start:
    type: answer
    children: {_: find}
  find:
    type: lookup
    data: {source: {url: "http://orders.acme.example:8080/find"}, key: caller_id,
           fields: [account_manager], prefix: fsapps_}
    children: {found: mark, not_found: mark, fallback: mark}
  mark:
    type: set
    data: {variables: {fsapps_private_agent: alice, acme_note: "${fsapps_account_manager} at desk"}}
    children: {_: order}
  order:
    type: collect
    data: {prompt: hello, variable: acme_order, regex: '^\\d{8,10}$', min: 8, max: 10}
    children: {_: say}
  say:
    type: say
    data: {type: digits, value: "${acme_order} from ${caller_id_number}"}
    children: {_: out}
  out:
    type: transfer
    data: {extension: fx__main__start, context: fsapps_acme}
"""


def test_what_the_walls_allow_passes(tmp_path) -> None:
    """The sticky-routing variables, ${name} references to what the flows store (and, in a say
    value, the caller's own fields), the tenant's own context and
    recordings, a listed lookup host, a regex that fits min..max: no problems."""
    tenant = TENANT.replace(
        "support: {}",
        "support: {record-template: '$${recordings_dir}/acme/${strftime(%Y-%m-%d)}/${uuid}.wav'}",
    )
    root = make(tmp_path, tenant, WALLED, {"operator.yaml": "lookup_hosts: [orders.acme.example:8080]\n"})
    assert problems(root) == []


def test_a_lookup_host_listed_for_another_port_is_refused(tmp_path) -> None:
    root = make(tmp_path, flow=WALLED, extra={"operator.yaml": "lookup_hosts: [orders.acme.example:443]\n"})
    assert problems(root) == [
        "acme/flows/main.yaml:7:26: lookup host orders.acme.example:8080 is not in operator.yaml's lookup_hosts"
        " (expected one of: orders.acme.example:443)"
    ]


def second_tenant(root: Path, tenant_id: str, text: str) -> None:
    (root / tenant_id / "flows").mkdir(parents=True)
    (root / tenant_id / "tenant.yaml").write_text(text)
    (root / tenant_id / "flows" / "main.yaml").write_text(FLOW)


def test_a_domain_used_by_two_tenants(tmp_path) -> None:
    root = make(tmp_path)
    second_tenant(root, "bank", TENANT.replace("id: acme", "id: bank").replace('"4000"', '"4001"'))
    got = problems(root)
    assert any(
        line.startswith("bank/tenant.yaml:3:9: domain acme.example is already used by tenant 'acme' at ")
        and line.endswith("(expected each domain in one tenant)")
        for line in got
    ), got


ROSTER = Roster(
    agents={"alice": frozenset({"acme"}), "bob": frozenset({"bank"}), "carol": frozenset({"acme", "bank"})},
    domains={"acme.example": "acme", "bank.example": "bank"},
)


def test_tiers_of_agents_who_do_not_serve_the_tenant(tmp_path) -> None:
    tenant = TENANT.replace("support: {}", "support: {tiers: [alice, {agent: bob, level: 2}, carol, dave]}")
    got = [
        f"{Path(p.where.file).relative_to(root)}:{p.where.line}:{p.where.col}: {p.message}"
        for root in [make(tmp_path, tenant)]
        for p in check(root, sounds=root.parent / "sounds", roster=ROSTER).problems
    ]
    assert got == [
        "acme/tenant.yaml:16:36: agent 'bob' does not serve tenant 'acme' (expected one of: alice, carol)",
        "acme/tenant.yaml:16:59: no agent 'dave' in the roster (expected one of: alice, carol)",
    ]


def test_a_private_agent_who_does_not_serve_the_tenant(tmp_path) -> None:
    flow = FLOW.replace(
        HELLO, "type: set\n    data: {variables: {fsapps_private_agent: bob}}\n    children: {_: bye}"
    )
    root = make(tmp_path, flow=flow)
    assert [str(p).removeprefix(f"{root}/") for p in check(root, roster=ROSTER).problems] == [
        "acme/flows/main.yaml:15:46: agent 'bob' does not serve tenant 'acme' (expected one of: alice, carol)"
    ]


def test_without_a_roster_tiers_go_unchecked_and_check_says_so_once(tmp_path) -> None:
    tenant = TENANT.replace("support: {}", "support: {tiers: [bob]}")
    project = check(make(tmp_path, tenant))
    assert [p for p in project.problems if "bob" in p.message] == []
    assert len(project.notes) == 1 and "tiers were not checked" in project.notes[0]
    assert check(make(tmp_path / "with", tenant), roster=ROSTER).notes == []


def test_a_domain_another_tenant_owns_in_the_database(tmp_path) -> None:
    root = make(tmp_path, TENANT.replace("domain: acme.example", "domain: Bank.Example"))
    got = [str(p) for p in check(root, sounds=root.parent / "sounds", roster=ROSTER).problems]
    assert got == [
        f"{root}/acme/tenant.yaml:3:9: domain Bank.Example belongs to tenant 'bank' in the database"
        " (expected a domain of this tenant's own)"
    ]


BOMB = "".join(
    f"  l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 9 if i else ['"lol"'] * 9) + "]\n" for i in range(10)
)


def test_nested_aliases_are_refused_before_they_expand(tmp_path) -> None:
    """A billion laughs: 1.5 KB whose aliases expand to 9**9 strings. Refused at the first
    alias, and nothing of that size is built (its memory would be gigabytes)."""
    tenant = TENANT + "calendars_x:\n" + BOMB
    assert len(tenant.encode()) < 1600
    root = make(tmp_path, tenant)
    tracemalloc.start()
    try:
        got = problems(root)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert got == [
        "acme/tenant.yaml:19:12: an alias *l0 (expected the value written out: "
        "fsapps files take no YAML anchors and aliases)"
    ]
    assert peak < 20 * 1024 * 1024, peak
