"""One integration path over the bundled Shichahai geography (skips when it is absent)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from gis.analytics.density import density_surface
from gis.analytics.forecast import backtest, segment_risk_weights, segment_units
from gis.analytics.gistar import gistar_segments
from gis.analytics.kpis import compute_kpis
from gis.analytics.periods import period_for
from gis.analytics.report_html import render_html
from gis.analytics.report_map import period_surface
from gis.analytics.selection import CaseFilter
from tests.hotspots.synthetic import START, near_repeat_history

SHICHAHAI = Path(__file__).resolve().parents[2] / "data" / "shichahai"


@pytest.fixture(scope="module")
def geo():
    from gis.geography.layers import load_geography

    if not SHICHAHAI.is_dir():
        pytest.skip("bundled Shichahai geography (data/shichahai) is not in this checkout")
    return load_geography(SHICHAHAI)  # present but broken data must fail, not skip


def test_hotspots_over_shichahai(geo):
    segs = geo.segments.reset_index(drop=True)
    # the bar street: every segment within 250 m of 酒吧街 is a long-run hot spot
    bar = geo.poi("酒吧街").geometry
    hot = list(segs.index[segs.distance(bar) <= 250])
    assert len(hot) >= 5
    h = near_repeat_history(
        segments=segs, days=182, background_per_day=6.0, seed=11, hot_segments=hot
    )
    cases = h.cases
    assert len(cases) > 1000
    boundary = tuple(geo.boundary.total_bounds)
    flt = CaseFilter(start=START, end=START + pd.Timedelta(days=182))
    s = density_surface(cases, flt, bounds=boundary)
    assert s.integral() == pytest.approx(len(cases), rel=0.02)  # kernels cut at the boundary
    r = gistar_segments(cases, segs, flt, permutations=999, seed=0)
    hot_found = r.gdf.loc[r.gdf["gi_class"].str.startswith("hot"), "segment_id"]
    assert len(hot_found) >= 3
    # every significant hot segment lies within 600 m of the bar street
    assert segs.set_index("segment_id").loc[hot_found].distance(bar).max() <= 600
    assert sum(r.counts.values()) == len(segs)
    bt = backtest(cases, segment_units(segs), coverages=(0.05,))
    assert bt.pai("near_repeat", 0.05) > bt.pai("last4", 0.05)
    w = segment_risk_weights(cases, segs, at=START + pd.Timedelta(days=120))
    assert len(w) == len(segs) and max(w.values()) == 1.0
    period = period_for("monthly", START + pd.Timedelta(days=40))
    k = compute_kpis(cases, period, now=START + pd.Timedelta(days=200))
    assert k.reported == int(
        ((cases["reported_at"] >= period.start) & (cases["reported_at"] < period.end)).sum()
    )
    names = {"zone_id": dict(zip(geo.zones["zone_id"], geo.zones["name"], strict=True))}
    page = render_html(
        k, lang="zh", surface=period_surface(cases, period), gdf_segments=segs, names=names
    )
    assert "data:image/png;base64," in page


def test_cli_over_shichahai(geo, tmp_path, capsys):
    from gis.cli import main

    segs = geo.segments.reset_index(drop=True)
    h = near_repeat_history(segments=segs, days=120, background_per_day=4.0, seed=5)
    path = tmp_path / "cases.gpkg"
    h.cases.to_file(path, driver="GPKG")
    out = tmp_path / "month.html"
    day = (START + pd.Timedelta(days=95)).strftime("%Y-%m-%d")
    assert main(["report", "monthly", "--cases", str(path), "--date", day, "--out", str(out)]) == 0
    page = out.read_text(encoding="utf-8")
    assert "热点预测可信度（滚动回测）" in page and "data:image/png;base64," in page
    zone_name = str(geo.zones["name"].iloc[0])
    assert zone_name in page or not (h.cases["zone_id"] == geo.zones["zone_id"].iloc[0]).any()
    rc = main(
        [
            "hotspots",
            "--cases",
            str(path),
            "--date",
            day,
            "--days",
            "60",
            "--method",
            "gistar",
            "--map",
            str(tmp_path / "g.html"),
        ]
    )
    assert rc == 0
    text = capsys.readouterr().out
    assert "hot95=" in text and "more than 200 m" not in text
