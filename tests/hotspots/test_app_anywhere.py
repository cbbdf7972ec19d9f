"""The hotspots page works on a geography measured in another UTM zone (Seattle, Sydney)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
from pyproj import Transformer
from shapely.geometry import box

from gis.access.users import DEMO_PASSWORDS, SqliteUserRepository, seed_demo_users
from gis.geography.crs import METRIC, WGS84
from gis.geography.layers import load_geography
from tests.app.apptest_helpers import goto, log_in, new_app, texts
from tests.hotspots.anywhere import PLACES, cluster_lonlat, geography_at

FAR = [p for p in PLACES if p[0] != "shichahai"]


def _seed(db: Path, lon: float, lat: float, n: int = 40) -> int:
    """``n`` cases around the cluster centre over the last days; returns how many."""
    from gis.cases.intake import validate_record
    from gis.settings import Settings
    from gis.store import open_store

    clon, clat = cluster_lonlat(lon, lat)
    x, y = Transformer.from_crs(WGS84, METRIC, always_xy=True).transform(clon, clat)
    area = box(x - 5000, y - 5000, x + 5000, y + 5000)  # the place, in the store's CRS
    now = dt.datetime.now(dt.UTC)
    with open_store(Settings(database_url=str(db))) as s:
        reports = [
            validate_record(
                {
                    "report_id": f"W{i}",
                    "category": "C04",
                    "lon": clon + 0.0002 * ((i % 5) - 2),
                    "lat": clat + 0.0002 * ((i // 5 % 5) - 2),
                    "reported_at": (now - dt.timedelta(days=1 + i % 20, hours=2)).isoformat(),
                },
                refs=s.refs,
                now=now,
                area=area,
            )
            for i in range(n)
        ]
        s.add_reports(reports, received_by="test")
        return int(s.count_cases())


@pytest.mark.parametrize(("label", "lon", "lat"), FAR, ids=[p[0] for p in FAR])
def test_hotspots_page_on_a_far_geography(tmp_path, monkeypatch, label, lon, lat) -> None:
    folder = geography_at(tmp_path / label, lon, lat)
    geo = load_geography(folder)
    assert geo.crs != METRIC
    db = tmp_path / "store.gpkg"
    seed_demo_users(SqliteUserRepository(db), list(geo.zones["zone_id"]), rounds=4)
    assert _seed(db, lon, lat) == 40
    for k, v in {
        "PATROL_DATA_DIR": str(folder),
        "PATROL_DATABASE_URL": str(db),
        "PATROL_LANG": "zh",
        "PATROL_BASEMAP": "none",
    }.items():
        monkeypatch.setenv(k, v)
    import gis.services

    seen: list[object] = []
    stores: list[object] = []
    real = gis.services.hotspot_layer

    def spy(g, cases, request, **kw):
        out = real(g, cases, request, **kw)
        seen.append((request.kind, out))
        stores.append(kw.get("store"))
        return out

    monkeypatch.setattr(gis.services, "hotspot_layer", spy)
    at = log_in(new_app(), "leader", DEMO_PASSWORDS["leader"])
    goto(at, "hotspots")
    for kind in ("density", "gistar", "forecast"):
        at.radio(key="hotspots_layer").set_value(kind).run()
        assert not at.exception, at.exception
        shown = texts(at)
        assert not at.error, shown
        assert "CRS" not in shown and "坐标" not in shown
    kinds = {k: out for k, out in seen}
    # the leader sees every case: the store is offered to count in (GeoPackage: in Python)
    assert stores and all(s is not None for s in stores)
    assert set(kinds) == {"density", "gistar", "forecast"}
    surface = kinds["density"]
    assert surface.grid.crs == geo.crs and surface.n_cases == 40
    assert kinds["gistar"].gdf.crs == geo.crs and kinds["gistar"].gdf["count"].sum() == 40
    assert kinds["forecast"].crs == geo.crs and float(kinds["forecast"]["risk"].sum()) > 0
    # the report's figures on the page are the store's (the daily report: yesterday)
    from gis.analytics import periods as rp
    from gis.settings import Settings
    from gis.store import open_store

    today = pd.Timestamp.now(tz="Asia/Shanghai").date()
    period = rp.period_for("daily", rp.default_report_day("daily", today))
    with open_store(Settings(database_url=str(db))) as s:
        t = s.cases_frame()["reported_at"]
    want = int(((t >= period.start) & (t < period.end)).sum())
    shown = dict(at.dataframe[0].value.itertuples(index=False, name=None))
    assert shown["新报案件"] == f"{want:,}"
