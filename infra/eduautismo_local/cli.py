"""`eduautismo-local`: serve, migrate, seed, token, daily-job (README "Local commands").

`serve` records where its database and cache are in DATA_DIR/server.json while it runs; the other commands
use the database and cache of the server running on the same DATA_DIR, else start the embedded PostgreSQL
of that DATA_DIR themselves, and always say which database they used."""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import signal
import sys
import tempfile
import threading
import uuid
import warnings
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn

from eduautismo_local.embedded import (
    LOCAL_BUCKET,
    FakeRedisServer,
    abandon_embedded_postgres,
    local_s3_client,
    start_embedded_postgres,
    start_s3_server,
    stop_embedded_postgres,
)
from eduautismo_local.events import LocalLambdaContext
from eduautismo_local.lifecycle import LifecycleSweeper

STATE_FILE = "server.json"
DEFAULT_PORT = 3000
# A stop signal ends the process within this time, whatever is in flight: background exports, the daily
# job, a database that no longer answers, embedded_postgres's machine-wide lock held by another process.
STOP_SECONDS = 8.0


def _data_dir() -> Path:
    return Path(os.environ.get("DATA_DIR", ".local")).resolve()


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _without_secrets(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def _process_alive(pid: int) -> bool:
    import psutil

    try:
        return bool(psutil.Process(pid).status() != psutil.STATUS_ZOMBIE)
    except psutil.NoSuchProcess:
        return False


@dataclass(frozen=True)
class RunningServer:
    """What `serve` writes to DATA_DIR/server.json (and to a per-user registry, so that a command run with
    another DATA_DIR can point at it). Private to the user: the URLs may carry credentials."""

    pid: int
    port: int
    data_dir: str
    database_url: str
    redis_url: str

    @staticmethod
    def registry() -> Path:
        return Path(tempfile.gettempdir()) / f"eduautismo-local-{os.getuid()}"

    def files(self) -> tuple[Path, Path]:
        return Path(self.data_dir) / STATE_FILE, self.registry() / f"{self.pid}.json"

    def record(self) -> None:
        self.registry().mkdir(mode=0o700, exist_ok=True)
        for path in self.files():
            path.touch(mode=0o600)
            path.write_text(json.dumps(asdict(self)))

    def forget(self) -> None:
        for path in self.files():
            path.unlink(missing_ok=True)

    @classmethod
    def read(cls, path: Path) -> RunningServer | None:
        """The server described in ``path`` if it is still running; a file left by a dead one is removed."""
        try:
            server = cls(**json.loads(path.read_text()))
        except (OSError, ValueError, TypeError):
            return None
        if not _process_alive(server.pid):
            server.forget()
            return None
        return server

    @classmethod
    def on(cls, data_dir: Path) -> RunningServer | None:
        return cls.read(data_dir / STATE_FILE)

    @classmethod
    def everywhere(cls) -> list[RunningServer]:
        found = (cls.read(path) for path in sorted(cls.registry().glob("*.json")))
        return [server for server in found if server is not None]


class LocalStack:
    """The services this process started, stopped in reverse order by ``stop()``."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self._stops: list[Callable[[], None]] = []
        self._embedded_postgres: Any = None

    def database(self) -> str:
        """Point DATABASE_URL at a database and say which one: DATABASE_URL as given, the running server's
        of this DATA_DIR, else this DATA_DIR's embedded PostgreSQL, started for this process."""
        if os.environ.get("DATABASE_URL"):
            used = f"DATABASE_URL ({_without_secrets(os.environ['DATABASE_URL'])})"
        elif (running := RunningServer.on(self.data_dir)) is not None:
            os.environ["DATABASE_URL"] = running.database_url
            os.environ.setdefault("REDIS_URL", running.redis_url)
            used = f"the running server's (port {running.port}, DATA_DIR={running.data_dir})"
        else:
            server, url = start_embedded_postgres(self.data_dir)
            self._embedded_postgres = server
            self._stops.append(lambda: stop_embedded_postgres(server))
            os.environ["DATABASE_URL"] = url
            used = f"the embedded PostgreSQL in {self.data_dir / 'pgdata'}"
        os.environ.setdefault("ENVIRONMENT", "local")
        os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
        os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "EduAutismo")
        _reset()
        return used

    def cache(self) -> None:
        """REDIS_URL, else fakeredis on a loopback port (shared with the CLI commands run next to us)."""
        if not os.environ.get("REDIS_URL"):
            fake = FakeRedisServer()
            self._stops.append(fake.stop)
            os.environ["REDIS_URL"] = fake.url
        _reset()

    def storage(self) -> None:
        if not os.environ.get("S3_ENDPOINT_URL"):
            server, endpoint = start_s3_server()
            self._stops.append(server.stop)
            os.environ["S3_ENDPOINT_URL"] = endpoint
            os.environ["EXPORT_BUCKET"] = LOCAL_BUCKET
            sweeper = LifecycleSweeper(local_s3_client(endpoint), LOCAL_BUCKET)
            sweeper.start()
            self._stops.append(sweeper.stop)
        os.environ.setdefault("EXPORT_DISPATCH", "thread")
        _reset()

    def on_stop(self, action: Callable[[], None]) -> None:
        self._stops.append(action)

    def abandon(self) -> None:
        """What a stop that took too long still does before the process leaves: no PostgreSQL left behind."""
        if self._embedded_postgres is not None:
            abandon_embedded_postgres(self._embedded_postgres)

    def stop(self) -> None:
        from eduautismo.db.engine import reset_engine

        reset_engine()  # close our connections before the database stops
        while self._stops:
            action = self._stops.pop()
            try:
                action()
            except Exception as exc:  # keep stopping the rest
                _say(f"stopping: {type(exc).__name__}: {exc}")


def leave_now(code: int) -> NoReturn:
    """End the process without waiting for its other threads (a background export blocked on a database
    that is gone would hold the interpreter's exit) or for exit hooks (embedded_postgres's takes its
    machine-wide lock again): once the stack is stopped, nothing left is worth waiting for."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _stop_deadline(stack: LocalStack) -> None:
    """Armed by the first stop signal: a stop still under way after STOP_SECONDS is given up."""

    def give_up() -> None:
        _say(f"stopping took more than {STOP_SECONDS:.0f} s: leaving without waiting for the rest")
        stack.abandon()
        leave_now(1)

    timer = threading.Timer(STOP_SECONDS, give_up)
    timer.daemon = True
    timer.start()


@contextlib.contextmanager
def stopped_cleanly(stack: LocalStack) -> Iterator[None]:
    """SIGINT, SIGTERM and SIGHUP end the command as Ctrl-C does; whichever comes, the stack stops,
    further signals cannot interrupt that, and the process ends within STOP_SECONDS of the signal."""

    def interrupt(signum: int, frame: Any) -> None:
        _stop_deadline(stack)
        raise KeyboardInterrupt

    signals = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    previous = {signum: signal.getsignal(signum) for signum in signals}
    for signum in (signal.SIGINT, signal.SIGTERM):  # SIGINT too: a shell may have started us ignoring it
        signal.signal(signum, interrupt)
    if previous[signal.SIGHUP] != signal.SIG_IGN:  # nohup asked to survive the terminal
        signal.signal(signal.SIGHUP, interrupt)
    try:
        yield
    finally:
        for signum in signals:
            signal.signal(signum, signal.SIG_IGN)
        stack.stop()
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def stop_with_parent() -> None:
    """make does not pass SIGTERM on to the command it runs: have Linux send us SIGTERM when our parent
    (make) dies, so that `make run` stopped by a signal stops everything too."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    pr_set_pdeathsig = 1
    ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)
    if os.getppid() == 1:  # the parent was already gone before the request
        raise KeyboardInterrupt


def _reset() -> None:
    from eduautismo.runtime import reset_runtime

    reset_runtime()


def migrate(report: Callable[[str], None] = _say) -> None:
    """Apply the migrations; ``report`` says so (on stderr when it is a step of another command)."""
    from eduautismo.db.engine import get_engine
    from eduautismo.db.migrate import upgrade

    upgrade(get_engine())
    report("migrations applied")


def _organization_count() -> int:
    from sqlalchemy import text

    from eduautismo.db.engine import get_engine

    with get_engine().connect() as connection:
        return int(connection.execute(text("SELECT count(*) FROM organizations")).scalar_one())


def _warn_if_empty(data_dir: Path) -> None:
    if _organization_count():
        return
    _say("warning: this database has no organizations, so there is nothing to work on.")
    for server in RunningServer.everywhere():
        _say(f"  a server is running on port {server.port} with DATA_DIR={server.data_dir}")
    _say(f"  (this command used DATA_DIR={data_dir}; set DATA_DIR to the server's, or run `seed`)")


def _summary(message: str) -> None:
    """What a command did goes to stdout (the one thing a script reads); progress and diagnostics (which
    database, warnings, the function's JSON logs) go to stderr."""
    print(message, flush=True)


def seed(plans: int | None) -> None:
    """The demo data with its notifications; on an already seeded database, ``plans`` more plans."""
    from eduautismo.context import build_context
    from eduautismo.db.engine import get_engine
    from eduautismo.plans.service import invalidate_pending_review
    from eduautismo_local.seed import DEMO_ORGANIZATIONS, SeedSize, add_plans, demo_already_seeded, seed_demo

    engine = get_engine()
    if not demo_already_seeded(engine):
        size = (
            SeedSize()
            if plans is None
            else SeedSize(plans=plans, professionals=max(8, plans // 500), students=max(120, plans // 20))
        )
        report = seed_demo(engine, size)
        _summary(
            f"seeded {report.organizations} organizations, {report.users} users, "
            f"{report.students} students, {report.plans} plans, {report.reviews} reviews"
        )
    elif plans:
        try:
            added = add_plans(engine, plans)
        except LookupError as exc:
            raise SystemExit(f"seed: {exc}; remove DATA_DIR and start again") from exc
        for organization_id, _name in DEMO_ORGANIZATIONS:
            invalidate_pending_review(build_context(), organization_id)
        _summary(
            f"added {added.plans} plans ({added.reviews} reviews) to {DEMO_ORGANIZATIONS[0][1]}, "
            "for its seeded students"
        )
    else:
        _summary("demo data already present (`seed --plans N` adds N plans to it)")
        return
    # The notifications the daily job would have created by now.
    _summary(daily_job_summary(run_daily_job_function(None), "daily job (notifications of the demo data)"))
    # Example emails: every demo user's digest, whatever their hour (README "Reminders").
    from eduautismo_local.digest import digest_summary

    digests = run_digest_tick(None, _data_dir(), everyone=True)
    _summary(digest_summary(digests, "email digest (example emails of the demo data)"))
    _say(f"example digest emails (.eml, open them in a mail client): {digests['outbox']}")


def demo_token(role: str, ttl_seconds: int = 12 * 3600) -> str:
    """A token of the seeded demo user of ``role``, with that user's own name and email."""
    from eduautismo.settings import get_settings
    from eduautismo_local.seed import DEMO_COORDINATOR, DEMO_ORGANIZATIONS, DEMO_PROFESSIONAL
    from eduautismo_local.tokens import issue_token

    user = DEMO_COORDINATOR if role == "coordinator" else DEMO_PROFESSIONAL
    return issue_token(
        get_settings(),
        sub=user.id,
        organization_id=DEMO_ORGANIZATIONS[0][0],
        role=role,
        email=user.email,
        name=user.name,
        ttl_seconds=ttl_seconds,
    )


def banner(base: str, coordinator_token: str, professional_token: str) -> str:
    """What `serve` prints once it answers; the "Try" lines run as they are when pasted together."""
    return (
        f"\nEduAutismo Planos is running at {base}/api/v1\n"
        f"  Swagger UI:         {base}/docs\n"
        f"  Health:             curl {base}/api/v1/health\n"
        f"  Coordinator token:  {coordinator_token}\n"
        f"  Professional token: {professional_token}\n"
        f"  Try (paste both lines):\n"
        f"    export TOKEN={coordinator_token}\n"
        f'    curl -H "Authorization: Bearer $TOKEN" "{base}/api/v1/intervention-plans/pending-review"\n'
        f"  Stop with Ctrl-C (or SIGTERM): the embedded PostgreSQL stops too.\n"
    )


def serve(port: int, stack: LocalStack) -> None:
    from eduautismo_local.server import make_server

    used = stack.database()
    _say(f"database: {used}")
    stack.cache()
    stack.storage()
    migrate()
    if os.environ.get("SEED_DEMO", "1") == "1":
        seed(None)
    try:
        server = make_server(port)
    except OSError as exc:  # e.g. `make run` already serving there: say so, without a traceback
        raise SystemExit(
            f"serve: port {port} is not free ({exc.strerror}); stop what uses it or set PORT"
        ) from exc
    stack.on_stop(server.server_close)
    running = RunningServer(
        pid=os.getpid(),
        port=int(server.server_address[1]),
        data_dir=str(stack.data_dir),
        database_url=os.environ["DATABASE_URL"],
        redis_url=os.environ["REDIS_URL"],
    )
    stack.data_dir.mkdir(parents=True, exist_ok=True)
    running.record()
    stack.on_stop(running.forget)
    base = f"http://127.0.0.1:{running.port}"
    print(banner(base, demo_token("coordinator"), demo_token("professional")), flush=True)
    server.serve_forever()


def scheduled_event(time_iso: str | None) -> dict[str, Any]:
    instant = datetime.fromisoformat(time_iso.replace("Z", "+00:00")) if time_iso else datetime.now(UTC)
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=UTC)
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "000000000000",
        "time": instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": "sa-east-1",
        "resources": ["arn:aws:events:sa-east-1:000000000000:rule/eduautismo-daily-job"],
        "detail": {},
    }


@contextlib.contextmanager
def _logs_to_stderr() -> Iterator[None]:
    """The function's JSON logs and EMF metrics go to stderr, so stdout holds only the summary."""
    handlers = [
        handler
        for handler in logging.getLogger("eduautismo").handlers
        if isinstance(handler, logging.StreamHandler) and handler.stream is sys.stdout
    ]
    for handler in handlers:
        handler.setStream(sys.stderr)
    try:
        with contextlib.redirect_stdout(sys.stderr):
            yield
    finally:
        for handler in handlers:
            handler.setStream(sys.stdout)


def run_daily_job_function(time_iso: str | None) -> dict[str, Any]:
    """The scheduled function of template.yaml, invoked with an EventBridge event at ``time_iso``."""
    from eduautismo_local.template_routes import load_handler, scheduled_function

    source = scheduled_function()
    if source is None:
        raise SystemExit("template.yaml declares no scheduled function")
    event = scheduled_event(time_iso)
    with _logs_to_stderr():
        handler = load_handler(*source)
        result = handler(event, LocalLambdaContext(function_name="DailyJobFunction"))
    return {"time": event["time"], **result}


def run_digest_tick(time_iso: str | None, data_dir: Path, everyone: bool) -> dict[str, Any]:
    from eduautismo_local.digest import run_digest

    with _logs_to_stderr():
        return run_digest(scheduled_event(time_iso), data_dir, everyone)


def daily_job_summary(result: dict[str, Any], title: str = "daily job") -> str:
    created = result.get("created_by_type", {})
    lines = [
        f"{title} at {result['time']}",
        f"  organizations:          {result['organizations']}",
        f"  plans scanned:          {result['plans_scanned']}",
        f"  notifications created:  {sum(created.values())}"
        + (f" ({', '.join(f'{kind} {count}' for kind, count in created.items())})" if created else ""),
        f"  already expired:        {result['already_expired']}"
        + (
            " (created with a --time so far back that they are in no inbox)"
            if result["already_expired"]
            else ""
        ),
        f"  notifications deleted:  {result['deleted']}",
        f"  duration:               {result['duration_ms']} ms",
    ]
    return "\n".join(lines)


# Local mode has no Cognito: these stand in for its user-pool administration calls.
LOCAL_USER_POOL_ID = "sa-east-1_local"
USER_ACTIONS = {"disable": "AdminDisableUser", "enable": "AdminEnableUser"}


def cognito_event(action: str, sub: uuid.UUID, role: str | None, at: datetime) -> dict[str, Any]:
    """The EventBridge event ("AWS API Call via CloudTrail") Cognito's call would produce in AWS:
    ``set-role coordinator`` adds the user to the coordinator group, ``set-role professional`` removes them
    from it; ``disable`` / ``enable`` the account."""
    parameters: dict[str, Any] = {"userPoolId": LOCAL_USER_POOL_ID, "username": str(sub)}
    if action == "set-role":
        name = "AdminAddUserToGroup" if role == "coordinator" else "AdminRemoveUserFromGroup"
        parameters["groupName"] = "coordinator"
    else:
        name = USER_ACTIONS[action]
    instant = at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "AWS API Call via CloudTrail",
        "source": "aws.cognito-idp",
        "time": instant,
        "region": os.environ.get("AWS_REGION", "sa-east-1"),
        "detail": {
            "eventSource": "cognito-idp.amazonaws.com",
            "eventName": name,
            "eventTime": instant,
            "requestParameters": parameters,
            "additionalEventData": {"sub": str(sub)},
        },
    }


def run_identity_event_function(event: dict[str, Any]) -> dict[str, Any]:
    """The function template.yaml's EventBridge rule on Cognito's events invokes, with ``event``."""
    from eduautismo_local.template_routes import event_rule_function, load_handler

    source = event_rule_function("aws.cognito-idp")
    if source is None:
        raise SystemExit("template.yaml declares no function for Cognito's events")
    with _logs_to_stderr():
        return load_handler(*source)(event, LocalLambdaContext(function_name="IdentityEventsFunction"))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="eduautismo-local", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve_parser = commands.add_parser("serve", help="start the whole API locally")
    serve_parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", str(DEFAULT_PORT))))
    serve_parser.add_argument(
        "--stop-with-parent", action="store_true", help="stop when the parent process (make run) dies"
    )
    commands.add_parser("migrate", help="apply the database migrations")
    seed_parser = commands.add_parser("seed", help="write demo data, or add plans to it")
    seed_parser.add_argument(
        "--plans", type=int, default=None, help="number of plans (bulk loaded); added if the demo exists"
    )
    token_parser = commands.add_parser("token", help="print a local JWT")
    token_parser.add_argument("--role", choices=["coordinator", "professional"], default="coordinator")
    token_parser.add_argument("--sub", type=uuid.UUID, help="user id (default: the demo user of the role)")
    token_parser.add_argument("--org", type=uuid.UUID, help="organization id (default: the demo school)")
    token_parser.add_argument("--email", default=None)
    token_parser.add_argument("--name", default=None)
    token_parser.add_argument("--ttl", type=int, default=12 * 3600, help="lifetime in seconds")
    job_parser = commands.add_parser("daily-job", help="run the scheduled job with an EventBridge event")
    job_parser.add_argument("--time", default=None, help="the event's time, ISO 8601 (default: now)")
    user_parser = commands.add_parser("user", help="change a user as Cognito would (its event, its handler)")
    user_actions = user_parser.add_subparsers(dest="action", required=True)
    set_role = user_actions.add_parser("set-role", help="add to / remove from the coordinator group")
    set_role.add_argument("--role", choices=["coordinator", "professional"], required=True)
    for action, text in (("disable", "disable the account"), ("enable", "enable the account")):
        user_actions.add_parser(action, help=text)
    for action_parser in user_actions.choices.values():
        action_parser.add_argument("--sub", type=uuid.UUID, required=True, help="the user's id")
    digest_parser = commands.add_parser(
        "digest", help="one hourly tick of the email digest (to DATA_DIR/outbox)"
    )
    digest_parser.add_argument("--time", default=None, help="the tick's time, ISO 8601 (default: now)")
    digest_parser.add_argument(
        "--all", action="store_true", help="every user with something to report, whatever their hour"
    )
    return parser


def _run(args: argparse.Namespace, stack: LocalStack) -> int:
    if args.command == "serve":
        if args.stop_with_parent:
            stop_with_parent()
        serve(args.port, stack)
        return 0
    _say(f"database: {stack.database()}")
    migrate(_summary if args.command == "migrate" else _say)
    if args.command == "seed":
        seed(args.plans)
    elif args.command == "user":
        event = cognito_event(args.action, args.sub, getattr(args, "role", None), datetime.now(UTC))
        applied = run_identity_event_function(event)["applied"]
        _summary(
            f"{event['detail']['eventName']} {args.sub}: {'applied' if applied else 'no such user, or older'}"
        )
        return 0 if applied else 1
    elif args.command == "daily-job":
        _warn_if_empty(stack.data_dir)
        _summary(daily_job_summary(run_daily_job_function(args.time)))
    elif args.command == "digest":
        _warn_if_empty(stack.data_dir)
        from eduautismo_local.digest import digest_summary

        _summary(digest_summary(run_digest_tick(args.time, stack.data_dir, args.all)))
    else:
        _warn_if_empty(stack.data_dir)
    return 0


def main(argv: list[str] | None = None) -> int:
    # Local noise with no meaning here: no EMF metrics on some requests, no XDG runtime dir as root.
    warnings.filterwarnings("ignore", message="No application metrics to publish")
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
    args = build_parser().parse_args(argv)
    if args.command == "token":
        print(_token_from_args(args))
        return 0
    stack = LocalStack(_data_dir())
    try:
        with stopped_cleanly(stack):
            return _run(args, stack)
    except KeyboardInterrupt:
        _say("stopped")
        leave_now(0)


def _token_from_args(args: argparse.Namespace) -> str:
    if args.sub is None and args.org is None:
        return demo_token(args.role, args.ttl)
    from eduautismo.settings import get_settings
    from eduautismo_local.seed import DEMO_ORGANIZATIONS
    from eduautismo_local.tokens import issue_token

    sub = args.sub or uuid.uuid4()
    return issue_token(
        get_settings(),
        sub=sub,
        organization_id=args.org or DEMO_ORGANIZATIONS[0][0],
        role=args.role,
        email=args.email or f"{sub}@eduautismo.example",
        name=args.name or "Usuário local",
        ttl_seconds=args.ttl,
    )


if __name__ == "__main__":
    sys.exit(main())
