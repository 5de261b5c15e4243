"""GET /users: a coordinator lists the organization's users, a professional only themselves;
never another organization's users; role filter; pages sorted by name then id."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from eduautismo.domain import Role
from tests.support.api import BAD_PAGE_PARAMETERS, ApiResponse, call_api
from tests.support.factories import Actor, Factory

USERS = "/api/v1/users"


def _list(caller: Actor, **query: object) -> ApiResponse:
    encoded = {name: str(value) for name, value in query.items()}
    return call_api("GET", USERS, claims=caller.claims, query=encoded)


def _ids(response: ApiResponse) -> list[str]:
    assert response.status == 200, response.json
    return [item["id"] for item in response.json["items"]]


def test_a_coordinator_lists_the_organizations_users_sorted_by_name(factory: Factory) -> None:
    # Given an organization with a coordinator and two professionals, and another organization's users
    org = factory.organization()
    coordinator = factory.user(org, Role.COORDINATOR, name="Carla Coordenadora")
    bruno = factory.user(org, name="Bruno Lima")
    ana = factory.user(org, name="Ana Souza")
    other_org = factory.organization("Outra Escola")
    factory.user(other_org, Role.COORDINATOR, name="Aaron Externo")
    factory.user(other_org, name="Abel Externo")
    # When the coordinator lists users
    response = _list(coordinator)
    # Then exactly their organization's users, by name, each with id, name, email and role
    assert _ids(response) == [str(ana.user_id), str(bruno.user_id), str(coordinator.user_id)]
    assert response.json["items"][0] == {
        "id": str(ana.user_id),
        "name": "Ana Souza",
        "email": ana.email,
        "role": "professional",
    }
    assert (response.json["total"], response.json["has_more"]) == (3, False)


def test_the_role_filter_keeps_only_that_role(factory: Factory) -> None:
    # Given a coordinator and two professionals
    org = factory.organization()
    coordinator = factory.user(org, Role.COORDINATOR, name="Carla")
    professionals = [factory.user(org, name=name) for name in ("Davi", "Eva")]
    # When the coordinator lists professionals, then coordinators
    listed_professionals = _list(coordinator, role="professional")
    listed_coordinators = _list(coordinator, role="coordinator")
    # Then each list holds only that role
    assert _ids(listed_professionals) == [str(p.user_id) for p in professionals]
    assert _ids(listed_coordinators) == [str(coordinator.user_id)]
    assert {item["role"] for item in listed_professionals.json["items"]} == {"professional"}


def test_a_professional_gets_only_themselves(factory: Factory) -> None:
    # Given a professional, a colleague and a coordinator
    org = factory.organization()
    factory.user(org, Role.COORDINATOR, name="Carla")
    factory.user(org, name="Aline")
    me = factory.user(org, name="Bia")
    # When the professional lists users, with no filter, their own role, and the coordinator role
    unfiltered = _list(me)
    own_role = _list(me, role="professional")
    other_role = _list(me, role="coordinator")
    # Then a page of one (themselves), and an empty page when the filter excludes them
    assert _ids(unfiltered) == [str(me.user_id)]
    assert unfiltered.json["total"] == 1
    assert _ids(own_role) == [str(me.user_id)]
    assert other_role.json == {"items": [], "total": 0, "skip": 0, "limit": 50, "has_more": False}


def test_pages_are_stable_with_equal_names(factory: Factory) -> None:
    # Given five users with the same name (order falls back to the id)
    org = factory.organization()
    coordinator = factory.user(org, Role.COORDINATOR, name="Zélia")
    same = sorted(str(factory.user(org, name="Maria").user_id) for _ in range(5))
    # When the coordinator reads pages of two
    pages = [_list(coordinator, skip=skip, limit=2) for skip in (0, 2, 4)]
    # Then every user appears once, by name then id, and has_more is right
    assert [user_id for page in pages for user_id in _ids(page)] == [*same, str(coordinator.user_id)]
    assert [page.json["has_more"] for page in pages] == [True, True, False]
    assert [page.json["total"] for page in pages] == [6, 6, 6]


@pytest.mark.parametrize(
    ("query", "field"),
    [*BAD_PAGE_PARAMETERS, ({"role": "admin"}, "role")],
)
def test_paging_bounds_and_unknown_roles_are_422_naming_the_field(
    factory: Factory, query: dict[str, str], field: str
) -> None:
    # Given a coordinator
    coordinator = factory.user(factory.organization(), Role.COORDINATOR)
    # When users are listed with an out-of-range parameter
    response = _list(coordinator, **query)
    # Then 422 names it
    assert response.status == 422
    assert field in {detail["field"] for detail in response.json["error"]["details"]}


def test_limits_at_the_edges_are_answered(factory: Factory) -> None:
    # Given a coordinator / When limit is 1 and 200 / Then both pages are answered with that limit
    coordinator = factory.user(factory.organization(), Role.COORDINATOR)
    assert _list(coordinator, limit=1).json["limit"] == 1
    assert _list(coordinator, limit=200).json["limit"] == 200


def test_without_a_token_the_list_is_401(db: Engine) -> None:
    # Given no claims / When users are listed / Then 401
    assert call_api("GET", USERS).status == 401
