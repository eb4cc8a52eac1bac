"""fsapps.escape, judged by the emulator's copies of the switch's parsers.

Every function takes the hostile corpus and hypothesis' text, and what comes
out is read back the way FreeSWITCH reads it: variable expansion
(fsapps.sim.expand, switch_channel.c), argument splitting (fsapps.sim.strings,
switch_utils.c), dial strings (fsapps.sim.dialstring, switch_ivr_originate.c),
the XML preprocessor and parser (fsapps.sim.xmlconf, switch_xml.c). The value
must come back as written (or, for text stored on a channel, as its inert form)
and no API command may run.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from fsapps import escape
from fsapps.escape import Ref, Text, UnsafeValue
from fsapps.sim import dialstring
from fsapps.sim.expand import expand as switch_expand
from fsapps.sim.strings import separate_string
from fsapps.sim.xmlconf import parse_lines, preprocess
from tests.support.hostile import CORPUS

# Text hypothesis makes, weighted towards the characters the parsers care about.
SPECIAL = st.sampled_from([*"${}[]|,^'\"\\=;:_<>-@ \n\r\t%`", "${", "$${", "\\$", "\\\\", ":_:", "-->"])
TEXT = st.one_of(
    st.text(),
    st.lists(st.one_of(SPECIAL, st.text(max_size=3)), max_size=12).map("".join),
    st.sampled_from(CORPUS),
)


class Switch:
    """The channel the expansion reads, counting the API commands it runs."""

    def __init__(self, variables: dict[str, str] | None = None) -> None:
        self.variables = {"x": "X", "uuid": "U", "default_password": "1234", "sounds_dir": "/snd"}
        self.variables.update(variables or {})
        self.api_calls: list[tuple[str, str]] = []

    def lookup(self, name: str, idx: int) -> str | None:
        return self.variables.get(name)

    def api(self, command: str, args: str) -> str | None:
        self.api_calls.append((command, args))
        return "RAN"

    def expand(self, text: str) -> str:
        return switch_expand(text, self.lookup, self.api)


def cleaned(text: str, limit: int = escape.MAX_VALUE) -> str:
    text = text.replace("\x00", "")
    return text.encode("utf-8", "replace").decode("utf-8")[:limit]


# --- the judge itself ------------------------------------------------------------------


def test_the_expansion_copies_the_switchs_quirks():
    sw = Switch({"v": "${system(x)}", "n": "abcdef"})
    assert sw.expand("${x}") == "X"
    assert sw.expand("a ${v} b") == "a RAN b"  # a stored reference runs when referred to
    assert sw.expand("\\${x}") == "${x}"
    assert sw.expand("\\$${x}") == "${x}"  # l.4024: \$$ is one literal $, then text
    assert sw.expand("$$x ${x}") == "$x X"  # $$ not before { keeps one $
    assert sw.expand("it\\'s ${x}") == "its X"  # \' vanishes
    assert sw.expand("a\\\\b ${x}") == "a\\b X"
    assert sw.expand("${x}\\$") == "X\\$"  # the character after } is copied as it is
    assert sw.expand("${n:2}|${n:1:2}|${n:-2}") == "cdef|bc|ef"
    assert sw.expand("${version()}") == "RAN" and sw.api_calls[-1] == ("version", "")
    assert sw.expand("${system touch /tmp/a}") == "RAN" and sw.api_calls[-1] == ("system", "touch /tmp/a")
    assert sw.expand("$\\{x}") == "$\\{x}"
    assert sw.expand("no trigger \\q") == "no trigger \\q"


# --- inert: text stored on a channel ----------------------------------------------------


@pytest.mark.parametrize("text", CORPUS)
def test_corpus_stored_inert_never_runs_and_never_changes(text):
    value = escape.inert(text)
    sw = Switch({"v": value})
    # Referred to, once or through set's second expansion, in any surrounding.
    assert sw.expand("${v}") == value
    assert sw.expand(sw.expand("[${v}]")) == f"[{value}]"
    assert sw.expand("${v}{system(x)}") == value + "{system(x)}"
    assert sw.api_calls == []
    assert escape.is_inert(value)


@settings(max_examples=400)
@given(TEXT, st.text(alphabet=st.characters(blacklist_characters="$"), max_size=20))
def test_inert_is_a_fixed_point_and_nothing_after_it_completes_a_call(text, after):
    value = escape.inert(text)
    sw = Switch({"v": value})
    assert sw.expand(value) == value
    assert sw.expand(sw.expand("${v}" + after)) == sw.expand(value + after)
    assert sw.api_calls == []


@given(st.text(alphabet=st.characters(blacklist_characters="$\\\x00", blacklist_categories=["Cs"])))
def test_inert_text_is_as_written_when_nothing_in_it_is_code(text):
    assert escape.inert(text) == text[: escape.MAX_VALUE]


def test_inert_changes_what_the_switch_itself_would_clean():
    assert escape.inert("${system(ls)}") == "%{system(ls)}"  # as switch_var_clean_string
    assert escape.inert("$${x}") == "$%{x}"
    assert escape.inert("price $") == "price %"
    assert escape.inert("C:\\new\\tab") == "C:\uff3cnew\uff3ctab"
    assert escape.inert("a\x00b") == "ab"
    assert len(escape.inert("x" * 10_000)) == escape.MAX_VALUE


# --- application arguments -------------------------------------------------------------


@pytest.mark.parametrize("text", CORPUS)
def test_corpus_as_an_application_argument_arrives_as_written(text):
    sw = Switch()
    assert sw.expand(escape.app_arg(text)) == cleaned(text, 1 << 20)
    assert sw.api_calls == []


@settings(max_examples=400)
@given(TEXT, TEXT)
def test_text_around_a_reference_arrives_as_written(before, after):
    value = escape.inert(after[::-1])
    sw = Switch({"v": value})
    if before.replace("\x00", "").endswith("$") or after.replace("\x00", "")[:1] in ("$", "{"):
        with pytest.raises(UnsafeValue):
            escape.app_data(Text(before), Ref("v"), Text(after))
        return
    data = escape.app_data(Text(before), Ref("v"), Text(after))
    assert sw.expand(data) == cleaned(before, 1 << 20) + value + cleaned(after, 1 << 20)
    if any(c in before + after for c in "$\\"):
        with pytest.raises(UnsafeValue):
            escape.app_data(Text(before), Ref("v"), Text(after), expansions=2)
    else:
        twice = escape.app_data(Text(before), Ref("v"), Text(after), expansions=2)
        assert sw.expand(sw.expand(twice)) == cleaned(before, 1 << 20) + value + cleaned(after, 1 << 20)
    assert sw.api_calls == []


def test_fsapps_own_syntax_still_expands():
    sw = Switch()
    data = escape.app_data("${sounds_dir}/x.wav ", Text("${system(ls)}"))
    assert sw.expand(data) == "/snd/x.wav ${system(ls)}"
    assert escape.app_data("plain ", Text("text")) == "plain text"  # nothing to escape, nothing added


@settings(max_examples=300)
@given(st.from_regex(r"[a-z_][a-z0-9_]{0,10}", fullmatch=True), TEXT)
def test_set_stores_the_inert_value(name, text):
    # The set application: its argument expanded (switch_core_session.c), split at the first
    # '=', the value expanded again (mod_dptools.c base_set).
    sw = Switch()
    data = sw.expand(escape.set_data(name, text))
    got_name, _, got_value = data.partition("=")
    assert (got_name, sw.expand(got_value)) == (name, escape.inert(text))
    assert sw.api_calls == []


@pytest.mark.parametrize("name", ["", "a b", "a=b", "x}", "${x}", "1abc"])
def test_a_variable_name_that_is_not_one_is_refused(name):
    with pytest.raises(UnsafeValue):
        escape.set_data(name, "v")


# --- dial strings ------------------------------------------------------------------------


@pytest.mark.parametrize("text", CORPUS)
def test_corpus_in_a_dial_string_is_one_value_and_dials_only_the_agent(text):
    dial = escape.dial_string(
        {"origination_caller_id_name": text, "fsapps_queue": "sales"},
        [({"fsapps_agent": text}, "user/1001@acme.example")],
    )
    sw = Switch()
    expanded = sw.expand(dial)  # the bridge application's argument
    parsed = dialstring.parse(expanded)
    assert parsed.enterprise == []
    name = {"origination_caller_id_name": escape.dial_value(text)} if escape.dial_value(text) else {}
    assert parsed.variables == {**name, "fsapps_queue": "sales"}
    agent = {"fsapps_agent": escape.dial_value(text)} if escape.dial_value(text) else {}
    assert [[(leg.endpoint, leg.variables) for leg in group] for group in parsed.groups] == [
        [("user/1001@acme.example", agent)]
    ]
    assert sw.api_calls == []


@settings(max_examples=300)
@given(TEXT, TEXT)
@example("", ":_:_:")  # overlapping separators: the second shares the first's closing ':'
def test_any_text_in_dial_variables_parses_back_whole(a, b):
    dial = escape.dial_string({"a": a, "b": "x"}, [({"c": b}, "user/1"), ({}, "user/2")])
    parsed = dialstring.parse(Switch().expand(dial))
    assert parsed.variables == {**({"a": escape.dial_value(a)} if escape.dial_value(a) else {}), "b": "x"}
    assert [leg.endpoint for leg in parsed.groups[0]] == ["user/1", "user/2"]
    assert parsed.groups[0][0].variables == ({"c": escape.dial_value(b)} if escape.dial_value(b) else {})


@given(st.text(alphabet=st.characters(whitelist_categories=["L", "N", "Zs"], blacklist_characters="\u3000")))
def test_a_plain_name_reaches_the_agent_as_written(name):
    # Blanks at either end go, as switch_separate_string drops them (cleanup_separated_string).
    assert escape.dial_value(name) == name[: escape.MAX_DIAL_VALUE].strip(" ")


def test_a_names_dial_syntax_becomes_full_width():
    assert escape.dial_value("Bob}loopback/9664/default|") == "Bob\uff5dloopback/9664/default\uff5c"
    assert escape.dial_value("Smith, John") == "Smith\uff0c John"
    assert escape.dial_value("${system(ls)}") == "%\uff5bsystem(ls)\uff5d"


@pytest.mark.parametrize(
    "target",
    ["user/1001@acme.example", "sofia/gateway/carrier/075512345678", "sofia/external/agent1@127.0.0.1:5070",
     "loopback/9664/default"],
)
def test_dial_targets_pass(target):
    assert escape.dial_target(target) == target


@pytest.mark.parametrize(
    "target",
    ["", "user/1001|user/1002", "user/1001,user/1002", "{a=b}user/1", "[a=b]user/1", "user/${x}", "user/a b",
     "user", "user/1:_:user/2", "user/1'", "error/x\nInjected: 1"],
)
def test_dial_targets_with_syntax_are_refused(target):
    with pytest.raises(UnsafeValue):
        escape.dial_target(target)


# --- API commands -------------------------------------------------------------------------


@settings(max_examples=300)
@given(TEXT)
def test_an_api_argument_splits_back_whole(text):
    # mod_commands' uuid_setvar: switch_separate_string(cmd, ' ', argv, 3).
    uuid = "0b5c3a4e-1111-4222-8333-944455556666"
    command = escape.setvar_command(uuid, "fsapps_caller_name", text)
    assert "\n" not in command and "\r" not in command  # one Event Socket command line
    _, args = command.split(" ", 1)
    fields = separate_string(args, " ", 3)
    assert fields[:2] == [uuid, "fsapps_caller_name"]
    assert (fields[2] if len(fields) > 2 else "") == escape.inert(text).rstrip(" ") or (
        # switch_separate_string drops trailing blanks of an unquoted last field only
        fields[2] == escape.inert(text)
    )


@settings(max_examples=300)
@given(st.dictionaries(st.from_regex(r"[a-z_]{1,8}", fullmatch=True), TEXT, min_size=1, max_size=4))
def test_setvar_multi_sets_each_value(variables):
    command = escape.setvar_multi_command("0b5c3a4e-1111-4222-8333-944455556666", variables)
    assert "\n" not in command
    _, _, pairs = command.split(" ", 2)
    got = {}
    for field in separate_string(pairs, ";", 64):
        name, _, value = field.partition("=")
        got[name] = value
    assert got == {k: re.sub(r"[\x00-\x1f\x7f]", " ", escape.inert(v)) for k, v in variables.items()}


GATEWAY_NUMBER = "sofia/gateway/carrier/15550100"


@pytest.mark.parametrize("text", CORPUS)
def test_corpus_in_a_dial_out_rings_the_agent_then_bridges_only_the_number(text):
    # mod_commands.c originate_function: switch_separate_string(mycmd, ' ', argv, 10), then
    # an "&app(data)" second argument runs app with the data up to the last ')'.
    command = escape.originate_bridge_command(
        {"origination_caller_id_name": text, "fsapps_agent": "acme1"}, "user/1001@acme.example",
        {"origination_caller_id_number": text, "fsapps_outbound_agent": "acme1"}, GATEWAY_NUMBER,
    )  # fmt: skip
    assert command.startswith("originate ") and "\n" not in command  # one Event Socket line
    args = separate_string(command.removeprefix("originate "), " ", 10)
    assert len(args) == 2, args
    first = dialstring.parse(args[0])
    assert [[leg.endpoint for leg in group] for group in first.groups] == [["user/1001@acme.example"]]
    assert args[1].startswith("&bridge(") and args[1].endswith(")")
    sw = Switch()
    second = dialstring.parse(sw.expand(args[1][len("&bridge(") : -1]))  # the application's data
    assert [[leg.endpoint for leg in group] for group in second.groups] == [[GATEWAY_NUMBER]]
    value = escape.dial_value(text)
    assert second.variables == {**({"origination_caller_id_number": value} if value else {}),
                                "fsapps_outbound_agent": "acme1"}  # fmt: skip
    assert sw.api_calls == []


def test_a_channel_uuid_that_is_not_one_is_refused():
    with pytest.raises(UnsafeValue):
        escape.setvar_command("abc def", "x", "y")


# --- XML ------------------------------------------------------------------------------------


def _preprocessed(text: str, tmp: Path, globals_: dict[str, str]) -> ET.Element:
    lines = preprocess(text, str(tmp / "t.xml"), tmp, globals_)
    return parse_lines(lines)


XML_TEXT = st.text(alphabet=st.characters(blacklist_categories=["Cs", "Cc"]) | st.sampled_from(list("\n\t")))


@pytest.mark.parametrize("text", CORPUS)
def test_corpus_in_an_attribute_and_a_comment_reaches_nobody_but_the_reader(text, tmp_path):
    globals_ = {"default_password": "1234"}
    doc = (
        f"<!-- {escape.xml_comment(text)} -->\n"
        f"<root><action data={escape.xml_attr(text)}/><t>{escape.xml_text(text)}</t></root>\n"
    )
    root = _preprocessed(doc, tmp_path, globals_)
    want = "".join(c if c in "\t\n\r" or c >= " " else " " for c in cleaned(text, 1 << 20))
    assert root.find("action").get("data") == want
    assert root.find("t").text == want
    assert globals_ == {"default_password": "1234"}  # no X-PRE-PROCESS set ran
    assert "1234" not in ET.tostring(root, encoding="unicode")


@settings(max_examples=300)
@given(text=XML_TEXT)
def test_any_text_survives_the_preprocessor_and_the_parser(text, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("x")
    doc = f"<!-- {escape.xml_comment(text)} -->\n<root a={escape.xml_attr(text)}/>\n"
    root = _preprocessed(doc, tmp, {"x": "GLOBAL"})
    assert root.get("a") == text


def _ends_in_a_lone_backslash(text: str) -> bool:
    """An odd run of backslashes at the end: switch_separate_string's escape then steps over
    the terminating NUL and reads and writes the next allocation (switch_utils.c:2774, 2826)."""
    return (len(text) - len(text.rstrip("\\"))) % 2 == 1


SPLIT_CONTEXTS = {
    "api_arg": escape.api_arg,
    "dial_value": escape.dial_value,
    "dial_vars": lambda t: escape.dial_vars({"x": t})[1:-1],
    "setvar_multi": lambda t: escape.setvar_multi_command(
        "1b4e28ba-2fa1-11d2-883f-0016d3cca427", {"x": t, "y": t}
    ).split(" ", 2)[2],
    "inert": escape.inert,
}


@pytest.mark.parametrize("context", sorted(SPLIT_CONTEXTS))
@given(text=st.one_of(st.sampled_from(CORPUS), st.text(), st.text(alphabet="\\a;,' ")))
@example(text="\\")
@example(text="abc\\")
@example(text="a\\\\\\")
@settings(max_examples=300)
def test_nothing_sent_into_a_split_context_ends_in_a_lone_backslash(context: str, text: str) -> None:
    assert not _ends_in_a_lone_backslash(SPLIT_CONTEXTS[context](text))
