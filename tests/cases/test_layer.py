"""The violations layer: offline clustering, graded cells, filters, escaped tooltips."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from gis.cases.batch import read_batch
from gis.cases.demo_history import generate_demo_history
from gis.geography.network import grid_segments
from gis.localtime import LOCAL_TZ as TZ
from gis.store.geopackage import GeoPackageStore
from layers.assets import AssetMode
from layers.basemap import new_map
from layers.violations import (
    CATEGORY_COLOURS,
    filter_cases,
    graded_cells,
    legend_items,
    violations_layer,
)

from .conftest import NOW
from .test_intake import CORPUS

EXTERNAL = re.compile(r"<(script|link)[^>]+(src|href)=[\"']?(https?:)?//", re.IGNORECASE)


@pytest.fixture
def frame(tmp_path, refs, segments):
    store = GeoPackageStore(tmp_path / "l.gpkg", refs=refs)
    for name in ("good_utf8.csv", "injection.csv"):
        store.add_reports(read_batch(CORPUS / name, refs=refs, now=NOW).reports, received_by="d")
    f = store.cases_frame()
    store.close()
    return f


def test_colours_cover_every_category(refs):
    assert set(CATEGORY_COLOURS) == set(refs.categories)
    assert len(set(CATEGORY_COLOURS.values())) == 29


def test_filters(frame):
    assert filter_cases(frame, categories="C08")["case_id"].tolist() == ["I1", "I2", "I3"]
    assert filter_cases(frame, depts="environment")["case_id"].tolist() == ["G2"]
    since = dt.datetime(2026, 5, 2, tzinfo=TZ)
    assert filter_cases(frame, since=since)["case_id"].tolist() == ["G4", "G5", "G6"]
    assert filter_cases(frame, states=["closed"]).empty
    assert len(filter_cases(frame)) == 9


def _html(group):
    m = new_map(assets=AssetMode(inline=True))
    group.add_to(m)
    return m.get_root().render()


def test_clustered_layer_is_offline_and_escaped(frame):
    page = _html(violations_layer(frame))
    assert "markerClusterGroup" in page
    assert EXTERNAL.search(page) is None and "cdnjs" not in page
    assert "<script>alert('x')</script>" not in page
    assert "\\u003cscript\\u003e" in page  # the description travels as inert JSON data
    assert "\\u0027; DELETE FROM case_audit WHERE \\u00271\\u0027=\\u00271" in page


def test_served_assets_use_the_local_prefix(frame):
    layer = violations_layer(frame, assets=AssetMode.served_at("/app/static/mc"))
    m = new_map(assets=AssetMode.served_at("/app/static/leaflet"))
    layer.add_to(m)
    page = m.get_root().render()
    assert "/app/static/mc/leaflet.markercluster.js" in page
    assert EXTERNAL.search(page) is None


def test_many_cases_become_graded_cells():
    segs = grid_segments(10, 10, 100.0, origin=(446000.0, 4420000.0))
    hist = generate_demo_history(segs, seed=5, days=20)
    from gis.cases.workflow import cases_to_frame

    f = cases_to_frame(hist.cases)
    cells = graded_cells(f, 100.0)
    assert cells["count"].sum() == len(f)
    assert set(cells["grade"]) <= {0, 1, 2, 3, 4}
    page = _html(violations_layer(f, max_markers=100))
    assert "markerClusterGroup" not in page and "fillColor" in page
    labels = [label for _, label in legend_items(f, {"C04": "店外经营"})]
    assert "C04 店外经营" in labels and labels == sorted(labels)


def test_reference_names_fall_back_on_a_missing_table_but_not_on_a_bug(monkeypatch) -> None:
    import gis.cases.categories
    from gis.errors import NotFoundError
    from layers.violations import _reference_names

    def missing(*_a: object) -> None:
        raise NotFoundError("reference table categories.csv not found")

    def broken(*_a: object) -> None:
        raise TypeError("a bug")

    monkeypatch.setattr(gis.cases.categories, "load_references", missing)
    assert _reference_names("zh") == ({}, {})
    monkeypatch.setattr(gis.cases.categories, "load_references", broken)
    with pytest.raises(TypeError):
        _reference_names("zh")
