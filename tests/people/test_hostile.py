"""Hostile input to the people features: XML bombs and external entities in GPX, markup in
names on the map, the printed plan and the roster export."""

from __future__ import annotations

import datetime as dt

import folium
import pytest

from gis.errors import ValidationError
from gis.localtime import LOCAL_TZ as TZ
from gis.people.dayplan import PersonPlan
from gis.people.roster import RosterEntry, roster_csv
from gis.people.staff import Person
from gis.people.tracks import read_gpx
from layers.people import day_plan_layer

EVIL = '<img src=x onerror="alert(1)">{{7*7}}'


def _bomb(levels: int = 9) -> bytes:
    ents = ['<!ENTITY l0 "lol">'] + [
        f'<!ENTITY l{i} "{("&l" + str(i - 1) + ";") * 10}">' for i in range(1, levels + 1)
    ]
    return (
        f'<?xml version="1.0"?><!DOCTYPE g [{"".join(ents)}]><gpx version="1.1" creator="x">'
        f'<trk><name>&l{levels};</name><trkseg><trkpt lat="39.9" lon="116.3">'
        "<time>2026-05-06T01:00:00Z</time></trkpt></trkseg></trk></gpx>"
    ).encode()


def test_xml_bomb_is_refused_quickly():
    with pytest.raises(ValidationError, match="not a readable GPX file"):
        read_gpx(_bomb(), source="bomb.gpx")


def test_external_entities_are_not_read(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET", encoding="utf-8")
    xxe = (
        f'<?xml version="1.0"?><!DOCTYPE g [<!ENTITY x SYSTEM "file://{secret}">]>'
        '<gpx version="1.1" creator="x"><trk><name>&x;</name><trkseg>'
        '<trkpt lat="39.9" lon="116.3"><time>2026-05-06T01:00:00Z</time></trkpt>'
        "</trkseg></trk></gpx>"
    ).encode()
    try:
        _fixes, name = read_gpx(xxe, source="xxe.gpx")
    except ValidationError:
        return  # refusing the file is fine too
    assert "TOP-SECRET" not in name


def _plan(name: str) -> PersonPlan:
    start = dt.datetime(2026, 5, 6, 17, 0, tzinfo=TZ)
    return PersonPlan(
        "P01",
        name,
        "一组",
        "",
        "evening",
        start,
        start + dt.timedelta(hours=5),
        "hotspots",
        line=((116.39, 39.94), (116.391, 39.941)),
    )


def test_names_on_the_map_are_data_not_markup():
    m = folium.Map()
    day_plan_layer([_plan(EVIL)]).add_to(m)
    html = m.get_root().render()
    assert "<img src=x" not in html  # no markup; the braces below show Jinja did not run
    # the name travels as an inert JSON string: every markup/template character escaped
    assert '\\u003cimg src=x onerror=\\"alert(1)\\"\\u003e\\u007b\\u007b7*7\\u007d\\u007d' in html


def test_roster_export_neutralises_formulas_in_names_and_teams():
    p = Person("P01", "=cmd|' /C calc'!A0", "+组", "duty_officer", "城管", "resident")
    day = dt.date(2026, 5, 6)
    text = roster_csv([RosterEntry(day, "P01", "rest")], [p], [day]).decode("utf-8-sig")
    row = text.split("\r\n")[1]
    assert row.startswith("P01,'=cmd|' /C calc'!A0,'+组,休")
