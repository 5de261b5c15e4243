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
# Summaries: the professionals' names last, for the same reason.
SUMMARY_PLACEHOLDERS = ("{plans}", "{days}", "{professionals}")

DAYS_ONE = "1 dia"
DAYS_MANY = "{n} dias"
PLANS_ONE = "1 plano"
PLANS_MANY = "{n} planos"
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
PLAN_CREATED = Template(
    title="Novo Plano de Intervenção",
    message='O plano de intervenção "{plan_title}" foi criado e você é o profissional responsável.',
)
PLAN_UPDATED = Template("Plano Atualizado", 'O plano de intervenção "{plan_title}" foi atualizado.')
PLAN_REVIEWED = Template("Plano Revisado", 'O plano de intervenção "{plan_title}" foi revisado.')
# Summaries (above REMINDER_DIGEST_THRESHOLD reminders of a type) and the coordinators' daily escalation.
REVIEW_OVERDUE_SUMMARY = Template(
    title="{plans} com revisão atrasada",
    message="Você tem {plans} de intervenção com a revisão atrasada. Veja a lista e revise-os.",
)
REVIEW_DUE_SOON_SUMMARY = Template(
    title="{plans} com revisão próxima",
    message="Você tem {plans} de intervenção com a revisão vencendo nos próximos dias.",
)
REVIEW_ESCALATION_SUMMARY = Template(
    title="Revisões atrasadas há {days} ou mais: {plans}",
    message=(
        "A organização tem {plans} com a revisão atrasada há {days} ou mais. "
        "Profissionais com mais atrasos: {professionals}."
    ),
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


def plans_text(count: int) -> str:
    return PLANS_ONE if count == 1 else PLANS_MANY.replace("{n}", str(count))


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
        "{days}": _sql_counted(days, "days_one", "days_many"),
        "{due_date}": f"to_char({due_date}, '{DUE_DATE_SQL_FORMAT}')",
        "{plan_title}": plan_title,
    }
    expression = template
    for placeholder in PLACEHOLDERS:
        expression = f"replace({expression}, '{placeholder}', {values[placeholder]})"
    return expression


def _sql_counted(count: str, one: str, many: str) -> str:
    return (
        f"CASE WHEN ({count}) = 1 THEN CAST(:{one} AS text) "
        f"ELSE replace(CAST(:{many} AS text), '{{n}}', CAST(({count}) AS text)) END"
    )


def sql_render_summary(template: str, *, plans: str, days: str, professionals: str) -> str:
    """A SQL expression rendering a summary ``template`` (SQL): ``plans`` and ``days`` are integer SQL
    expressions, ``professionals`` a text one."""
    values = {
        "{plans}": _sql_counted(plans, "plans_one", "plans_many"),
        "{days}": _sql_counted(days, "days_one", "days_many"),
        "{professionals}": professionals,
    }
    expression = template
    for placeholder in SUMMARY_PLACEHOLDERS:
        expression = f"replace({expression}, '{placeholder}', {values[placeholder]})"
    return expression


SQL_TEXT_PARAMS = {
    "days_one": DAYS_ONE,
    "days_many": DAYS_MANY,
    "plans_one": PLANS_ONE,
    "plans_many": PLANS_MANY,
    "action_url_prefix": ACTION_URL_PREFIX,
}


def dedupe_key(notification_type: NotificationType, plan_id: object, occasion: object) -> str:
    """One notification per user, plan, type and occasion (a review cycle's due date, a write's time)."""
    return f"{notification_type.value}:{plan_id}:{occasion}"


def expires_after(notification_type: NotificationType) -> timedelta:
    return timedelta(days=EXPIRES_AFTER_DAYS[notification_type])


def sql_dedupe_key(notification_type: str, plan_id: str, occasion: str) -> str:
    """The SQL twin of `dedupe_key` over SQL expressions (uuid and date print as str(UUID), isoformat())."""
    return f"{notification_type} || ':' || CAST({plan_id} AS text) || ':' || CAST({occasion} AS text)"
