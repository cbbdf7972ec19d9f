"""Hotspots, forecasts and the report map measure in each geography's own metric CRS.

The tiny geography is placed near Seattle, Sydney and Shichahai; the store's cases stay in
EPSG:32650 as the store keeps them. Cells must be true squares of their nominal size on the
ellipsoid (area within 0.5 % of the geodesic area), and the hotspot must be where the cases
are.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import Geod

from gis.analytics import report_html as rp
from gis.geography.crs import WGS84, metric_crs_for
from gis.geography.layers import load_geography
from gis.services import HotspotRequest, ReportRequest, hotspot_layer, produce_report
from tests.hotspots.anywhere import PLACES, cluster_lonlat, clustered_frame, geography_at

GEOD = Geod(ellps="WGS84")
END = pd.Timestamp("2026-11-20 18:00", tz="Asia/Shanghai")
IDS = [p[0] for p in PLACES]


@pytest.fixture(scope="module", params=PLACES, ids=IDS)
def place(request, tmp_path_factory):
    label, lon, lat = request.param
    geo = load_geography(geography_at(tmp_path_factory.mktemp(label) / label, lon, lat))
    return geo, lon, lat


def _geodesic_area(poly_metric: shapely.Geometry, crs: str) -> float:
    ll = gpd.GeoSeries([shapely.segmentize(poly_metric, 1.0)], crs=crs).to_crs(WGS84).iloc[0]
    return abs(GEOD.geometry_area_perimeter(ll)[0])


def _distance_m(lonlat: tuple[float, float], geom_metric: shapely.Geometry, crs: str) -> float:
    """Geodesic distance from (lon, lat) to the nearest point of a metric geometry."""
    here = gpd.GeoSeries([shapely.Point(lonlat)], crs=WGS84).to_crs(crs).iloc[0]
    nearest = shapely.shortest_line(geom_metric, here).coords[0]
    p = gpd.GeoSeries([shapely.Point(nearest)], crs=crs).to_crs(WGS84).iloc[0]
    return float(GEOD.inv(lonlat[0], lonlat[1], p.x, p.y)[2])


def test_the_geography_has_its_own_crs(place):
    geo, lon, lat = place
    assert geo.crs == metric_crs_for(lon, lat)


def test_density_cells_are_true_metres_and_the_peak_is_on_the_cases(place):
    geo, lon, lat = place
    cases = clustered_frame(lon, lat, end=END)
    surface = hotspot_layer(geo, cases, HotspotRequest("density", 30, END))
    assert surface.grid.crs == geo.crs
    assert surface.n_cases == len(cases)
    assert surface.integral() == pytest.approx(len(cases), rel=1e-9)
    cells = surface.to_gdf()
    peak = cells.loc[cells["density"].idxmax()]
    cell_m2 = surface.grid.cell_m**2
    assert _geodesic_area(peak.geometry, geo.crs) == pytest.approx(cell_m2, rel=0.005)
    # the whole grid too: a 600 m square is 600 m on the ground
    minx, miny, maxx, maxy = surface.bounds
    whole = shapely.box(minx, miny, maxx, maxy)
    assert _geodesic_area(whole, geo.crs) == pytest.approx(whole.area, rel=0.005)
    assert _distance_m(cluster_lonlat(lon, lat), peak.geometry.centroid, geo.crs) < 30.0


def test_gistar_hot_cells_hold_the_cases(place):
    geo, lon, lat = place
    cases = clustered_frame(lon, lat, end=END, spread_m=60.0)  # 120 m: over 2×2 cells or more
    res = hotspot_layer(geo, cases, HotspotRequest("gistar", 30, END))
    assert res.gdf.crs == geo.crs
    hot = res.gdf.loc[res.gdf["gi_class"].str.startswith("hot")]
    assert res.gdf["count"].sum() == len(cases)  # every case counted in a cell
    assert len(hot) and hot["count"].sum() >= 0.9 * len(cases)
    centre = cluster_lonlat(lon, lat)
    nearest = min(_distance_m(centre, g.centroid, geo.crs) for g in hot.geometry)
    assert nearest < 100.0
    biggest = res.gdf.loc[res.gdf["count"].idxmax()].geometry
    assert _geodesic_area(biggest, geo.crs) == pytest.approx(100.0 * 100.0, rel=0.005)


def test_forecast_ranks_the_cases_street_first(place):
    geo, lon, lat = place
    cases = clustered_frame(lon, lat, end=END)
    out = hotspot_layer(geo, cases, HotspotRequest("forecast", 30, END))
    assert out.crs == geo.crs
    top = out.loc[out["risk"].idxmax()]
    assert _distance_m(cluster_lonlat(lon, lat), top.geometry, geo.crs) < 1.0
    # its measure is its true length
    seg = geo.segments.set_index("segment_id").loc[top["unit_id"]]
    ll = gpd.GeoSeries([seg.geometry], crs=geo.crs).to_crs(WGS84).iloc[0]
    assert seg["length_m"] == pytest.approx(GEOD.geometry_length(ll), rel=0.005)


def test_report_map_is_drawn_in_the_geography_crs(place, monkeypatch):
    geo, lon, lat = place
    cases = clustered_frame(lon, lat, end=END)
    seen: dict[str, object] = {}
    real = rp.render_html

    def spy(kpis, **kw):
        seen.update(kpis=kpis, surface=kw.get("surface"))
        return real(kpis, **kw)

    monkeypatch.setattr(rp, "render_html", spy)
    produced = produce_report(geo, cases, ReportRequest("monthly", "2026-11-10", lang="en"))
    surface = seen["surface"]
    assert surface is not None and surface.grid.crs == geo.crs
    assert surface.n_cases == produced.kpis.reported == len(cases)
    peak = surface.to_gdf().sort_values("density").iloc[-1].geometry.centroid
    assert _distance_m(cluster_lonlat(lon, lat), peak, geo.crs) < 30.0
    assert "<img" in str(produced.html)
    # the map covers the subdistrict: its extent holds the boundary
    assert shapely.box(*surface.bounds).contains(geo.boundary.union_all())
    assert np.isfinite(surface.values).all()
