"""The share of loopback ports a test process picks its servers' ports from
(FSAPPS_TEST_PORTS, set by ./dev test for each of its two processes)."""

from __future__ import annotations

import pytest

from fsapps.testing.freeswitch import port_share


def test_a_share_is_taken_as_given_both_ends_included() -> None:
    assert port_share("13000-16383") == range(13000, 16384)
    assert port_share("10000-12999") == range(10000, 13000)


@pytest.mark.parametrize(
    "spec", [None, "", "13000", "16383-13000", "13000-20000", "80-2000", "a-b", "13000-16383x", "16380-16383"]
)
def test_anything_else_is_the_whole_range_below_the_switchs_rtp_ports(spec) -> None:
    assert port_share(spec) == range(10000, 16384)
