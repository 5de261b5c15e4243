"""The reminder rules of the notifications feature, each written once: the service applies them in Python
and the daily job reads their SQL twins from here (see README "Reminders").

- Urgency: an overdue review is urgent from ``ESCALATE_AFTER_DAYS`` days late, or when the plan is high
  priority (one setting for both, so "urgent" and "escalated" can never disagree).
- Summaries: above ``REMINDER_DIGEST_THRESHOLD`` reminders of one type, a user gets one summary row per
  local day, linking to the filtered pending-review list; coordinators get one escalation row per day.
"""

from __future__ import annotations

from datetime import date

from eduautismo.domain import NotificationPriority, NotificationType, Priority

PENDING_REVIEW_URL = "/intervention-plans/pending-review"
# Where a summary of each type leads: the filtered list a user acts on.
SUMMARY_ACTION_URL: dict[NotificationType, str] = {
    NotificationType.REVIEW_OVERDUE: f"{PENDING_REVIEW_URL}?overdue_only=true",
    NotificationType.REVIEW_DUE_SOON: PENDING_REVIEW_URL,
}
# Binds the SQL twins below refer to.
SQL_RULE_PARAMS = {
    "rule_high_plan": Priority.HIGH.value,
    "rule_urgent": NotificationPriority.URGENT.value,
    "rule_high": NotificationPriority.HIGH.value,
}


def overdue_priority(days_overdue: int, plan_priority: str, escalate_after_days: int) -> NotificationPriority:
    if days_overdue >= escalate_after_days or plan_priority == Priority.HIGH.value:
        return NotificationPriority.URGENT
    return NotificationPriority.HIGH


def sql_overdue_priority(days_overdue: str, plan_priority: str) -> str:
    """The SQL twin of `overdue_priority` over SQL expressions; needs the bind ``:escalate_after_days``
    and `SQL_RULE_PARAMS`."""
    return (
        f"CASE WHEN ({days_overdue}) >= CAST(:escalate_after_days AS integer) "
        f"OR ({plan_priority}) = :rule_high_plan "
        "THEN CAST(:rule_urgent AS text) ELSE CAST(:rule_high AS text) END"
    )


def summary_dedupe_key(notification_type: NotificationType, local_day: date) -> str:
    """One summary of a type per user and local day: reruns and concurrent runs create it once."""
    return f"{notification_type.value}:summary:{local_day.isoformat()}"


def escalation_dedupe_key(local_day: date) -> str:
    """One escalation summary per coordinator and local day."""
    return f"{NotificationType.REVIEW_OVERDUE.value}:escalation:{local_day.isoformat()}"
