"""Realistic demo data (pt-BR names), bulk-loaded with COPY so that 100,000 plans take seconds."""

from __future__ import annotations

import random
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine, Table, text

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
    review_interval,
)

DEMO_TIMEZONE = "America/Sao_Paulo"
# Fixed ids, so the printed demo tokens belong to seeded users.
DEMO_ORGANIZATIONS = (
    (uuid.UUID("0b7c6a1e-6f35-4d0e-9a51-3d1f6c2a0001"), "Escola Municipal Raio de Sol"),
    (uuid.UUID("0b7c6a1e-6f35-4d0e-9a51-3d1f6c2a0002"), "Clínica Caminhos do Desenvolvimento"),
)
# The other seeded rows (users, students) get ids derived from this namespace, their organization and their
# number, so that `seed --plans` can tell them from the rows people created through the API.
DEMO_NAMESPACE = uuid.UUID("0b7c6a1e-6f35-4d0e-9a51-3d1f6c2a0000")


@dataclass(frozen=True)
class DemoUser:
    """A seeded user a demo token acts as. The token carries this same name and email: requests provision
    the user from their token, so any other name would rename the seeded user."""

    id: uuid.UUID
    email: str
    name: str


DEMO_COORDINATOR = DemoUser(
    uuid.UUID("5e1d2c3b-0000-4000-8000-00000000c001"),
    "coordenacao1@eduautismo.example",
    "Helena Costa Almeida",
)
DEMO_PROFESSIONAL = DemoUser(
    uuid.UUID("5e1d2c3b-0000-4000-8000-00000000b001"),
    "profissional1.1@eduautismo.example",
    "Lorena Lima Pereira",
)
# Share of late reviews of each seeded professional, in turn: every organization has punctual, fairly
# punctual and often late people, so the compliance report shows green, yellow and red rates.
LATE_SHARES = (0.04, 0.2, 0.45, 0.08)
# The longest history a seeded plan has (days before today); seeded students exist from before it.
HISTORY_DAYS = 700

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
REVIEW_NOTES = (
    None,
    "Evoluiu bem; manter as estratégias.",
    "Família relata melhora em casa.",
    "Ajustar o apoio visual na próxima etapa.",
    "Objetivos parcialmente atingidos.",
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
    reviews: int = 0
    notifications: int = 0


def seeded_id(kind: str, organization_id: uuid.UUID, number: int) -> uuid.UUID:
    """The id of the ``number``-th seeded ``kind`` (student, professional, coordinator) of an organization."""
    if organization_id == DEMO_ORGANIZATIONS[0][0] and number == 0:
        if kind == Role.COORDINATOR.value:
            return DEMO_COORDINATOR.id
        if kind == Role.PROFESSIONAL.value:
            return DEMO_PROFESSIONAL.id
    return uuid.uuid5(DEMO_NAMESPACE, f"{kind}:{organization_id}:{number}")


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
    engine: Engine, size: SeedSize = SeedSize(), seed: int = 42, now: datetime | None = None
) -> SeedReport:
    """The demo organizations, users, students, plans with their review history, and (bench) notifications,
    as of ``now``."""
    rng = random.Random(seed)
    now = now or datetime.now(UTC)
    today = now.date()
    report = SeedReport()

    organizations = [(org_id, name, DEMO_TIMEZONE) for org_id, name in DEMO_ORGANIZATIONS]
    report.organizations = copy_rows(engine, "organizations", ("id", "name", "timezone"), organizations)

    users: list[tuple[uuid.UUID, uuid.UUID, str, str, str]] = []
    professionals_by_org: dict[uuid.UUID, list[uuid.UUID]] = {}
    demo_names = {DEMO_COORDINATOR.id: DEMO_COORDINATOR.name, DEMO_PROFESSIONAL.id: DEMO_PROFESSIONAL.name}

    def user(role: Role, org_id: uuid.UUID, number: int, email: str) -> uuid.UUID:
        user_id = seeded_id(role.value, org_id, number)
        name = _person(rng)  # drawn for every user, so the other names do not depend on the demo ones
        users.append((user_id, org_id, email, demo_names.get(user_id, name), role.value))
        return user_id

    for index, (org_id, _name, _tz) in enumerate(organizations):
        user(Role.COORDINATOR, org_id, 0, f"coordenacao{index + 1}@eduautismo.example")
        professionals_by_org[org_id] = [
            user(Role.PROFESSIONAL, org_id, n, f"profissional{index + 1}.{n + 1}@eduautismo.example")
            for n in range(max(size.professionals // len(organizations), 1))
        ]
    report.users = copy_rows(engine, "users", ("id", "organization_id", "email", "name", "role"), users)
    coordinators = {org_id: user_id for user_id, org_id, _e, _n, role in users if role == Role.COORDINATOR}

    students_by_org: dict[uuid.UUID, list[uuid.UUID]] = {org_id: [] for org_id, _n, _t in organizations}

    def student_rows() -> Iterator[tuple[object, ...]]:
        for number in range(size.students):
            org_id = organizations[number % len(organizations)][0]
            student_id = seeded_id("student", org_id, number // len(organizations))
            students_by_org[org_id].append(student_id)
            birth = date(today.year - rng.randint(3, 16), rng.randint(1, 12), rng.randint(1, 28))
            # Enrolled before any of their plans starts.
            created = now - timedelta(days=HISTORY_DAYS + rng.randint(1, 300))
            yield (student_id, org_id, _person(rng), birth, created)

    report.students = copy_rows(
        engine, "students", ("id", "organization_id", "full_name", "birth_date", "created_at"), student_rows()
    )

    plans_by_org: dict[uuid.UUID, list[uuid.UUID]] = {org_id: [] for org_id, _n, _t in organizations}
    staff = {
        org_id: Staff(professionals_by_org[org_id], coordinators[org_id]) for org_id in professionals_by_org
    }
    history = ReviewHistory()
    rows = _plan_rows(rng, size.plans, students_by_org, staff, plans_by_org, history, now)
    with _indexes_built_afterwards(engine, InterventionPlan.__table__):
        report.plans = _copy_plans(engine, rows)
    report.reviews = history.copy(engine)
    if size.notifications:
        recipients = [(user_id, org_id) for user_id, org_id, _e, _n, _r in users]
        with _indexes_built_afterwards(engine, Notification.__table__):
            report.notifications = _seed_notifications(engine, rng, size, recipients, plans_by_org, now)
    return report


@dataclass(frozen=True)
class Staff:
    """Who plans of one organization are assigned to and created by; ``professionals`` in their seeded
    order (a professional's place in it sets how punctual their reviews are)."""

    professionals: list[uuid.UUID]
    coordinator: uuid.UUID


REVIEW_COLUMNS = ("id", "plan_id", "reviewer_id", "reviewed_at", "notes")


@dataclass
class ReviewHistory:
    """The reviews of the plans being written, copied after them (a review refers to its plan)."""

    rows: list[tuple[object, ...]] = field(default_factory=list)

    def copy(self, engine: Engine) -> int:
        return copy_rows(engine, "plan_reviews", REVIEW_COLUMNS, self.rows)


def _interval_days(frequency: ReviewFrequency) -> int:
    months, days = review_interval(frequency)
    return months * 30 + days


def _review_instants(
    rng: random.Random, frequency: ReviewFrequency, start: date, count: int, late_share: float, now: datetime
) -> list[datetime]:
    """Up to ``count`` reviews from ``start`` on, each on its due date or a little before, or late (by 1 to 10
    days) ``late_share`` of the time, in working hours; none in the future. Every draw is made first, so the
    data that follows does not depend on the hour the seed runs."""
    zone = ZoneInfo(DEMO_TIMEZONE)
    draws = [
        (
            rng.randint(1, 10) if rng.random() < late_share else -rng.choice((0, 0, 0, 1, 2)),
            time(rng.randint(8, 17), rng.randint(0, 59)),
        )
        for _ in range(count)
    ]
    instants: list[datetime] = []
    for slip, hour in draws:
        previous = instants[-1] if instants else None
        due = next_review_due(frequency, start, previous, DEMO_TIMEZONE)
        earliest = previous.astimezone(zone).date() if previous else start
        day = max(due + timedelta(days=slip), earliest)
        instant = datetime.combine(day, hour, zone).astimezone(UTC)
        if instant > now or (previous is not None and instant <= previous):
            break
        instants.append(instant)
    return instants


def _plan_rows(
    rng: random.Random,
    count: int,
    students_by_org: dict[uuid.UUID, list[uuid.UUID]],
    staff: dict[uuid.UUID, Staff],
    plans_by_org: dict[uuid.UUID, list[uuid.UUID]],
    history: ReviewHistory,
    now: datetime,
) -> Iterator[tuple[object, ...]]:
    """``count`` plans spread round-robin over the organizations of ``students_by_org``, every priority,
    frequency and status (mostly active); each new id is appended to ``plans_by_org``. Each plan has 0 to 6
    reviews, added to ``history``: its ``last_reviewed_at`` is the last of them, and some plans are left
    overdue after it."""
    organization_ids = list(students_by_org)
    frequencies = list(ReviewFrequency)
    priorities = list(Priority)
    statuses = [PlanStatus.ACTIVE] * 7 + [PlanStatus.PAUSED, PlanStatus.COMPLETED, PlanStatus.ARCHIVED]
    today = now.astimezone(ZoneInfo(DEMO_TIMEZONE)).date()
    for number in range(count):
        org_id = organization_ids[number % len(organization_ids)]
        plan_id = uuid.uuid4()
        plans_by_org.setdefault(org_id, []).append(plan_id)
        frequency = frequencies[number % len(frequencies)]
        reviews = rng.randint(0, 6)
        interval = _interval_days(frequency)
        history_days = min(reviews * interval + rng.randint(0, interval * 8 // 5), HISTORY_DAYS)
        start = today - timedelta(days=history_days)
        professionals = staff[org_id].professionals
        place = rng.randrange(len(professionals))
        professional = professionals[place]
        late_share = LATE_SHARES[place % len(LATE_SHARES)]
        instants = _review_instants(rng, frequency, start, reviews, late_share, now)
        notes = [rng.choice(REVIEW_NOTES) for _ in range(reviews)]  # drawn whatever the count kept
        history.rows.extend(
            (uuid.uuid4(), plan_id, professional, instant, note)
            for instant, note in zip(instants, notes, strict=False)
        )
        last_reviewed = instants[-1] if instants else None
        created = datetime.combine(start, datetime.min.time(), UTC) + timedelta(hours=rng.randint(9, 20))
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
            min(created, now),
            min(created, now),
        )
        if (number + 1) % 10_000 == 0 or number + 1 == count:
            _progress("planos", number + 1, count)


def _seeded(connection: Connection, table: str, kind: str, organization_id: uuid.UUID) -> list[uuid.UUID]:
    """The seeded rows of ``kind`` in the organization, in their seeded order; rows created since (through
    the API, or by a token for a new user) are not among them."""
    total = connection.execute(
        text(f"SELECT count(*) FROM {table} WHERE organization_id = :org"), {"org": organization_id}
    ).scalar_one()
    candidates = [seeded_id(kind, organization_id, number) for number in range(total)]
    query = text(f"SELECT id FROM {table} WHERE id = ANY(:ids)")
    present = set(connection.execute(query, {"ids": candidates}).scalars())
    return [candidate for candidate in candidates if candidate in present]


def add_plans(engine: Engine, count: int, seed: int = 43, now: datetime | None = None) -> SeedReport:
    """``count`` more plans, with their reviews, in the first demo organization (the one the demo tokens
    belong to), for its seeded students and staff only. Returns what was written."""
    organization_id = DEMO_ORGANIZATIONS[0][0]
    with engine.connect() as connection:
        students = _seeded(connection, "students", "student", organization_id)
        professionals = _seeded(connection, "users", Role.PROFESSIONAL.value, organization_id)
        coordinators = _seeded(connection, "users", Role.COORDINATOR.value, organization_id)
    if not (students and professionals and coordinators):
        raise LookupError("the demo school has no seeded students or staff (seeded by an older version?)")
    history = ReviewHistory()
    rows = _plan_rows(
        random.Random(seed),
        count,
        {organization_id: students},
        {organization_id: Staff(professionals, coordinators[0])},
        {},
        history,
        now or datetime.now(UTC),
    )
    report = SeedReport(plans=_copy_plans(engine, rows))
    report.reviews = history.copy(engine)
    return report


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
    heavy = next(recipient for recipient in as_text if recipient[0] == str(DEMO_PROFESSIONAL.id))
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
