"""Check the bundled Shichahai drawing against reference facts and print the figures.

Prints the boundary IoU against the OSM polygon, the distance of every reference landmark
to the feature of the same name, and the street-network figures after noding (segments,
components, zero-length and duplicate segments, lake crossings). Optionally draws a PNG
for eyeballing the drawing.

Run from the repository root (the reference data sits beside the repository in
``../shared/data``)::

    python data/shichahai/check.py [--png drawing.png]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import geopandas as gpd
import networkx as nx

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from gis.geography.crs import METRIC  # noqa: E402
from gis.geography.layers import load_geography  # noqa: E402
from gis.geography.network import check_network  # noqa: E402
from gis.geography.reference import boundary_iou, landmark_distances  # noqa: E402

HERE = Path(__file__).resolve().parent
SHARED = ROOT / ".." / "shared" / "data"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--png", help="also draw the layers into this PNG file")
    ap.add_argument(
        "--shared", default=str(SHARED), help="reference data folder (default: ../shared/data)"
    )
    args = ap.parse_args(argv)

    geo = load_geography(HERE)
    ok = True
    shared = Path(args.shared)
    ref = shared / "osm" / "shichahai_and_xicheng_boundary_osm.geojson"
    if ref.exists():
        iou = boundary_iou(geo, ref)
        print(f"boundary IoU vs OSM: {iou:.4f}")
        ok &= iou >= 0.95
        lm = landmark_distances(geo, shared / "landmarks_wgs84.csv")
        print(lm.to_string(index=False))
        matched = lm.loc[lm["matched"]]
        worst = matched["distance_m"].max()
        print(f"landmarks matched: {len(matched)}, max distance {worst:.1f} m")
        ok &= worst <= 40.0
    else:
        print("reference data not found beside the repository; skipping IoU and landmarks")

    seg = geo.segments
    G = geo.graph()
    stats = check_network(G)
    print("network:", stats)
    comps = sorted(nx.connected_components(G), key=len, reverse=True)
    print("component sizes:", [len(c) for c in comps[:10]])
    ok &= stats["components"] == 1 and stats["zero_length"] == 0 and stats["duplicates"] == 0
    ok &= len(seg) >= 120
    water = geo.lakes.union_all().buffer(-1.0)
    wet = seg.loc[(seg["kind"] != "bridge") & seg.intersects(water)]
    print(f"segments {len(seg)}; non-bridge segments over water (1 m inside the shore): {len(wet)}")
    ok &= wet.empty
    print(
        "counts:",
        {
            "lakes": len(geo.lakes),
            "streets": len(gpd.read_file(HERE / "streets.geojson")),
            "named streets": seg.loc[seg["name"] != "", "name"].nunique(),
            "zones": len(geo.zones),
            "pois": len(geo.pois),
        },
    )
    zones = geo.zones
    area = geo.boundary.union_all().area
    print(
        f"zones cover {zones.union_all().area / area:.5f} of the boundary; "
        f"overlap {zones.area.sum() - zones.union_all().area:.2f} m²"
    )
    print(
        zones[["zone_id", "name", "community"]]
        .assign(km2=(zones.area / 1e6).round(3))
        .to_string(index=False)
    )
    if args.png:
        _draw(geo, args.png, shared)
    print("OK" if ok else "PROBLEMS")
    return 0 if ok else 1


def _draw(geo, path: str, shared: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(14, 16), dpi=110)
    geo.zones.plot(ax=ax, column="zone_id", alpha=0.15, edgecolor="grey", linewidth=1.5)
    geo.lakes.plot(ax=ax, color="#9cc9f0")
    colors = {
        "main_street": "red",
        "street": "orange",
        "hutong": "#555",
        "lakeside": "blue",
        "bridge": "magenta",
        "path": "green",
    }
    for kind, part in geo.segments.groupby("kind"):
        part.plot(
            ax=ax, color=colors[kind], linewidth=2.0 if kind in ("main_street", "bridge") else 0.8
        )
    named = geo.segments.loc[geo.segments["name"] != ""].dissolve("name")
    for name, row in named.iterrows():
        p = row.geometry.representative_point()
        ax.annotate(name, (p.x, p.y), fontsize=7, fontfamily="Noto Sans CJK JP")
    geo.pois.plot(ax=ax, color="black", markersize=12)
    for _, r in geo.pois.iterrows():
        ax.annotate(
            r["name"],
            (r.geometry.x, r.geometry.y),
            fontsize=6,
            color="purple",
            fontfamily="Noto Sans CJK JP",
        )
    ref = shared / "osm" / "shichahai_and_xicheng_boundary_osm.geojson"
    if ref.exists():
        gpd.read_file(ref).to_crs(METRIC).iloc[[0]].boundary.plot(
            ax=ax, color="black", linestyle="--", linewidth=0.8
        )
    ax.set_aspect("equal")
    fig.tight_layout()
    fig.savefig(path)


if __name__ == "__main__":
    raise SystemExit(main())
