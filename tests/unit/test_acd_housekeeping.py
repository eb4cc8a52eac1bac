"""The route a parked caller is sent on by, as read back from their channel."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from fsapps.acd.housekeeping import parse_route, route_value


def test_a_route_written_is_read_back() -> None:
    assert parse_route(route_value("acme_main_2__route", "acme")) == ("acme_main_2__route", "acme")
    assert parse_route(route_value("acme_main_2__route", "acme") + "\n") == ("acme_main_2__route", "acme")


def test_anything_else_on_the_channel_is_no_route() -> None:
    for raw in ["", "_undef_", "-ERR No such channel!", "a b c", "x ${sh}", "a b;c", "route ctx|x", " a"]:
        assert parse_route(raw) is None, raw


@given(st.text())
def test_a_route_read_back_is_only_plain_names(raw: str) -> None:
    route = parse_route(raw)
    if route is not None:
        for part in route:
            assert part and all(c.isascii() and (c.isalnum() or c in "_.+-") for c in part)
