"""The hostile corpus through every document renderer: reports, route sheets, signboards, exports.

A document fails when rendering raises, when a canary folder appears, when an executed
payload's trace is in it, when it grows a script element or an ``on…`` attribute, when a
file lands outside its folder, or when the payload is not shown literally as text.
"""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pandas as pd
import pytest

from gis.analytics.kpis import compute_kpis
from gis.analytics.periods import period_for
from gis.analytics.report_files import report_csv
from gis.analytics.report_html import render_html
from gis.geography.network import graph_from_segments, grid_segments
from gis.planning.postman import plan_postman_route
from gis.planning.route_sheet import route_sheet_html, route_steps, route_to_geojson, route_to_gpx
from gis.planning.routing import required_segments
from gis.planning.signboards import signboard_html, write_signboards
from tests.hotspots.synthetic import make_case_frame
from tests.security.payloads import (
    FAMILIES,
    all_payloads,
    canaries,
    executed_in,
    page_text,
    shown,
    wrap,
)

FAMILY_IDS = sorted(FAMILIES)


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run in an empty folder so a payload that creates PWNED there is seen."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def check_document(page: str, payloads: list[str], where: Path) -> None:
    """Nothing ran, no script or handler was added, every payload is visible text."""
    assert canaries(where) == []
    assert executed_in(page) == []
    text, scripts, handlers = page_text(page)
    text = shown(text)  # control characters aside (a browser shows U+FFFD for a NUL)
    assert scripts == 0, "a payload added a script element"
    assert handlers == [], f"a payload added event handlers: {handlers}"
    for p in payloads:
        assert shown(p) in text, f"payload not shown literally: {shown(p)[:60]!r}"


# --------------------------------------------------------------------------- reports
@pytest.mark.parametrize("family", FAMILY_IDS)
@pytest.mark.parametrize("kind", ["daily", "weekly", "monthly"])
def test_reports_show_hostile_ids_and_names_as_text(family: str, kind: str, in_tmp: Path) -> None:
    payloads = [wrap(p) for p in FAMILIES[family]]
    n = len(payloads)
    frame = make_case_frame(
        [(448000.0 + 10 * i, 4421000.0) for i in range(n)],
        ["2026-11-29 09:00"] * n,
        case_id=payloads,
        category=payloads,
        zone_id=payloads,
        lead_dept=payloads,
        person_id=payloads,
        description=payloads,
        deadline_at=["2026-11-29 10:00"] * n,  # all overdue: listed by id
    )
    period = period_for(kind, "2026-11-29")
    k = compute_kpis(frame, period, now=pd.Timestamp("2026-12-01 12:00", tz="Asia/Shanghai"))
    names = {key: {p: "N" + p for p in payloads} for key in ("category", "zone_id", "lead_dept")}
    for lang in ("zh", "en"):
        page = render_html(k, lang=lang, names=names)
        check_document(page, ["N" + p for p in payloads], in_tmp)
        plain = render_html(k, lang=lang)
        check_document(plain, payloads, in_tmp)


def test_report_csv_keeps_hostile_text_as_text(in_tmp: Path) -> None:
    payloads = [p for _, p in all_payloads()] + ['=HYPERLINK("http://x")', "@SUM(A1)"]
    n = len(payloads)
    frame = make_case_frame([(448000.0, 4421000.0)] * n, ["2026-11-29 09:00"] * n, zone_id=payloads)
    k = compute_kpis(frame, period_for("weekly", "2026-11-29"), now="2026-12-01 12:00")
    rows = list(csv.reader(io.StringIO(report_csv(k, "zh"))))
    keys = {r[1] for r in rows}
    for p in payloads:
        cell = shown(p) if not p.startswith(("=", "@")) else "'" + p
        assert cell in keys or p in keys, p[:40]


# ----------------------------------------------------------------------- route sheets
@pytest.fixture(scope="module")
def route_and_graph():
    G = graph_from_segments(grid_segments(2, 2, 100.0))
    return G, plan_postman_route(G, required_segments(G), 0)


def _named(G, payloads: list[str]):
    G = G.copy()
    for i, (_u, _v, _k, d) in enumerate(G.edges(keys=True, data=True)):
        d["name"] = payloads[i % len(payloads)]
        d["name_en"] = payloads[(i + 1) % len(payloads)]
    return G


@pytest.mark.parametrize("family", FAMILY_IDS)
def test_route_sheet_gpx_and_geojson(family: str, in_tmp: Path, route_and_graph) -> None:
    G0, route = route_and_graph
    payloads = [wrap(p) for p in FAMILIES[family]]
    G = _named(G0, payloads)
    steps = route_steps(G, route)
    for lang in ("zh", "en"):
        page = route_sheet_html(G, route, title=payloads[0], lang=lang, steps=steps)
        named = {s.name if lang == "zh" else (s.name_en or s.name) for s in steps}
        check_document(page, [payloads[0], *sorted(n for n in named if n)], in_tmp)
    ns = {"g": "http://www.topografix.com/GPX/1/1"}
    for p in payloads:
        root = ET.fromstring(route_to_gpx(route, name=p).encode("utf-8"))
        got = root.find("g:metadata/g:name", ns)
        assert got is not None and got.text == shown(p)
    data = json.loads(route_to_geojson(G, route))
    names = {f["properties"].get("name") for f in data["features"]}
    assert names <= set(payloads) | {None, ""}


# ------------------------------------------------------------------------ signboards
@pytest.mark.parametrize("family", FAMILY_IDS)
def test_signboards_show_hostile_staff_text(family: str, in_tmp: Path) -> None:
    payloads = [wrap(p) for p in FAMILIES[family]]
    person = {
        "person_id": payloads[0],
        "name": payloads[-1],
        "phone": payloads[1 % len(payloads)],
        "department": payloads[2 % len(payloads)],
    }
    page = signboard_html(person, payloads, unnamed=2)
    check_document(page, payloads, in_tmp)


@pytest.mark.parametrize(
    "person_id",
    [
        "../../escaped",
        "/tmp/absolute",
        "..",
        "a/../../b",
        "x\x00y",
        "{{7*7}}",
        "长" * 300,
        "C:\\windows\\x",
        ".hidden",
    ],
)
def test_signboard_files_stay_in_their_folder(person_id: str, in_tmp: Path) -> None:
    out = in_tmp / "boards" / "inner"
    summary = pd.DataFrame({"person_id": [person_id, "P01"], "streets": ["烟袋斜街", "银锭桥"]})
    staff = pd.DataFrame({"person_id": [person_id, "P01"], "name": ["张三", "李四"]})
    paths = write_signboards(summary, staff, out)
    assert len(paths) == 2 and len({p.name for p in paths}) == 2
    for p in paths:
        assert p.resolve().parent == out.resolve() and p.is_file()
        assert not p.name.startswith(".")
    assert sorted(x.name for x in (in_tmp / "boards").rglob("*") if x.is_file()) == sorted(
        p.name for p in paths
    )
    assert (out / "P01.html").is_file()  # a plain id keeps its plain name


@pytest.mark.parametrize("family", FAMILY_IDS)
def test_stored_hostile_staff_names_on_signboards_and_route_sheets(
    family: str, in_tmp: Path, route_and_graph
) -> None:
    """Names and phones of the store's staff reach signboards and route sheets only as text."""
    from gis.people.staff import Person, person_label

    payloads = [wrap(p) for p in FAMILIES[family]]
    name, phone = payloads[-1], payloads[0]
    people = [Person("P01", name, "一组", "duty_officer", "公安", "resident", phone)]
    summary = pd.DataFrame({"person_id": ["P01"], "streets": ["烟袋斜街"]})
    staff = pd.DataFrame({"person_id": ["P01"], "name": ["P01"]})
    (board,) = write_signboards(summary, staff, in_tmp / "boards", people=people)
    assert board.parent == in_tmp / "boards"
    check_document(board.read_text(encoding="utf-8"), [name, phone], in_tmp)
    G, route = route_and_graph
    label = person_label("P01", people)
    assert label == f"{name}（P01）"
    for lang in ("zh", "en"):
        check_document(route_sheet_html(G, route, lang=lang, person=label), [label], in_tmp)
