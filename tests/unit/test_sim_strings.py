"""switch_separate_string as the emulator's applications use it."""

import pytest

from fsapps.sim.strings import separate_string

CASES = [
    ("1 3 1 5000 #", " ", 128, ["1", "3", "1", "5000", "#"]),
    ("a  b   c", " ", 128, ["a", "b", "c"]),
    ("1 1 'say:Press 1 for sales' x", " ", 128, ["1", "1", "say:Press 1 for sales", "x"]),
    (r"min \d+ tail", " ", 128, ["min", r"\d+", "tail"]),
    ("a b c d e", " ", 3, ["a", "b", "c d e"]),
    ("k=v,'x,y',z", ",", 128, ["k=v", "x,y", "z"]),
    (r"a\,b,c", ",", 128, ["a,b", "c"]),
    ("^^:a:b,c", " ", 128, ["a", "b,c"]),
    # A lone apostrophe opens a quote that never closes (separate_string_blank_delim).
    ("it's fine", " ", 128, ["it's fine"]),
]


@pytest.mark.parametrize(("buf", "delim", "limit", "want"), CASES)
def test_separate_string(buf, delim, limit, want):
    assert separate_string(buf, delim, limit) == want
