"""Several subdistricts in one store: keys on every row, row-level security, the store API.

Row-level security is tried the way a bug in the app would: a login role that belongs to
``patrol_app`` sends raw SQL for another subdistrict's rows.
"""

from __future__ import annotations

import dataclasses
import shutil
import sqlite3
import uuid
from pathlib import Path

import pytest

from gis.access.db import ACCESS_TABLES
from gis.errors import NotFoundError, StoreError, ValidationError
from gis.people.staff import Person
from gis.store import migrate, tenancy
from gis.store.geopackage import GeoPackageStore

A, B = "shichahai", "xinjiekou"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "store_e434d85"


def _b_reports(reports):
    """Other reports (new ids, no content hash) for the second subdistrict."""
    return [
        dataclasses.replace(
            r, report_id=f"B{r.report_id}", content_hash="", description="新街口", zone_id="Z1"
        )
        for r in reports
    ]


def _advance(store, case_id):
    case = store.get_case(case_id)
    return store.apply_transition(case_id, "register", who="alice", expected_version=case.version)


# -- the store API, both stores ----------------------------------------------------------
def test_each_subdistrict_sees_only_its_own_rows(store_factory, ten_reports):
    a = store_factory()
    b = a.scoped(B)
    district = a.scoped(tenancy.DISTRICT)
    try:
        mine = [
            dataclasses.replace(r, zone_id="Z1" if i < 3 else "Z2")
            for i, r in enumerate(ten_reports[:6])
        ]
        assert a.add_reports(mine, received_by="desk_a").added[0] == "T01"
        added_b = b.add_reports(_b_reports(ten_reports[:4]), received_by="desk_b").added
        assert added_b == ("BT01", "BT02", "BT03", "BT04")
        assert a.count_cases() == 6 and b.count_cases() == 4
        assert district.count_cases() == 10
        assert {c.case_id for c in a.query_cases()} == {f"T{i:02d}" for i in range(1, 7)}
        assert {c.case_id for c in b.query_cases()} == set(added_b)
        # both subdistricts have cases with zone id Z1: a zone query keeps to one
        assert {c.case_id for c in a.query_cases(zone_id="Z1")} == {"T01", "T02", "T03"}
        assert {c.case_id for c in b.query_cases(zone_id="Z1")} == set(added_b)
        assert len(district.query_cases(zone_id="Z1")) == 7
        assert set(a.cases_frame()["case_id"]) == {f"T{i:02d}" for i in range(1, 7)}
        assert len(district.cases_frame()) == 10
        # another subdistrict's case cannot be read, advanced or audited
        with pytest.raises(NotFoundError):
            a.get_case("BT01")
        with pytest.raises(NotFoundError):
            a.audit_trail("BT01")
        with pytest.raises(NotFoundError):
            _advance(a, "BT01")
        assert _advance(b, "BT01").state == "registered"
        assert [e.action for e in b.audit_trail("BT01")] == ["report", "register"]
        assert district.get_case("BT01").state == "registered"
        # named values (the district assignment …) are per subdistrict
        a.set_meta("districts.assignment", "A's")
        b.set_meta("districts.assignment", "B's")
        assert a.get_meta("districts.assignment") == "A's"
        assert b.get_meta("districts.assignment") == "B's"
        # coordination rows
        a.coord_insert("coord_reports", [{"case_id": "T01", "reporter": "ra", "source": "x"}])
        b.coord_insert("coord_reports", [{"case_id": "BT01", "reporter": "rb", "source": "x"}])
        assert [r["case_id"] for r in a.coord_rows("coord_reports")] == ["T01"]
        assert [r["case_id"] for r in b.coord_rows("coord_reports")] == ["BT01"]
        with pytest.raises(NotFoundError):
            a.coord_update("coord_reports", "BT01", {"reporter": "stolen"})
        assert b.coord_get("coord_reports", "BT01")["reporter"] == "rb"
        # the district level reads everything and writes nothing
        with pytest.raises(ValidationError, match=r"district level \(\*\) .* writes none"):
            district.add_reports(_b_reports(ten_reports[6:7]), received_by="x")
        with pytest.raises((StoreError, ValidationError), match="district level"):
            district.set_meta("districts.assignment", "*'s")
        assert district.count_cases() == 10
    finally:
        for s in (b, district):
            s.close()


def test_subdistrict_codes_are_checked(tmp_path):
    with pytest.raises(ValidationError, match="'Shi cha' is not a subdistrict code"):
        GeoPackageStore(tmp_path / "x.gpkg", subdistrict="Shi cha")
    with pytest.raises(ValidationError, match="not a subdistrict code"):
        GeoPackageStore(tmp_path / "x.gpkg", subdistrict="a'; DROP TABLE cases; --")


# -- upgrades -------------------------------------------------------------------------
def _gpkg_table_rows(path: Path) -> dict[str, tuple[list[str], list[tuple]]]:
    con = sqlite3.connect(path)
    try:
        out = {}
        for table in tenancy.GPKG_KEYED_TABLES:
            cols = [r[1] for r in con.execute(f"PRAGMA table_info({table})")]
            if cols:
                rows = con.execute(f"SELECT * FROM {table} ORDER BY rowid").fetchall()
                out[table] = (cols, rows)
        return out
    finally:
        con.close()


def _strip_key(cols: list[str], rows: list[tuple], table: str) -> list[tuple]:
    at = cols.index("subdistrict")
    assert {r[at] for r in rows} <= {A}, table
    return [r[:at] + r[at + 1 :] for r in rows]


def test_old_geopackage_rows_get_the_default_key(tmp_path, refs):
    path = tmp_path / "old.gpkg"
    shutil.copy(FIXTURES / "cases.gpkg", path)
    before = _gpkg_table_rows(path)
    GeoPackageStore(path, refs=refs).close()
    after = _gpkg_table_rows(path)
    for table, (_cols, rows) in before.items():
        new_cols, new_rows = after[table]
        assert "subdistrict" in new_cols, table
        kept = _strip_key(new_cols, new_rows, table)
        if table == "patrol_meta":  # only the version changes (and the rebuilt table's fid)
            rows = sorted(r[1:] for r in rows if r[1] != "schema_version")
            kept = sorted(r[1:] for r in kept if r[1] != "schema_version")
        assert kept == rows, table
    assert len(before["cases"][1]) == 24


def test_geopackage_written_by_todays_code_is_keyed(tmp_path, refs, ten_reports, monkeypatch):
    """A version-6 file written by this code (every table, rows in them), upgraded to 8."""
    path = tmp_path / "v6.gpkg"
    with monkeypatch.context() as m:
        m.setattr(migrate, "gpkg_code_version", lambda sql_dir=None: 6)
        m.setattr(tenancy, "key_gpkg_tables", lambda con: None)
        m.setattr("gis.store.geopackage.writable_subdistrict", lambda code: code)
        # (at the district level the store asks for no key column: as the code before 8)
        with GeoPackageStore(path, refs=refs, subdistrict="*") as s:
            s.add_reports(ten_reports, received_by="desk1")
            s.coord_insert("coord_reports", [{"case_id": "T01", "reporter": "r1"}])
            s.people.save_people([Person("P1", "张三", "一队", "duty", "城管", "resident")])
    con = sqlite3.connect(path)
    with con:
        con.execute("INSERT INTO patrol_meta (key, value) VALUES ('districts.assignment', '{}')")
    version = con.execute("SELECT value FROM patrol_meta WHERE key='schema_version'").fetchone()
    assert version == ("6",)
    assert "subdistrict" not in [r[1] for r in con.execute("PRAGMA table_info(cases)")]
    con.close()
    before = _gpkg_table_rows(path)
    after_open = GeoPackageStore(path, refs=refs)
    after_open.close()
    after = _gpkg_table_rows(path)
    assert set(after) == set(before)
    for table, (_cols, rows) in before.items():
        kept = _strip_key(*after[table], table)
        if table == "patrol_meta":
            rows = sorted(r[1:] for r in rows if r[1] != "schema_version")
            kept = sorted(r[1:] for r in kept if r[1] != "schema_version")
        assert kept == rows, table
    with GeoPackageStore(path, refs=refs) as s:
        assert s.count_cases() == 10 and _advance(s, "T03").state == "registered"
        assert s.get_meta("districts.assignment") == "{}"
        assert [p.person_id for p in s.people.list_people()] == ["P1"]


# -- PostGIS: row-level security ------------------------------------------------------------
def _pg(url: str):
    import psycopg2

    return psycopg2.connect(url)


def _login(pg_url: str, pg_cluster) -> tuple[str, str]:
    """A login role that belongs to patrol_app (trust auth: no password); its URL."""
    name = f"web_{uuid.uuid4().hex[:8]}"
    con = _pg(pg_url)
    with con, con.cursor() as cur:
        cur.execute(f"CREATE ROLE {name} LOGIN NOSUPERUSER NOBYPASSRLS IN ROLE patrol_app")
    con.close()
    return name, pg_url.replace("postgres@", f"{name}@", 1)


@pytest.fixture
def two_subdistricts(pg_url, refs, ten_reports):
    from gis.store.postgis import PostGISStore

    with PostGISStore(pg_url, refs=refs) as a:
        a.add_reports(ten_reports[:5], received_by="desk_a")
        a.set_meta("k", "a")
        b = a.scoped(B)
        b.add_reports(_b_reports(ten_reports[5:8]), received_by="desk_b")
        b.set_meta("k", "b")
        with b._tx() as cur:  # a geography layer of B's
            cur.execute(
                "INSERT INTO geo_layers (layer, srid, n_features) VALUES ('zones', 32650, 0)"
            )
    return pg_url


@pytest.mark.postgis
def test_app_role_cannot_read_or_write_another_subdistrict(pg_cluster, two_subdistricts):
    import psycopg2.errors

    url = two_subdistricts
    name, app_url = _login(url, pg_cluster)
    con = _pg(app_url)
    try:
        with con.cursor() as cur:
            cur.execute("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")
            assert cur.fetchone() == (False, False)
            cur.execute("SELECT count(*) FROM cases")  # no subdistrict set: nothing
            assert cur.fetchone()[0] == 0
            cur.execute("SELECT set_config('app.subdistrict', %s, false)", (A,))
            cur.execute("SELECT case_id, subdistrict FROM cases ORDER BY case_id")
            rows = cur.fetchall()
            assert [r[0] for r in rows] == ["T01", "T02", "T03", "T04", "T05"]
            assert {r[1] for r in rows} == {A}
            cur.execute("SELECT count(*) FROM case_audit WHERE case_id LIKE 'B%'")
            assert cur.fetchone()[0] == 0
            cur.execute("SELECT value FROM patrol_meta WHERE key = 'k'")
            assert cur.fetchall() == [("a",)]
            cur.execute("UPDATE cases SET description = 'changed' WHERE case_id = 'BT06'")
            assert cur.rowcount == 0
            cur.execute("UPDATE cases SET description = 'changed' WHERE true")
            assert cur.rowcount == 5
            cur.execute("DELETE FROM case_audit WHERE case_id = 'BT06'")
            assert cur.rowcount == 0
            cur.execute("DELETE FROM patrol_meta WHERE subdistrict = %s", (B,))
            assert cur.rowcount == 0
            # the owner's spatial function applies the key too
            cur.execute(
                "SELECT case_id FROM patrol_cases_within("
                "ST_MakeEnvelope(-180, -90, 180, 90, 4326)) ORDER BY case_id"
            )
            assert [r[0] for r in cur.fetchall()] == ["T01", "T02", "T03", "T04", "T05"]
            # geography layers are readable map data, written only under one's own key
            cur.execute("SELECT subdistrict FROM geo_layers")
            assert cur.fetchall() == [(B,)]
            cur.execute("UPDATE geo_layers SET n_features = 9 WHERE true")
            assert cur.rowcount == 0
            cur.execute("DELETE FROM geo_layers WHERE true")
            assert cur.rowcount == 0
        con.commit()
        for stmt, params in (
            ("INSERT INTO patrol_meta (key, value, subdistrict) VALUES ('x', 'y', %s)", (B,)),
            ("UPDATE cases SET subdistrict = %s WHERE case_id = 'T01'", (B,)),  # move a row
            (
                "INSERT INTO geo_layers (layer, srid, n_features, subdistrict) "
                "VALUES ('pois', 32650, 0, %s)",
                (B,),
            ),
            (
                "INSERT INTO cases (case_id, category, tier, state, source, reported_at, "
                "lead_dept, owner, geom, subdistrict) VALUES ('EVIL', 'C01', 'general', "
                "'reported', 'patrol', now(), 'x', 'x', ST_SetSRID(ST_MakePoint(116.38, "
                "39.94), 4326), %s)",
                (B,),
            ),
        ):
            with con.cursor() as cur, pytest.raises(psycopg2.errors.InsufficientPrivilege):
                cur.execute(stmt, params)
            con.rollback()
        with con.cursor() as cur:
            cur.execute("SELECT set_config('app.subdistrict', '*', false)")  # district level
            cur.execute("SELECT subdistrict, count(*) FROM cases GROUP BY 1 ORDER BY 1")
            assert cur.fetchall() == [(A, 5), (B, 3)]
            cur.execute("SELECT count(*) FROM patrol_meta WHERE key = 'k'")
            assert cur.fetchone()[0] == 2
    finally:
        con.close()
    # B's rows are untouched
    owner = _pg(url)
    with owner, owner.cursor() as cur:
        cur.execute(
            "SELECT count(*) FROM cases WHERE subdistrict = %s AND description = '新街口'", (B,)
        )
        assert cur.fetchone()[0] == 3
        cur.execute("SELECT count(*) FROM cases WHERE case_id = 'EVIL'")
        assert cur.fetchone()[0] == 0
        cur.execute("SELECT layer, n_features FROM geo_layers")
        assert cur.fetchall() == [("zones", 0)]
        # every keyed table has the policy in force
        cur.execute(
            "SELECT c.relname, c.relrowsecurity, EXISTS (SELECT 1 FROM pg_policy p "
            "WHERE p.polrelid = c.oid AND p.polname = 'subdistrict_scope') "
            "FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE a.attname = 'subdistrict' AND n.nspname = 'public' AND c.relkind = 'r'"
        )
        keyed = {r[0]: (r[1], r[2]) for r in cur.fetchall()}
        cur.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
            "AND tablename NOT IN ('schema_version', 'spatial_ref_sys', 'patrol_session_secret')"
        )
        assert {r[0] for r in cur.fetchall()} == set(keyed)
        # the login tables are keyed by their user but read before any subdistrict is known
        login = {t for t in ACCESS_TABLES if t != "patrol_session_secret"}
        assert {t: keyed.pop(t) for t in login} == dict.fromkeys(login, (False, False))
        assert all(v == (True, True) for v in keyed.values()), keyed
    owner.close()


@pytest.mark.postgis
def test_store_on_an_app_login_is_confined(pg_cluster, two_subdistricts, refs, ten_reports):
    """The store opened with a plain app login (no owner rights): COPY goes through a
    staging table, and everything it reads and writes stays in its subdistrict."""
    from gis.store.postgis import PostGISStore

    _, app_url = _login(two_subdistricts, pg_cluster)
    with PostGISStore(app_url, refs=refs, subdistrict=B) as b:
        assert b._copy_mode == "staged"
        assert b.count_cases() == 3 and b.get_meta("k") == "b"
        added = b.add_reports(_b_reports(ten_reports[8:]), received_by="desk_b").added
        assert added == ("BT09", "BT10")
        assert {c.case_id for c in b.query_cases()} == {"BT06", "BT07", "BT08", "BT09", "BT10"}
        with pytest.raises(NotFoundError):
            b.get_case("T01")
    with PostGISStore(two_subdistricts, refs=refs, subdistrict="*") as district:
        assert district.count_cases() == 10
        assert district.get_case("BT10").owner == "desk_b"


@pytest.mark.postgis
def test_postgis_written_by_todays_code_is_keyed(pg_url, refs, ten_reports, tmp_path):
    """A store at version 6 written by this code (cases, audit, meta, people, coordination,
    geography), upgraded by migration 8 without losing or changing a row."""
    from gis.store.pg_spatial import PostGISSpatial
    from gis.store.postgis import PostGISStore

    v6 = tmp_path / "sql"
    v6.mkdir()
    for version, path in migrate.migrations():
        if version <= 6:
            shutil.copy(path, v6 / path.name)
    with PostGISStore(pg_url, refs=refs, sql_dir=v6) as s:
        s.add_reports(ten_reports, received_by="desk1")
        _advance(s, "T02")
        with s._tx() as cur:  # (set_meta names the key of version 8)
            cur.execute("INSERT INTO patrol_meta VALUES ('districts.assignment', '{}')")
        with s._tx() as cur:  # (save_people of today writes the shift of version 11)
            cur.execute(
                "INSERT INTO staff (person_id, name, team, role, department, presence) "
                "VALUES ('P1', '张三', '一队', 'duty', '城管', 'resident')"
            )
        s.coord_insert("coord_reports", [{"case_id": "T01", "reporter": "r1"}])
        with s._tx() as cur:  # (load_geography of today deletes by key)
            cur.execute(
                "INSERT INTO geo_layers (layer, srid, n_features) VALUES ('zones', 32650, 2)"
            )
            cur.execute(
                "INSERT INTO geo_features (layer, ord, feature_id, geom) VALUES "
                "('zones', 0, 'Z1', ST_MakeEnvelope(447000, 4416000, 448000, 4417000, 32650)), "
                "('zones', 1, 'Z2', ST_MakeEnvelope(448000, 4416000, 449000, 4417000, 32650))"
            )
    tables = (
        "cases",
        "case_audit",
        "patrol_meta",
        "staff",
        "coord_reports",
        "geo_layers",
        "geo_features",
    )

    def rows(table: str) -> tuple[list[str], list[tuple]]:
        con = _pg(pg_url)
        try:
            with con.cursor() as cur:
                cur.execute(f"SELECT * FROM {table}")  # noqa: S608 - constants
                names = [d[0] for d in cur.description]
                return names, sorted(map(repr, cur.fetchall()))
        finally:
            con.close()

    before = {t: rows(t) for t in tables}
    with PostGISStore(pg_url, refs=refs) as s:
        assert s.schema_version() == migrate.code_version()
        assert s.count_cases() == 10 and s.get_case("T02").state == "registered"
        assert s.get_meta("districts.assignment") == "{}"
        assert [p.person_id for p in s.people.list_people()] == ["P1"]
        spatial = PostGISSpatial(s)
        assert spatial.srid() == 32650
        assert spatial.zones_at([447500, 448500, 0], [4416500, 4416500, 0]) == ["Z1", "Z2", None]
    later = {"staff": ["shift"], "geo_layers": ["columns", "crs"]}  # version 11's columns
    con = _pg(pg_url)
    with con, con.cursor() as cur:
        for table in tables:
            cur.execute(
                f"SELECT * FROM {table}"  # noqa: S608 - constants
            )
            names = [d[0] for d in cur.description]
            assert names == [*before[table][0], "subdistrict", *later.get(table, [])], table
            got = cur.fetchall()
            n = len(before[table][0])
            assert {r[n] for r in got} == {A}, table
            assert sorted(repr(r[:n]) for r in got) == before[table][1], table
    con.close()


def test_cli_subdistrict_option_scopes_the_store(tmp_path, refs, ten_reports, monkeypatch, capsys):
    from gis.cli import main

    path = tmp_path / "p.gpkg"
    monkeypatch.setenv("PATROL_DATABASE_URL", str(path))
    monkeypatch.delenv("PATROL_SUBDISTRICT", raising=False)
    with GeoPackageStore(path, refs=refs) as a, a.scoped(B) as b:
        a.add_reports(ten_reports[:2], received_by="desk_a")
        b.add_reports(_b_reports(ten_reports[2:3]), received_by="desk_b")
    assert main(["--subdistrict", B, "cases", "list"]) == 0
    out = capsys.readouterr().out
    assert "BT03" in out and "T01" not in out
    assert main(["cases", "list"]) == 0  # the default subdistrict
    out = capsys.readouterr().out
    assert "T01" in out and "T02" in out and "BT03" not in out
    monkeypatch.setenv("PATROL_SUBDISTRICT", "*")
    assert main(["cases", "list"]) == 0
    out = capsys.readouterr().out
    assert all(i in out for i in ("T01", "T02", "BT03"))
    assert main(["--subdistrict", "Bad Code", "cases", "list"]) == 2
    assert "'Bad Code' is not a subdistrict code" in capsys.readouterr().err


def test_people_and_crowd_rows_stay_in_their_subdistrict(store_factory):
    import datetime as dt

    from gis.crowd.places import bundled_places_path, load_places
    from gis.people.assignments import Assignment

    a = store_factory()
    b = a.scoped(B)
    try:
        a.people.save_people([Person("PA1", "张三", "一队", "duty", "城管", "resident")])
        b.people.save_people([Person("PB1", "李四", "一队", "duty", "城管", "resident")])
        assert [p.person_id for p in a.people.list_people()] == ["PA1"]
        assert [p.person_id for p in b.people.list_people()] == ["PB1"]
        with pytest.raises(NotFoundError):
            a.people.get_person("PB1")
        # the same segment id in two geographies, assigned on the same day in each
        day = dt.date(2026, 6, 1)
        a.people.assign([Assignment("S001-01", "PA1", day)])
        b.people.assign([Assignment("S001-01", "PB1", day)])
        assert [x.person_id for x in a.people.assignments_on(day)] == ["PA1"]
        assert [x.person_id for x in b.people.assignment_history("S001-01")] == ["PB1"]
        assert b.people.responsible_for("S001-01", day).person_id == "PB1"
        # a later assignment in A closes A's only
        a.people.assign([Assignment("S001-01", "PA1", day + dt.timedelta(days=3))])
        assert [x.valid_to for x in b.people.assignment_history("S001-01")] == [None]
        # crowd places: replacing A's leaves B's
        places = load_places(bundled_places_path(Path(__file__).resolve().parents[2] / "data"))
        assert a.save_places(places) == len(places)
        assert b.save_places(places.iloc[:1].assign(place_id="B-1")) == 1
        assert a.save_places(places.iloc[:2]) == 2
        assert list(b.load_places()["place_id"]) == ["B-1"]
        assert len(a.load_places()) == 2
    finally:
        b.close()


@pytest.mark.postgis
def test_pooled_connections_keep_no_subdistrict_between_transactions(pg_url, refs, ten_reports):
    from gis.store.postgis import PostGISStore

    with PostGISStore(pg_url, refs=refs, maxconn=1) as a:  # one connection for both views
        b = a.scoped(B)
        a.add_reports(ten_reports[:2], received_by="desk_a")
        assert b.count_cases() == 0 and a.count_cases() == 2
        assert b.add_reports(_b_reports(ten_reports[2:3]), received_by="b").added == ("BT03",)
        assert a.count_cases() == 2 and b.count_cases() == 1
        con = a._pool.getconn()
        try:
            with con.cursor() as cur:  # outside the store's transactions: no key, no role
                cur.execute("SELECT current_setting('app.subdistrict', true), current_user")
                assert cur.fetchone() == ("", "postgres")
                cur.execute("SELECT count(*) FROM cases")  # (the superuser login sees all)
                assert cur.fetchone()[0] == 3
            con.rollback()
        finally:
            a._pool.putconn(con)
        b.close()  # a view does not close the shared pool
        assert a.count_cases() == 2


def test_db_status_lists_the_subdistricts(store_factory, ten_reports, capsys):
    from gis.cli import main

    a = store_factory()
    with a.scoped(B) as b:
        a.add_reports(ten_reports[:3], received_by="desk_a")
        b.add_reports(_b_reports(ten_reports[3:4]), received_by="desk_b")
        from gis.geography.layers import load_bundled_geography

        b.save_geography(load_bundled_geography())  # B's layers (status names their CRS)
    assert main(["db", "status", "--url", str(store_factory.target)]) == 0
    out = capsys.readouterr().out
    assert f"subdistricts: {A} 3 cases, {B} 1 cases (geography EPSG:32650)" in out
    if store_factory.backend == "postgis":
        assert "row-level security: role patrol_app present" in out
    else:
        assert "row-level security" not in out


def test_a_batch_import_lands_in_the_importers_subdistrict(store_factory, refs, tmp_path):
    """The column intake (COPY on PostGIS, under the policies) keys rows like the rest."""
    import csv

    from gis.cases.batch import import_batch

    from .conftest import NOW
    from .test_columns import _records

    records = _records()[:12]
    path = tmp_path / "r.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(records[0][1]))
        w.writeheader()
        for _, rec in records:
            w.writerow(rec)
    a = store_factory()
    with a.scoped(B) as b:
        done = import_batch(path, b, refs=refs, now=NOW, received_by="desk_b")
        assert (done.added, done.rejected) == (12, 0)
        assert b.count_cases() == 12 and a.count_cases() == 0
        one = b.query_cases()[0].case_id
        assert [e.action for e in b.audit_trail(one)] == ["report"]
        with pytest.raises(NotFoundError):
            a.audit_trail(one)
        # the same file again from A: its ids are taken (unique across the store)
        again = import_batch(path, a, refs=refs, now=NOW, received_by="desk_a")
        assert (again.added, again.skipped) == (0, 12)
        assert a.count_cases() == 0
