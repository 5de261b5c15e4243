"""The notifications operations in the OpenAPI document: typed bodies and every status they answer."""

from __future__ import annotations

from typing import Any

import pytest
from notifications_handler import app

BASE = "/api/v1/notifications"
OPERATIONS = [
    ("get", BASE, "200", "NotificationPage"),
    ("get", f"{BASE}/unread-count", "200", "UnreadCount"),
    ("get", f"{BASE}/stats", "200", "NotificationStats"),
    ("post", f"{BASE}/mark-all-read", "200", "MarkAllResult"),
    ("post", f"{BASE}/mark-all-seen", "200", "MarkAllResult"),
    ("post", f"{BASE}/bulk", "200", "BulkResult"),
    ("patch", f"{BASE}/{{notification_id}}", "200", "NotificationOut"),
]


def _document() -> dict[str, Any]:
    return app.get_openapi_schema().model_dump(mode="json", by_alias=True, exclude_none=True)  # type: ignore[no-any-return]


@pytest.mark.parametrize(("method", "path", "status", "schema"), OPERATIONS)
def test_each_success_body_is_a_named_schema(method: str, path: str, status: str, schema: str) -> None:
    operation = _document()["paths"][path][method]
    body = operation["responses"][status]["content"]["application/json"]["schema"]
    assert body == {"$ref": f"#/components/schemas/{schema}"}
    assert {"401", "403", "422", "503"} <= set(operation["responses"])


def test_the_polled_reads_declare_304_and_take_if_none_match() -> None:
    document = _document()
    for path in (BASE, f"{BASE}/unread-count"):
        operation = document["paths"][path]["get"]
        assert not operation["responses"]["304"].get("content")
        headers = [p["name"] for p in operation["parameters"] if p["in"] == "header"]
        assert headers == ["if-none-match"]


def test_item_and_count_schemas_carry_the_inbox_states() -> None:
    schemas = _document()["components"]["schemas"]
    assert {"is_seen", "seen_at", "is_archived", "archived_at", "is_read", "read_at"} <= set(
        schemas["NotificationOut"]["properties"]
    )
    assert set(schemas["UnreadCount"]["required"]) == {"unread_count", "unseen_count"}
    page = schemas["NotificationPage"]
    assert set(page["required"]) >= {"items", "total", "skip", "limit", "has_more", "unread_count"}
    bulk = schemas["BulkRequest"]["properties"]
    assert bulk["ids"]["maxItems"] == 200 and bulk["ids"]["items"]["format"] == "uuid"
    assert set(schemas["BulkAction"]["enum"]) == {"read", "unread", "seen", "archive", "unarchive", "delete"}


def test_delete_declares_204_and_404() -> None:
    operation = _document()["paths"][f"{BASE}/{{notification_id}}"]["delete"]
    assert {"204", "404"} <= set(operation["responses"])
