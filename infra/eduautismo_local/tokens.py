"""Local JWTs (HS256, issuer eduautismo-local): issued by `eduautismo-local token`, checked by the server."""

from __future__ import annotations

import time
import uuid
from typing import Any

import jwt

from eduautismo.settings import Settings

ALGORITHM = "HS256"


def issue_token(
    settings: Settings,
    *,
    sub: uuid.UUID,
    organization_id: uuid.UUID,
    role: str,
    email: str,
    name: str,
    ttl_seconds: int = 12 * 3600,
) -> str:
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": settings.local_jwt_issuer,
        "sub": str(sub),
        "email": email,
        "name": name,
        "custom:organization_id": str(organization_id),
        "cognito:groups": [role],
        "token_use": "id",
        "iat": now,
        "exp": now + ttl_seconds,
    }
    return jwt.encode(claims, settings.local_jwt_secret, algorithm=ALGORITHM)


def verify_token(settings: Settings, authorization: str | None) -> dict[str, Any] | None:
    """The claims of a valid ``Bearer`` token, or None (missing, expired, badly signed, alg none...)."""
    if not authorization or not authorization.lower().startswith("bearer "):
        return None
    token = authorization[7:].strip()
    try:
        return jwt.decode(
            token,
            settings.local_jwt_secret,
            algorithms=[ALGORITHM],
            issuer=settings.local_jwt_issuer,
            options={"require": ["exp", "iss", "sub"]},
        )
    except jwt.PyJWTError:
        return None
