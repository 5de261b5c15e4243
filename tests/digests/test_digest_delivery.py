"""The email digest in local mode: who is due at which hour (timezones, weekly, off, suppressed), once
per period, nothing when there is nothing to report, and only titles, dates, counts and links."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, select

from eduautismo.db.engine import session_scope
from eduautismo.db.models import EmailDelivery, PlanReview
from eduautismo.digests import service
from eduautismo.digests.schemas import DigestRequest
from eduautismo.domain import Role
from tests.digests.conftest import Outbox, Tick, context_at, parts
from tests.support.concurrency import run_at_once
from tests.support.factories import Actor, Factory

# 2026-11-25 is a Wednesday; 10:00 UTC is 07:00 in São Paulo (UTC-3), the default digest hour.
SAO_PAULO_SEVEN = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
TODAY = date(2026, 11, 25)


def _overdue(factory: Factory, professional: Actor, days: int, **overrides: Any) -> None:
    factory.plan(professional, start_date=TODAY - timedelta(days=7 + days), **overrides)


def _professional_with_work(factory: Factory, timezone: str = "America/Sao_Paulo") -> Actor:
    professional = factory.user(factory.organization(timezone=timezone))
    _overdue(factory, professional, 2, title="Rotina visual")
    return professional


def test_a_professional_gets_one_digest_at_their_hour_with_their_plans(
    factory: Factory, outbox: Outbox, tick: Tick
) -> None:
    # Given a professional with an overdue plan and one due in two days
    professional = _professional_with_work(factory)
    _overdue(factory, professional, -2, title="Comunicação alternativa")
    # When the 06:00 and 07:00 (their hour) ticks run, and the 07:00 one again
    early = tick(SAO_PAULO_SEVEN - timedelta(hours=1))
    first = tick(SAO_PAULO_SEVEN)
    again = tick(SAO_PAULO_SEVEN)
    # Then exactly one email, in pt-BR, listing both plans with their dates and links
    assert (early.selected, first.sent, again.selected) == (0, 1, 0)
    [message] = outbox.to(professional.email)
    assert message["Subject"] == "EduAutismo: 1 plano com revisão atrasada, 1 plano com revisão próxima"
    text, html = parts(message)
    assert "- Rotina visual: venceu em 23/11/2026, atrasada há 2 dias" in text
    assert "- Comunicação alternativa: vence em 27/11/2026" in text
    assert "Revisões atrasadas (1)" in html and "/intervention-plans/" in html


def test_organizations_get_theirs_at_their_own_local_hour(
    factory: Factory, outbox: Outbox, tick: Tick
) -> None:
    # Given professionals in Manaus (UTC-4) and Rio Branco (UTC-5), both with the default hour 7
    manaus = _professional_with_work(factory, "America/Manaus")
    rio_branco = _professional_with_work(factory, "America/Rio_Branco")
    # When the 11:00 UTC tick runs (07:00 in Manaus, 06:00 in Rio Branco), then the 12:00 UTC one
    at_eleven = tick(datetime(2026, 11, 25, 11, 0, tzinfo=UTC))
    manaus_only = (len(outbox.to(manaus.email)), len(outbox.to(rio_branco.email)))
    tick(datetime(2026, 11, 25, 12, 0, tzinfo=UTC))
    # Then Manaus got its digest at 11:00 UTC and Rio Branco at 12:00 UTC
    assert at_eleven.sent == 1 and manaus_only == (1, 0)
    assert (len(outbox.to(manaus.email)), len(outbox.to(rio_branco.email))) == (1, 1)


def test_weekly_digests_go_out_on_their_weekday_only_and_off_means_never(
    factory: Factory, outbox: Outbox, tick: Tick
) -> None:
    # Given a weekly reader on Thursday (4), one on Wednesday (3) at 9h, and one who turned it off
    thursday, wednesday, off = (_professional_with_work(factory) for _ in range(3))
    factory.preferences(thursday, email_digest="weekly", digest_weekday=4)
    factory.preferences(wednesday, email_digest="weekly", digest_weekday=3, digest_hour=9)
    factory.preferences(off, email_digest="off")
    # When every hour of Wednesday and Thursday ticks (São Paulo)
    for hour in range(48):
        tick(datetime(2026, 11, 25, 3, 0, tzinfo=UTC) + timedelta(hours=hour))
    # Then each weekly reader got one digest, on their day; the one who turned it off got none
    assert [message["Date"] for message in outbox.to(thursday.email)] == ["Thu, 26 Nov 2026 10:00:00 +0000"]
    assert [message["Date"] for message in outbox.to(wednesday.email)] == ["Wed, 25 Nov 2026 12:00:00 +0000"]
    assert outbox.to(off.email) == []
    # And each delivery is recorded under its period: the ISO week for weekly readers
    with session_scope() as session:
        periods = session.scalars(
            select(EmailDelivery.period).where(EmailDelivery.user_id == thursday.user_id)
        )
        assert list(periods) == ["weekly:2026-W48"]


def test_nothing_to_report_sends_nothing(factory: Factory, outbox: Outbox, tick: Tick) -> None:
    # Given a professional whose only plan is due in a month (and an unread notification does not count)
    professional = factory.user(factory.organization())
    factory.plan(professional, start_date=TODAY + timedelta(days=30))
    # When their hour comes
    summary = tick(SAO_PAULO_SEVEN)
    # Then no email
    assert (summary.selected, summary.empty, summary.sent) == (1, 1, 0)
    assert outbox.messages() == []


def _bounce(address: str, bounce_type: str = "Permanent") -> dict[str, Any]:
    """An SES event-publishing bounce, as the configuration set's SNS destination delivers it."""
    return {
        "eventType": "Bounce",
        "bounce": {"bounceType": bounce_type, "bouncedRecipients": [{"emailAddress": address}]},
        "mail": {"destination": [address]},
    }


def test_a_permanently_bounced_address_gets_no_more_digests(
    factory: Factory, outbox: Outbox, tick: Tick
) -> None:
    # Given two professionals with work; SES reported a permanent bounce of one (in other case) and a
    # transient one of the other
    bounced, transient = _professional_with_work(factory), _professional_with_work(factory)
    events = [_bounce(bounced.email.upper()), _bounce(transient.email, "Transient")]
    suppressed = service.suppress_addresses(context_at(SAO_PAULO_SEVEN), events)
    # When their hour comes
    summary = tick(SAO_PAULO_SEVEN)
    # Then only the transient one is selected and mailed
    assert suppressed == 1 and summary.selected == 1
    assert outbox.to(bounced.email) == [] and len(outbox.to(transient.email)) == 1


def test_a_duplicate_and_a_concurrent_delivery_send_one_email(
    factory: Factory, outbox: Outbox, db: Engine
) -> None:
    # Given the request of one professional's digest, delivered four times, two of them at once
    professional = _professional_with_work(factory)
    ctx = context_at(SAO_PAULO_SEVEN)
    [request] = service.due_requests(ctx, service.Tick(SAO_PAULO_SEVEN))
    outcomes: list[str] = []

    def deliver(copy: DigestRequest) -> None:
        outcomes.append(service.deliver(ctx, copy, outbox.sender).value)

    run_at_once([lambda: deliver(request)] * 2)
    deliver(request)
    deliver(request.model_copy())
    # Then one email went out; every other delivery found it taken
    assert sorted(outcomes) == ["sent", "skipped", "skipped", "skipped"]
    assert len(outbox.to(professional.email)) == 1


def test_a_concurrent_second_dispatcher_sends_one_email(factory: Factory, outbox: Outbox, tick: Tick) -> None:
    professional = _professional_with_work(factory)
    results = run_at_once([lambda: tick(SAO_PAULO_SEVEN)] * 2)
    assert sum(result.sent for result in results) == 1
    assert len(outbox.to(professional.email)) == 1


def test_coordinators_get_the_escalation_counts_per_professional(
    factory: Factory, outbox: Outbox, tick: Tick
) -> None:
    # Given two professionals with plans 8 days late (3 and 1), one 2 days late, and a coordinator
    org = factory.organization()
    ana, bia = factory.user(org, name="Ana"), factory.user(org, name="Bia")
    coordinator = factory.user(org, Role.COORDINATOR, name="Carla")
    for _ in range(3):
        _overdue(factory, ana, 8)
    _overdue(factory, bia, 8)
    _overdue(factory, bia, 2)
    # When the coordinator's hour comes
    tick(SAO_PAULO_SEVEN)
    # Then their digest holds the counts of plans late 7+ days per professional, most first
    [message] = outbox.to(coordinator.email)
    text, _ = parts(message)
    assert "Atrasadas há 7 dias ou mais na organização, por profissional\n- Ana: 3\n- Bia: 1\n" in text


def test_a_plan_title_is_html_escaped(factory: Factory, outbox: Outbox, tick: Tick) -> None:
    professional = factory.user(factory.organization())
    _overdue(factory, professional, 1, title="<script>alert(1)</script>")
    tick(SAO_PAULO_SEVEN)
    [message] = outbox.to(professional.email)
    text, html = parts(message)
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert(1)</script>" in text  # plain text is not HTML


def test_no_email_of_a_seeded_school_holds_a_student_name_description_or_review_note(
    factory: Factory, outbox: Outbox, tick: Tick
) -> None:
    # Given a school whose students, descriptions and review notes carry unmistakable markers
    org = factory.organization()
    professionals = [factory.user(org, name=f"Profissional {index}") for index in range(3)]
    factory.user(org, Role.COORDINATOR)
    secrets: list[str] = []
    for index, professional in enumerate(professionals):
        for plan_index in range(4):
            student_name = f"Aluno Secreto {index}-{plan_index}"
            description = f"Descrição clínica sigilosa {index}-{plan_index}"
            student = factory.student(org, full_name=student_name)
            plan = factory.plan(
                professional,
                student_id=student,
                description=description,
                title=f"Plano {index}-{plan_index}",
                start_date=TODAY - timedelta(days=7 + plan_index * 3 - 2),
                last_reviewed_at=None,
            )
            note = f"Nota de revisão sigilosa {index}-{plan_index}"
            with session_scope() as session:
                session.add(
                    PlanReview(
                        plan_id=plan.id,
                        reviewer_id=professional.user_id,
                        reviewed_at=SAO_PAULO_SEVEN - timedelta(days=40),
                        notes=note,
                    )
                )
            secrets += [student_name, description, note]
    # When every user's digest is generated
    summary = tick(SAO_PAULO_SEVEN, everyone=True)
    # Then every email (raw bytes, decoded parts) is free of them
    assert summary.sent == 4
    for message in outbox.messages():
        text, html = parts(message)
        for secret in secrets:
            assert secret not in text and secret not in html and secret not in message.as_string()
