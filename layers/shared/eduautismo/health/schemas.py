"""Response model of GET /health."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from eduautismo.api.model import ApiModel

DatabaseState = Literal["ok", "down"]
CacheState = Literal["ok", "down", "disabled"]
HealthStatus = Literal["ok", "degraded", "down"]


class HealthReport(ApiModel):
    """The same body with 200 (serving) and 503 (the database is down)."""

    status: HealthStatus = Field(
        description="ok; degraded when only the cache is down (served from the database); down without it"
    )
    database: DatabaseState
    cache: CacheState = Field(description="disabled when no cache is configured")
    version: str

    @property
    def healthy(self) -> bool:
        """Only the database is essential: without the cache requests are served from the database."""
        return self.database == "ok"
