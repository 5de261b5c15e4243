"""`make load LOAD_CONTAINERS=200`: many Lambda containers, few database connections.

Each container is a process forked from one that imported every handler (as a warm Lambda container has),
with its own engine and pool, handling one event at a time: the mix of `make load`, as API Gateway events
to the handlers template.yaml names, in process. Three runs of LOAD_SECONDS each on a private PostgreSQL
(embedded, sized so that the direct run can open a connection per container):

- direct: every container connects to PostgreSQL;
- PgBouncer in transaction mode with 20 server connections (RDS Proxy's stand-in): 0 errors;
- the same with 2: what cannot get a connection in time answers 503 with Retry-After, nothing else.

Every run checks that each acknowledged write is in the database.
"""

from __future__ import annotations

import multiprocessing
import os
import random
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from multiprocessing.queues import Queue
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, text

from benchmarks.harness import percentile
from benchmarks.load import (
    Answer,
    LoadUser,
    Operation,
    Outcome,
    WriteLog,
    available_mix,
    load_users,
    missing_writes,
    run_user,
)
from eduautismo.db.engine import normalize_database_url
from eduautismo_local.events import LocalLambdaContext, http_api_event
from eduautismo_local.template_routes import http_routes, load_handler, match_route
from eduautismo_local.tokens import verify_token
from tests.support import services
from tests.support.pgbouncer import start_pgbouncer

# (server connections, seconds a transaction may wait for one). 10 s is RDS Proxy's
# ConnectionBorrowTimeout in infra/stacks/database.yaml; the 2-connection run waits 1 s, to reach the edge
# where requests must be refused (503 with Retry-After) within the run.
SERVER_CONNECTIONS = ((20, 10), (2, 1))
START_DELAY_SECONDS = 3.0
WARM_SECONDS = 3.0
# A container waits for its next invocation most of the time, holding its client connection: each pauses
# 4 s on average between events (200 containers offer ~50 requests/s). Without pauses, 200 busy processes
# on a developer machine's few cores would measure the CPU, not the connections.
THINK_SECONDS = 4.0


class InProcessClient:
    """A container's caller: the route's handler with the event API Gateway would send it."""

    def __init__(self, user: LoadUser) -> None:
        from eduautismo.settings import get_settings

        self.user = user
        self.last: Answer | None = None
        self.claims = verify_token(get_settings(), f"Bearer {user.token}")

    def reset(self) -> None:
        """Nothing to reconnect: each call is one event."""

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        import json

        url_path, _, query = path.partition("?")
        matched = match_route(method, url_path)
        if matched is None:
            raise RuntimeError(f"no route for {method} {url_path}")
        route, path_parameters = matched
        event = http_api_event(
            method,
            url_path,
            route_key=route.route_key,
            path_parameters=path_parameters,
            query=query,
            headers={"content-type": "application/json"},
            body=None if body is None else json.dumps(body),
            claims=self.claims,
        )
        handler = load_handler(route.code_uri, route.handler)
        result = handler(event, LocalLambdaContext(function_name=route.function))
        raw = result.get("body") or ""
        decoded = json.loads(raw) if raw else None
        headers = {str(name): str(value) for name, value in (result.get("headers") or {}).items()}
        status = int(result["statusCode"])
        self.last = Answer(status, headers, decoded)
        return status, decoded


@dataclass
class RunResult:
    label: str
    outcomes: list[Outcome]
    failures: list[str]
    missing: list[str]
    writes: int
    seconds: float

    def statuses(self) -> Counter[int]:
        return Counter(outcome.status for outcome in self.outcomes)

    def errors(self, refusals_allowed: bool) -> int:
        return sum(
            not outcome.ok and not (refusals_allowed and outcome.retry_later) for outcome in self.outcomes
        )

    def line(self) -> str:
        times = [outcome.milliseconds for outcome in self.outcomes if outcome.ok]
        return (
            f"{self.label:<26} {len(self.outcomes):>8} {len(self.outcomes) / self.seconds:>9.0f} "
            f"{percentile(times, 50) if times else 0:>8.1f} {percentile(times, 95) if times else 0:>8.1f} "
            f"{sum(o.retry_later for o in self.outcomes):>6} {self.errors(refusals_allowed=True):>6} "
            f"{self.writes:>7} {len(self.missing):>7}"
        )


def _container(
    index: int,
    database_url: str,
    user: LoadUser,
    mix: Sequence[tuple[int, Operation]],
    start: float,
    seconds: float,
    results: Queue[Any],
) -> None:
    """One container (a forked process): its own settings, engine and Redis client, built on first use."""
    from eduautismo.runtime import reset_runtime

    os.environ["DATABASE_URL"] = database_url
    reset_runtime()
    outcomes: list[Outcome] = []
    failures: list[str] = []
    log = WriteLog()
    try:
        client = InProcessClient(user)
        time.sleep(max(0.0, start - time.monotonic()))
        outcomes, failures = run_user(client, log, mix, start + seconds, random.Random(index), THINK_SECONDS)
    except Exception as exc:  # reported, never swallowed: the parent counts it as a failure
        failures.append(f"container {index}: {type(exc).__name__}: {exc}")
    finally:
        reset_runtime()  # closes this container's connections
        results.put((outcomes, log, failures))


def _run(
    label: str,
    database_url: str,
    users: Sequence[LoadUser],
    mix: Sequence[tuple[int, Operation]],
    seconds: float,
    checker: Engine,
) -> RunResult:
    context = multiprocessing.get_context("fork")
    results: Queue[Any] = context.Queue()
    start = time.monotonic() + START_DELAY_SECONDS
    processes = [
        context.Process(target=_container, args=(index, database_url, user, mix, start, seconds, results))
        for index, user in enumerate(users)
    ]
    for process in processes:
        process.start()
    outcomes: list[Outcome] = []
    failures: list[str] = []
    logs: list[WriteLog] = []
    for _ in processes:
        done, log, failed = results.get(timeout=seconds + 300)
        outcomes += done
        logs.append(log)
        failures += failed
    for process in processes:
        process.join(timeout=60)
    writes = sum(len(log.created) + sum(log.reviews.values()) + len(log.notifications_read) for log in logs)
    return RunResult(label, outcomes, failures, missing_writes(checker, logs), writes, seconds)


def _private_postgres(directory: Path, max_connections: int) -> tuple[Any, str]:
    """The embedded PostgreSQL, restarted with room for one direct connection per container (the shared
    server on a developer machine has far fewer, and other work needs them)."""
    from eduautismo_local.embedded import start_embedded_postgres, stop_embedded_postgres

    server, url = start_embedded_postgres(directory, tcp=True)
    admin_url, connect_args = normalize_database_url(url)
    admin = create_engine(admin_url, connect_args=connect_args, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"ALTER SYSTEM SET max_connections = {int(max_connections)}"))
    admin.dispose()
    stop_embedded_postgres(server)
    return start_embedded_postgres(directory, tcp=True)


def run_containers(containers: int, seconds: float) -> int:
    from eduautismo.runtime import reset_runtime
    from eduautismo_local import cli
    from eduautismo_local.embedded import stop_embedded_postgres

    with tempfile.TemporaryDirectory(prefix="eduautismo-containers-") as data_dir:
        server, server_url = _private_postgres(Path(data_dir), max_connections=containers + 40)
        cache_prefix = f"eduautismo-containers-{uuid.uuid4().hex[:8]}"
        try:
            database_url = services.create_private_database(server_url, prefix="eduautismo_containers")
            os.environ.update(
                {
                    **services.base_environment(),
                    "ENVIRONMENT": "local",
                    "DATABASE_URL": database_url,
                    "REDIS_URL": services.redis_url(),
                    "CACHE_KEY_PREFIX": cache_prefix,
                    "DATA_DIR": data_dir,
                }
            )
            reset_runtime()
            cli.migrate()
            cli.seed(None)
            url, connect_args = normalize_database_url(database_url)
            checker = create_engine(url, connect_args=connect_args)
            users = load_users(checker, containers, InProcessClient)
            mix = available_mix({route.route_key for route in http_routes()})
            # Warm, as containers that have served before: every route once in this process (its
            # request validation models), which the forks inherit. Its writes are not checked.
            run_user(
                InProcessClient(users[0]), WriteLog(), mix, time.monotonic() + WARM_SECONDS, random.Random(-1)
            )
            reset_runtime()  # nothing open crosses the fork
            print(f"{containers} containers, {len(mix)} operations, {seconds:.0f}s per run", file=sys.stderr)
            results = [_run("direct", database_url, users, mix, seconds, checker)]
            for pool_size, borrow_timeout in SERVER_CONNECTIONS:
                proxy = start_pgbouncer(server_url, pool_size=pool_size, query_wait_timeout=borrow_timeout)
                try:
                    label = f"pgbouncer {pool_size} server conns"
                    results.append(_run(label, proxy.url(database_url), users, mix, seconds, checker))
                finally:
                    proxy.stop()
            checker.dispose()
        finally:
            from eduautismo.cache.client import build_redis
            from eduautismo.settings import get_settings

            services.purge_cache_prefix(build_redis(get_settings()), cache_prefix)
            reset_runtime()
            stop_embedded_postgres(server)
    return _verdict(results)


def _verdict(results: Sequence[RunResult]) -> int:
    print(
        f"{'run':<26} {'requests':>8} {'req/s':>9} {'p50 ms':>8} {'p95 ms':>8} {'503':>6} "
        f"{'errors':>6} {'writes':>7} {'missing':>7}"
    )
    for result in results:
        print(result.line())
    failed = False
    for result in results:
        print(f"{result.label}: statuses {dict(sorted(result.statuses().items()))}")
        for line in (result.failures + result.missing)[:10]:
            print(f"  {line}")
        # The 2-connection run may refuse (503 + Retry-After); the others may not.
        refusals_allowed = result.label.startswith("pgbouncer 2 ")
        if result.errors(refusals_allowed) or result.missing or result.failures or not result.outcomes:
            failed = True
    return 1 if failed else 0
