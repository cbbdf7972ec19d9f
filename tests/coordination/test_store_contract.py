"""The coordination tables keep the same contract on GeoPackage and PostGIS."""

from __future__ import annotations

import datetime as dt
import sqlite3

import pytest

from gis.coordination import alerts
from gis.errors import NotFoundError, StoreError, ValidationError

from .conftest import NOW


def test_schema_version_is_5(store):
    if hasattr(store, "schema_version"):
        assert store.schema_version() >= 5
    else:
        assert int(store.get_meta("schema_version")) >= 5
        con = sqlite3.connect(store.path)
        names = {r[0] for r in con.execute("SELECT table_name FROM gpkg_contents")}
        con.close()
        assert {"coord_alerts", "coord_photos", "coord_joint_actions"} <= names


def test_rows_round_trip(loaded):
    row = alerts.new_alert("dispatch", "dept:police", at=NOW, case_id="T01",
                           due_at=NOW + dt.timedelta(minutes=30), params={"a": "吹哨"})  # fmt: skip
    loaded.coord_insert("coord_alerts", [row])
    got = loaded.coord_get("coord_alerts", row["alert_id"])
    assert got["created_at"] == NOW and got["due_at"] == NOW + dt.timedelta(minutes=30)
    assert got["params"] == '{"a": "吹哨"}' and got["ack_at"] is None
    loaded.coord_update("coord_alerts", row["alert_id"], {"ack_at": NOW, "ack_lon": 116.4})
    got = loaded.coord_get("coord_alerts", row["alert_id"])
    assert got["ack_lon"] == 116.4
    blob = bytes(range(256))
    loaded.coord_insert("coord_reports", [{"case_id": "T01", "reporter": "v1", "source": "resident",
                                           "created_at": NOW}])  # fmt: skip
    assert loaded.coord_rows("coord_reports", {"reporter": "v1"})[0]["case_id"] == "T01"
    assert loaded.coord_rows("coord_reports", {"reporter": []}) == []
    loaded.coord_insert("coord_joint_actions", [{"action_id": "J1", "state": "planned",
                                                 "area_wkb": blob, "planned_at": NOW}])  # fmt: skip
    assert loaded.coord_get("coord_joint_actions", "J1")["area_wkb"] == blob


def test_batch_is_all_or_nothing(loaded):
    good = alerts.new_alert("major", "role:leadership", at=NOW, case_id="T01", alert_id="x1")
    dup = dict(good)
    with pytest.raises(StoreError):
        loaded.coord_insert("coord_alerts", [good, dup])
    assert loaded.coord_rows("coord_alerts") == []
    bad_check = {"action_id": "J1", "state": "dreaming"}
    with pytest.raises(StoreError):
        loaded.coord_insert("coord_joint_actions", [bad_check])
    assert loaded.coord_rows("coord_joint_actions") == []


def test_nul_and_unknown_names_refused(loaded):
    with pytest.raises(ValidationError, match="NUL"):
        loaded.coord_insert("coord_alerts", [alerts.new_alert("major", "role:\x00", at=NOW)])
    with pytest.raises(ValidationError, match="unknown columns"):
        loaded.coord_insert("coord_alerts", [{"alert_id": "a", "evil; DROP": 1}])
    with pytest.raises(ValidationError, match="unknown table"):
        loaded.coord_rows("cases")
    with pytest.raises(NotFoundError, match="not found"):
        loaded.coord_get("coord_alerts", "missing")
    with pytest.raises(NotFoundError):
        loaded.coord_update("coord_alerts", "missing", {"note": "x"})


def test_after_hook_failure_rolls_back_the_step(loaded):
    case = loaded.get_case("T01")

    def after(ex, new, entry):
        ex.insert("coord_alerts", alerts.new_alert("major", "role:leadership", at=NOW))
        raise ValidationError("refused by the hook")

    with pytest.raises(ValidationError, match="refused by the hook"):
        loaded.apply_transition("T01", "register", who="a", expected_version=case.version,
                                at=NOW, after=after)  # fmt: skip
    assert loaded.get_case("T01").state == "reported"
    assert loaded.coord_rows("coord_alerts") == []
    assert len(loaded.audit_trail("T01")) == 1


def test_older_geopackage_accepts_community_sources(tmp_path, refs, ten_reports):
    """A file made before schema 5 (old source CHECK) is rebuilt on open, rows kept."""
    from gis.store.geopackage import GeoPackageStore

    path = tmp_path / "old.gpkg"
    s = GeoPackageStore(path, refs=refs)
    s.add_reports(ten_reports[:2], received_by="desk")
    s.close()
    con = sqlite3.connect(path)
    sql = con.execute("SELECT sql FROM sqlite_master WHERE name='cases'").fetchone()[0]
    old = sql.replace(", 'xicheng_dama', 'grid_worker', 'civility_team', 'resident')", ")")
    assert old != sql
    con.execute("PRAGMA writable_schema=ON")
    con.execute("UPDATE sqlite_master SET sql=? WHERE name='cases'", (old,))
    con.commit()
    con.close()
    s = GeoPackageStore(path, refs=refs)
    assert s.count_cases() == 2
    import dataclasses

    r = dataclasses.replace(ten_reports[2], source="resident")
    assert s.add_reports([r], received_by="desk").added == ("T03",)
    assert s.get_case("T03").source == "resident"
    assert s.query_cases(zone_id=s.get_case("T01").zone_id)
    s.close()


def test_postgis_applies_a_lower_numbered_migration_that_arrives_later(pg_url, tmp_path, refs):
    """Schema files developed side by side (004 after 005) are applied in any order."""
    import shutil

    from gis.store.postgis import SQL_DIR, PostGISStore

    sql = tmp_path / "sql"
    sql.mkdir()
    for p in SQL_DIR.glob("*.sql"):
        if not p.name.startswith("004"):
            shutil.copy(p, sql / p.name)
    s = PostGISStore(pg_url, refs=refs, sql_dir=sql)
    assert s.schema_version() == max(int(p.name[:3]) for p in sql.glob("*.sql")) >= 5
    s.close()
    (sql / "004_late.sql").write_text("CREATE TABLE late_feature (x integer);", encoding="utf-8")
    s = PostGISStore(pg_url, refs=refs, sql_dir=sql)
    with s._tx() as cur:
        cur.execute("SELECT count(*) FROM late_feature")
        assert cur.fetchone()[0] == 0
        cur.execute("SELECT array_agg(version ORDER BY version) FROM schema_version")
        versions = cur.fetchone()[0]
        assert versions == sorted(versions) and {4, 5} <= set(versions)
    s.close()
