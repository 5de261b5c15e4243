"""Signed unsubscribe tokens (RFC 8058 one-click): the token is the credential, so it is bound to one user
and one digest and keyed by a secret (Secrets Manager in AWS, ``LOCAL_UNSUBSCRIBE_SECRET`` locally)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import uuid
from dataclasses import dataclass

from eduautismo.errors import BadRequest
from eduautismo.settings import Settings

_VERSION = "v1"


@dataclass(frozen=True)
class UnsubscribeClaim:
    user_id: uuid.UUID
    period: str


def unsubscribe_secret(settings: Settings) -> bytes:
    if settings.unsubscribe_secret_arn:
        from aws_lambda_powertools.utilities import parameters

        return str(parameters.get_secret(settings.unsubscribe_secret_arn, max_age=300)).encode()
    return settings.local_unsubscribe_secret.encode()


def _encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: bytes, payload: bytes) -> bytes:
    return hmac.new(secret, payload, hashlib.sha256).digest()


def sign(secret: bytes, user_id: uuid.UUID, period: str) -> str:
    payload = f"{_VERSION}:{user_id}:{period}".encode()
    return f"{_encode(payload)}.{_encode(_mac(secret, payload))}"


def verify(secret: bytes, token: str) -> UnsubscribeClaim:
    """The claim of a token this service signed; anything else (forged, tampered, malformed) is a 400."""
    refused = BadRequest("the unsubscribe link is invalid")
    encoded_payload, dot, encoded_mac = token.partition(".")
    if not dot or len(token) > 512:
        raise refused
    try:
        payload, mac = _decode(encoded_payload), _decode(encoded_mac)
    except (binascii.Error, ValueError):
        raise refused from None
    if not hmac.compare_digest(mac, _mac(secret, payload)):
        raise refused
    version, _, rest = payload.decode().partition(":")
    user_text, _, period = rest.partition(":")
    if version != _VERSION or not period:
        raise refused
    return UnsubscribeClaim(uuid.UUID(user_text), period)
