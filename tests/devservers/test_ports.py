"""Ports for throwaway servers never collide with those the README's servers use."""

import socket

import devservers
from devservers import WELL_KNOWN_PORTS, free_port


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
