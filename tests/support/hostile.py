"""Text an attacker (a caller, a lookup's data, a tenant, an API client) might send.

Each entry is aimed at one of the switch's parsers: variable expansion and API
calls (``${...}``, ``$${...}``), dial strings (``{}``, ``[]``, ``,``, ``|``,
``^^``, ``:_:``), argument splitting (quotes, backslashes, blanks), the Event
Socket's line framing (newlines, ``%0A``), the XML preprocessor
(``<X-PRE-PROCESS>``, ``-->``), C strings (NUL), and sheer size; and at people
(right-to-left marks, Chinese text). ``MARKER`` names a file that exists only
if something ran.
"""

from __future__ import annotations

MARKER = "/tmp/fsapps-hostile-ran"

CORPUS: list[str] = [
    "${system(/bin/touch " + MARKER + ")}",
    "${bg_system /bin/touch " + MARKER + "}",
    "${system touch " + MARKER + "}",
    "$${default_password}",
    "$${sounds_dir}",
    "${version()}",
    "${uuid}",
    "$\\{version()}",
    "$\\'{system(/bin/touch " + MARKER + ")}",  # the switch's own cleaning misses it; one expansion makes ${
    "$\x00{version()}",
    "$\\\\{version()}",
    "\\${version()}",
    "\\\\${version()}",
    "${${x}}",
    "a$",
    "$",
    "$$",
    "$$x",
    "\\",
    "\\'",
    "\\n\\t\\s\\\\",
    "Bob}loopback/9664/default|",
    "Bob},loopback/9664/default",
    "x]user/1000@default[y",
    "{origination_caller_id_number=666}",
    "[leg_timeout=1]",
    "a,b,c",
    "a|b",
    "^^:a=b:c=d",
    "a:_:loopback/9664/default",
    "<ultra=1>",
    "'quoted'",
    '"double"',
    "it's",
    "a=b;c=d",
    "line one\nline two",
    "crlf\r\nInjected-Header: yes",
    "%0AContent-Type: text/disconnect-notice%0A%0A",
    "\x00after-nul",
    "<X-PRE-PROCESS cmd=\"exec\" data=\"/bin/touch " + MARKER + "\"/>",
    "--> <X-PRE-PROCESS cmd=\"set\" data=\"owned=1\"/> <!--",
    "</include><include>",
    "&amp; &lt; <b>",
    "@@100",
    "say:hello",
    "  leading and trailing  ",
    "\t",
    "\u202eevil\u202c",  # right-to-left override
    "\u200f\u200e",
    "张三，您好。余额：100元",
    "王小明 ${system(ls)}",
    "emoji 😀",
    "\udcff\udcfe",  # bytes that were not UTF-8, as Python keeps them (surrogateescape)
    "x" * 5000,
    "${" * 300 + "}" * 300,
]


def create_lookup_table(conn, columns: str, table: str = "accounts") -> None:
    """A tenant's lookup table as the README's recipe makes it (row-level security for
    fsapps_tenant), with text ``columns`` for hostile records."""
    for statement in (
        f"CREATE TABLE lookup.{table} (tenant_id text NOT NULL, {columns})",
        f"ALTER TABLE lookup.{table} ENABLE ROW LEVEL SECURITY",
        f"CREATE POLICY tenant_rows ON lookup.{table} TO fsapps_tenant"
        " USING (tenant_id = (SELECT fsapps_current_tenant()))",
        f"GRANT SELECT ON lookup.{table} TO fsapps_tenant",
    ):
        conn.execute(statement)
