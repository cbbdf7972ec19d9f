"""Fixtures for the foundation tests: a writable copy of the tiny geography."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.tiny_geography import build_tiny_geography


@pytest.fixture
def tiny_dir(tmp_path: Path) -> Path:
    """A fresh copy of the tiny geography folder, safe to corrupt."""
    return build_tiny_geography(tmp_path / "tiny")
