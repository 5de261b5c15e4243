"""Realistic demo data (pt-BR names), bulk-loaded with COPY so that 100,000 plans take seconds."""

from __future__ import annotations

import random
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Engine, Table, text

from eduautismo.db.bulk import copy_rows
from eduautismo.db.models import InterventionPlan, Notification
from eduautismo.domain import (
    NotificationPriority,
    NotificationType,
    PlanStatus,
    Priority,
    ReviewFrequency,
    Role,
    next_review_due,
)

DEMO_TIMEZONE = "America/Sao_Paulo"
# Fixed ids, so the printed demo tokens belong to seeded users.
DEMO_ORGANIZATIONS = (
    (uuid.UUID("0b7c6a1e-6f35-4d0e-9a51-3d1f6c2a0001"), "Escola Municipal Raio de Sol"),
    (uuid.UUID("0b7c6a1e-6f35-4d0e-9a51-3d1f6c2a0002"), "Clínica Caminhos do Desenvolvimento"),
)
DEMO_COORDINATOR_ID = uuid.UUID("5e1d2c3b-0000-4000-8000-00000000c001")
DEMO_PROFESSIONAL_ID = uuid.UUID("5e1d2c3b-0000-4000-8000-00000000b001")

FIRST_NAMES = (
    "Ana",
    "Beatriz",
    "Caio",
    "Davi",
    "Enzo",
    "Gabriel",
    "Heitor",
    "Helena",
    "Isabela",
    "João",
    "Júlia",
    "Laura",
    "Lucas",
    "Manuela",
    "Maria",
    "Miguel",
    "Pedro",
    "Rafael",
    "Sofia",
    "Valentina",
    "Arthur",
    "Bernardo",
    "Cecília",
    "Lorena",
    "Théo",
    "Lívia",
    "Benício",
    "Alice",
    "Mariana",
    "Otávio",
)
LAST_NAMES = (
    "Silva",
    "Santos",
    "Oliveira",
    "Souza",
    "Rodrigues",
    "Ferreira",
    "Alves",
    "Pereira",
    "Lima",
    "Gomes",
    "Costa",
    "Ribeiro",
    "Martins",
    "Carvalho",
    "Almeida",
    "Lopes",
    "Soares",
    "Fernandes",
    "Vieira",
    "Barbosa",
)
PLAN_TITLES = (
    "Comunicação funcional com pranchas",
    "Rotina visual em sala de aula",
    "Habilidades sociais no recreio",
    "Regulação sensorial",
    "Autonomia na alimentação",
    "Transições entre atividades",
    "Linguagem expressiva",
    "Atenção compartilhada",
    "Coordenação motora fina",
    "Brincar simbólico",
)
PLAN_DESCRIPTIONS = (
    "Objetivos semanais acompanhados pela equipe multiprofissional.",
    "Estratégias de antecipação com apoio visual e reforço positivo.",
    "Intervenção em parceria com a família e a professora regente.",
)


@dataclass(frozen=True)
class SeedSize:
    plans: int = 400
    professionals: int = 8
    students: int = 120
    notifications: int = 0
    # Of ``notifications``, how many belong to the demo professional (the benchmarks' heavy user).
    heavy_user_notifications: int = 0


@dataclass
class SeedReport:
    organizations: int = 0
    users: int = 0
    students: int = 0
    plans: int = 0
    notifications: int = 0


@contextmanager
def _indexes_built_afterwards(engine: Engine, table: Table) -> Iterator[None]:
    """A bulk load into an empty table is faster when each secondary index is built once at the end
    instead of being updated row by row."""
    with engine.begin() as connection:
        for index in table.indexes:
            index.drop(connection)
    try:
        yield
    finally:
        with engine.begin() as connection:
            for index in table.indexes:
                index.create(connection)


def _person(rng: random.Random) -> str:
    return f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)} {rng.choice(LAST_NAMES)}"


def _progress(label: str, done: int, total: int) -> None:
    width = 30
    filled = int(width * done / total) if total else width
    sys.stderr.write(f"\r{label:<10} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
    if done >= total:
        sys.stderr.write("\n")
    sys.stderr.flush()


def demo_already_seeded(engine: Engine) -> bool:
    with engine.connect() as connection:
        return bool(
            connection.execute(
                text("SELECT 1 FROM organizations WHERE id = :id"), {"id": DEMO_ORGANIZATIONS[0][0]}
            ).first()
        )


def seed_demo(
    engine: Engine, size: SeedSize = SeedSize(), seed: int = 42, today: date | None = None
) -> SeedReport:
    rng = random.Random(seed)
    today = today or datetime.now(UTC).date()
    report = SeedReport()
    now = datetime.now(UTC)

    organizations = [(org_id, name, DEMO_TIMEZONE) for org_id, name in DEMO_ORGANIZATIONS]
    report.organizations = copy_rows(engine, "organizations", ("id", "name", "timezone"), organizations)

    users: list[tuple[uuid.UUID, uuid.UUID, str, str, str]] = []
    professionals_by_org: dict[uuid.UUID, list[uuid.UUID]] = {}
    for index, (org_id, _name, _tz) in enumerate(organizations):
        coordinator_id = DEMO_COORDINATOR_ID if index == 0 else uuid.uuid4()
        users.append(
            (
                coordinator_id,
                org_id,
                f"coordenacao{index + 1}@eduautismo.example",
                _person(rng),
                Role.COORDINATOR.value,
            )
        )
        professionals = []
        for number in range(max(size.professionals // len(organizations), 1)):
            professional_id = DEMO_PROFESSIONAL_ID if index == 0 and number == 0 else uuid.uuid4()
            professionals.append(professional_id)
            users.append(
                (
                    professional_id,
                    org_id,
                    f"profissional{index + 1}.{number + 1}@eduautismo.example",
                    _person(rng),
                    Role.PROFESSIONAL.value,
                )
            )
        professionals_by_org[org_id] = professionals
    report.users = copy_rows(engine, "users", ("id", "organization_id", "email", "name", "role"), users)
    coordinators = {org_id: user_id for user_id, org_id, _e, _n, role in users if role == Role.COORDINATOR}

    students_by_org: dict[uuid.UUID, list[uuid.UUID]] = {org_id: [] for org_id, _n, _t in organizations}

    def student_rows() -> Iterator[tuple[object, ...]]:
        for number in range(size.students):
            org_id = organizations[number % len(organizations)][0]
            student_id = uuid.uuid4()
            students_by_org[org_id].append(student_id)
            birth = date(today.year - rng.randint(3, 16), rng.randint(1, 12), rng.randint(1, 28))
            yield (student_id, org_id, _person(rng), birth, now - timedelta(days=rng.randint(30, 900)))

    report.students = copy_rows(
        engine, "students", ("id", "organization_id", "full_name", "birth_date", "created_at"), student_rows()
    )

    plans_by_org: dict[uuid.UUID, list[uuid.UUID]] = {org_id: [] for org_id, _n, _t in organizations}
    staff = {
        org_id: Staff(professionals_by_org[org_id], coordinators[org_id]) for org_id in professionals_by_org
    }
    rows = _plan_rows(rng, size.plans, students_by_org, staff, plans_by_org, today, now)
    with _indexes_built_afterwards(engine, InterventionPlan.__table__):
        report.plans = _copy_plans(engine, rows)
    if size.notifications:
        recipients = [(user_id, org_id) for user_id, org_id, _e, _n, _r in users]
        with _indexes_built_afterwards(engine, Notification.__table__):
            report.notifications = _seed_notifications(engine, rng, size, recipients, plans_by_org, now)
    return report


@dataclass(frozen=True)
class Staff:
    """Who plans of one organization are assigned to and created by."""

    professionals: list[uuid.UUID]
    coordinator: uuid.UUID


def _plan_rows(
    rng: random.Random,
    count: int,
    students_by_org: dict[uuid.UUID, list[uuid.UUID]],
    staff: dict[uuid.UUID, Staff],
    plans_by_org: dict[uuid.UUID, list[uuid.UUID]],
    today: date,
    now: datetime,
) -> Iterator[tuple[object, ...]]:
    """``count`` plans spread round-robin over the organizations of ``students_by_org``, every priority,
    frequency and status (mostly active); each new id is appended to ``plans_by_org``."""
    organization_ids = list(students_by_org)
    frequencies = list(ReviewFrequency)
    priorities = list(Priority)
    statuses = [PlanStatus.ACTIVE] * 7 + [PlanStatus.PAUSED, PlanStatus.COMPLETED, PlanStatus.ARCHIVED]
    for number in range(count):
        org_id = organization_ids[number % len(organization_ids)]
        plan_id = uuid.uuid4()
        plans_by_org.setdefault(org_id, []).append(plan_id)
        frequency = frequencies[number % len(frequencies)]
        start = today - timedelta(days=rng.randint(0, 400))
        reviewed_days_ago = rng.choice((None, rng.randint(0, 120)))
        last_reviewed = (
            now - timedelta(days=reviewed_days_ago, hours=rng.randint(0, 23))
            if reviewed_days_ago is not None
            else None
        )
        created = datetime.combine(start, datetime.min.time(), UTC) + timedelta(hours=rng.randint(9, 20))
        professional = rng.choice(staff[org_id].professionals)
        yield (
            plan_id,
            org_id,
            rng.choice(students_by_org[org_id]),
            professional,
            rng.choice((professional, staff[org_id].coordinator)),
            rng.choice(PLAN_TITLES),
            rng.choice(PLAN_DESCRIPTIONS),
            rng.choice(statuses).value,
            rng.choice(priorities).value,
            frequency.value,
            start,
            last_reviewed,
            next_review_due(frequency, start, last_reviewed, DEMO_TIMEZONE),
            created,
            created,
        )
        if (number + 1) % 10_000 == 0 or number + 1 == count:
            _progress("planos", number + 1, count)


def add_plans(engine: Engine, count: int, seed: int = 43, today: date | None = None) -> int:
    """``count`` more plans in the first demo organization (the one the demo tokens belong to), for its
    existing students and staff. Returns how many were written."""
    organization_id = DEMO_ORGANIZATIONS[0][0]
    with engine.connect() as connection:
        students = list(
            connection.execute(
                text("SELECT id FROM students WHERE organization_id = :org ORDER BY id"),
                {"org": organization_id},
            ).scalars()
        )
        users = connection.execute(
            text("SELECT id, role FROM users WHERE organization_id = :org ORDER BY id"),
            {"org": organization_id},
        ).all()
    professionals = [user_id for user_id, role in users if role == Role.PROFESSIONAL.value]
    coordinator = next(user_id for user_id, role in users if role == Role.COORDINATOR.value)
    now = datetime.now(UTC)
    rows = _plan_rows(
        random.Random(seed),
        count,
        {organization_id: students},
        {organization_id: Staff(professionals, coordinator)},
        {},
        today or now.date(),
        now,
    )
    return _copy_plans(engine, rows)


def _copy_plans(engine: Engine, rows: Iterator[tuple[object, ...]]) -> int:
    return copy_rows(
        engine,
        "intervention_plans",
        (
            "id",
            "organization_id",
            "student_id",
            "professional_id",
            "created_by_id",
            "title",
            "description",
            "status",
            "priority",
            "review_frequency",
            "start_date",
            "last_reviewed_at",
            "next_review_due",
            "created_at",
            "updated_at",
        ),
        rows,
    )


NOTIFICATION_TEXTS = {
    NotificationType.REVIEW_OVERDUE: (
        "Revisão Atrasada: {days} dias",
        "Um plano está há {days} dias sem revisão.",
    ),
    NotificationType.REVIEW_DUE_SOON: ("Revisão em {days} dias", "Um plano precisa de revisão em breve."),
    NotificationType.PLAN_CREATED: ("Novo plano atribuído", "Um plano de intervenção foi atribuído a você."),
    NotificationType.PLAN_UPDATED: ("Plano atualizado", "Um plano sob sua responsabilidade foi alterado."),
    NotificationType.PLAN_REVIEWED: ("Plano revisado", "Um plano que você criou foi revisado."),
    NotificationType.HIGH_PRIORITY: ("Plano de alta prioridade", "Um plano passou a ter prioridade alta."),
    NotificationType.SYSTEM: ("Aviso do sistema", "Manutenção programada para o fim de semana."),
}
NOTIFICATION_COLUMNS = (
    "id",
    "organization_id",
    "user_id",
    "type",
    "priority",
    "title",
    "message",
    "intervention_plan_id",
    "is_read",
    "read_at",
    "action_url",
    "dedupe_key",
    "created_at",
    "expires_at",
)


def _seed_notifications(
    engine: Engine,
    rng: random.Random,
    size: SeedSize,
    recipients: list[tuple[uuid.UUID, uuid.UUID]],
    plans_by_org: dict[uuid.UUID, list[uuid.UUID]],
    now: datetime,
) -> int:
    """``heavy_user_notifications`` for the demo professional, the rest spread over every other user:
    about 40% read, 5% already expired, created over the last 60 days. Ids are turned into text once:
    half a million rows make that conversion the main cost."""
    as_text = [(str(user_id), str(org_id)) for user_id, org_id in recipients]
    heavy = next(recipient for recipient in as_text if recipient[0] == str(DEMO_PROFESSIONAL_ID))
    others = [recipient for recipient in as_text if recipient is not heavy]
    plan_texts = {str(org_id): [str(plan_id) for plan_id in plans] for org_id, plans in plans_by_org.items()}
    heavy_count = min(size.heavy_user_notifications, size.notifications)
    types = list(NotificationType)
    priorities = [priority.value for priority in NotificationPriority]

    def rows() -> Iterator[tuple[object, ...]]:
        for number in range(size.notifications):
            user_id, org_id = heavy if number < heavy_count else others[number % len(others)]
            plan_id = rng.choice(plan_texts[org_id]) if plan_texts[org_id] else None
            created = now - timedelta(minutes=rng.randint(0, 60 * 24 * 60))
            is_read = rng.random() < 0.4
            expires = created + timedelta(days=30) if rng.random() < 0.5 else None
            if rng.random() < 0.05:
                expires = now - timedelta(hours=rng.randint(1, 48))
            kind = rng.choice(types)
            title, message = NOTIFICATION_TEXTS[kind]
            days = rng.randint(1, 30)
            yield (
                uuid.uuid4(),
                org_id,
                user_id,
                kind.value,
                rng.choice(priorities),
                title.format(days=days),
                message.format(days=days),
                plan_id,
                is_read,
                created + timedelta(hours=1) if is_read else None,
                f"/intervention-plans/{plan_id}" if plan_id else None,
                f"seed:{number}",
                created,
                expires,
            )
            if (number + 1) % 50_000 == 0 or number + 1 == size.notifications:
                _progress("avisos", number + 1, size.notifications)

    return copy_rows(engine, "notifications", NOTIFICATION_COLUMNS, rows())
