"""The embedded store is a valid GeoPackage that GDAL (pyogrio) reads without complaint."""

from __future__ import annotations

import sqlite3

import pyogrio
import pytest
from shapely.geometry import Point

from gis.errors import StoreError
from gis.settings import Settings
from gis.store import open_store
from gis.store.geopackage import GeoPackageStore


def test_opens_in_gdal_as_a_geopackage(tmp_path, ten_reports, refs):
    path = tmp_path / "cases.gpkg"
    with GeoPackageStore(path, refs=refs) as store:
        store.add_reports(ten_reports, received_by="desk1")
        store.apply_transition(
            "T01", "register", who="alice", expected_version=1, at=ten_reports[0].reported_at
        )
    layers = {name: kind for name, kind in pyogrio.list_layers(path)}
    cases_layers = {"cases": "Point", "case_audit": None, "patrol_meta": None}
    assert {k: layers[k] for k in cases_layers} == cases_layers
    assert layers["tracks"] == "LineString" and layers["staff"] is None
    info = pyogrio.read_info(path, layer="cases")
    assert info["driver"] == "GPKG" and info["crs"] == "EPSG:4326" and info["features"] == 10
    gdf = pyogrio.read_dataframe(path, layer="cases")
    first = gdf.set_index("case_id").loc["T01"]
    assert first.geometry.equals_exact(Point(ten_reports[0].lon, ten_reports[0].lat), 1e-9)
    assert first["state"] == "registered"
    audit = pyogrio.read_dataframe(path, layer="case_audit")
    assert sorted(audit.loc[audit["case_id"] == "T01", "action"]) == ["register", "report"]
    con = sqlite3.connect(path)
    assert con.execute("PRAGMA application_id").fetchone()[0] == 0x47504B47
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    con.close()


def test_reopen_keeps_data_and_schema_version(tmp_path, ten_reports, refs):
    path = tmp_path / "cases.gpkg"
    with GeoPackageStore(path, refs=refs) as store:
        store.add_reports(ten_reports, received_by="desk1")
    with open_store(Settings(database_url=str(path)), refs=refs) as store:
        assert isinstance(store, GeoPackageStore)
        assert store.count_cases() == 10
        # 3 adds the people tables; later versions only add more
        assert int(store.get_meta("schema_version") or 0) >= 3


def test_refuses_a_foreign_sqlite_file(tmp_path):
    path = tmp_path / "other.sqlite"
    con = sqlite3.connect(path)
    con.execute("PRAGMA application_id=1234")
    con.execute("CREATE TABLE cases (x)")
    con.commit()
    con.close()
    with pytest.raises(StoreError, match="not a GeoPackage"):
        GeoPackageStore(path)


def test_open_store_picks_postgis_by_url(pg_url, refs):
    from gis.store.postgis import PostGISStore, migrations

    latest = migrations()[-1][0]
    with open_store(Settings(database_url=pg_url), refs=refs) as store:
        assert isinstance(store, PostGISStore)
        assert store.schema_version() == latest >= 3
        assert store.migrate() == latest  # idempotent


def test_unreachable_postgis_is_a_store_error(refs):
    url = "postgresql://nobody:secret@127.0.0.1:1/none?connect_timeout=2"
    with pytest.raises(
        StoreError, match=r"cannot connect to PostGIS \(postgresql://nobody:\*\*\*@"
    ):
        open_store(Settings(database_url=url), refs=refs)


def test_one_store_shared_by_threads(tmp_path, ten_reports, refs):
    import threading

    store = GeoPackageStore(tmp_path / "shared.gpkg", refs=refs)
    store.add_reports(ten_reports, received_by="desk1")
    errors: list[BaseException] = []
    at = ten_reports[-1].reported_at

    def work(case_id: str) -> None:
        try:
            for _ in range(5):
                store.query_cases(open_only=True)
            c = store.apply_transition(case_id, "register", who="t", expected_version=1, at=at)
            store.apply_transition(
                case_id, "serve_notice", who="t", expected_version=c.version, at=at
            )
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(f"T{i:02d}",)) for i in range(1, 9)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []
    assert len(store.query_cases(state="notice_served")) == 8
    store.close()


def test_postgis_migrations_apply_in_order_once(pg_url, refs, tmp_path):
    import shutil

    from gis.store.postgis import SQL_DIR, PostGISStore

    only_first = tmp_path / "sql"
    only_first.mkdir()
    shutil.copy(SQL_DIR / "001_init.sql", only_first)
    old = PostGISStore(pg_url, refs=refs, sql_dir=only_first)
    assert old.schema_version() == 1
    old.close()
    (tmp_path / "sql" / "002_open_cases_index.sql").write_text(
        (SQL_DIR / "002_open_cases_index.sql").read_text()
    )
    (tmp_path / "sql" / "003_staff.sql").write_text(
        "CREATE TABLE staff (staff_id text PRIMARY KEY, name text NOT NULL);"
    )
    new = PostGISStore(pg_url, refs=refs, sql_dir=only_first)
    assert new.schema_version() == 3
    with new._tx() as cur:
        cur.execute("SELECT version, name FROM schema_version ORDER BY version")
        assert cur.fetchall() == [
            (1, "001_init.sql"),
            (2, "002_open_cases_index.sql"),
            (3, "003_staff.sql"),
        ]
        cur.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'cases' ORDER BY 1")
        assert "cases_open_zone_time" in [r[0] for r in cur.fetchall()]
    assert new.migrate() == 3
    new.close()


def test_postgis_applies_a_lower_migration_merged_after_a_higher_one(pg_url, refs, tmp_path):
    import shutil

    from gis.store.postgis import SQL_DIR, PostGISStore

    sql_dir = tmp_path / "sql"
    sql_dir.mkdir()
    for name in ("001_init.sql", "002_open_cases_index.sql", "004_crowd.sql"):
        shutil.copy(SQL_DIR / name, sql_dir)
    PostGISStore(pg_url, refs=refs, sql_dir=sql_dir).close()
    (sql_dir / "003_staff.sql").write_text("CREATE TABLE staff (staff_id text PRIMARY KEY);")
    store = PostGISStore(pg_url, refs=refs, sql_dir=sql_dir)
    assert store.schema_version() == 4
    with store._tx() as cur:
        cur.execute("SELECT version FROM schema_version ORDER BY version")
        assert [r[0] for r in cur.fetchall()] == [1, 2, 3, 4]
        cur.execute("SELECT to_regclass('staff') IS NOT NULL")
        assert cur.fetchone()[0] is True
    store.close()
