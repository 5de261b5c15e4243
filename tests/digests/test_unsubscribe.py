"""One-click unsubscribe (RFC 8058): the digest's headers, GET shows a page and changes nothing, POST (a
form, no login) turns the digest off, and a forged or tampered token is a 400 that changes nothing."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from eduautismo.digests import tokens
from eduautismo.settings import get_settings
from tests.digests.conftest import Outbox, Tick
from tests.support.api import ApiResponse, call_api
from tests.support.factories import Actor, Factory
from tests.users.test_preferences_api import DEFAULTS

SEVEN = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
PATH = "/api/v1/email/unsubscribe"
FORM = {"content-type": "application/x-www-form-urlencoded"}


def _link_of_a_digest(factory: Factory, outbox: Outbox, tick: Tick) -> tuple[Actor, str]:
    professional = factory.user(factory.organization())
    factory.plan(professional, start_date=date(2026, 11, 25) - timedelta(days=9))
    tick(SEVEN)
    [message] = outbox.to(professional.email)
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = str(message["List-Unsubscribe"]).strip("<>")
    assert link.startswith(f"{get_settings().api_base_url}{PATH}?token=")
    return professional, link


def _token(link: str) -> str:
    return parse_qs(urlsplit(link).query)["token"][0]


def _preferences(actor: Actor) -> dict[str, object]:
    response = call_api("GET", "/api/v1/users/me/preferences", claims=actor.claims)
    assert response.status == 200
    return dict(response.json)


def _post(
    token: str, body: str = "List-Unsubscribe=One-Click", headers: dict[str, str] = FORM
) -> ApiResponse:
    return call_api("POST", PATH, query={"token": token}, raw_body=body, headers=headers)


def test_get_shows_a_confirmation_page_and_changes_nothing(
    factory: Factory, outbox: Outbox, tick: Tick
) -> None:
    professional, link = _link_of_a_digest(factory, outbox, tick)
    response = call_api("GET", PATH, query={"token": _token(link)})
    assert response.status == 200 and response.header("content-type") == "text/html; charset=utf-8"
    page = response.body.decode()
    assert "Cancelar o recebimento" in page and 'method="post"' in page
    assert _preferences(professional) == DEFAULTS


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ("List-Unsubscribe=One-Click", "application/x-www-form-urlencoded"),
        (
            '--b\r\nContent-Disposition: form-data; name="List-Unsubscribe"\r\n\r\nOne-Click\r\n--b--\r\n',
            "multipart/form-data; boundary=b",
        ),
    ],
)
def test_a_one_click_post_without_login_turns_the_digest_off(
    factory: Factory, outbox: Outbox, tick: Tick, body: str, content_type: str
) -> None:
    # Given a digest's link and a user who had muted a type
    professional, link = _link_of_a_digest(factory, outbox, tick)
    muted = call_api(
        "PATCH",
        "/api/v1/users/me/preferences",
        claims=professional.claims,
        json_body={"muted_types": ["plan_updated"]},
    )
    assert muted.status == 200
    # When a mail client posts the RFC 8058 form to it (no token of a login)
    response = _post(_token(link), body, {"content-type": content_type})
    # Then the digest is off, the other preferences kept, and the next tick of that period sends nothing
    assert response.status == 200 and "Recebimento cancelado" in response.body.decode()
    assert _preferences(professional) == {**DEFAULTS, "email_digest": "off", "muted_types": ["plan_updated"]}
    assert tick(SEVEN + timedelta(days=1)).selected == 0


def test_forged_and_tampered_tokens_are_400_and_change_nothing(
    factory: Factory, outbox: Outbox, tick: Tick
) -> None:
    professional, link = _link_of_a_digest(factory, outbox, tick)
    genuine = _token(link)
    payload, _, mac = genuine.partition(".")
    other_user = factory.user(factory.organization())
    forged = [
        tokens.sign(b"not the secret", professional.user_id, "daily:2026-11-25"),
        # a genuine signature over another user's payload
        tokens.sign(b"x", other_user.user_id, "daily:2026-11-25").partition(".")[0] + "." + mac,
        payload + "." + mac[:-2] + ("AA" if not mac.endswith("AA") else "BB"),
        payload,
        "not-a-token",
        "%%%.###",
    ]
    for token in forged:
        for response in (_post(token), call_api("GET", PATH, query={"token": token})):
            assert response.status == 400, (token, response.body)
            assert response.json["error"]["code"] == "bad_request"
    assert _preferences(professional) == DEFAULTS


def test_a_json_body_or_none_is_accepted_but_other_media_types_are_415(
    factory: Factory, outbox: Outbox, tick: Tick
) -> None:
    _, link = _link_of_a_digest(factory, outbox, tick)
    assert _post(_token(link), "x", {"content-type": "text/plain"}).status == 415
    assert call_api("POST", PATH, query={"token": _token(link)}).status == 200
