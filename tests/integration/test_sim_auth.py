"""The emulator's Event Socket password check: over TCP, and in constant time."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from fsapps.esl.client import AuthenticationFailed, Connection
from fsapps.sim import listener
from fsapps.sim.switch import Switch

PASSWORD = "pässwörd-Ünïcode-42"


@pytest.fixture
def sw():
    s = Switch(password=PASSWORD).start()
    yield s
    s.stop()


@pytest.mark.parametrize("wrong", ["pässwörd-Ünïcode-4", "pässwörd-Ünïcode-43", "", "x" * 200])
def test_a_wrong_password_is_refused(sw, wrong: str) -> None:
    with pytest.raises(AuthenticationFailed):
        Connection("127.0.0.1", sw.port, wrong, timeout=2).connect()


def test_the_right_password_is_accepted(sw) -> None:
    conn = Connection("127.0.0.1", sw.port, PASSWORD, timeout=2)
    conn.connect()
    try:
        assert conn.api("uuid_exists 00000000-0000-0000-0000-000000000000") == "false"
    finally:
        conn.stop()


def test_the_password_is_compared_in_constant_time() -> None:
    """No ``==``/``!=`` touches a password: timing cannot be observed reliably over TCP
    in a test, so the source is checked for the comparison instead."""
    tree = ast.parse(Path(listener.__file__).read_text())

    def names(node: ast.AST) -> set[str]:
        return {n.attr for n in ast.walk(node) if isinstance(n, ast.Attribute)} | {
            n.id for n in ast.walk(node) if isinstance(n, ast.Name)
        }

    plain = [
        ast.unparse(node)
        for node in ast.walk(tree)
        if isinstance(node, ast.Compare)
        and any(isinstance(op, ast.Eq | ast.NotEq) for op in node.ops)
        and "password" in names(node)
    ]
    assert plain == []
    digests = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and ast.unparse(node.func) == "hmac.compare_digest"
    ]
    assert any("password" in names(call) for call in digests)
