"""GET/POST /email/unsubscribe (RFC 8058 one-click): no login, the signed token is the credential.

GET shows a pt-BR page with a confirm button and changes nothing (mail scanners fetch links); POST, as
mail clients send it (the form ``List-Unsubscribe=One-Click``), turns the email digest off.

Annotations are evaluated at import (no ``from __future__ import annotations``): Powertools reads a route's
type hints on every request, see ``eduautismo.api.dependencies``."""

from typing import Annotated, Any
from urllib.parse import quote

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from eduautismo.api.contract import responses
from eduautismo.api.dependencies import PublicCtx
from eduautismo.digests import service, templates
from eduautismo.digests.rendering import UNSUBSCRIBE_PATH

router = APIGatewayHttpRouter()

HTML = "text/html; charset=utf-8"
Token = Annotated[
    str, Query(min_length=1, max_length=512, description="The signed token of the email's link")
]


def _page(description: str) -> dict[int, Any]:
    return {
        **responses(200, 400, 413, 415, 422, authenticated=False),
        200: {"description": description, "content": {"text/html": {"schema": {"type": "string"}}}},
    }


@router.get(
    "/email/unsubscribe",
    responses=_page("A pt-BR page asking to confirm; nothing is changed"),
    summary="Unsubscribe link of a digest email: the confirmation page",
    tags=["email"],
)
def confirm_unsubscribe(ctx: PublicCtx, token: Token) -> Response[str]:
    service.check_token(ctx, token)
    action = f"{UNSUBSCRIBE_PATH}?token={quote(token, safe='')}"
    return Response(200, HTML, templates.fill(templates.CONFIRM_PAGE, {"action": action}))


@router.post(
    "/email/unsubscribe",
    responses=_page("Unsubscribed: the email digest is off (a pt-BR page)"),
    summary="One-click unsubscribe (RFC 8058): turns the email digest off; the body is ignored",
    tags=["email"],
)
def unsubscribe(ctx: PublicCtx, token: Token) -> Response[str]:
    service.unsubscribe(ctx, token)
    return Response(200, HTML, templates.DONE_PAGE)
