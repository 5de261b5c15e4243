"""PgBouncer in transaction pooling mode, the stand-in for RDS Proxy (docs/DEPLOY.md, "Database
connections"): every client transaction borrows one of a few server connections and gives it back at
COMMIT, so whatever a session SET leaves on a server connection reaches the next borrower.

Debian's ``pgbouncer`` package (``make test`` installs it when missing). It runs in the foreground on a
free loopback port with its own configuration in a temporary directory, and stops with ``stop()``.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from sqlalchemy.engine import make_url

from eduautismo_local.embedded import free_port

STARTUP_SECONDS = 10


class MissingPgBouncer(RuntimeError):
    pass


@dataclass
class PgBouncer:
    port: int
    pool_size: int
    process: subprocess.Popen[bytes]
    directory: Path
    log: IO[bytes]

    def url(self, database_url: str) -> str:
        """The same database, user and password, through the proxy."""
        return (
            make_url(database_url)
            .set(host="127.0.0.1", port=self.port)
            .difference_update_query(["host"])
            .render_as_string(hide_password=False)
        )

    def log_text(self) -> str:
        return (self.directory / "pgbouncer.log").read_text(errors="replace")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        self.log.close()
        shutil.rmtree(self.directory, ignore_errors=True)


def _binary() -> str:
    found = shutil.which("pgbouncer") or next(
        (path for path in ("/usr/sbin/pgbouncer", "/usr/bin/pgbouncer") if os.access(path, os.X_OK)), None
    )
    if found is None:
        raise MissingPgBouncer("pgbouncer is not installed: `make pgbouncer` installs Debian's package")
    return found


def _quote(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


def start_pgbouncer(server_url: str, *, pool_size: int, query_wait_timeout: int = 30) -> PgBouncer:
    """PgBouncer in front of the PostgreSQL of ``server_url`` (any database on it), with at most
    ``pool_size`` server connections per database; a client waits ``query_wait_timeout`` seconds for
    one (RDS Proxy's ConnectionBorrowTimeout), then gets an error."""
    url = make_url(server_url)
    user, password = url.username or "postgres", url.password or ""
    port = free_port()
    directory = Path(tempfile.mkdtemp(prefix="eduautismo-pgbouncer-"))
    target = f"host={url.host or '127.0.0.1'} port={url.port or 5432} user={user}"
    if password:
        target += f" password={password}"
    (directory / "users.txt").write_text(f"{_quote(user)} {_quote(password)}\n")
    (directory / "pgbouncer.ini").write_text(
        "\n".join(
            (
                "[databases]",
                f"* = {target}",
                "[pgbouncer]",
                "listen_addr = 127.0.0.1",
                f"listen_port = {port}",
                "unix_socket_dir =",
                "auth_type = trust",
                f"auth_file = {directory / 'users.txt'}",
                "pool_mode = transaction",
                f"default_pool_size = {pool_size}",
                f"max_db_connections = {pool_size}",
                "min_pool_size = 0",
                "reserve_pool_size = 0",
                "max_client_conn = 5000",
                f"query_wait_timeout = {query_wait_timeout}",
                f"admin_users = {user}",
                "",
            )
        )
    )
    command = [_binary()]
    if os.geteuid() == 0:  # PgBouncer refuses to run as root
        directory.chmod(0o755)
        for name in ("users.txt", "pgbouncer.ini"):
            (directory / name).chmod(0o644)
        command += ["-u", "nobody"]
    log = (directory / "pgbouncer.log").open("wb")
    process = subprocess.Popen([*command, str(directory / "pgbouncer.ini")], stdout=log, stderr=log)
    proxy = PgBouncer(port, pool_size, process, directory, log)
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            text = proxy.log_text()
            proxy.stop()
            raise RuntimeError(f"pgbouncer exited: {text[-2000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return proxy
        except OSError:
            time.sleep(0.1)
    proxy.stop()
    raise RuntimeError("pgbouncer did not start listening")
