"""`fsapps demo --once` runs every scripted call to its end and tells each one."""

import io

from fsapps import demo


def test_demo_tells_each_call_and_stores_it(tmp_path) -> None:
    out = io.StringIO()
    assert demo.run(speed=20.0, out=out, state_dir=str(tmp_path / "var")) == 0
    text = out.getvalue()
    alice, bob, carol = text.split("Call ")[1:]
    assert "pressed 1" in alice and "Connecting you to sales" in alice
    assert "pressed 7" in bob and "not a valid choice" in bob and "pressed 2" in bob
    assert "support team" in bob
    assert "hung up" in carol and "For sales press 1" not in carol
    for call in (alice, bob, carol):
        assert "handed to the fsapps controller" in call
    assert "Stored: 3 CDRs and 3 IVR usage records for these calls." in text
    assert (tmp_path / "var" / "pgdata" / "PG_VERSION").exists()  # the embedded default
