"""The committed openapi.json is what the functions' resolvers describe today."""

from __future__ import annotations

import json
from pathlib import Path

from eduautismo_local.openapi import render
from eduautismo_local.template_routes import http_routes

COMMITTED = Path(__file__).resolve().parents[2] / "openapi.json"


def test_committed_openapi_document_is_up_to_date() -> None:
    # Given the document committed at the project root
    committed = COMMITTED.read_text(encoding="utf-8")
    # When it is generated again from every function in template.yaml
    generated = render()
    # Then nothing changed (a route, a model or a response was added without `make openapi`)
    assert committed == generated, "openapi.json is stale: run `make openapi` and commit it"


def test_document_declares_every_template_route_with_its_security() -> None:
    # Given the committed document
    document = json.loads(COMMITTED.read_text(encoding="utf-8"))
    # Then every route of template.yaml is there, public routes without a token requirement
    for route in http_routes():
        operation = document["paths"][route.path][route.method.lower()]
        assert bool(operation["security"]) is route.authorized, route.route_key
