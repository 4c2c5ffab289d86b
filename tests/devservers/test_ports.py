"""Ports for throwaway servers never collide with those the README's servers use."""

import socket

import pytest

import devservers
from devservers import (
    MINIO_PORT,
    MLFLOW_PORT,
    POSTGRES_PORT,
    WELL_KNOWN_PORTS,
    DevPorts,
    dev_ports,
    free_port,
    minio,
    mlflow,
    postgres,
)


def test_a_port_a_readme_server_uses_is_never_handed_out(monkeypatch):
    """Linux may hand out 55432 (`make postgres`) for port 0: free_port asks again."""
    handed = iter([55432, 3000, 41234])

    class Socket(socket.socket):
        def getsockname(self):  # what the system handed out, in this order
            return ("127.0.0.1", next(handed))

    monkeypatch.setattr(devservers.socket, "socket", Socket)
    assert 55432 in WELL_KNOWN_PORTS
    assert free_port() == 41234


def test_a_free_port_has_nothing_listening():
    port = free_port()
    with socket.socket() as s:
        s.bind(("127.0.0.1", port))  # would fail if something held it


def test_the_servers_listen_where_the_dev_settings_send_clients():
    """conf/dev.toml's ports are the well-known ones; an override moves server and client."""
    assert dev_ports({}) == DevPorts(MINIO_PORT, POSTGRES_PORT, MLFLOW_PORT)
    moved = {
        "LAKEHOUSE__S3__ENDPOINT": "http://127.0.0.1:19000",
        "LAKEHOUSE__WAREHOUSE__PORT": "15432",
        "LAKEHOUSE__ML__TRACKING_URI": "http://127.0.0.1:15000",
    }
    assert dev_ports(moved) == DevPorts(19000, 15432, 15000)


@pytest.mark.parametrize("module", [minio, postgres, mlflow])
def test_each_server_listens_where_the_dev_settings_say_by_default(module, monkeypatch, capsys):
    monkeypatch.setenv("LAKEHOUSE__S3__ENDPOINT", "http://127.0.0.1:19000")
    monkeypatch.setenv("LAKEHOUSE__WAREHOUSE__PORT", "15432")
    monkeypatch.setenv("LAKEHOUSE__ML__TRACKING_URI", "http://127.0.0.1:15000")
    with pytest.raises(SystemExit):
        module.main(["--help"])
    shown = " ".join(capsys.readouterr().out.split())
    expected = {minio: ["--port PORT default 19000"], postgres: ["--port PORT default 15432"],
                mlflow: ["--port PORT default 15000", "--postgres-port POSTGRES_PORT default 15432",
                         "--s3-endpoint S3_ENDPOINT default http://127.0.0.1:19000"]}  # fmt: skip
    for option in expected[module]:
        assert option in shown, shown
