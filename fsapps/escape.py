"""Every value that crosses into FreeSWITCH, one function per context.

Callers' IDs and digits, lookup results, tenants' YAML and API input are
text. The switch would otherwise run some of it: it expands ``${...}`` (API
calls included) and ``$${...}`` in application arguments and in variable
values each time something refers to them, splits dial strings on ``{}``,
``[]``, ``,`` and ``|``, splits API arguments on blanks and quotes, and its
XML preprocessor fills in ``$${...}`` and runs ``<X-PRE-PROCESS>`` anywhere
in a file, comments included. Nothing else in fsapps builds such strings;
each function below states its rule and the source it follows, and
tests/unit/test_escape.py pushes the hostile-string corpus
(tests/support/hostile.py) through every one of them and through the
emulator's copy of the switch's parsers (fsapps.sim.expand, fsapps.sim.strings).

The one idea underneath: text from outside is stored on a channel in
**inert** form, which no expansion changes (switch_channel.c:4003 returns
such text untouched), so a variable holding it can be referred to any
number of times. Inert is the text as written except for what the switch
would treat as code: a ``$`` opening ``{`` becomes ``%`` (what the switch
itself does to caller IDs, switch_caller.h:61 profile_dup_clean ->
switch_var_clean_string, switch_utils.h:803), a ``$`` at the very end too
(so that no text after the value can complete a reference), a backslash
that would start an escape becomes U+FF3C, the full-width backslash, NUL and unpaired
surrogates go, and the length is bounded.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from xml.sax.saxutils import quoteattr

MAX_VALUE = 4096  # characters of one variable's value from outside
MAX_DIAL_VALUE = 256  # of a value inside a dial string (a caller's name, a screen-pop field)

VARIABLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")
# A dial target: an endpoint and its address, nothing the originate parser reads as syntax.
DIAL_TARGET = re.compile(r"(?!.*:_:)[A-Za-z0-9_]+/[^\s{}\[\]<>|,'\"^\\$`;&]+")
# A plain ``${name}`` reference, for the places that fill one in themselves (mod_python3's
# streamFile does not expand its path).
VARIABLE_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_.-]*)\}")
UUID = re.compile(r"[0-9a-fA-F-]{1,64}")

FULLWIDTH = str.maketrans({c: chr(ord(c) + 0xFEE0) for c in "{}[]<>|,'\"^\\"})
_REFERENCE_DOLLAR = re.compile(r"\$(?=\\*(?:\{|\Z))")
_ESCAPE_BACKSLASH = re.compile(r"\\(?=[\\nst'])")
# In inert text a backslash at the very end goes too: text after the value could complete it.
_LOOSE_BACKSLASH = re.compile(r"\\(?=[\\nst']|\Z)")
_NEEDS_QUOTES = re.compile(r"[\s'\\]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class UnsafeValue(ValueError):
    """A value that cannot be made safe in its context (a malformed name or dial target)."""


# --- text from outside, stored -----------------------------------------------------


def _clean(text: str, limit: int) -> str:
    text = text.replace("\x00", "")
    # Lone surrogates (bytes that were not UTF-8) cannot be sent: the replacement character.
    text = text.encode("utf-8", "replace").decode("utf-8") if _has_surrogates(text) else text
    return text[:limit]


def _has_surrogates(text: str) -> bool:
    return any("\ud800" <= c <= "\udfff" for c in text)


def inert(text: str, limit: int = MAX_VALUE) -> str:
    """Outside text as it may be stored on a channel: unchanged by any number of expansions.

    switch_channel_expand_variables returns its input untouched when it holds no
    ``$``...``{`` and no escaped data (switch_channel.c:4003, switch_utils.h:383, 784).
    """
    text = _clean(text, limit)
    text = _REFERENCE_DOLLAR.sub("%", text)
    return _LOOSE_BACKSLASH.sub("\uff3c", text)


def is_inert(text: str) -> bool:
    return not (_REFERENCE_DOLLAR.search(text) or _LOOSE_BACKSLASH.search(text) or "\x00" in text)


def variable_name(name: str) -> str:
    """A channel variable's name as fsapps writes it: letters, digits, ``_ . -``."""
    if not VARIABLE_NAME.fullmatch(name):
        raise UnsafeValue(f"not a channel variable name: {name!r}")
    return name


# --- application arguments ----------------------------------------------------------


@dataclass(frozen=True)
class Text:
    """A piece of an application argument that must arrive as written."""

    value: str


@dataclass(frozen=True)
class Ref:
    """``${name}``: a reference the switch fills in from the channel."""

    name: str


Part = str | Text | Ref


def var_check_const(s: str) -> bool:
    """switch_string_var_check_const (switch_utils.h:784): a ``$`` then backslashes and ``{``."""
    dol = False
    for ch in s:
        if ch == "$":
            dol = True
        elif dol:
            if ch == "{":
                return True
            if ch != "\\":
                dol = False
    return False


def has_escaped_data(s: str) -> bool:
    """switch_string_has_escaped_data (switch_utils.h:383): a backslash before ``\\ n s t '``."""
    return _ESCAPE_BACKSLASH.search(s) is not None


def needs_expansion(text: str) -> bool:
    """Whether switch_channel_expand_variables looks at ``text`` at all (switch_channel.c:4003)."""
    return var_check_const(text) or has_escaped_data(text)


def _escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("$", "\\$")


def app_data(*parts: Part, expansions: int = 1) -> str:
    """An application's argument built from fsapps' own syntax (``str``, trusted), text
    that must arrive as written (``Text``) and variable references (``Ref``).

    The switch expands the whole argument once when the application runs
    (switch_core_session.c:2867); ``set`` expands its value once more (mod_dptools.c
    base_set), so pass ``expansions=2`` there. Expansion runs over the whole string or
    not at all (switch_channel.c:4003), so whether Text needs escaping depends on every
    part: escaped, ``\\`` and ``$`` come back as written (l.4021-4034).

    FreeSWITCH's syntax has no way to write a literal ``$`` right before ``${name}``
    (``\\$${`` reads as ``$${`` text, l.4024): such a Text ends in ``%`` instead.
    """
    # Cleaned first: a NUL between "$" and "{" would hide a reference from the checks below.
    parts = tuple(Text(_clean(p.value, 1 << 20)) if isinstance(p, Text) else p for p in parts)
    for i, part in enumerate(parts):
        before = parts[i - 1] if i else None
        if isinstance(part, Ref):
            variable_name(part.name)
            if isinstance(before, Text) and before.value.endswith("$"):
                raise UnsafeValue("a literal '$' cannot precede a ${reference} in FreeSWITCH's syntax")
        elif isinstance(part, Text) and isinstance(before, Ref) and part.value[:1] in ("$", "{"):
            # The character after a reference's '}' is read again as a possible reference
            # (switch_channel.c:4258-4262), and no escape applies to it; a '{' would complete
            # a reference with a value that ends in '$'.
            raise UnsafeValue("a literal '$' or '{' cannot follow a ${reference} in FreeSWITCH's syntax")
        if expansions > 1 and isinstance(part, Text) and ("$" in part.value or "\\" in part.value):
            raise UnsafeValue("text expanded twice (set) cannot hold '$' or '\\' next to references")
    cleaned = list(parts)
    plain = "".join(_plain(p) for p in cleaned)
    if not needs_expansion(plain):
        return plain
    out = []
    for i, p in enumerate(cleaned):
        if isinstance(p, Text):
            value = p.value
            for _ in range(expansions):
                value = _escaped(value)
            if i and isinstance(cleaned[i - 1], Ref) and value.startswith("\\\\"):
                value = value[1:]  # the character after '}' is copied as it is (l.4264)
            out.append(value)
        else:
            out.append(_plain(p))
    return "".join(out)


def _plain(part: Part) -> str:
    if isinstance(part, Text):
        return part.value
    if isinstance(part, Ref):
        return "${" + part.name + "}"
    return part


def app_arg(text: str) -> str:
    """Text as a whole application argument, arriving as written after the switch's expansion."""
    return app_data(Text(text))


def app_args(*fields: Part | Sequence[Part]) -> str:
    """Blank-separated arguments (play_and_get_digits, say): each field quoted for
    switch_separate_string when it holds a blank, a quote or a backslash (switch_utils.c:
    quotes group, a backslash escapes), the whole then as app_data builds it: the switch
    expands first and splits after."""
    parts: list[Part] = []
    for i, field in enumerate(fields):
        if i:
            parts.append(" ")
        parts += _quoted_field([field] if isinstance(field, str | Text | Ref) else list(field))
    return app_data(*parts)


def _quoted_field(parts: list[Part]) -> list[Part]:
    plain = "".join(_plain(p) for p in parts)
    if plain and not _NEEDS_QUOTES.search(plain) and not any(isinstance(p, Ref) for p in parts):
        return parts
    out: list[Part] = ["'"]
    for p in parts:
        if isinstance(p, Text):
            out.append(Text(p.value.replace("\\", "\\\\").replace("'", "\\'")))
        elif isinstance(p, str) and _NEEDS_QUOTES.search(p.replace(" ", "")):
            raise UnsafeValue(f"fsapps' own argument {p!r} holds a quote or a backslash")
        else:
            out.append(p)
    out.append("'")
    return out


def template(text: str) -> list[Part]:
    """A tenant's value that may name channel variables: ``${name}`` parts are references,
    everything else (API calls, ``$${globals}``) is text that arrives as written."""
    parts: list[Part] = []
    at = 0
    for m in VARIABLE_REF.finditer(text):
        if m.start() > at:
            parts.append(Text(text[at : m.start()]))
        parts.append(Ref(m.group(1)))
        at = m.end()
    if at < len(text):
        parts.append(Text(text[at:]))
    return parts


def set_data(name: str, value: str) -> str:
    """``set``/``export`` of outside text: ``name=<inert value>``.

    ``set`` expands its argument twice (switch_core_session.c:2867, mod_dptools.c base_set)
    and ``export`` once; an inert value is the same after either, and stays so whenever
    the dialplan refers to it later (the value of a ``${name}`` is expanded again,
    switch_channel.c:4171).
    """
    return f"{variable_name(name)}={inert(value)}"


def spoken(text: str) -> str:
    """Text for the TTS engine inside ``say:`` (playback) or ``speak``: as written.

    playback takes ``@@`` as a sample offset (mod_dptools.c:3040), and the quoted argument
    lists of play_and_get_digits cannot carry a straight apostrophe (switch_utils.c
    cleanup_separated_string), so those become ``@ @`` and U+2019, the typographic apostrophe.
    """
    return _clean(text, MAX_VALUE).replace("@@", "@ @").replace("'", "\u2019")


def playback_arg(path: str) -> str:
    """What playback (and streamFile) plays: fsapps' own sound path as it is, or ``say:``
    and TTS text that arrives as written."""
    if path.startswith("say:"):
        return app_data("say:", Text(spoken(path[4:])))
    return path


# --- dial strings ---------------------------------------------------------------------


_SEPARATOR_UNDERSCORE = re.compile(r"(?<=:)_(?=:)")


def dial_value(text: str, limit: int = MAX_DIAL_VALUE) -> str:
    """A value inside a dial string's ``{}`` or ``[]``.

    switch_find_end_paren (switch_utils.c) ends a block at the first closing bracket,
    quotes or not; switch_event_create_brackets (switch_event.c:1664) splits it on ``,``
    (or ``^^x``) with switch_separate_string's quotes and escapes; switch_ivr_originate
    splits legs on ``|`` and ``,`` (switch_ivr_originate.c:2790-2830) and refuses a value
    holding ``${`` (check_vars, l.3124). So the value is inert, its control characters are
    blanks (the switch does that to caller IDs, switch_clean_string) and the characters the
    parsers read are their full-width forms, which read the same to a person.
    """
    # Blanks go first: stripped after, "Bob$\n" would end in "$" again.
    text = inert(_CONTROL.sub(" ", _clean(text, limit)).strip(" "), limit)
    # ":_:" splits a dial string into several originates (switch_ivr_originate.c:1689);
    # every "_" between colons goes, so that overlapping ones (":_:_:") leave none either.
    return _SEPARATOR_UNDERSCORE.sub("\uff3f", text.translate(FULLWIDTH))


def dial_vars(variables: Mapping[str, str], brackets: str = "{}") -> str:
    """``{name=value,...}`` (for every leg) or ``[name=value,...]`` (for one leg)."""
    if brackets not in ("{}", "[]"):
        raise ValueError(brackets)
    # A variable whose value comes out empty is left out: the switch would not set it anyway.
    pairs = ((variable_name(k), dial_value(v)) for k, v in variables.items())
    return brackets[0] + ",".join(f"{k}={v}" for k, v in pairs if v) + brackets[1]


def dial_target(text: str) -> str:
    """An endpoint to dial (``user/1001@acme.example``, ``sofia/gateway/carrier/0755...``):
    checked, not escaped: nothing in it may be dial-string syntax or an expansion."""
    if not DIAL_TARGET.fullmatch(text):
        raise UnsafeValue(f"not a dial target: {text!r} (expected endpoint/address, no {{}}[]|,$ or blanks)")
    return text


def dial_string(variables: Mapping[str, str], legs: Iterable[tuple[Mapping[str, str], str]]) -> str:
    """A whole dial string: variables for every leg, then each leg's own and its target,
    rung at once (``,``)."""
    head = dial_vars(variables) if variables else ""
    return head + ",".join(
        (dial_vars(own, "[]") if own else "") + dial_target(target) for own, target in legs
    )


# --- API commands ---------------------------------------------------------------------


def api_arg(text: str) -> str:
    """One argument of an API command split on blanks by switch_separate_string
    (switch_utils.c:2685-2875: quotes group, backslash escapes; \\n \\r \\t stand for
    themselves). The Event Socket's ``api`` does not expand it (switch_api_execute)."""
    text = _clean(text, MAX_VALUE)
    if text and not re.search(r"[\s'\"\\]", text):
        return text
    escaped = (
        text.replace("\\", "\\\\").replace("'", "\\'").replace("\n", "\\n").replace("\r", "\\r")
        .replace("\t", "\\t")
    )  # fmt: skip
    return f"'{escaped}'"


def api_command(command: str, *args: str) -> str:
    """An API command line: the command's name, then each argument as api_arg makes it."""
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", command):
        raise UnsafeValue(f"not an API command name: {command!r}")
    return " ".join([command, *(api_arg(a) for a in args)])


def originate_command(variables: Mapping[str, str], target: str, app: str, app_arg: str = "") -> str:
    """``originate <dial string> &app(arg)``: mod_commands splits the command on blanks
    (originate_function), so the dial string is one quoted argument; the application is
    fsapps' own (a name, and a channel UUID or nothing as its argument)."""
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", app) or (app_arg and not UUID.fullmatch(app_arg)):
        raise UnsafeValue(f"not an application for originate: {app}({app_arg})")
    return f"originate {api_arg(dial_string(variables, [({}, target)]))} &{app}({app_arg})"


def originate_bridge_command(variables: Mapping[str, str], target: str, bridge_variables: Mapping[str, str],
                             bridge_target: str) -> str:  # fmt: skip
    """``originate <dial string> &bridge(<dial string>)``: the first leg is called, and once
    it answers, bridged to the second (an agent's phone, then the number they dial). Both
    dial strings as dial_string makes them; the ``&bridge(...)`` is one argument, quoted as
    api_arg quotes (mod_commands.c originate_function takes the application's data up to
    its last parenthesis)."""
    bridge = "&bridge(" + dial_string(bridge_variables, [({}, bridge_target)]) + ")"
    return f"originate {api_arg(dial_string(variables, [({}, target)]))} {api_arg(bridge)}"


def uuid_arg(uuid: str) -> str:
    if not UUID.fullmatch(uuid):
        raise UnsafeValue(f"not a channel UUID: {uuid!r}")
    return uuid


def setvar_command(uuid: str, name: str, value: str) -> str:
    """``uuid_setvar``: the value is stored as given (mod_commands.c uuid_setvar_function,
    no variable check), so it is made inert first."""
    return f"uuid_setvar {uuid_arg(uuid)} {variable_name(name)} {api_arg(inert(value))}"


def setvar_multi_command(uuid: str, variables: Mapping[str, str]) -> str:
    """``uuid_setvar_multi``: ``name=value`` pairs split on ``;`` by switch_separate_string;
    an empty value unsets. Values are inert, with ``;``, quotes and backslashes escaped."""
    pairs = []
    for k, v in variables.items():
        value = _CONTROL.sub(" ", inert(v)).replace("\\", "\\\\").replace(";", "\\;").replace("'", "\\'")
        value = value.replace(" ", "\\s")  # cleanup_separated_string would drop blanks at the ends
        pairs.append(f"{variable_name(k)}={value}")
    return f"uuid_setvar_multi {uuid_arg(uuid)} {';'.join(pairs)}"


RECORD_TEMPLATE = re.compile(r"(?:[A-Za-z0-9_./-]|\$\{uuid\}|\$\{strftime\([%A-Za-z_/-]+\)\})+")


def recording_path(template: str, tenant: str) -> str:
    """A queue's record-template as the ``set`` that names the recording runs it: under
    ``$${recordings_dir}/<tenant>/``, with only ``${uuid}`` and ``${strftime(...)}`` filled in
    by the switch, and no way out of the tenant's directory."""
    prefix = "$${recordings_dir}/" + tenant + "/"
    rest = template[len(prefix) :] if template.startswith(prefix) else None
    if rest is None or ".." in rest or not RECORD_TEMPLATE.fullmatch(rest):
        expected = f"{prefix}<file> with only ${{uuid}} and ${{strftime(...)}}"
        raise UnsafeValue(f"record-template {template!r}: expected {expected}")
    return "${recordings_dir}/" + tenant + "/" + rest


# --- XML ------------------------------------------------------------------------------


def _for_preprocessor(text: str) -> str:
    # switch_xml.c:1269 expand_vars fills in "$${" anywhere on a line before the XML is
    # parsed, and a line naming X-PRE-PROCESS is run, or dropped when no '<' precedes it
    # (l.1486-1490). As character references the parser decodes (switch_xml_decode,
    # switch_xml.c:620) neither is seen.
    text = re.sub(r"\$(?=[${])", "&#36;", text)
    return re.sub(r"(?i)(x)-(pre)-(process)", r"\1&#45;\2&#45;\3", text)


def _xml_chars(text: str, limit: int) -> str:
    # XML 1.0 carries no C0 control character but tab, newline and carriage return.
    return re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", " ", _clean(text, limit))


def xml_attr(text: str) -> str:
    """An attribute value, quotes included: XML-escaped, nothing the preprocessor reads."""
    return _for_preprocessor(quoteattr(_xml_chars(text, 1 << 20)))


def xml_text(text: str) -> str:
    """Element text: XML-escaped, nothing the preprocessor reads."""
    from xml.sax.saxutils import escape

    return _for_preprocessor(escape(_xml_chars(text, 1 << 20)).replace("\r", "&#13;"))


def xml_comment(text: str) -> str:
    """Text inside ``<!-- -->``: the preprocessor reads comments too (switch_xml.c:1486
    finds ``<X-PRE-PROCESS`` on any line), so no ``<``, ``>``, ``&``, ``$``, no ``--`` and
    one line."""
    text = _CONTROL.sub(" ", _clean(text, 1 << 12))
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _for_preprocessor(text.replace("$", "&#36;"))
    while "--" in text:
        text = text.replace("--", "- -")
    return text.rstrip("-")
