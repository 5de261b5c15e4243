"""How every route that makes a file answers it: the presigned link (200), or with ``?redirect=true`` a
303 whose Location is that link (every export kind answers alike)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types

from eduautismo.api.contract import SEE_OTHER_LINK, json_response
from eduautismo.exports.schemas import ExportLink

# The ``responses=`` entries of the two answers; the return annotation is the link or no body.
LINK_OR_REDIRECT: dict[int, Any] = {
    200: json_response("The stored file's download link", ExportLink),
    **SEE_OTHER_LINK,
}


def link_or_redirect(link: ExportLink, redirect: bool) -> Response[ExportLink | None]:
    if redirect:
        return Response(303, headers={"Location": link.download_url})
    return Response(200, content_types.APPLICATION_JSON, link)
