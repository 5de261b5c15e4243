"""pt-BR labels of the domain values, as exported files show them."""

from __future__ import annotations

from eduautismo.domain import PlanStatus, Priority, ReviewFrequency

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
