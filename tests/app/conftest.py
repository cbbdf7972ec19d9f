"""Fixtures for the app: a tiny geography, a user store with the demo accounts, a settings env."""

from __future__ import annotations

from pathlib import Path

import pytest

from gis.access.users import SqliteUserRepository, seed_demo_users
from gis.geography.layers import Geography

#: Low bcrypt cost for tests (the app uses gis.access.users.BCRYPT_ROUNDS).
TEST_ROUNDS = 4
REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def repo(tmp_path: Path) -> SqliteUserRepository:
    """An empty user repository in a fresh store file."""
    return SqliteUserRepository(tmp_path / "store.gpkg")


@pytest.fixture
def demo_repo(repo: SqliteUserRepository, tiny_geo: Geography) -> SqliteUserRepository:
    """A repository holding the demo accounts scoped to the tiny geography's zones."""
    seed_demo_users(repo, list(tiny_geo.zones["zone_id"]), rounds=TEST_ROUNDS)
    return repo


@pytest.fixture
def app_env(
    monkeypatch: pytest.MonkeyPatch, tiny_geo_dir: Path, demo_repo: SqliteUserRepository
) -> dict[str, str]:
    """PATROL_* variables pointing the app at the tiny geography and the demo store."""
    env = {
        "PATROL_DATA_DIR": str(tiny_geo_dir),
        "PATROL_DATABASE_URL": str(demo_repo.path),
        "PATROL_LANG": "zh",
        "PATROL_BASEMAP": "none",
    }
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    return env


@pytest.fixture(scope="session")
def live_app(tmp_path_factory: pytest.TempPathFactory, tiny_geo_dir: Path, tiny_geo: Geography):
    """A running app (``streamlit run``) on the tiny geography with the demo accounts."""
    from tests.app.browser import ARTIFACTS, playwright_or_skip, streamlit_server

    playwright_or_skip()
    store = tmp_path_factory.mktemp("live") / "patrol.gpkg"
    seed_demo_users(
        SqliteUserRepository(store), list(tiny_geo.zones["zone_id"]), rounds=TEST_ROUNDS
    )
    env = {
        "PATROL_DATA_DIR": str(tiny_geo_dir),
        "PATROL_DATABASE_URL": str(store),
        "PATROL_LANG": "zh",
        "PATROL_BASEMAP": "none",
    }
    with streamlit_server(env, log_path=ARTIFACTS / "streamlit.log") as url:
        yield {"url": url, "store": store, "env": env}
