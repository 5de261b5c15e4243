"""The pt-BR text of every notification, in one place for the service (Python) and the daily job (SQL).

Templates hold placeholders that are substituted in a fixed order, by `render` in Python and by nested
`replace()` calls built by `sql_render` in SQL, so both produce the same text. No health details: only the
plan's title and a link.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from eduautismo.domain import NotificationType

# Substitution order: the plan title last, so placeholder-looking text inside a title is never expanded.
PLACEHOLDERS = ("{days}", "{due_date}", "{plan_title}")

DAYS_ONE = "1 dia"
DAYS_MANY = "{n} dias"
DUE_DATE_PYTHON_FORMAT = "%d/%m/%Y"
DUE_DATE_SQL_FORMAT = "DD/MM/YYYY"


@dataclass(frozen=True)
class Template:
    title: str
    message: str


REVIEW_DUE_SOON = Template(
    title="Revisão Próxima",
    message='A revisão do plano de intervenção "{plan_title}" vence em {due_date}.',
)
REVIEW_OVERDUE = Template(
    title="Revisão Atrasada: {days}",
    message=(
        'O plano de intervenção "{plan_title}" está com a revisão atrasada há {days}. '
        "Revise-o assim que possível."
    ),
)
REVIEW_ESCALATED = Template(
    title="Revisão Atrasada: {days}",
    message=(
        'O plano de intervenção "{plan_title}" está com a revisão atrasada há {days} '
        "e foi encaminhado à coordenação."
    ),
)
PLAN_CREATED = Template(
    title="Novo Plano de Intervenção",
    message='O plano de intervenção "{plan_title}" foi criado e você é o profissional responsável.',
)
PLAN_UPDATED = Template(
    title="Plano Atualizado",
    message='O plano de intervenção "{plan_title}" foi atualizado.',
)
PLAN_REVIEWED = Template(
    title="Plano Revisado",
    message='O plano de intervenção "{plan_title}" foi revisado.',
)
HIGH_PRIORITY = Template(
    title="Plano de Alta Prioridade",
    message='O plano de intervenção "{plan_title}" está com prioridade alta.',
)

# How long a notification stays visible when nobody reads it; the daily job deletes it afterwards.
EXPIRES_AFTER_DAYS: dict[NotificationType, int] = {
    NotificationType.REVIEW_DUE_SOON: 7,
    NotificationType.REVIEW_OVERDUE: 30,
    NotificationType.PLAN_CREATED: 30,
    NotificationType.PLAN_UPDATED: 14,
    NotificationType.PLAN_REVIEWED: 14,
    NotificationType.HIGH_PRIORITY: 30,
    NotificationType.SYSTEM: 30,
}


ACTION_URL_PREFIX = "/intervention-plans/"


def action_url(plan_id: object) -> str:
    return f"{ACTION_URL_PREFIX}{plan_id}"


def days_text(days: int) -> str:
    return DAYS_ONE if days == 1 else DAYS_MANY.replace("{n}", str(days))


def render(template: str, *, plan_title: str, days: int = 0, due_date: date | None = None) -> str:
    values = {
        "{days}": days_text(days),
        "{due_date}": due_date.strftime(DUE_DATE_PYTHON_FORMAT) if due_date else "",
        "{plan_title}": plan_title,
    }
    text = template
    for placeholder in PLACEHOLDERS:
        text = text.replace(placeholder, values[placeholder])
    return text


def sql_render(template: str, *, plan_title: str, days: str, due_date: str) -> str:
    """A SQL expression rendering the text ``template`` (SQL) exactly like `render` does.

    ``plan_title`` (text), ``days`` (integer) and ``due_date`` (date) are SQL expressions; the singular and
    plural day phrases come in as the binds of `SQL_TEXT_PARAMS`.
    """
    values = {
        "{days}": (
            f"CASE WHEN ({days}) = 1 THEN CAST(:days_one AS text) "
            f"ELSE replace(CAST(:days_many AS text), '{{n}}', CAST(({days}) AS text)) END"
        ),
        "{due_date}": f"to_char({due_date}, '{DUE_DATE_SQL_FORMAT}')",
        "{plan_title}": plan_title,
    }
    expression = template
    for placeholder in PLACEHOLDERS:
        expression = f"replace({expression}, '{placeholder}', {values[placeholder]})"
    return expression


SQL_TEXT_PARAMS = {"days_one": DAYS_ONE, "days_many": DAYS_MANY, "action_url_prefix": ACTION_URL_PREFIX}


def dedupe_key(notification_type: NotificationType, plan_id: object, occasion: object) -> str:
    """One notification per user, plan, type and occasion (a review cycle's due date, a write's time)."""
    return f"{notification_type.value}:{plan_id}:{occasion}"


def expires_after(notification_type: NotificationType) -> timedelta:
    return timedelta(days=EXPIRES_AFTER_DAYS[notification_type])


def sql_dedupe_key(notification_type: str, plan_id: str, occasion: str) -> str:
    """The SQL twin of `dedupe_key` over SQL expressions (uuid and date print as str(UUID), isoformat())."""
    return f"{notification_type} || ':' || CAST({plan_id} AS text) || ':' || CAST({occasion} AS text)"
