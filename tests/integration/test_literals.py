"""fsapps.store.literals against the PostgreSQL that parses them."""

from __future__ import annotations

import psycopg
from hypothesis import given, settings
from hypothesis import strategies as st

from fsapps.store.literals import text_array

# Any text PostgreSQL can hold (no NUL), hostile shapes made likely.
ITEMS = st.lists(
    st.one_of(
        st.text(alphabet=st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",))),
        st.sampled_from(
            ['"', "\\", ",", "{", "}", "NULL", "null", " ", "", '\\"', "a,b", "{x}", "中文,坐席"]
        ),
    ),
    max_size=12,
)


@given(items=ITEMS)
@settings(max_examples=300, deadline=None)
def test_every_list_of_texts_reaches_postgresql_as_the_same_array(pg_server, items) -> None:
    literal = text_array(items)
    # Made once, given again (a dispatcher's every pass): the same literal, not quoted twice.
    assert text_array(literal) is literal
    with psycopg.connect(pg_server.dsn, autocommit=True) as conn:
        got = conn.execute("SELECT %s::text[]", (literal,)).fetchone()
    assert got is not None and got[0] == items


def test_an_item_matches_only_itself_in_any(pg_server) -> None:
    ids = ["a,b", 'c"d', "e\\f", "{g}"]
    with psycopg.connect(pg_server.dsn, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT x FROM unnest(%s::text[]) AS x WHERE x = ANY(%s::text[]) ORDER BY x",
            (["a", "b", "a,b", 'c"d', "e\\f", "{g}", "g"], text_array(ids)),
        ).fetchall()
    assert [r[0] for r in rows] == sorted(ids)
