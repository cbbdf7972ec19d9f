"""Fixtures for the hostile corpus: both stores and store snapshots (the browser: tests/conftest.py)."""

from __future__ import annotations

import pytest

from tests.app.conftest import (  # noqa: F401  (fixtures re-used by name)
    app_env,
    demo_repo,
    repo,
)
from tests.cases.conftest import (  # noqa: F401  (fixtures re-used by name)
    segments,
    store_factory,
)


def snapshot(store) -> tuple:
    """Everything a store holds about cases, to compare before and after an attempt."""
    cases = store.query_cases()
    return tuple(
        (
            c.case_id,
            c.version,
            c.state,
            c.description,
            c.photo_sha256,
            c.deadline_at,
            tuple(sorted(c.joint)),
            len(store.audit_trail(c.case_id)),
        )
        for c in cases
    )


@pytest.fixture
def cli_store(store_factory, monkeypatch, tmp_path):  # noqa: F811
    """A store (GeoPackage or PostGIS) that the ``patrol`` command uses, without geography.

    Returns a function giving a fresh connection (so each read sees committed data).
    """
    monkeypatch.setenv("PATROL_DATABASE_URL", store_factory.target)
    monkeypatch.setenv("PATROL_DATA_DIR", str(tmp_path / "no-geography"))
    monkeypatch.chdir(tmp_path)
    return store_factory
