"""openapi.json passes spectral:oas and the OWASP API security ruleset with 0 errors, and the request
bounds rule that replaces OWASP's size rules catches a route added without bounds."""

from __future__ import annotations

import copy
import json
import subprocess
from pathlib import Path
from typing import Any

from tests.contract.conftest import CONTRACT, ROOT

RULESET = CONTRACT / ".spectral.yaml"


def _lint(node_bin: Path, document: Path) -> list[dict[str, Any]]:
    linted = subprocess.run(
        [str(node_bin / "spectral"), "lint", str(document), "--ruleset", str(RULESET), "--format", "json"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    output = linted.stdout[linted.stdout.index("[") :]
    return [problem for problem in json.loads(output) if problem["severity"] == 0]


def test_the_committed_document_has_no_spectral_error(node_bin: Path) -> None:
    # When the committed document is linted with spectral:oas and the OWASP ruleset
    errors = _lint(node_bin, ROOT / "openapi.json")
    # Then nothing is an error
    assert [(error["code"], ".".join(map(str, error["path"]))) for error in errors] == []


def test_a_route_added_without_bounds_is_an_error(node_bin: Path, tmp_path: Path) -> None:
    # Given the document plus a route whose query string, header and body are unbounded
    document = json.loads((ROOT / "openapi.json").read_text(encoding="utf-8"))
    operation = copy.deepcopy(document["paths"]["/api/v1/students"]["post"])
    operation["operationId"] = "unsubscribeNow"
    operation["parameters"] = [
        {"name": "campaign", "in": "query", "required": True, "schema": {"type": "string"}},
        {"name": "page", "in": "query", "schema": {"type": "integer", "format": "int32", "minimum": 0}},
    ]
    operation["requestBody"] = {
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "properties": {"reasons": {"type": "array", "items": {"type": "string", "enum": ["a"]}}},
                }
            }
        }
    }
    document["paths"]["/api/v1/email/preferences-reset"] = {"post": operation}
    mutated = tmp_path / "openapi.json"
    mutated.write_text(json.dumps(document), encoding="utf-8")
    # When it is linted
    errors = _lint(node_bin, mutated)
    # Then each unbounded input is named by the request bounds rule
    found = {(error["code"], ".".join(map(str, error["path"][-3:]))) for error in errors}
    assert found == {
        ("eduautismo-request-bounds", "parameters.0.schema"),
        ("eduautismo-request-bounds", "parameters.1.schema"),
        ("eduautismo-request-bounds", "schema.properties.reasons"),
    }
