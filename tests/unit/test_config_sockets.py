"""The socket settings: safe defaults, from YAML and from FSAPPS_* variables, mistakes named."""

from __future__ import annotations

import pytest

from fsapps import config


def test_defaults_trust_only_this_host_and_bound_every_socket() -> None:
    s = config.load(env={})
    c = s.controller
    assert c.allow_from == ["127.0.0.0/8", "::1"]
    assert (c.max_connections, c.max_pending, c.connect_timeout) == (1000, 100, 5.0)
    assert (s.xml_curl.read_timeout, s.xml_curl.max_connections) == (10.0, 100)
    assert (s.metrics.read_timeout, s.metrics.max_connections) == (10.0, 10)
    assert config.Settings().controller.allow_from is not c.allow_from  # no shared default list


def test_from_yaml(tmp_path) -> None:
    f = tmp_path / "fsapps.yaml"
    f.write_text(
        "controller:\n"
        '  allow_from: [10.0.0.0/8, "::1", 192.168.1.20]\n'
        "  max_pending: 20\n"
        "  connect_timeout: 2.5\n"
        "xml_curl: {read_timeout: 3, max_connections: 50}\n"
        "metrics: {read_timeout: 4, max_connections: 2}\n"
    )
    s = config.load(f, env={})
    assert s.controller.allow_from == ["10.0.0.0/8", "::1", "192.168.1.20"]
    assert (s.controller.max_pending, s.controller.connect_timeout) == (20, 2.5)
    assert (s.xml_curl.read_timeout, s.xml_curl.max_connections) == (3.0, 50)
    assert (s.metrics.read_timeout, s.metrics.max_connections) == (4.0, 2)


def test_from_the_environment_over_the_file(tmp_path) -> None:
    f = tmp_path / "fsapps.yaml"
    f.write_text("controller:\n  allow_from: 10.0.0.0/8\n")
    env = {
        "FSAPPS_CONTROLLER_ALLOW_FROM": "127.0.0.1, 10.1.0.0/16",
        "FSAPPS_CONTROLLER_MAX_PENDING": "7",
        "FSAPPS_CONTROLLER_CONNECT_TIMEOUT": "1.5",
        "FSAPPS_XML_CURL_READ_TIMEOUT": "6",
        "FSAPPS_XML_CURL_MAX_CONNECTIONS": "30",
        "FSAPPS_METRICS_READ_TIMEOUT": "2",
        "FSAPPS_METRICS_MAX_CONNECTIONS": "3",
    }
    s = config.load(f, env=env)
    assert s.controller.allow_from == ["127.0.0.1", "10.1.0.0/16"]
    assert (s.controller.max_pending, s.controller.connect_timeout) == (7, 1.5)
    assert (s.xml_curl.read_timeout, s.xml_curl.max_connections) == (6.0, 30)
    assert (s.metrics.read_timeout, s.metrics.max_connections) == (2.0, 3)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"FSAPPS_CONTROLLER_ALLOW_FROM": "127.0.0.1,localhost"},
            "allow_from: not an address or network: 'localhost'",
        ),
        ({"FSAPPS_CONTROLLER_ALLOW_FROM": " , "}, "allow_from: empty"),
        ({"FSAPPS_CONTROLLER_CONNECT_TIMEOUT": "0"}, "connect_timeout: must be more than 0"),
        ({"FSAPPS_METRICS_READ_TIMEOUT": "-1"}, "read_timeout: must be more than 0"),
        ({"FSAPPS_XML_CURL_MAX_CONNECTIONS": "0"}, "max_connections: must be more than 0"),
        ({"FSAPPS_CONTROLLER_MAX_PENDING": "-5"}, "max_pending: must be 0 or more"),
        ({"FSAPPS_METRICS_MAX_CONNECTIONS": "many"}, "max_connections: expected int"),
    ],
)
def test_mistakes_are_named(env: dict[str, str], message: str) -> None:
    with pytest.raises(config.SettingsError, match=message):
        config.load(env=env)
