"""Network faults on loopback: a black hole (accepts, never answers) and a TCP proxy that can be cut."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager


def _close_listener(listener: socket.socket) -> None:
    # shutdown() first: close() alone leaves a thread blocked in accept() holding the port open.
    with contextlib.suppress(OSError):
        listener.shutdown(socket.SHUT_RDWR)
    listener.close()


def _listener(port: int = 0) -> socket.socket:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    listener.listen(64)
    return listener


@contextmanager
def black_hole() -> Iterator[int]:
    """A port that accepts connections and never sends a byte: only client timeouts end a call."""
    listener = _listener()
    held: list[socket.socket] = []
    stopping = threading.Event()

    def accept() -> None:
        while not stopping.is_set():
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            held.append(connection)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stopping.set()
        _close_listener(listener)
        for connection in held:
            connection.close()
        thread.join(timeout=5)


class TcpProxy:
    """Forwards a loopback port to ``target``; ``stop()`` cuts every connection and refuses new ones
    (the server looks gone), ``start()`` serves again on the same port (the server is back). With
    ``dropped``, the first connections are accepted and closed at once, as RDS Proxy does while its
    target is not available yet; ``accepted`` counts every connection."""

    def __init__(self, target_host: str, target_port: int, dropped: int = 0) -> None:
        self.target = (target_host, target_port)
        self.dropped = dropped
        self.accepted = 0
        self.port = 0
        self._listener: socket.socket | None = None
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()

    def start(self) -> None:
        self._listener = _listener(self.port)
        self.port = self._listener.getsockname()[1]
        threading.Thread(target=self._accept, args=(self._listener,), daemon=True).start()

    def stop(self) -> None:
        with self._lock:
            if self._listener is not None:
                _close_listener(self._listener)
                self._listener = None
            for connection in self._sockets:
                with contextlib.suppress(OSError):
                    connection.shutdown(socket.SHUT_RDWR)
                connection.close()
            self._sockets.clear()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            self.accepted += 1
            if self.accepted <= self.dropped:
                client.close()
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self._lock:
                self._sockets.extend((client, upstream))
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        try:
            while chunk := source.recv(65536):
                sink.sendall(chunk)
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                sink.shutdown(socket.SHUT_WR)
