"""pt-BR labels of the domain values, as exported files show them."""

from __future__ import annotations

from eduautismo.domain import PlanStatus, Priority, ReviewFrequency
from eduautismo.plans.schemas import PendingReviewFilters

PRIORITY_LABELS = {Priority.HIGH: "Alta", Priority.MEDIUM: "Média", Priority.LOW: "Baixa"}
STATUS_LABELS = {
    PlanStatus.ACTIVE: "Ativo",
    PlanStatus.PAUSED: "Pausado",
    PlanStatus.COMPLETED: "Concluído",
    PlanStatus.ARCHIVED: "Arquivado",
}
FREQUENCY_LABELS = {
    ReviewFrequency.DAILY: "Diária",
    ReviewFrequency.WEEKLY: "Semanal",
    ReviewFrequency.BIWEEKLY: "Quinzenal",
    ReviewFrequency.MONTHLY: "Mensal",
    ReviewFrequency.QUARTERLY: "Trimestral",
}


def describe_filters(filters: PendingReviewFilters) -> list[tuple[str, str]]:
    """The filters actually set, labelled in pt-BR for the summary sheet."""
    shown: list[tuple[str, str]] = []
    if filters.priority:
        shown.append(("Prioridade", PRIORITY_LABELS[filters.priority]))
    if filters.professional_id:
        shown.append(("Profissional (ID)", str(filters.professional_id)))
    if filters.student_id:
        shown.append(("Aluno (ID)", str(filters.student_id)))
    if filters.review_frequency:
        shown.append(("Frequência de revisão", FREQUENCY_LABELS[filters.review_frequency]))
    if filters.date_from:
        shown.append(("Criado a partir de", filters.date_from.strftime("%d/%m/%Y")))
    if filters.date_to:
        shown.append(("Criado até", filters.date_to.strftime("%d/%m/%Y")))
    if filters.overdue_only:
        shown.append(("Apenas atrasados", "Sim"))
    return shown
