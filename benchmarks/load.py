"""`make load`: the local server (`eduautismo-local serve`, demo data, a private database) driven over
loopback by 50 concurrent users for 60 s with a mix of reads and writes on the routes template.yaml declares.

Reports requests, errors and p95; then checks in the database that every write the users made is there.
Exit status 1 on any error (unexpected status or failed request) or missing write.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import Engine, create_engine, text

from benchmarks.harness import percentile
from eduautismo.db.engine import normalize_database_url
from eduautismo_local.embedded import free_port
from eduautismo_local.template_routes import http_routes
from eduautismo_local.tokens import issue_token
from tests.support import services

API = "/api/v1"
STARTUP_SECONDS = 180


@dataclass(frozen=True)
class LoadUser:
    user_id: uuid.UUID
    organization_id: uuid.UUID
    role: str
    token: str
    student_ids: tuple[uuid.UUID, ...]


@dataclass
class Outcome:
    route: str
    status: int
    milliseconds: float
    ok: bool
    # A 503 with Retry-After and the error envelope: the answer when no database connection came in time.
    retry_later: bool = False
    # A failed outcome's answer (status and error envelope), to tell a failure's cause from the report.
    answer: str = ""


@dataclass
class WriteLog:
    """What each user wrote, to be found in the database afterwards. One user touches only its own plans."""

    created: dict[uuid.UUID, uuid.UUID] = field(default_factory=dict)  # plan id -> responsible professional
    titles: dict[uuid.UUID, str] = field(default_factory=dict)  # plan id -> last title written
    reviews: dict[uuid.UUID, int] = field(default_factory=lambda: defaultdict(int))  # plan id -> reviews
    notifications_read: set[uuid.UUID] = field(default_factory=set)


@dataclass(frozen=True)
class Answer:
    """What the server last answered a client; the run judges it after the operation."""

    status: int
    headers: dict[str, str]
    body: Any

    @property
    def asks_to_retry_later(self) -> bool:
        """A 503 with a Retry-After header, in the error envelope (or health's own report)."""
        body = self.body
        if (
            self.status != 503
            or "retry-after" not in {name.lower() for name in self.headers}
            or not isinstance(body, dict)
        ):
            return False
        error = body.get("error")
        return body.get("database") == "down" or (
            isinstance(error, dict) and error.get("code") == "service_unavailable"
        )

    @property
    def description(self) -> str:
        """The status with its error envelope's code and message, when the body has one."""
        error = self.body.get("error") if isinstance(self.body, dict) else None
        if isinstance(error, dict):
            return f"{self.status} {error.get('code')}: {error.get('message')}"
        return str(self.status)


class LoadClient(Protocol):
    user: LoadUser
    last: Answer | None

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]: ...

    def reset(self) -> None: ...


class Client:
    """One keep-alive connection per virtual user, as a browser tab would hold."""

    def __init__(self, port: int, user: LoadUser) -> None:
        self.port = port
        self.user = user
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.last: Answer | None = None

    def reset(self) -> None:
        self.connection.close()

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {self.user.token}", "Content-Type": "application/json"}
        payload = None if body is None else json.dumps(body)
        try:
            self.connection.request(method, path, body=payload, headers=headers)
            response = self.connection.getresponse()
        except (ConnectionError, http.client.HTTPException):
            self.connection.close()  # the server dropped the keep-alive connection: retry on a new one
            self.connection.request(method, path, body=payload, headers=headers)
            response = self.connection.getresponse()
        raw = response.read()
        content_type = response.getheader("content-type") or ""
        decoded = json.loads(raw) if raw and "json" in content_type else raw
        self.last = Answer(response.status, dict(response.getheaders()), decoded)
        return response.status, decoded


Operation = Callable[[LoadClient, WriteLog, random.Random], tuple[str, int, bool]]


def _health(client: LoadClient, _log: WriteLog, _rng: random.Random) -> tuple[str, int, bool]:
    status, _ = client.call("GET", f"{API}/health")
    return "GET /health", status, status == 200


def _pending_review(client: LoadClient, _log: WriteLog, rng: random.Random) -> tuple[str, int, bool]:
    query = rng.choice(("limit=20", "limit=50&priority=high", "overdue_only=true", "limit=10&skip=10"))
    status, body = client.call("GET", f"{API}/intervention-plans/pending-review?{query}")
    return "GET /intervention-plans/pending-review", status, status == 200 and "items" in body


def _create_plan(client: LoadClient, log: WriteLog, rng: random.Random) -> tuple[str, int, bool]:
    if not client.user.student_ids:  # a professional with an empty caseload has no one to plan for
        return _pending_review(client, log, rng)
    title = f"Plano de carga {uuid.uuid4().hex[:8]}"
    body = {
        "student_id": str(rng.choice(client.user.student_ids)),
        "title": title,
        "priority": rng.choice(("low", "medium", "high")),
        "review_frequency": rng.choice(("daily", "weekly", "biweekly", "monthly", "quarterly")),
    }
    status, created = client.call("POST", f"{API}/intervention-plans", body)
    ok = status == 201 and isinstance(created, dict) and created.get("title") == title
    if ok:
        plan_id = uuid.UUID(created["id"])
        log.created[plan_id] = uuid.UUID(created["professional_id"])
        log.titles[plan_id] = title
    return "POST /intervention-plans", status, ok


PlanOperation = Callable[[LoadClient, WriteLog, uuid.UUID], tuple[str, int, bool]]


def _on_an_own_plan(operation: PlanOperation) -> Operation:
    """Act on a plan this user created during the run; the first time, create one instead."""

    def act(client: LoadClient, log: WriteLog, rng: random.Random) -> tuple[str, int, bool]:
        if not log.created:
            return _create_plan(client, log, rng)
        return operation(client, log, rng.choice(list(log.created)))

    act.__name__ = operation.__name__
    return act


@_on_an_own_plan
def _patch_plan(client: LoadClient, log: WriteLog, plan_id: uuid.UUID) -> tuple[str, int, bool]:
    title = f"Plano revisto {uuid.uuid4().hex[:8]}"
    status, body = client.call("PATCH", f"{API}/intervention-plans/{plan_id}", {"title": title})
    ok = status == 200 and isinstance(body, dict) and body.get("title") == title
    if ok:
        log.titles[plan_id] = title
    return "PATCH /intervention-plans/{id}", status, ok


@_on_an_own_plan
def _review_plan(client: LoadClient, log: WriteLog, plan_id: uuid.UUID) -> tuple[str, int, bool]:
    status, _ = client.call(
        "POST", f"{API}/intervention-plans/{plan_id}/reviews", {"notes": "Revisão de carga"}
    )
    ok = status in (200, 201)
    if ok:
        log.reviews[plan_id] += 1
    return "POST /intervention-plans/{id}/reviews", status, ok


def _notifications(client: LoadClient, _log: WriteLog, _rng: random.Random) -> tuple[str, int, bool]:
    status, body = client.call("GET", f"{API}/notifications?limit=20")
    return "GET /notifications", status, status == 200 and "items" in body


def _unread_count(client: LoadClient, _log: WriteLog, _rng: random.Random) -> tuple[str, int, bool]:
    status, _ = client.call("GET", f"{API}/notifications/unread-count")
    return "GET /notifications/unread-count", status, status == 200


def _mark_notification_read(client: LoadClient, log: WriteLog, rng: random.Random) -> tuple[str, int, bool]:
    status, body = client.call("GET", f"{API}/notifications?unread_only=true&limit=5")
    if status != 200 or not body.get("items"):
        return "GET /notifications", status, status == 200
    notification_id = uuid.UUID(rng.choice(body["items"])["id"])
    status, _ = client.call("PATCH", f"{API}/notifications/{notification_id}", {"is_read": True})
    ok = status == 200
    if ok:
        log.notifications_read.add(notification_id)
    return "PATCH /notifications/{id}", status, ok


def _export_summary(client: LoadClient, _log: WriteLog, _rng: random.Random) -> tuple[str, int, bool]:
    status, _ = client.call("GET", f"{API}/export/pending-review/summary")
    return "GET /export/pending-review/summary", status, status == 200


# (route the operation needs, weight, operation): the mix is mostly reads, as a school's day would be.
MIX: tuple[tuple[str, int, Operation], ...] = (
    ("GET /api/v1/health", 1, _health),
    ("GET /api/v1/intervention-plans/pending-review", 8, _pending_review),
    ("POST /api/v1/intervention-plans", 3, _create_plan),
    ("PATCH /api/v1/intervention-plans/{id}", 2, _patch_plan),
    ("POST /api/v1/intervention-plans/{id}/reviews", 2, _review_plan),
    ("GET /api/v1/notifications", 4, _notifications),
    ("GET /api/v1/notifications/unread-count", 4, _unread_count),
    ("PATCH /api/v1/notifications/{id}", 1, _mark_notification_read),
    ("GET /api/v1/export/pending-review/summary", 1, _export_summary),
)


def _shape(route_key: str) -> str:
    """A route key with its parameter names erased: `PATCH /x/{plan_id}` and `PATCH /x/{id}` are one route."""
    return re.sub(r"\{[^}]+\}", "{}", route_key)


def available_mix(route_keys: set[str]) -> list[tuple[int, Operation]]:
    """The operations whose route template.yaml declares today (features arrive one by one)."""
    declared = {_shape(key) for key in route_keys}
    return [(weight, operation) for route, weight, operation in MIX if _shape(route) in declared]


def run_user(
    client: LoadClient,
    log: WriteLog,
    mix: Sequence[tuple[int, Operation]],
    deadline: float,
    rng: random.Random,
    think_seconds: float = 0.0,
) -> tuple[list[Outcome], list[str]]:
    """One virtual user: operations drawn from the mix until the deadline, with a pause of
    ``think_seconds`` on average after each (none: as fast as answers come)."""
    weights = [weight for weight, _ in mix]
    operations = [operation for _, operation in mix]
    outcomes: list[Outcome] = []
    failures: list[str] = []
    while time.monotonic() < deadline:
        operation = rng.choices(operations, weights)[0]
        started = time.perf_counter()
        client.last = None
        try:
            route, status, ok = operation(client, log, rng)
        except Exception as exc:  # a broken connection or an unreadable body is an error too
            route, status, ok = operation.__name__, 0, False
            failures.append(f"{operation.__name__}: {type(exc).__name__}: {exc}")
            client.reset()
        elapsed = (time.perf_counter() - started) * 1000
        failed_answer = None if ok else client.last
        outcomes.append(
            Outcome(
                route,
                status,
                elapsed,
                ok,
                retry_later=failed_answer is not None and failed_answer.asks_to_retry_later,
                answer="" if failed_answer is None else failed_answer.description,
            )
        )
        if think_seconds:
            time.sleep(min(rng.uniform(0, 2 * think_seconds), max(0.0, deadline - time.monotonic())))
    return outcomes, failures


def drive(
    port: int,
    users: Sequence[LoadUser],
    mix: Sequence[tuple[int, Operation]],
    seconds: float,
) -> tuple[list[Outcome], list[WriteLog], list[str]]:
    deadline = time.monotonic() + seconds
    outcomes: list[list[Outcome]] = [[] for _ in users]
    logs = [WriteLog() for _ in users]
    failures: list[str] = []

    def virtual_user(index: int) -> None:
        done, failed = run_user(Client(port, users[index]), logs[index], mix, deadline, random.Random(index))
        outcomes[index] = done
        failures.extend(failed)

    threads = [threading.Thread(target=virtual_user, args=(index,)) for index in range(len(users))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return [outcome for per_user in outcomes for outcome in per_user], logs, failures


def missing_writes(engine: Engine, logs: Sequence[WriteLog]) -> list[str]:
    """Every acknowledged write, looked up in the database: created plans with their responsible
    professional and last title, the number of reviews of each plan, notifications marked read."""
    problems: list[str] = []
    with engine.connect() as connection:
        for log in logs:
            for plan_id, professional_id in log.created.items():
                row = connection.execute(
                    text("SELECT professional_id, title FROM intervention_plans WHERE id = :id"),
                    {"id": plan_id},
                ).first()
                if row is None:
                    problems.append(f"plan {plan_id} missing")
                elif (row.professional_id, row.title) != (professional_id, log.titles[plan_id]):
                    problems.append(f"plan {plan_id} differs from the last acknowledged write")
            for plan_id, expected in log.reviews.items():
                count = connection.execute(
                    text("SELECT count(*) FROM plan_reviews WHERE plan_id = :id"), {"id": plan_id}
                ).scalar_one()
                if count != expected:
                    problems.append(f"plan {plan_id}: {count} reviews stored, {expected} acknowledged")
            for notification_id in log.notifications_read:
                is_read = connection.execute(
                    text("SELECT is_read FROM notifications WHERE id = :id"), {"id": notification_id}
                ).scalar_one_or_none()
                if is_read is not True:
                    problems.append(f"notification {notification_id} not read")
    return problems


def students_in_scope(client: LoadClient) -> tuple[uuid.UUID, ...]:
    """The students the API lets this user plan for (a coordinator: the organization's; a professional:
    their caseload), read through GET /students so the mix follows the scope rule instead of copying it."""
    found: list[uuid.UUID] = []
    while True:
        status, page = client.call("GET", f"{API}/students?skip={len(found)}&limit=200")
        if status != 200:
            raise RuntimeError(f"GET /students answered {status}")
        found += [uuid.UUID(item["id"]) for item in page["items"]]
        if not page["has_more"]:
            client.reset()
            return tuple(found)


def load_users(engine: Engine, count: int, client_for: Callable[[LoadUser], LoadClient]) -> list[LoadUser]:
    """``count`` virtual users cycling over every seeded coordinator and professional of both schools,
    each with the students it may plan for (asked through ``client_for``'s client)."""
    from eduautismo.settings import get_settings

    settings = get_settings()
    with engine.connect() as connection:
        people = connection.execute(
            text("SELECT id, organization_id, email, name, role FROM users ORDER BY role, email")
        ).all()
    users: dict[uuid.UUID, LoadUser] = {}
    for person in people:
        token = issue_token(
            settings,
            sub=person.id,
            organization_id=person.organization_id,
            role=person.role,
            email=person.email,
            name=person.name,
        )
        user = LoadUser(person.id, person.organization_id, person.role, token, ())
        users[person.id] = replace(user, student_ids=students_in_scope(client_for(user)))
    return [users[people[index % len(people)].id] for index in range(count)]


def _wait_until_healthy(port: int, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the local server exited with status {server.returncode}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", f"{API}/health")
            if connection.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.5)
    raise RuntimeError("the local server did not become healthy")


def report(outcomes: Sequence[Outcome], seconds: float) -> list[str]:
    by_route: dict[str, list[Outcome]] = defaultdict(list)
    for outcome in outcomes:
        by_route[outcome.route].append(outcome)
    lines = [f"{'route':<42} {'requests':>8} {'errors':>6} {'p50 ms':>8} {'p95 ms':>8}"]
    for route, items in sorted(by_route.items()):
        times = [item.milliseconds for item in items]
        lines.append(
            f"{route:<42} {len(items):>8} {sum(not item.ok for item in items):>6} "
            f"{percentile(times, 50):>8.1f} {percentile(times, 95):>8.1f}"
        )
    times = [outcome.milliseconds for outcome in outcomes]
    errors = sum(not outcome.ok for outcome in outcomes)
    p50, p95 = percentile(times, 50), percentile(times, 95)
    lines.append(f"{'total':<42} {len(outcomes):>8} {errors:>6} {p50:>8.1f} {p95:>8.1f}")
    lines.append(f"throughput {len(outcomes) / seconds:.0f} requests/s")
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.load", description=__doc__)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument(
        "--containers", type=int, default=0, help="that many Lambda-like containers over PgBouncer instead"
    )
    args = parser.parse_args(argv)
    if args.containers:
        from benchmarks.containers import run_containers

        return run_containers(args.containers, args.seconds)

    server_url, embedded = services.server_database_url()
    redis_url = services.redis_url()
    database_url = services.create_private_database(server_url, prefix="eduautismo_load")
    cache_prefix = f"eduautismo-load-{uuid.uuid4().hex[:8]}"
    port = free_port()
    environment = {
        **os.environ,
        **services.base_environment(),
        "ENVIRONMENT": "local",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "CACHE_KEY_PREFIX": cache_prefix,
        "SEED_DEMO": "1",
    }
    os.environ.update({key: environment[key] for key in ("DATABASE_URL", "REDIS_URL", "CACHE_KEY_PREFIX")})
    url, connect_args = normalize_database_url(database_url)
    engine = create_engine(url, connect_args=connect_args)
    try:
        return _run(engine, environment, port, args.users, args.seconds)
    finally:
        from eduautismo.cache.client import build_redis
        from eduautismo.settings import get_settings

        engine.dispose()
        services.purge_cache_prefix(build_redis(get_settings()), cache_prefix)
        services.drop_database(server_url, database_url)
        if embedded is not None:
            embedded.cleanup()


def _run(engine: Engine, environment: dict[str, str], port: int, user_count: int, seconds: float) -> int:
    """Serve, drive, check; the exit status of `make load`."""
    with tempfile.TemporaryDirectory(prefix="eduautismo-load-") as data_dir:
        server_log = Path(data_dir) / "server.log"
        environment["DATA_DIR"] = data_dir
        with server_log.open("wb") as log_file:
            server = subprocess.Popen(
                [sys.executable, "-m", "eduautismo_local.cli", "serve", "--port", str(port)],
                env=environment,
                stdout=log_file,
                stderr=subprocess.STDOUT,
            )
        try:
            _wait_until_healthy(port, server)
            mix = available_mix({route.route_key for route in http_routes()})
            users = load_users(engine, user_count, lambda user: Client(port, user))
            print(f"{len(users)} users, {len(mix)} operations, {seconds:.0f}s", file=sys.stderr, flush=True)
            outcomes, logs, failures = drive(port, users, mix, seconds)
        finally:
            server.terminate()
            server.wait(timeout=30)
        problems = missing_writes(engine, logs)
        errors = [outcome for outcome in outcomes if not outcome.ok]
        print("\n".join(report(outcomes, seconds)))
        writes = sum(
            len(log.created) + sum(log.reviews.values()) + len(log.notifications_read) for log in logs
        )
        print(f"acknowledged writes checked in the database: {writes}, missing or different: {len(problems)}")
        for line in (failures + problems)[:20]:
            print(f"  {line}")
        if errors:
            statuses = sorted({(outcome.route, outcome.status) for outcome in errors})
            print(f"errors by route and status: {statuses}")
            for outcome in errors[:10]:
                print(f"  {outcome.route}: {outcome.answer}")
            print(server_log.read_text(errors="replace")[-3000:])
    return 1 if errors or problems or not outcomes else 0


if __name__ == "__main__":
    sys.exit(main())
