"""Geography layers in the store, one contract on both stores: each subdistrict's layers are
saved and read back equal (features, ids, names, every column, geometries, CRS), beside the
other subdistricts' and in their own metric CRS."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
import shapely
from pyproj import CRS

from gis.cli import main
from gis.errors import NotFoundError, PatrolError, StoreError, ValidationError
from gis.geography.layers import Geography, geography_from_layers, load_bundled_geography
from gis.store.geo_layers import LAYERS
from gis.store.geopackage import GeoPackageStore
from gis.store.gpkg_index import bbox_fids, register_functions

EXTRACT = Path(__file__).resolve().parents[1] / "osm" / "fixtures" / "helsinki_small.osm.bz2"
A, H = "shichahai", "helsinki_centre"


@pytest.fixture(scope="module")
def helsinki(tmp_path_factory: pytest.TempPathFactory) -> Geography:
    """A real second geography (Helsinki centre, OpenStreetMap, EPSG:32635)."""
    from gis.geography.layers import load_geography

    out = tmp_path_factory.mktemp("hk") / "geo"
    assert main(["import-osm", str(EXTRACT), "--out", str(out), "--allow-outside-china"]) == 0
    return load_geography(out)


@pytest.fixture(scope="module")
def shichahai() -> Geography:
    return load_bundled_geography()


def assert_same_geography(got: Geography, want: Geography) -> None:
    """Every layer: the same columns in order, the same values and dtypes, geometries
    within 1e-6 m of each other vertex by vertex, the same CRS."""
    assert CRS.from_user_input(got.crs) == CRS.from_user_input(want.crs)
    for layer in LAYERS:
        a, b = getattr(got, layer), getattr(want, layer)
        assert list(a.columns) == list(b.columns), layer
        assert a.crs == b.crs, layer
        assert len(a) == len(b), layer
        pd.testing.assert_frame_equal(
            pd.DataFrame(a.drop(columns="geometry")),
            pd.DataFrame(b.drop(columns="geometry")),
            obj=layer,
        )
        assert shapely.equals_exact(a.geometry.values, b.geometry.values, 1e-6).all(), layer
        if len(a):
            gap = shapely.hausdorff_distance(a.geometry.values, b.geometry.values)
            assert float(gap.max()) <= 1e-6, layer


def test_a_saved_geography_reads_back_equal(store, shichahai) -> None:
    assert store.geography_subdistricts() == []
    assert store.geography_version() is None
    counts = store.save_geography(shichahai, by="test")
    assert counts == {layer: len(getattr(shichahai, layer)) for layer in LAYERS}
    assert store.geography_subdistricts() == [A]
    assert store.geography_version()
    got = store.read_geography()
    assert_same_geography(got, shichahai)
    # what the app builds from it is the same network
    assert got.G.number_of_edges() == shichahai.G.number_of_edges()
    assert abs(got.segments.length.sum() - shichahai.segments.length.sum()) < 1e-6


def test_a_store_without_layers_says_how_to_load_them(store) -> None:
    with pytest.raises(NotFoundError, match="load-geography"):
        store.read_geography()


def test_two_subdistricts_keep_their_own_layers(store, shichahai, helsinki) -> None:
    other = store.scoped(H)
    district = store.scoped("*")
    try:
        store.save_geography(shichahai)
        before = store.geography_version()
        other.save_geography(helsinki, by="test")
        assert store.geography_subdistricts() == sorted([A, H])
        assert district.geography_subdistricts() == sorted([A, H])
        assert_same_geography(store.read_geography(), shichahai)
        assert_same_geography(other.read_geography(), helsinki)
        assert other.read_geography().crs == "EPSG:32635" != store.read_geography().crs
        assert store.geography_version() == before  # the other's load left it alone
        # saving one again replaces its layers only, and its version changes
        hv = other.geography_version()
        store.save_geography(shichahai)
        assert store.geography_version() != before
        assert other.geography_version() == hv
        assert_same_geography(other.read_geography(), helsinki)
        # the district level has no geography of its own
        with pytest.raises(ValidationError, match="district level"):
            district.read_geography()
        assert district.geography_version() is None
        with pytest.raises(PatrolError):
            district.save_geography(shichahai)
    finally:
        other.close()
        district.close()


def test_saving_replaces_every_feature_of_the_layers(store, shichahai, helsinki) -> None:
    store.save_geography(helsinki)  # another area under the same key, then the real one
    store.save_geography(shichahai)
    assert_same_geography(store.read_geography(), shichahai)


def _local_tm(geo: Geography) -> Geography:
    """``geo`` measured in a transverse Mercator of its own centre (a CRS with no EPSG code)."""
    centre = geo.boundary.to_crs("EPSG:4326").union_all().centroid
    crs = CRS.from_proj4(
        f"+proj=tmerc +lat_0={centre.y:.5f} +lon_0={centre.x:.5f} +k=1 +x_0=0 +y_0=0 "
        "+ellps=WGS84 +units=m +no_defs"
    )
    return geography_from_layers(
        geo.boundary.to_crs(crs),
        geo.lakes.to_crs(crs),
        geo.zones.drop(columns="front_id").to_crs(crs),
        geo.streets.to_crs(crs),
        geo.pois.to_crs(crs),
        source="local",
    )


def test_geopackage_layers_are_feature_tables_gdal_opens(tmp_path, shichahai, helsinki) -> None:
    path = tmp_path / "patrol.gpkg"
    with GeoPackageStore(path) as a, GeoPackageStore(path, subdistrict=H) as h:
        a.save_geography(shichahai)
        h.save_geography(helsinki)
    layers = dict(pyogrio.list_layers(path))
    for code, geo in ((A, shichahai), (H, helsinki)):
        for layer in LAYERS:
            table = f"geo_{code}_{layer}"
            assert table in layers, table
            info = pyogrio.read_info(path, layer=table)
            frame = getattr(geo, layer)
            assert info["features"] == len(frame)
            assert CRS.from_user_input(info["crs"]) == CRS.from_user_input(geo.crs)
            assert info["capabilities"]["fast_spatial_filter"], table  # the RTree index
            if not len(frame):
                continue
            read = gpd.read_file(path, layer=table)
            assert list(read["feature_id"]) == [str(v) for v in frame[LAYERS[layer]]] or (
                layer == "boundary"
            )
            assert list(read["name"]) == list(frame["name"].fillna(""))
            assert read.geometry.geom_equals_exact(frame.geometry, 1e-6).all()
            assert set(read["subdistrict"]) == {code}
    # the index answers a window like the geometries do
    zones = shichahai.zones
    window = zones.geometry.iloc[0].buffer(10).bounds
    con = sqlite3.connect(path)
    try:
        hits = bbox_fids(con, "geo_shichahai_zones", "geom", window)
        ext = con.execute(
            "SELECT count(*) FROM gpkg_extensions WHERE extension_name = 'gpkg_rtree_index' "
            "AND table_name LIKE 'geo_%'"
        ).fetchone()[0]
    finally:
        con.close()
    want = zones.index[zones.intersects(shapely.box(*window))]
    assert sorted(hits) == sorted(int(i) + 1 for i in want)  # fid = layer order + 1
    assert ext == 2 * len(LAYERS)


def test_a_layer_spoiled_by_another_program_is_refused_by_name(tmp_path, shichahai) -> None:
    path = tmp_path / "p.gpkg"
    with GeoPackageStore(path) as s:
        s.save_geography(shichahai)
    con = sqlite3.connect(path)
    register_functions(con)  # (the index triggers call them, as for any writer)
    with con:
        con.execute("UPDATE geo_shichahai_zones SET props = '{not json' WHERE ord = 3")
    con.close()
    with GeoPackageStore(path) as s:
        with pytest.raises(StoreError, match="geo_shichahai_zones cannot be read.*load-geography"):
            s.read_geography()


def test_geopackage_keeps_a_crs_without_epsg_code(tmp_path, shichahai) -> None:
    geo = _local_tm(shichahai)
    assert CRS.from_user_input(geo.crs).to_epsg() is None
    with GeoPackageStore(tmp_path / "p.gpkg", subdistrict="xinjiekou") as s:
        s.save_geography(geo)
        assert_same_geography(s.read_geography(), geo)
    info = pyogrio.read_info(tmp_path / "p.gpkg", layer="geo_xinjiekou_zones")
    assert CRS.from_user_input(info["crs"]).equals(CRS.from_user_input(geo.crs))


@pytest.mark.postgis
def test_postgis_refuses_a_crs_without_epsg_code(pg_url, refs, shichahai) -> None:
    from gis.store.postgis import PostGISStore

    with PostGISStore(pg_url, refs=refs) as s:
        with pytest.raises(StoreError, match="no EPSG code"):
            s.save_geography(_local_tm(shichahai))
        assert s.geography_subdistricts() == []


def test_import_osm_can_store_the_import_as_a_subdistricts_geography(
    tmp_path, monkeypatch, capsys, helsinki
) -> None:
    db = tmp_path / "patrol.gpkg"
    monkeypatch.setenv("PATROL_DATABASE_URL", str(db))
    args = ["import-osm", str(EXTRACT), "--out", str(tmp_path / "h"), "--allow-outside-china"]
    assert main([*args, "--store-as", H]) == 0
    assert f"stored as the geography of subdistrict {H}" in capsys.readouterr().out
    with GeoPackageStore(db, subdistrict=H) as h:
        assert h.geography_subdistricts() == [H]
        assert_same_geography(h.read_geography(), helsinki)
    assert main([*args, "--store-as", "*"]) == 2  # the district level has no geography


def test_commands_use_the_subdistricts_stored_geography(
    tmp_path, monkeypatch, capsys, shichahai, helsinki
) -> None:
    """``patrol --subdistrict CODE info`` counts that subdistrict's stored layers."""
    db = tmp_path / "patrol.gpkg"
    monkeypatch.setenv("PATROL_DATABASE_URL", str(db))
    with GeoPackageStore(db, subdistrict=H) as h:
        h.save_geography(helsinki)
    capsys.readouterr()
    assert main(["--subdistrict", H, "info"]) == 0
    out = capsys.readouterr().out
    assert f"segments  {len(helsinki.segments):5d}" in out
    assert main(["info"]) == 0  # the bundled subdistrict: stored from the data folder
    assert f"segments  {len(shichahai.segments):5d}" in capsys.readouterr().out
    with GeoPackageStore(db) as a:
        assert a.geography_subdistricts() == sorted([A, H])
    assert main(["--subdistrict", "xinjiekou", "info"]) == 2  # nothing loaded for it
    assert "load-geography" in capsys.readouterr().err
