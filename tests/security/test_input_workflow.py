"""Hostile workflow steps: each refused with a message, the case left exactly as it was.

Runs on the GeoPackage and the PostGIS store (``cases advance`` and the store API).
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from gis.cases.intake import validate_record
from gis.cases.workflow import CLOCK_SKEW, MAX_DEADLINE_HOURS
from gis.errors import DatumError, NotFoundError, TransitionError, ValidationError
from gis.localtime import LOCAL_TZ as TZ
from tests.security import input_payloads as P
from tests.security.conftest import snapshot

NOW = dt.datetime(2026, 6, 1, 12, 0, tzinfo=TZ)


@pytest.fixture
def store(store_factory, refs):
    from tests.cases.conftest import lonlat

    s = store_factory()
    reports = []
    for i, (dx, dy) in enumerate([(50, 0), (100, 150), (250, 300)], start=1):
        lon, lat = lonlat(dx, dy)
        raw = {"report_id": f"W{i}", "category": "C04", "lon": lon, "lat": lat,
               "reported_at": "2026-05-01 17:20", "reporter": "r"}  # fmt: skip
        reports.append(validate_record(raw, refs=refs, now=NOW))
    s.add_reports(reports, received_by="desk", at=NOW - dt.timedelta(days=30))
    return s


def step(store, case_id, action, at, **kw):
    case = store.get_case(case_id)
    return store.apply_transition(
        case_id, action, who=kw.pop("who", "alice"), expected_version=case.version, at=at,
        now=kw.pop("now", NOW), **kw,
    )  # fmt: skip


def refused(store, fn, match: str, exc=TransitionError) -> None:
    before = snapshot(store)
    with pytest.raises(exc, match=match):
        fn()
    assert snapshot(store) == before


T = NOW - dt.timedelta(days=20)


def test_mark_duplicate_needs_an_existing_open_other_case(store) -> None:
    """Why 5: ``--duplicate-of NOPE`` closed a case for good as a duplicate of nothing."""
    for target, match in (
        ("NOPE", "'NOPE' is not a stored case"),
        ("W1", "another case id"),
        ("", "another case id"),
        ("a\x00b", "NUL"),
    ):
        refused(
            store,
            lambda target=target: step(
                store, "W1", "mark_duplicate", T, params={"duplicate_of": target}
            ),  # fmt: skip
            match,
            exc=(TransitionError, ValidationError),
        )
    step(store, "W3", "reject", T, note="不属实")
    refused(
        store,
        lambda: step(store, "W1", "mark_duplicate", T, params={"duplicate_of": "W3"}),
        "already 'rejected'",
    )
    case = step(store, "W1", "mark_duplicate", T, params={"duplicate_of": "W2"})
    assert case.state == "duplicate"
    assert store.audit_trail("W1")[-1].params["duplicate_of"] == "W2"


def test_steps_in_the_future_are_refused(store) -> None:
    """Why 5: ``--at 2035-01-01`` was accepted and then every real step was refused."""
    refused(
        store,
        lambda: step(store, "W1", "register", dt.datetime(2035, 1, 1, tzinfo=TZ)),
        "in the future",
    )
    refused(store, lambda: step(store, "W1", "register", NOW + CLOCK_SKEW * 2), "in the future")
    # within the clock skew is fine, and the next real step still works
    step(store, "W1", "register", NOW + CLOCK_SKEW / 2)
    step(store, "W1", "serve_notice", NOW + CLOCK_SKEW / 2, params={"hours": 24})


def test_unknown_departments_are_refused(store) -> None:
    """Why 5: ``call_joint --depts`` accepted unknown department codes."""
    step(store, "W1", "register", T)
    for depts in (["NOPE"], ["城管", "NOPE"], ["{{7*7}}"], ["a\x00"], ["x" * 500]):
        refused(
            store,
            lambda depts=depts: step(store, "W1", "call_joint", T, params={"depts": depts}),
            "unknown department|NUL|characters",
        )
    case = step(store, "W1", "call_joint", T, params={"depts": ["城管", "市场监管", "公安"]})
    assert set(case.joint) == {store.refs.department(d).code for d in ("城管", "市场监管", "公安")}


@pytest.mark.parametrize("hours", [1e6, 1e308, float("nan"), float("inf"), -1, 0, "x"])
def test_deadlines_beyond_a_sane_maximum_are_refused(store, hours) -> None:
    """Why 4/5: ``--hours 1e308`` raised OverflowError; ``--hours 1e6`` set a deadline in 2140."""
    step(store, "W1", "register", T)
    refused(
        store,
        lambda: step(store, "W1", "serve_notice", T, params={"hours": hours}),
        "deadline hours",
    )


def test_explicit_deadline_beyond_the_maximum_is_refused(store) -> None:
    step(store, "W1", "register", T)
    far = T + dt.timedelta(hours=MAX_DEADLINE_HOURS + 1)
    refused(
        store,
        lambda: step(store, "W1", "serve_notice", T, params={"deadline": far}),
        "more than",
    )
    ok = step(store, "W1", "serve_notice", T, params={"deadline": T + dt.timedelta(days=7)})
    assert ok.deadline_at == T + dt.timedelta(days=7)


@pytest.mark.parametrize("bad", P.CONTROL[:2])
def test_nul_bytes_in_ids_and_text_get_a_message(store, bad) -> None:
    """Why 4: a NUL byte in an id raised a bare ValueError on PostGIS."""
    with pytest.raises(ValidationError, match="NUL"):
        store.get_case(bad)
    with pytest.raises(ValidationError, match="NUL"):
        store.audit_trail(bad)
    with pytest.raises(ValidationError, match="NUL"):
        store.query_cases(zone_id=bad)
    refused(store, lambda: step(store, "W1", "register", T, who=bad), "NUL|who", exc=Exception)
    refused(store, lambda: step(store, "W1", "reject", T, note=bad), "NUL", exc=Exception)
    case = store.get_case("W1")
    with pytest.raises(ValidationError, match="NUL"):
        store.add_cases([dataclasses.replace(case, case_id="N\x00", content_hash="h")])
    assert store.count_cases() == 3


def test_huge_note_is_refused(store) -> None:
    refused(store, lambda: step(store, "W1", "reject", T, note=P.HUGE_TEXT), "shorten")


def test_template_text_in_steps_is_stored_verbatim(store) -> None:
    for text in P.TEMPLATE[:3]:
        step(store, "W1", "escalate", T, note=text)
    assert [e.note for e in store.audit_trail("W1")][-3:] == list(P.TEMPLATE[:3])


def test_single_gcj02_point_declared_wgs84_is_refused(refs) -> None:
    """Why 5: one GCJ-02 point declared WGS 84 was stored ~550 m off (the batch check
    needs five points)."""
    from gis.geography.crs import wgs84_to_gcj02
    from gis.geography.layers import load_bundled_geography
    from gis.settings import Settings

    geo = load_bundled_geography(Settings())
    seg = geo.segments.sort_values("length_m" if "length_m" in geo.segments else "segment_id")
    from pyproj import Transformer

    to_wgs = Transformer.from_crs("EPSG:32650", "EPSG:4326", always_xy=True)
    caught = datum = 0
    for geom in seg.geometry.iloc[::25]:
        mid = geom.interpolate(0.5, normalized=True)
        lon, lat = to_wgs.transform(mid.x, mid.y)
        raw = {"category": "C04", "reported_at": "2026-05-01 17:20"}
        # the true WGS 84 point on the street is accepted
        validate_record({**raw, "lon": lon, "lat": lat}, refs=refs, now=NOW,
                        gdf_segments=geo.segments)  # fmt: skip
        glon, glat = wgs84_to_gcj02([lon], [lat])
        try:
            rep = validate_record(
                {**raw, "lon": float(glon[0]), "lat": float(glat[0])},
                refs=refs, now=NOW, gdf_segments=geo.segments,
            )  # fmt: skip
        except DatumError as exc:
            assert "GCJ-02" in str(exc)
            caught += 1
            datum += 1
            continue
        except ValidationError:
            caught += 1  # outside the subdistrict: refused too
            continue
        assert rep.source_datum == "wgs84"
    assert caught >= 5
    assert datum >= 5, "the datum check refused too few: the others were only outside the area"


def test_single_gcj02_point_through_the_cli(refs, monkeypatch, tmp_path, capsys) -> None:
    from pyproj import Transformer

    from gis.cli import main
    from gis.geography.crs import wgs84_to_gcj02
    from gis.geography.layers import load_bundled_geography
    from gis.settings import Settings

    geo = load_bundled_geography(Settings())
    to_wgs = Transformer.from_crs("EPSG:32650", "EPSG:4326", always_xy=True)
    for geom in geo.segments.geometry:
        mid = geom.interpolate(0.5, normalized=True)
        lon, lat = to_wgs.transform(mid.x, mid.y)
        glon, glat = (float(v[0]) for v in wgs84_to_gcj02([lon], [lat]))
        raw = {"category": "C04", "reported_at": "2026-05-01 17:20", "lon": glon, "lat": glat}
        try:
            validate_record(raw, refs=refs, now=NOW, gdf_segments=geo.segments)
        except DatumError:
            break
        except ValidationError:
            continue
    else:
        pytest.fail("no street point of the bundled data is detectable")
    monkeypatch.setenv("PATROL_DATABASE_URL", str(tmp_path / "p.gpkg"))
    args = ["cases", "new", "--category", "C04", f"--lon={glon:.6f}", f"--lat={glat:.6f}",
            "--by", "p1"]  # fmt: skip
    assert main(args) == 2
    assert "read as GCJ-02" in capsys.readouterr().err
    assert main([*args, "--datum", "gcj02", "--id", "G1"]) == 0
    from gis.store import open_store

    with open_store(Settings(database_url=str(tmp_path / "p.gpkg"))) as store:
        case = store.get_case("G1")
    assert abs(case.lon - lon) < 1e-5 and abs(case.lat - lat) < 1e-5
    # a point really away from the streets can be confirmed
    assert main([*args, "--datum-checked", "--id", "G2"]) == 0


def test_unknown_case_is_not_found(store) -> None:
    with pytest.raises(NotFoundError):
        step(store, "NOPE", "register", T)
