"""Cognito post-confirmation trigger: provision the account's organization and user before first use.

Cognito invokes it for self sign-up (and forgotten-password) confirmations only, never for accounts an
administrator creates, which are all this stack's users: they are provisioned just in time on their
first request (docs/DEPLOY.md, "Provisioning"), which does the same work, so this step never blocks a sign-in:
an account without a usable organization, or a database that does not answer, is logged (ids only)
and the confirmation goes on.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from eduautismo.db.engine import session_scope
from eduautismo.errors import Forbidden
from eduautismo.identity.principal import (
    MAX_EMAIL_CHARS,
    MAX_NAME_CHARS,
    ORGANIZATION_CLAIM,
    ORGANIZATION_NAME_CLAIM,
    clean_text_claim,
)
from eduautismo.identity.provisioning import provision_confirmed_user
from eduautismo.observability import logger, metrics

SessionFactory = Callable[[], AbstractContextManager[Session]]


def _uuid_or_none(value: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def handle_post_confirmation(
    event: dict[str, Any], sessions: SessionFactory = session_scope
) -> dict[str, Any]:
    """Provision from ``request.userAttributes``; always answer the event back to Cognito unchanged."""
    attributes: Mapping[str, Any] = (event.get("request") or {}).get("userAttributes") or {}
    user_id = _uuid_or_none(attributes.get("sub"))
    organization_id = _uuid_or_none(attributes.get(ORGANIZATION_CLAIM))
    if user_id is None or organization_id is None:
        logger.warning("confirmed account without a user id or organization", extra={"user_id": str(user_id)})
        metrics.add_metric(name="ProvisioningSkipped", unit=MetricUnit.Count, value=1)
        return event
    # User attributes are untrusted text like token claims: cleaned and cut before they reach SQL.
    email = clean_text_claim(attributes.get("email"), MAX_EMAIL_CHARS)
    try:
        with sessions() as session:
            provision_confirmed_user(
                session,
                user_id=user_id,
                organization_id=organization_id,
                email=email,
                name=clean_text_claim(attributes.get("name"), MAX_NAME_CHARS) or email or str(user_id),
                organization_name=clean_text_claim(attributes.get(ORGANIZATION_NAME_CLAIM), MAX_NAME_CHARS)
                or None,
            )
    except Forbidden:
        logger.warning("confirmed account belongs to another organization", extra={"user_id": str(user_id)})
        metrics.add_metric(name="ProvisioningSkipped", unit=MetricUnit.Count, value=1)
    except SQLAlchemyError as exc:
        logger.error(
            "provisioning deferred to the first request",
            extra={"user_id": str(user_id), "error": type(exc).__name__},
        )
        metrics.add_metric(name="ProvisioningDeferred", unit=MetricUnit.Count, value=1)
    else:
        logger.info(
            "account provisioned", extra={"user_id": str(user_id), "organization_id": str(organization_id)}
        )
    return event
