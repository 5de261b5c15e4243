"""`eduautismo-local serve` as a newcomer runs it: its own process, data folder and port, the embedded
PostgreSQL; stopped by Ctrl-C or SIGTERM with nothing left behind, its printed hints runnable as pasted,
and the CLI commands next to it working on its database."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psutil
import pytest

from eduautismo.settings import get_settings
from eduautismo_local.embedded import HANDLE_PIDS_FILE, free_port
from eduautismo_local.seed import DEMO_ORGANIZATIONS
from eduautismo_local.template_routes import PROJECT_ROOT
from eduautismo_local.tokens import issue_token

STARTUP_SECONDS = 240
# Settings the suite put in this process's environment: the served stack must choose its own.
SUITE_VARIABLES = ("DATABASE_URL", "REDIS_URL", "S3_ENDPOINT_URL", "EXPORT_BUCKET", "CACHE_KEY_PREFIX")


def _environment(data_dir: Path, **extra: str) -> dict[str, str]:
    environment = {name: value for name, value in os.environ.items() if name not in SUITE_VARIABLES}
    environment.update({"DATA_DIR": str(data_dir), "ENVIRONMENT": "local", **extra})
    return environment


def _cli(data_dir: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "eduautismo_local.cli", *arguments],
        env=_environment(data_dir),
        capture_output=True,
        text=True,
        timeout=STARTUP_SECONDS,
        check=False,
    )


def postgres_pids(pgdata: Path) -> list[int]:
    """Live PostgreSQL processes started on ``pgdata`` (their command line names the folder)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if command and command[0].endswith(b"postgres") and str(pgdata).encode() in command:
            pids.append(int(entry.name))
    return pids


def _port_free(port: int) -> bool:
    """Nothing listens there and a new server could bind it (as servers do, past TIME_WAIT leftovers)."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


@dataclass
class Served:
    process: subprocess.Popen[bytes]
    port: int
    data_dir: Path
    stdout: Path

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pgdata(self) -> Path:
        return self.data_dir / "pgdata"

    def printed(self) -> str:
        return self.stdout.read_text()

    def wait_healthy(self) -> None:
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.printed()[-3000:]
            try:
                with urllib.request.urlopen(f"{self.base}/api/v1/health", timeout=5) as response:
                    if response.status == 200 and "Try" in self.printed():
                        return
            except OSError:
                pass
            time.sleep(0.5)
        raise AssertionError(f"serve did not become healthy: {self.printed()[-3000:]}")

    def stop(self, signum: int) -> int:
        self.process.send_signal(signum)
        return self.process.wait(timeout=120)


@pytest.fixture(scope="module")
def data_dir() -> Iterator[Path]:
    """One data folder for the module (initdb once); every test starts its own server on it. Not under
    pytest's base folder: as root, PostgreSQL runs as another user, and any pytest starting on the machine
    makes that folder private again (0700) under the servers' feet."""
    folder = Path(tempfile.mkdtemp(prefix="eduautismo-serve-"))
    yield folder
    for pid in postgres_pids(folder / "pgdata"):  # a failed test must not leak its server
        os.kill(pid, signal.SIGTERM)
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def start(data_dir: Path, tmp_path: Path) -> Iterator[Callable[..., Served]]:
    """``start(**settings)`` runs `serve` on the module's data folder and a free port, and waits until it
    answers."""
    started: list[Served] = []

    def serve(**settings: str) -> Served:
        port = free_port()
        stdout = tmp_path / f"serve-{port}.out"
        with stdout.open("wb") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "eduautismo_local.cli", "serve"],
                env=_environment(data_dir, PORT=str(port), **settings),
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        served = Served(process, port, data_dir, stdout)
        started.append(served)
        served.wait_healthy()
        return served

    yield serve
    for served in started:
        if served.process.poll() is None:
            served.stop(signal.SIGTERM)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_stop_signal_stops_the_server_and_its_embedded_postgres(
    start: Callable[..., Served], signum: signal.Signals
) -> None:
    # Given a server running on its own data folder and port, with its embedded PostgreSQL
    served = start()
    assert postgres_pids(served.pgdata)
    # When it receives the signal
    exit_code = served.stop(signum)
    # Then it exits cleanly, and no PostgreSQL is left on that folder, and the port is free
    assert exit_code == 0, served.printed()[-2000:]
    assert postgres_pids(served.pgdata) == []
    assert _port_free(served.port)
    assert not (served.data_dir / "server.json").exists()


def test_sigterm_to_make_run_stops_the_server_and_its_embedded_postgres(
    data_dir: Path, tmp_path: Path
) -> None:
    # Given `make run` on its own data folder and port (make does not pass SIGTERM on to its command)
    port = free_port()
    stdout = tmp_path / "make-run.out"
    with stdout.open("wb") as out:
        make = subprocess.Popen(
            ["/usr/bin/make", "--no-print-directory", "run"],
            cwd=PROJECT_ROOT,
            env=_environment(data_dir, PORT=str(port)),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    served = Served(make, port, data_dir, stdout)
    served.wait_healthy()
    server_pid = json.loads((data_dir / "server.json").read_text())["pid"]
    # When make receives SIGTERM
    served.stop(signal.SIGTERM)
    # Then the server stops too, with its PostgreSQL, and frees the port
    deadline = time.monotonic() + 120
    while Path(f"/proc/{server_pid}").exists() and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not Path(f"/proc/{server_pid}").exists(), served.printed()[-2000:]
    assert postgres_pids(served.pgdata) == []
    assert _port_free(port)


def test_after_a_crash_the_next_start_takes_the_orphaned_postgres_over_and_stops_it(
    start: Callable[..., Served],
) -> None:
    # Given a server killed without any chance to clean up: its PostgreSQL keeps running, and its dead pid
    # stays in the handle list
    crashed = start()
    crashed.stop(signal.SIGKILL)
    orphans = postgres_pids(crashed.pgdata)
    assert orphans
    assert crashed.process.pid in json.loads((crashed.pgdata / HANDLE_PIDS_FILE).read_text())
    # When a new server starts on the same folder, and is then stopped
    served = start()
    assert served.stop(signal.SIGTERM) == 0
    # Then the PostgreSQL is gone, and the dead pid with it
    assert postgres_pids(served.pgdata) == []
    assert json.loads((served.pgdata / HANDLE_PIDS_FILE).read_text()) == []


def test_serve_on_a_port_in_use_says_so_and_stops_cleanly(data_dir: Path, tmp_path: Path) -> None:
    # Given a port something already listens on
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        # When serve is started on it
        result = subprocess.run(
            [sys.executable, "-m", "eduautismo_local.cli", "serve"],
            env=_environment(data_dir, PORT=str(port)),
            capture_output=True,
            text=True,
            timeout=STARTUP_SECONDS,
            check=False,
        )
    # Then it says the port is not free, without a traceback, and leaves no PostgreSQL behind
    assert result.returncode == 1
    assert f"serve: port {port} is not free" in result.stderr
    assert "Traceback" not in result.stderr
    assert postgres_pids(data_dir / "pgdata") == []


def test_the_printed_try_lines_run_as_pasted(start: Callable[..., Served]) -> None:
    # Given the lines the server prints under "Try"
    served = start()
    printed = served.printed().splitlines()
    first = next(index for index, line in enumerate(printed) if line.strip().startswith("Try"))
    pasted = "\n".join(line.strip() for line in printed[first + 1 : first + 3])
    assert pasted.startswith("export TOKEN=") and "curl" in pasted
    # When they are pasted into a shell
    result = subprocess.run(
        ["/bin/bash", "-c", pasted],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={"PATH": "/usr/bin:/bin"},
    )
    # Then they print the coordinator's pending-review page
    assert result.returncode == 0, result.stderr
    page = json.loads(result.stdout)
    assert page["total"] > 0 and len(page["items"]) > 0


def test_the_demo_professional_has_review_notifications_from_the_start(start: Callable[..., Served]) -> None:
    # Given a freshly started server and the professional token it prints
    served = start()
    token = next(
        line.split(":", 1)[1].strip()
        for line in served.printed().splitlines()
        if line.strip().startswith("Professional token:")
    )
    # When the professional asks for their unread notifications
    request = urllib.request.Request(
        f"{served.base}/api/v1/notifications/unread-count", headers={"Authorization": f"Bearer {token}"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        counts = json.loads(response.read())
    # Then the demo's daily job has already written some
    assert response.status == 200 and counts["unread_count"] > 0, counts


def test_cli_commands_use_the_running_servers_database_and_say_so(
    start: Callable[..., Served],
) -> None:
    # Given a running server with the demo data and its notifications
    served = start()
    # When the daily job runs with the same data folder
    job = _cli(served.data_dir, "daily-job")
    # Then it used the server's database (two demo organizations), said so on stderr, and printed its
    # summary alone on stdout as one block
    assert job.returncode == 0, job.stderr
    assert f"the running server's (port {served.port}" in job.stderr
    assert job.stdout.splitlines()[0].startswith("daily job at ")
    assert "organizations:          2" in job.stdout
    assert "{" not in job.stdout
    # When plans are seeded next to it
    seeded = _cli(served.data_dir, "seed", "--plans", "30")
    # Then they are added to the demo school, and its summary is on stdout as the daily job's is
    assert seeded.returncode == 0, seeded.stderr
    assert seeded.stdout.startswith("added 30 plans (")
    assert "to Escola Municipal Raio de Sol, for its seeded students" in seeded.stdout
    assert "daily job (notifications of the demo data) at " in seeded.stdout
    assert "added 30 plans" not in seeded.stderr
    # And migrate's summary is on stdout too, which database it used on stderr
    migrated = _cli(served.data_dir, "migrate")
    assert migrated.returncode == 0, migrated.stderr
    assert migrated.stdout == "migrations applied\n"
    assert f"the running server's (port {served.port}" in migrated.stderr
    # When the daily job runs with another, empty data folder
    other = served.data_dir / f"other-{served.port}"
    elsewhere = _cli(other, "daily-job")
    # Then it says which database it used, that it is empty, and where the running server is
    assert elsewhere.returncode == 0, elsewhere.stderr
    assert f"the embedded PostgreSQL in {other / 'pgdata'}" in elsewhere.stderr
    assert "has no organizations" in elsewhere.stderr
    assert f"a server is running on port {served.port} with DATA_DIR={served.data_dir}" in elsewhere.stderr
    assert postgres_pids(other / "pgdata") == []


def _start_background_export(served: Served) -> None:
    """As a new coordinator of the demo school (a user has one export running at a time, and the module's
    servers share one database), ask for a CSV export above EXPORT_SYNC_MAX_ROWS: answered 202 while a
    thread writes it."""
    token = issue_token(
        get_settings(),
        sub=uuid.uuid4(),
        organization_id=DEMO_ORGANIZATIONS[0][0],
        role="coordinator",
        email="coordenacao.teste@eduautismo.example",
        name="Coordenação Teste",
    )
    request = urllib.request.Request(
        f"{served.base}/api/v1/export/pending-review/csv", headers={"Authorization": f"Bearer {token}"}
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        assert response.status == 202


def _stopped_within(served: Served, seconds: float) -> int | None:
    """The exit code if the server ended within ``seconds`` of SIGTERM, else None (then it is killed)."""
    served.process.send_signal(signal.SIGTERM)
    try:
        return served.process.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        served.process.kill()
        served.process.wait()
        return None


STOP_SECONDS = 10


def _exporting(start: Callable[..., Served]) -> Served:
    """A server whose exports all run in the background, with two of them under way."""
    served = start(EXPORT_SYNC_MAX_ROWS="1")
    for _ in range(2):
        _start_background_export(served)
    return served


def test_sigterm_in_the_middle_of_background_exports_stops_within_ten_seconds(
    start: Callable[..., Served],
) -> None:
    # Given a server whose exports all run in the background, with two of them under way
    served = _exporting(start)
    # When it receives SIGTERM
    exit_code = _stopped_within(served, STOP_SECONDS)
    # Then it has exited within the time, with its PostgreSQL, and freed the port
    assert exit_code == 0, served.printed()[-2000:]
    assert postgres_pids(served.pgdata) == []
    assert _port_free(served.port)


def test_sigterm_while_exports_wait_on_a_database_that_stopped_answering_stops_within_ten_seconds(
    start: Callable[..., Served],
) -> None:
    # Given a server with background exports under way, whose PostgreSQL then stops answering (frozen)
    served = _exporting(start)
    [postmaster] = [psutil.Process(pid) for pid in postgres_pids(served.pgdata)]
    frozen = [postmaster, *postmaster.children()]
    for process in frozen:
        process.suspend()
    try:
        # When it receives SIGTERM
        exit_code = _stopped_within(served, STOP_SECONDS)
    finally:
        for process in frozen:
            with contextlib.suppress(psutil.NoSuchProcess):
                process.resume()
    # Then it has left within the time, saying it gave up waiting, without leaving its PostgreSQL behind
    assert exit_code is not None, served.printed()[-2000:]
    assert "leaving without waiting for the rest" in served.printed(), served.printed()[-3000:]
    deadline = time.monotonic() + 30  # the fast shutdown it asked for, once the processes resume
    while postgres_pids(served.pgdata) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert postgres_pids(served.pgdata) == []
    assert _port_free(served.port)


def test_sigterm_after_the_database_died_stops_within_ten_seconds(start: Callable[..., Served]) -> None:
    # Given a server with background exports under way, whose PostgreSQL is then killed
    served = _exporting(start)
    for pid in postgres_pids(served.pgdata):
        os.kill(pid, signal.SIGKILL)
    # When it receives SIGTERM
    exit_code = _stopped_within(served, STOP_SECONDS)
    # Then it has exited within the time anyway, and freed the port
    assert exit_code is not None, served.printed()[-2000:]
    assert _port_free(served.port)


# Folders a run of the suite or of the tools fills on its own (caches, the environment): not the examples.
UNWATCHED = {
    ".git",
    ".venv",
    ".venv-tools",
    ".local",
    "__pycache__",
    ".pytest_cache",
    ".mypy_cache",
    ".ruff_cache",
}


def _repository_files() -> set[Path]:
    found: set[Path] = set()
    for folder, subfolders, files in os.walk(PROJECT_ROOT):
        subfolders[:] = [name for name in subfolders if name not in UNWATCHED and name != ".hypothesis"]
        found.update(Path(folder, name) for name in files)
    return found


def _readme_curl_blocks() -> str:
    """Every ```bash block of the README that calls curl, in order (each reuses the variables before it)."""
    readme = (PROJECT_ROOT / "README.md").read_text()
    blocks = [block.split("\n", 1)[1] for block in readme.split("```bash")[1:]]
    return "\n".join(block.split("```", 1)[0] for block in blocks if "curl " in block.split("```", 1)[0])


def test_every_readme_curl_example_runs_as_written_on_another_port_and_leaves_no_file_behind(
    start: Callable[..., Served],
) -> None:
    # Given a server on a port that is not the default, and the README's examples as written
    served = start()
    assert served.port != 3000
    examples = _readme_curl_blocks()
    assert examples.count("curl ") >= 20 and "<" not in examples.replace("<<", "")
    before = _repository_files()
    # When they run in bash from the repository folder, with PORT and DATA_DIR as the server has them, every
    # HTTP error failing the run
    script = "\n".join(
        [
            "set -euo pipefail",
            'curl() { command curl --fail-with-body --silent --show-error "$@"; }',
            examples,
            'echo; echo "downloaded:"; ls "$DOWNLOADS"',
        ]
    )
    result = subprocess.run(
        ["/bin/bash", "-c", script],
        cwd=PROJECT_ROOT,
        env=_environment(served.data_dir, PORT=str(served.port)),
        capture_output=True,
        text=True,
        timeout=STARTUP_SECONDS,
        check=False,
    )
    # Then every example succeeded, the 304 among them, and the files were downloaded outside the repository
    assert result.returncode == 0, (result.stdout[-3000:], result.stderr[-3000:])
    assert "HTTP/1.1 304 Not Modified" in result.stdout
    assert "HTTP/1.1 204 No Content" in result.stdout
    downloaded = result.stdout.rsplit("downloaded:\n", 1)[1].split()
    assert {"conformidade.xlsx", "planos.xlsx"} <= set(downloaded)
    assert _repository_files() - before == set()


def test_the_demo_writes_example_digests_and_the_digest_command_prints_one_block(
    start: Callable[[], Served],
) -> None:
    # Given a freshly started demo server
    served = start()
    outbox = served.data_dir / "outbox"
    # Then its demo (this server's, or the earlier one's on the same data folder) wrote example digests
    demo_emails = sorted(outbox.glob("*.eml"))
    assert demo_emails, served.printed()
    # When a tick of tomorrow runs for every user through the CLI
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    tick = _cli(served.data_dir, "digest", "--all", "--time", tomorrow)
    # Then it printed its summary alone on stdout as one block, and wrote tomorrow's emails
    assert tick.returncode == 0, tick.stderr
    lines = tick.stdout.splitlines()
    assert lines[0] == f"email digest at {tomorrow}" and "{" not in tick.stdout
    assert f"  outbox:                 {outbox.resolve()}" in lines
    written = int(next(line for line in lines if "emails written:" in line).split(":")[1])
    assert written > 0 and len(list(outbox.glob("*.eml"))) == len(demo_emails) + written
