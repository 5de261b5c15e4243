"""Fixtures of the plans feature: a controllable clock and shortcuts for the API calls."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import pytest

from eduautismo.clock import FixedClock
from eduautismo.plans import routes


@pytest.fixture
def set_now(monkeypatch: pytest.MonkeyPatch) -> Callable[[datetime], FixedClock]:
    """``set_now(instant)``: the plans API sees ``instant`` as now (and so the organization's today)."""

    def apply(instant: datetime) -> FixedClock:
        fixed = FixedClock(instant)
        monkeypatch.setattr(routes, "clock", fixed)
        return fixed

    return apply
