"""A digest's content → one RFC 5322 message (plain text and HTML alternatives) with the RFC 8058
one-click unsubscribe headers."""

from __future__ import annotations

import uuid
from datetime import datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid, parseaddr
from string import Template
from urllib.parse import quote

from eduautismo.digests import templates as t
from eduautismo.digests.schemas import DigestContent, DigestPlan, Email
from eduautismo.domain import NotificationType
from eduautismo.notifications import rules, texts

DATE_FORMAT = texts.DUE_DATE_PYTHON_FORMAT
UNSUBSCRIBE_PATH = "/api/v1/email/unsubscribe"


def unsubscribe_url(api_base_url: str, token: str) -> str:
    return f"{api_base_url.rstrip('/')}{UNSUBSCRIBE_PATH}?token={quote(token, safe='')}"


def _plan_url(app_base_url: str, plan_id: uuid.UUID) -> str:
    return f"{app_base_url.rstrip('/')}{texts.action_url(plan_id)}"


def _detail(plan: DigestPlan) -> str:
    due = plan.next_review_due.strftime(DATE_FORMAT)
    if plan.days_overdue > 0:
        return Template(t.OVERDUE_DETAIL).substitute(date=due, days=texts.days_text(plan.days_overdue))
    return Template(t.DUE_SOON_DETAIL).substitute(date=due)


def _subject(content: DigestContent) -> str:
    parts = []
    if content.overdue_total:
        parts.append(f"{texts.plans_text(content.overdue_total)} com revisão atrasada")
    if content.due_soon_total:
        parts.append(f"{texts.plans_text(content.due_soon_total)} com revisão próxima")
    if content.escalations:
        parts.append("atrasos na organização")
    return t.fill_text(t.SUBJECT, {"summary": ", ".join(parts)})


class _Sections:
    """The HTML and text sections of one digest, built side by side from the same rows."""

    def __init__(self, app_base_url: str) -> None:
        self.app_base_url = app_base_url
        self.html: list[str] = []
        self.text: list[str] = []

    def plans(self, heading: str, plans: list[DigestPlan], total: int) -> None:
        if not total:
            return
        html_rows, text_rows = [], []
        for plan in plans:
            values = {
                "url": _plan_url(self.app_base_url, plan.plan_id),
                "title": plan.title,
                "detail": _detail(plan),
            }
            html_rows.append(t.fill(t.HTML_PLAN_ROW, values))
            text_rows.append(t.fill_text(t.TEXT_PLAN_ROW, values))
        self._add(heading, t.PLAN_COLUMN, t.DETAIL_COLUMN, html_rows, text_rows, total - len(plans))

    def escalations(self, content: DigestContent, escalate_after_days: int) -> None:
        if not content.escalations:
            return
        rows = [{"name": item.professional_name, "plans": item.plans} for item in content.escalations]
        heading = Template(t.ESCALATION_HEADING).substitute(days=escalate_after_days)
        self._add(
            heading,
            t.PROFESSIONAL_COLUMN,
            t.PLANS_COLUMN,
            [t.fill(t.HTML_ESCALATION_ROW, row) for row in rows],
            [t.fill_text(t.TEXT_ESCALATION_ROW, row) for row in rows],
            0,
        )

    def _add(
        self, heading: str, first: str, second: str, html_rows: list[str], text_rows: list[str], more: int
    ) -> None:
        html_more = t.fill(t.HTML_MORE, {"count": texts.plans_text(more)}) if more > 0 else ""
        text_more = t.fill_text(t.TEXT_MORE, {"count": texts.plans_text(more)}) if more > 0 else ""
        self.html.append(
            t.fill(
                t.HTML_SECTION,
                {"heading": heading, "first_column": first, "second_column": second},
                safe={"rows": "\n".join(html_rows), "more": html_more},
            )
        )
        self.text.append(
            t.fill_text(t.TEXT_SECTION, {"heading": heading, "rows": "".join(text_rows), "more": text_more})
        )


def render(
    content: DigestContent,
    *,
    email_from: str,
    app_base_url: str,
    unsubscribe: str,
    escalate_after_days: int,
    at: datetime,
) -> Email:
    sections = _Sections(app_base_url)
    overdue_heading = t.OVERDUE_HEADING.replace("$count", str(content.overdue_total))
    due_soon_heading = t.DUE_SOON_HEADING.replace("$count", str(content.due_soon_total))
    sections.plans(overdue_heading, content.overdue, content.overdue_total)
    sections.plans(due_soon_heading, content.due_soon, content.due_soon_total)
    sections.escalations(content, escalate_after_days)
    subject = _subject(content)
    pending_url = f"{app_base_url.rstrip('/')}{rules.SUMMARY_ACTION_URL[NotificationType.REVIEW_OVERDUE]}"
    common = {
        "name": content.recipient.name,
        "date": content.today.strftime(DATE_FORMAT),
        "unread": content.unread_count,
        "pending_url": pending_url,
        "unsubscribe_url": unsubscribe,
    }
    body_html = t.fill(t.HTML, {"subject": subject, **common}, safe={"sections": "\n".join(sections.html)})
    body_text = t.fill_text(t.TEXT, {"sections": "".join(sections.text), **common})
    message = EmailMessage()
    message["From"] = email_from
    message["To"] = content.recipient.email
    message["Subject"] = subject
    message["Date"] = format_datetime(at)
    message["Message-ID"] = make_msgid(domain=parseaddr(email_from)[1].partition("@")[2] or None)
    message["List-Unsubscribe"] = f"<{unsubscribe}>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(body_text)
    message.add_alternative(body_html, subtype="html")
    return Email(to=content.recipient.email, subject=subject, raw=message.as_bytes(policy=SMTP))
