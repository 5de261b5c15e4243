"""`eduautismo-local`: serve, migrate, seed, token, daily-job (DESIGN §8)."""

from __future__ import annotations

import argparse
import json
import os
import sys
import uuid
import warnings
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from eduautismo_local.embedded import LOCAL_BUCKET, start_embedded_postgres, start_s3_server
from eduautismo_local.events import LocalLambdaContext

# Embedded servers started by this process; they stop when it exits.
_running: list[Any] = []


def _data_dir() -> Path:
    return Path(os.environ.get("DATA_DIR", ".local")).resolve()


def prepare_database() -> None:
    """DATABASE_URL when set, else an embedded PostgreSQL under DATA_DIR."""
    if not os.environ.get("DATABASE_URL"):
        server, url = start_embedded_postgres(_data_dir())
        _running.append(server)
        os.environ["DATABASE_URL"] = url
    os.environ.setdefault("ENVIRONMENT", "local")
    os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
    os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "EduAutismo")
    _reset()


def prepare_services() -> None:
    """The whole local stack: database, cache (REDIS_URL or in-process), S3 (moto), export worker thread."""
    prepare_database()
    os.environ.setdefault("REDIS_URL", "memory://")
    if not os.environ.get("S3_ENDPOINT_URL"):
        server, endpoint = start_s3_server()
        _running.append(server)
        os.environ["S3_ENDPOINT_URL"] = endpoint
        os.environ["EXPORT_BUCKET"] = LOCAL_BUCKET
    os.environ.setdefault("EXPORT_DISPATCH", "thread")
    _reset()


def _reset() -> None:
    from eduautismo.runtime import reset_runtime

    reset_runtime()


def migrate() -> None:
    from eduautismo.db.engine import get_engine
    from eduautismo.db.migrate import upgrade

    upgrade(get_engine())
    print("migrations applied", file=sys.stderr)


def seed(plans: int | None) -> None:
    from eduautismo.db.engine import get_engine
    from eduautismo_local.seed import SeedSize, demo_already_seeded, seed_demo

    engine = get_engine()
    if demo_already_seeded(engine):
        print("demo data already present", file=sys.stderr)
        return
    size = (
        SeedSize()
        if plans is None
        else SeedSize(plans=plans, professionals=max(8, plans // 500), students=max(120, plans // 20))
    )
    report = seed_demo(engine, size)
    print(
        f"seeded {report.organizations} organizations, {report.users} users, "
        f"{report.students} students, {report.plans} plans",
        file=sys.stderr,
    )


def demo_token(role: str, ttl_seconds: int = 12 * 3600) -> str:
    from eduautismo.settings import get_settings
    from eduautismo_local.seed import DEMO_COORDINATOR_ID, DEMO_ORGANIZATIONS, DEMO_PROFESSIONAL_ID
    from eduautismo_local.tokens import issue_token

    is_coordinator = role == "coordinator"
    return issue_token(
        get_settings(),
        sub=DEMO_COORDINATOR_ID if is_coordinator else DEMO_PROFESSIONAL_ID,
        organization_id=DEMO_ORGANIZATIONS[0][0],
        role=role,
        email="coordenacao1@eduautismo.example" if is_coordinator else "profissional1.1@eduautismo.example",
        name="Coordenação Demo" if is_coordinator else "Profissional Demo",
        ttl_seconds=ttl_seconds,
    )


def serve(port: int) -> None:
    from eduautismo_local.server import make_server

    prepare_services()
    migrate()
    if os.environ.get("SEED_DEMO", "1") == "1":
        seed(None)
    server = make_server(port)
    base = f"http://127.0.0.1:{port}"
    print(
        f"\nEduAutismo Planos is running at {base}/api/v1\n"
        f"  Swagger UI:         {base}/docs\n"
        f"  Health:             curl {base}/api/v1/health\n"
        f"  Coordinator token:  {demo_token('coordinator')}\n"
        f"  Professional token: {demo_token('professional')}\n"
        f'  Try: curl -H "Authorization: Bearer $TOKEN" {base}/api/v1/intervention-plans/pending-review\n',
        flush=True,
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


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


def daily_job(time_iso: str | None) -> int:
    from eduautismo_local.template_routes import load_handler, scheduled_function

    source = scheduled_function()
    if source is None:
        print("template.yaml declares no scheduled function", file=sys.stderr)
        return 2
    prepare_services()
    migrate()
    handler = load_handler(*source)
    result = handler(scheduled_event(time_iso), LocalLambdaContext(function_name="DailyJobFunction"))
    print(json.dumps(result, indent=2, default=str))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="eduautismo-local", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve_parser = commands.add_parser("serve", help="start the whole API locally")
    serve_parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "3000")))
    commands.add_parser("migrate", help="apply the database migrations")
    seed_parser = commands.add_parser("seed", help="write demo data")
    seed_parser.add_argument("--plans", type=int, default=None, help="number of plans (bulk loaded)")
    token_parser = commands.add_parser("token", help="print a local JWT")
    token_parser.add_argument("--role", choices=["coordinator", "professional"], default="coordinator")
    token_parser.add_argument("--sub", type=uuid.UUID, help="user id (default: the demo user of the role)")
    token_parser.add_argument("--org", type=uuid.UUID, help="organization id (default: the demo school)")
    token_parser.add_argument("--email", default=None)
    token_parser.add_argument("--name", default=None)
    token_parser.add_argument("--ttl", type=int, default=12 * 3600, help="lifetime in seconds")
    job_parser = commands.add_parser("daily-job", help="run the scheduled job with an EventBridge event")
    job_parser.add_argument("--time", default=None, help="the event's time, ISO 8601 (default: now)")
    return parser


def main(argv: list[str] | None = None) -> int:
    # Local noise with no meaning here: no EMF metrics on some requests, no XDG runtime dir as root.
    warnings.filterwarnings("ignore", message="No application metrics to publish")
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
    args = build_parser().parse_args(argv)
    if args.command == "serve":
        serve(args.port)
    elif args.command == "migrate":
        prepare_database()
        migrate()
    elif args.command == "seed":
        prepare_database()
        migrate()
        seed(args.plans)
    elif args.command == "token":
        print(_token_from_args(args))
    elif args.command == "daily-job":
        return daily_job(args.time)
    return 0


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
