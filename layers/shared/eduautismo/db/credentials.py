"""The database credentials in AWS: RDS-format secrets in Secrets Manager (rotated), without SQLAlchemy."""

from __future__ import annotations

import json
from typing import Any

from eduautismo.settings import Settings


def read_database_secret(secret_arn: str) -> dict[str, Any]:
    """An RDS-format secret, cached for a few minutes per container."""
    from aws_lambda_powertools.utilities import parameters

    from eduautismo.observability import trace_aws_sdk

    trace_aws_sdk()
    return json.loads(str(parameters.get_secret(secret_arn, max_age=300)))  # type: ignore[no-any-return]


def database_secret(settings: Settings) -> dict[str, Any]:
    """The secret of the login this function connects as."""
    return read_database_secret(settings.database_secret_arn or "")
