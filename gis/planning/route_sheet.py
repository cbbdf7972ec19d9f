"""What the patrol carries: turn-by-turn steps, GPX and GeoJSON files, a printable route sheet.

Steps collapse consecutive segments of the same street into one instruction
(``沿烟袋斜街向东 120 米``), take the compass direction from the geometry and the turn
(左转/右转/直行/掉头) from the change of heading at each junction. Unnamed lanes are 无名胡同.
"""

from __future__ import annotations

import html
import logging
import math
import re
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from xml.sax.saxutils import escape

import geopandas as gpd
import networkx as nx
import numpy as np
from pyproj import Geod, Transformer
from shapely.geometry import LineString

from gis.errors import NotFoundError, ValidationError
from gis.geography.crs import METRIC, WGS84
from gis.geography.network import edge_geometry_from
from gis.i18n import t
from gis.planning.walk import Route

log = logging.getLogger(__name__)

#: Heading changes below this many degrees count as going straight on.
STRAIGHT_DEG = 30.0
#: Heading changes above this many degrees count as turning back.
UTURN_DEG = 150.0


@dataclass(frozen=True)
class Step:
    """One instruction: walk ``distance_m`` along one street after a turn."""

    number: int
    name: str
    name_en: str
    distance_m: float
    bearing_deg: float
    compass: int  # index into the 8 compass points, 0 = north
    turn: str  # start | straight | left | right | uturn
    deadhead: bool  # True when the whole step only passes through (no patrol duty)
    start_xy: tuple[float, float]
    segment_ids: tuple[str, ...]
    #: For an unnamed lane: the next named street the walk reaches (its landmark).
    toward: str = ""
    toward_en: str = ""
    #: True when other unnamed lanes come first (then it reads "towards", not "to").
    toward_far: bool = False

    @property
    def text_zh(self) -> str:
        """The instruction in Chinese, e.g. ``左转进入烟袋斜街，向东 120 米``."""
        return self.text("zh")

    @property
    def text_en(self) -> str:
        """The instruction in English, e.g. ``Turn left onto Yandai Xiejie, head east 120 m``."""
        return self.text("en")

    def text(self, lang: str = "zh") -> str:
        """The instruction in ``zh`` or ``en``, worded by the message catalogue."""
        en = lang == "en"
        named = (self.name_en or self.name) if en else self.name
        toward = (self.toward_en or self.toward) if en else self.toward
        street = named or t("route.unnamed", lang)
        compass = t(f"route.compass.{self.compass}", lang)
        head = t("route.head", lang, compass=compass, metres=_round_m(self.distance_m))
        if not named and toward:
            key = "route.towards" if self.toward_far else "route.to"
            head = t(key, lang, head=head, place=toward)
        tag = t("route.passing_tag", lang) if self.deadhead else ""
        if self.turn in ("start", "uturn"):
            return t(f"route.step.{self.turn}", lang, street=street, head=head, tag=tag)
        turn = t(f"route.turn.{self.turn}", lang)
        return t("route.step.turn", lang, turn=turn, street=street, head=head, tag=tag)


def _round_m(d: float) -> int:
    """Distances people can read: to 5 m below 100 m, to 10 m above."""
    if d < 100:
        return int(max(5, 5 * round(d / 5)))
    return int(10 * round(d / 10))


def _heading(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Grid bearing a→b in degrees clockwise from north."""
    return math.degrees(math.atan2(b[0] - a[0], b[1] - a[1])) % 360.0


def _end_heading(
    coords: Sequence[tuple[float, float]], at_start: bool, span: float = 15.0
) -> float:
    """Heading over the first (or last) ``span`` metres of a polyline, ignoring tiny kinks."""
    pts = list(coords) if at_start else list(coords)[::-1]
    acc = 0.0
    a = pts[0]
    b = pts[1]
    for p, q in zip(pts, pts[1:], strict=False):
        acc += math.dist(p, q)
        b = q
        if acc >= span:
            break
    return _heading(a, b) if at_start else _heading(b, a)


def _ahead(a: tuple[float, float], heading: float, d: float = 10.0) -> tuple[float, float]:
    """The point ``d`` metres from ``a`` along the grid ``heading``."""
    rad = math.radians(heading)
    return (a[0] + d * math.sin(rad), a[1] + d * math.cos(rad))


def _turn(prev_heading: float, next_heading: float) -> str:
    diff = (next_heading - prev_heading + 180.0) % 360.0 - 180.0  # + = clockwise = right
    if abs(diff) < STRAIGHT_DEG:
        return "straight"
    if abs(diff) > UTURN_DEG:
        return "uturn"
    return "right" if diff > 0 else "left"


def _true_bearing(tr: Transformer, a: tuple[float, float], b: tuple[float, float]) -> float:
    """Bearing a→b (metric CRS) in degrees clockwise from true north, on the ellipsoid.

    A grid bearing is off true north by the projection's meridian convergence (up to ~3°
    at the edge of a UTM zone), so compass words are taken from the geodesic azimuth.
    """
    (lon1, lon2), (lat1, lat2) = tr.transform([a[0], b[0]], [a[1], b[1]])
    azimuth, _back, _dist = _GEOD.inv(lon1, lat1, lon2, lat2)
    return float(azimuth) % 360.0


_GEOD = Geod(ellps="WGS84")


def route_steps(G: nx.MultiGraph, route: Route) -> list[Step]:
    """Turn-by-turn steps for a route, one per stretch of the same street.

    Consecutive segments with the same name (or, for unnamed lanes, the same street id) merge
    into one step unless the walk turns back on itself. Unnamed lanes walked straight on merge
    too (whatever their street id: a walker sees one lane), and an unnamed step names the next
    named street it leads to, so the sheet never reads "无名胡同" step after step with nothing
    to recognise. Compass words use true bearings (geodesic azimuths) in whatever metric CRS
    the graph is in.
    """
    to_ll = Transformer.from_crs(G.graph.get("crs", METRIC), WGS84, always_xy=True)
    groups: list[dict] = []
    for e in route.edges:
        data = G.edges[e.u, e.v, e.segment_id]
        name = str(data.get("name") or "")
        name_en = str(data.get("name_en") or "")
        street = name or f"#{data.get('street_id') or e.segment_id}"
        if data.get("geometry") is not None:
            coords = list(edge_geometry_from(G, e.u, e.v, e.segment_id).coords)
        else:
            coords = [
                (G.nodes[e.u]["x"], G.nodes[e.u]["y"]),
                (G.nodes[e.v]["x"], G.nodes[e.v]["y"]),
            ]
        head_in = _end_heading(coords, at_start=True)
        head_out = _end_heading(coords, at_start=False)
        g = groups[-1] if groups else None
        turn = _turn(g["head_out"], head_in) if g is not None else "start"
        same = g is not None and g["street"] == street and turn != "uturn"
        both_unnamed = g is not None and not name and not g["name"] and turn == "straight"
        if g is not None and (same or both_unnamed):
            g["coords"].extend(coords[1:])
            g["length"] += e.length
            g["head_out"] = head_out
            g["dead"] = g["dead"] and e.deadhead
            g["ids"].append(e.segment_id)
            continue
        groups.append(
            {
                "street": street,
                "name": name,
                "name_en": name_en,
                "coords": list(coords),
                "length": e.length,
                "head_in": head_in,
                "head_out": head_out,
                "dead": e.deadhead,
                "ids": [e.segment_id],
            }
        )
    steps = []
    for n, g in enumerate(groups):
        c = g["coords"]
        bearing = (
            _true_bearing(to_ll, c[0], c[-1])
            if c[0] != c[-1]
            else _true_bearing(to_ll, c[0], _ahead(c[0], g["head_in"]))
        )
        turn = "start" if n == 0 else _turn(groups[n - 1]["head_out"], g["head_in"])
        steps.append(
            Step(
                number=n + 1,
                name=g["name"],
                name_en=g["name_en"],
                distance_m=float(g["length"]),
                bearing_deg=bearing,
                compass=int(((bearing + 22.5) % 360.0) // 45.0),
                turn=turn,
                deadhead=bool(g["dead"]),
                start_xy=(float(c[0][0]), float(c[0][1])),
                segment_ids=tuple(g["ids"]),
            )
        )
    for i, step in enumerate(steps):
        if step.name:
            continue
        j = next((j for j in range(i + 1, len(steps)) if steps[j].name), None)
        if j is not None:
            ahead = steps[j]
            steps[i] = replace(
                step, toward=ahead.name, toward_en=ahead.name_en, toward_far=j > i + 1
            )
    return steps


def arrival_text(route: Route, lang: str = "zh") -> str:
    """The closing line: back at the start, or arrived at the end."""
    closed = route.start_node == route.end_node
    return t("route.back_at_start" if closed else "route.arrive", lang)


# --------------------------------------------------------------------------------------------
# exports


def _to_wgs84(coords: np.ndarray, crs: str = METRIC) -> np.ndarray:
    tr = Transformer.from_crs(crs, WGS84, always_xy=True)
    lon, lat = tr.transform(coords[:, 0], coords[:, 1])
    return np.column_stack([lon, lat])


#: Characters XML 1.0 does not allow (a NUL in a name would make the whole file unreadable).
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _xml_text(text: str) -> str:
    """Text for an XML element: markup escaped, characters XML cannot hold dropped."""
    return escape(_XML_INVALID.sub("", str(text)))


def route_to_gpx(route: Route, *, name: str | None = None) -> str:
    """The route as GPX 1.1 (one track, WGS 84) for phone apps such as 两步路 or 奥维."""
    name = name if name is not None else t("route.gpx_name")
    coords = np.asarray(route.geometry.coords, dtype=float)
    lonlat = _to_wgs84(coords, route.crs)
    pts = "\n".join(f'      <trkpt lat="{lat:.7f}" lon="{lon:.7f}"></trkpt>' for lon, lat in lonlat)
    desc = f"{route.total_m:.0f} m, {route.duration_min:.0f} min"
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<gpx version="1.1" creator="shichahai-patrol" '
        'xmlns="http://www.topografix.com/GPX/1/1" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'xsi:schemaLocation="http://www.topografix.com/GPX/1/1 '
        'http://www.topografix.com/GPX/1/1/gpx.xsd">\n'
        f"  <metadata><name>{_xml_text(name)}</name><desc>{_xml_text(desc)}</desc></metadata>\n"
        f"  <trk>\n    <name>{_xml_text(name)}</name>\n    <trkseg>\n{pts}\n    </trkseg>\n"
        "  </trk>\n</gpx>\n"
    )


def route_frame(G: nx.MultiGraph, route: Route) -> gpd.GeoDataFrame:
    """One row per traversal in walking order (graph's CRS): seq, segment_id, name, deadhead."""
    rows = []
    for n, e in enumerate(route.edges):
        data = G.edges[e.u, e.v, e.segment_id]
        geom = (
            edge_geometry_from(G, e.u, e.v, e.segment_id)
            if data.get("geometry") is not None
            else LineString(
                [(G.nodes[e.u]["x"], G.nodes[e.u]["y"]), (G.nodes[e.v]["x"], G.nodes[e.v]["y"])]
            )
        )
        rows.append(
            {
                "seq": n + 1,
                "segment_id": e.segment_id,
                "from_node": int(e.u),
                "to_node": int(e.v),
                "name": str(data.get("name") or ""),
                "length_m": float(e.length),
                "deadhead": bool(e.deadhead),
                "geometry": geom,
            }
        )
    return gpd.GeoDataFrame(
        rows,
        columns=[
            "seq",
            "segment_id",
            "from_node",
            "to_node",
            "name",
            "length_m",
            "deadhead",
            "geometry",
        ],
        geometry="geometry",
        crs=G.graph.get("crs", METRIC),
    )


def route_to_geojson(G: nx.MultiGraph, route: Route) -> str:
    """The route as a GeoJSON FeatureCollection in WGS 84, one feature per traversal."""
    return route_frame(G, route).to_crs(WGS84).to_json(drop_id=True, ensure_ascii=False)


# --------------------------------------------------------------------------------------------
# printable sheet


def _svg(G: nx.MultiGraph, route: Route, steps: Sequence[Step], width: int = 640) -> str:
    """A self-contained SVG map: nearby streets in grey, the route in red, numbered steps."""
    rx0, ry0, rx1, ry1 = route.geometry.bounds
    pad = max(rx1 - rx0, ry1 - ry0, 50.0) * 0.08
    x0, y0, x1, y1 = rx0 - pad, ry0 - pad, rx1 + pad, ry1 + pad
    scale = width / max(x1 - x0, 1.0)
    height = max(int((y1 - y0) * scale), 120)

    def pt(x: float, y: float) -> str:
        return f"{(x - x0) * scale:.1f},{(y1 - y) * scale:.1f}"

    bg = []
    for u, v, _k, d in G.edges(keys=True, data=True):
        g = d.get("geometry")
        coords = (
            list(g.coords)
            if g is not None
            else [(G.nodes[u]["x"], G.nodes[u]["y"]), (G.nodes[v]["x"], G.nodes[v]["y"])]
        )
        xs = [c[0] for c in coords]
        ys = [c[1] for c in coords]
        if max(xs) < x0 or min(xs) > x1 or max(ys) < y0 or min(ys) > y1:
            continue
        bg.append(" ".join(pt(x, y) for x, y in coords))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="route map">',
        '<rect width="100%" height="100%" fill="#fafafa"/>',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="5" refY="5" markerWidth="4" '
        'markerHeight="4" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#c0392b"/></marker></defs>',
    ]
    parts += [f'<polyline points="{p}" fill="none" stroke="#bbb" stroke-width="1.5"/>' for p in bg]
    route_pts = " ".join(pt(x, y) for x, y in route.geometry.coords)
    parts.append(
        f'<polyline points="{route_pts}" fill="none" stroke="#c0392b" stroke-width="3" '
        'stroke-linejoin="round" marker-mid="url(#arrow)" opacity="0.85"/>'
    )
    for s in steps:
        cx, cy = pt(*s.start_xy).split(",")
        parts.append(
            f'<circle cx="{cx}" cy="{cy}" r="8" fill="#fff" stroke="#c0392b" stroke-width="1.5"/>'
            f'<text x="{cx}" y="{float(cy) + 3.5:.1f}" font-size="9" text-anchor="middle" '
            f'font-family="sans-serif">{s.number}</text>'
        )
    parts.append("</svg>")
    return "\n".join(parts)


def route_sheet_html(
    G: nx.MultiGraph,
    route: Route,
    *,
    title: str | None = None,
    lang: str = "zh",
    steps: Sequence[Step] | None = None,
    person: str = "",
) -> str:
    """A printable, self-contained HTML route sheet: map (inline SVG), steps, length, duration.

    ``person`` names whose route it is (e.g. ``姓名（P01）``), shown as text under the title.
    It loads nothing from the network, so it prints the same offline.
    """
    steps = list(steps) if steps is not None else route_steps(G, route)
    zh = lang != "en"
    title = title if title is not None else t("route.title", lang)
    labels = [
        t(f"route.{k}", lang)
        for k in (
            "total",
            "patrolled",
            "passing",
            "expected",
            "speed",
            "minutes",
            "number",
            "step",
            "distance",
        )
    ]
    rows = "\n".join(
        f"<tr><td>{s.number}</td><td>{html.escape(s.text(lang))}</td>"
        f"<td>{_round_m(s.distance_m)} m</td></tr>"
        for s in steps
    )
    rows += f"\n<tr><td></td><td>{html.escape(arrival_text(route, lang))}</td><td></td></tr>"
    who = (
        f'<p class="person"><b>{t("route.by", lang)}</b> {html.escape(person)}</p>'
        if person
        else ""
    )
    summary = who + (
        f"<p><b>{labels[0]}</b> {route.total_m / 1000:.2f} km · "
        f"<b>{labels[1]}</b> {route.required_m / 1000:.2f} km · "
        f"<b>{labels[2]}</b> {route.deadhead_m / 1000:.2f} km · "
        f"<b>{labels[3]}</b> {route.duration_min:.0f} {labels[5]} "
        f"({labels[4]} {route.walk_speed_kmh:g} km/h)</p>"
    )
    return f"""<!DOCTYPE html>
<html lang="{"zh-CN" if zh else "en"}"><head><meta charset="utf-8">
<title>{html.escape(title)}</title>
<style>
body {{ font-family: "Noto Sans CJK SC", "Noto Sans", sans-serif; margin: 1.5em; }}
table {{ border-collapse: collapse; width: 100%; }}
td, th {{ border-bottom: 1px solid #ddd; padding: 4px 6px; text-align: left; }}
@media print {{ body {{ margin: 0.5cm; }} .map {{ page-break-after: avoid; }} }}
</style></head><body>
<h1>{html.escape(title)}</h1>
{summary}
<div class="map">{_svg(G, route, steps)}</div>
<table><thead><tr><th>{labels[6]}</th><th>{labels[7]}</th><th>{labels[8]}</th></tr></thead>
<tbody>
{rows}
</tbody></table>
</body></html>
"""


def pdf_engine() -> str | None:
    """A local headless browser that can print HTML to PDF without network, if installed."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def write_route_sheet_pdf(html_text: str, out: Path | str, *, timeout_s: float = 60.0) -> Path:
    """Print the HTML sheet to PDF with a local headless Chromium.

    Raises
    ------
    NotFoundError
        When no PDF engine is installed (the HTML sheet prints to PDF from any browser).
    """
    engine = pdf_engine()
    if engine is None:
        raise NotFoundError(
            "no PDF engine (headless Chromium) is installed: open the HTML route sheet in a "
            "browser and print it to PDF instead"
        )
    out = Path(out)
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "sheet.html"
        src.write_text(html_text, encoding="utf-8")
        cmd = [
            engine,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-pdf-header-footer",
            f"--user-data-dir={tmp}/profile",
            f"--print-to-pdf={out.resolve()}",
            src.as_uri(),
        ]
        proc = subprocess.run(cmd, capture_output=True, timeout=timeout_s, check=False)
    if proc.returncode != 0 or not out.exists():
        raise ValidationError(
            f"the PDF engine failed (exit {proc.returncode}): "
            f"{proc.stderr.decode(errors='replace')[-300:]}",
            fix="save the HTML sheet and print it from a browser",
        )
    return out
