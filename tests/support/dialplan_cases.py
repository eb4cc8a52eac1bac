"""XML dialplan cases run on the emulator (integration) and the real switch (acceptance).

Each case is one context; a call to ``dest`` from ``caller`` logs markers
with the ``log`` application, and the case says which markers run, in
order, and how the call ends. Time cases are built around ``now`` so they
hold on a real switch whose clock cannot be set.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class Case:
    name: str
    body: str  # the extensions of the context
    marks: tuple[str, ...]
    cause: str = "NORMAL_CLEARING"
    dest: str = "100"
    caller: str = "1000"
    caller_name: str = "alice"

    @property
    def context(self) -> str:
        return f"t_{self.name}"


def log(text: str, **attrs: str) -> str:
    extra = "".join(f' {k}="{v}"' for k, v in attrs.items())
    return f'<action application="log" data="INFO {text}"{extra}/>'


def _wday(dt: datetime) -> int:
    return (dt.weekday() + 1) % 7 + 1  # FreeSWITCH: 1 = Sunday


def cases(now: datetime) -> list[Case]:
    """``now`` is an aware datetime; the cases hold for calls placed within the next minutes."""
    shanghai = now.astimezone(ZoneInfo("Asia/Shanghai"))
    other_day = _wday(shanghai + timedelta(days=3))
    minute = shanghai.hour * 60 + shanghai.minute + 1
    window = f"{max(minute - 30, 1)}-{min(minute + 60, 1440)}"
    set_tz = '<extension name="tz" continue="true"><condition>' + (
        '<action application="set" data="timezone=Asia/Shanghai" inline="true"/></condition></extension>'
    )
    return [
        Case(
            "captures",
            '<extension name="a"><condition field="destination_number" expression="^(1)(\\d+)$">'
            + log("got $1 and ${2} not $3")
            + log("m ${DP_MATCH}")
            + "</condition></extension>",
            ("INFO got 1 and 00 not ", "INFO m ARRAY::100|:1|:00"),
        ),
        Case(
            "literal_dollar",
            '<extension name="a"><condition field="destination_number" expression="^(100)$"/>'
            '<condition field="caller_id_number" expression="^1000$">'
            + log("[$1]")
            + "</condition></extension>",
            ("INFO [$1]",),
        ),
        Case(
            "continue",
            "".join(
                f'<extension name="{x}"{c}><condition field="destination_number" expression="^100$">'
                + log(x)
                + "</condition></extension>"
                for x, c in (("a", ' continue="true"'), ("b", ""), ("c", ""))
            ),
            ("INFO a", "INFO b"),
        ),
        Case(
            "kept_actions",
            '<extension name="a"><condition field="destination_number" expression="^100$">'
            + log("a1")
            + '</condition><condition field="caller_id_number" expression="^999$">'
            + log("a2")
            + '</condition></extension><extension name="b"><condition field="destination_number" '
            'expression="^100$">' + log("b") + "</condition></extension>",
            ("INFO a1", "INFO b"),
        ),
        Case(
            "anti_action",
            '<extension name="a"><condition field="caller_id_number" expression="^999$">'
            + log("yes")
            + '<anti-action application="log" data="INFO anti $1"/></condition></extension>'
            '<extension name="b"><condition field="destination_number" expression="^100$">'
            + log("b")
            + "</condition></extension>",
            ("INFO anti $1",),
        ),
        Case(
            "breaks",
            '<extension name="a"><condition field="caller_id_number" expression="^999$" break="never">'
            + log("no")
            + '</condition><condition field="destination_number" expression="^100$" break="on-true">'
            + log("yes")
            + '</condition><condition field="destination_number" expression="^100$">'
            + log("after")
            + "</condition></extension>",
            ("INFO yes",),
        ),
        Case(
            "nested",
            '<extension name="a"><condition field="destination_number" expression="^100$">'
            + log("parent")
            + '<condition field="caller_id_number" expression="^999$">'
            + log("child")
            + "</condition></condition></extension>"
            '<extension name="b"><condition field="destination_number" expression="^100$" '
            'require-nested="false">'
            + log("b parent")
            + '<condition field="caller_id_number" expression="^999$">'
            + log("b child")
            + "</condition></condition></extension>"
            '<extension name="c"><condition>' + log("c") + "</condition></extension>",
            ("INFO parent", "INFO b parent"),
        ),
        Case(
            "time_or_field",
            set_tz + f'<extension name="a"><condition field="caller_id_number" expression="^999$" '
            f'wday="{_wday(shanghai)}">'
            + log("a")
            + '</condition></extension><extension name="b"><condition field="destination_number" '
            'expression="^100$">' + log("b") + "</condition></extension>",
            ("INFO a", "INFO b"),
        ),
        Case(
            "timezone",
            set_tz
            + f'<extension name="open"><condition wday="{_wday(shanghai)}" minute-of-day="{window}">'
            + log("open")
            + f'</condition></extension><extension name="other"><condition wday="{other_day}">'
            + log("other day")
            + '</condition></extension><extension name="closed"><condition>'
            + log("closed")
            + "</condition></extension>",
            ("INFO open",),
        ),
        Case(
            "inline",
            '<extension name="a" continue="true"><condition>'
            '<action application="set" data="foo=bar" inline="true"/>'
            '<action application="answer" inline="true"/></condition></extension>'
            '<extension name="b"><condition field="${foo}" expression="^bar$">'
            + log("seen ${foo}")
            + "</condition></extension>",
            ("INFO seen bar",),
        ),
        Case(
            "matched_without_actions",
            '<extension name="a"><condition field="destination_number" expression="^100$"/></extension>'
            '<extension name="b"><condition>' + log("b") + "</condition></extension>",
            (),
            "NO_ROUTE_DESTINATION",
        ),
        Case(
            "nothing_matches",
            '<extension name="a"><condition field="destination_number" expression="^200$">'
            + log("a")
            + "</condition></extension>",
            (),
            "NO_ROUTE_DESTINATION",
        ),
        Case(
            "inline_only",
            '<extension name="a"><condition><action application="set" data="x=1" inline="true"/>'
            "</condition></extension>",
            (),
        ),
        *(
            Case(
                f"regex_{rule}{'_other' if caller != '1000' else ''}",
                f'<extension name="a"><condition regex="{rule}">'
                '<regex field="destination_number" expression="^(1)00$"/>'
                '<regex field="caller_id_number" expression="^1000$"/>'
                + log("hit $1")
                + '<anti-action application="log" data="INFO miss"/></condition></extension>',
                want,
                caller=caller,
            )
            for rule, caller, want in (
                ("any", "1000", ("INFO hit 1",)),
                ("xor", "1000", ("INFO miss",)),
                ("all", "2000", ("INFO miss",)),
            )
        ),
        Case(
            "escaped_quote",
            '<extension name="a"><condition>' + log("it\\'s") + log("next") + "</condition></extension>",
            ("INFO next",),
        ),
        Case(
            "loop_and_flags",
            '<extension name="a"><condition field="caller_id_name" expression="/^ALICE$/i">'
            + log("x", loop="2")
            + "</condition></extension>",
            ("INFO x", "INFO x"),
        ),
        Case(
            "asterisk_pattern",
            '<extension name="a"><condition field="destination_number" expression="_1XX">'
            + log("three")
            + "</condition></extension>",
            ("INFO three",),
        ),
    ]


def context_xml(case: Case) -> str:
    return f'<include>\n<context name="{case.context}">\n{case.body}\n</context>\n</include>\n'
