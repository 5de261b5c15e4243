"""The contract's Node tools (contract/package.json), installed by `make contract-tools` (make test does)."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CONTRACT = ROOT / "contract"
BIN = CONTRACT / "node_modules" / ".bin"


@pytest.fixture(scope="session")
def node_bin() -> Path:
    """The installed tools; missing is a failure (run `make contract-tools`), never a skip."""
    assert (BIN / "spectral").exists() and (BIN / "tsc").exists(), "run `make contract-tools` (npm ci)"
    return BIN
