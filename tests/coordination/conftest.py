"""Fixtures for coordination: both stores and the ten reports of the cases area."""

from __future__ import annotations

import pytest

from gis.access.users import User
from tests.cases import conftest as _cases

NOW = _cases.NOW
lonlat = _cases.lonlat
# fixtures shared with the cases area (the browser and the PostGIS cluster: tests/conftest.py)
segments = _cases.segments
store = _cases.store
store_factory = _cases.store_factory
ten_reports = _cases.ten_reports


@pytest.fixture
def loaded(store, ten_reports):
    """A store holding the ten reports (T01 … T10), received by desk1."""
    store.add_reports(ten_reports, received_by="desk1")
    return store


@pytest.fixture
def chief():
    return User(username="chief1", role="area_chief", zones=("110102012001001",))


@pytest.fixture
def boss():
    return User(username="boss", role="leadership")


@pytest.fixture
def officer():
    return User(username="p1", role="patrol", person_id="P01")


@pytest.fixture
def police_liaison():
    return User(username="li_police", role="liaison", department="police")


def _app_fixtures():
    from tests.app import conftest as app

    return app


_app = _app_fixtures()
live_app = _app.live_app
