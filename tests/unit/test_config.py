"""Settings from a file and the environment, and their errors."""

import pytest

from fsapps import config


def test_defaults_are_safe() -> None:
    s = config.load(env={})
    assert s.controller.listen == "127.0.0.1"
    assert s.esl.host == "127.0.0.1"
    assert s.esl.password is None  # no vanilla ClueCon default


def test_file_then_environment(tmp_path) -> None:
    f = tmp_path / "fsapps.yaml"
    f.write_text("esl:\n  host: 10.0.0.5\n  port: 8022\ncontroller:\n  port: 9000\n")
    s = config.load(f, env={"FSAPPS_ESL_PASSWORD": "from-env", "FSAPPS_CONTROLLER_PORT": "9100"})
    assert (s.esl.host, s.esl.port, s.esl.password) == ("10.0.0.5", 8022, "from-env")
    assert s.controller.port == 9100
    assert s.secrets() == ["from-env"]


def test_bad_yaml_names_file_and_line(tmp_path) -> None:
    f = tmp_path / "bad.yaml"
    f.write_text("esl:\n  host: [unclosed\n")
    with pytest.raises(config.SettingsError) as err:
        config.load(f, env={})
    assert str(err.value).startswith(f"{f}:3:")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("esl:\n  hostname: x\n", "unknown key 'hostname'"),
        ("colour: blue\n", "unknown section 'colour'"),
        ("controller:\n  port: eighty\n", "controller.port: expected int"),
        ("- a list\n", "expected a mapping"),
        ("controller:\n  priority: high\n", "controller.priority: expected one of normal, realtime, got 'hi"),
    ],
)
def test_mistakes_are_named(tmp_path, text: str, message: str) -> None:
    f = tmp_path / "s.yaml"
    f.write_text(text)
    with pytest.raises(config.SettingsError, match=message):
        config.load(f, env={})


def test_missing_file() -> None:
    with pytest.raises(config.SettingsError, match="cannot read settings"):
        config.load("/nonexistent/fsapps.yaml", env={})


def test_database_pool_size_from_the_file_and_the_environment(tmp_path) -> None:
    assert config.load(env={}).database.pool_size == 20
    f = tmp_path / "fsapps.yaml"
    f.write_text("database:\n  pool_size: 8\n")
    assert config.load(f, env={}).database.pool_size == 8
    assert config.load(f, env={"FSAPPS_DATABASE_POOL_SIZE": "5"}).database.pool_size == 5
