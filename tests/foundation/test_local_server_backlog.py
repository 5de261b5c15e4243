"""The local server takes a burst of new connections (`make load`'s 50 users connecting at once) even
while its accept loop is busy: the kernel completes every handshake into the listen backlog. With the
standard library's backlog of 5 the connections beyond it were dropped, and `make load` saw
ConnectionResetError about 2 s later."""

from __future__ import annotations

import socket
from concurrent.futures import ThreadPoolExecutor

from eduautismo_local.embedded import free_port
from eduautismo_local.server import make_server

BURST = 50


def _connects(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def test_a_burst_of_connections_waits_in_the_backlog_instead_of_being_dropped() -> None:
    # Given the local server listening, its accept loop not running yet (as when every thread is busy)
    server = make_server(free_port())
    try:
        port = server.server_address[1]
        # When 50 clients connect at once
        with ThreadPoolExecutor(max_workers=BURST) as pool:
            connected = list(pool.map(_connects, [port] * BURST))
    finally:
        server.server_close()
    # Then every handshake completed (each waits in the backlog to be accepted)
    assert sum(connected) == BURST
