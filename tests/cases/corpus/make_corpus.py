"""Regenerate the intake corpus: ``python tests/cases/corpus/make_corpus.py``.

Points lie on the synthetic street grid of ``tests/cases/conftest.py`` (5×5 cells of 100 m
from (446500, 4420300) in EPSG:32650, inside Shichahai). Each file exercises one kind of
input people really send; the tests state the expected outcome per row.
"""

from __future__ import annotations

import json
from pathlib import Path

from pyproj import Transformer

HERE = Path(__file__).resolve().parent
ORIGIN = (446500.0, 4420300.0)
_T = Transformer.from_crs("EPSG:32650", "EPSG:4326", always_xy=True)


def lonlat(dx: float, dy: float) -> tuple[float, float]:
    """WGS 84 of a point ``dx``, ``dy`` metres from the grid origin (7 decimals ≈ 1 cm)."""
    lon, lat = _T.transform(ORIGIN[0] + dx, ORIGIN[1] + dy)
    return round(lon, 7), round(lat, 7)


def main() -> None:
    a = lonlat(50, 2)  # on H000-01
    b = lonlat(100, 150)  # on V001-02
    c = lonlat(250, 300)  # on H003-03
    d = lonlat(400, 420)  # on V004-05
    e = lonlat(330, 100)  # on H001-04
    f = lonlat(3, 260)  # on V000-03
    good = [
        "report_id,category,lon,lat,reported_at,source,reporter,description,frontage_m,db,floors,area_m2",
        f"G1,C04,{a[0]},{a[1]},2026-05-01 17:20,patrol,巡查员甲,酒吧门前外摆 6 张桌,8.5,,,",
        f"G2,C07,{b[0]},{b[1]},2026-05-01T23:40:00+08:00,hotline_12345,市民,酒吧音响声音太大,,82,,",
        f"G3,C01,{c[0]},{c[1]},2026-04-20 09:15,inspection,城管队员,屋顶加盖一层,,,2,35.5",
        f"G4,C09,{d[0]},{d[1]},2026-05-02 15:00,video,监控中心,银锭桥附近黑三轮揽客,,,,",
        f'G5,C21,{e[0]},{e[1]},2026-05-03 08:00,complaint,居民,"垃圾堆放, 有异味",,,,',
        f"G6,C12,{f[0]},{f[1]},2026-05-03 10:30,patrol,巡查员乙,胡同口乱停车,,,,",
    ]
    (HERE / "good_utf8.csv").write_text("\n".join(good) + "\n", encoding="utf-8")
    gbk = [
        "编号,类别,经度,纬度,上报时间,来源,上报人,问题描述",
        f"K1,噪声扰民,{b[0]},{b[1]},2026/05/01 23:10,12345,市民王某,后海酒吧夜间噪声",
        f"K2,C06,{e[0]},{e[1]},2026/05/02 18:00,巡查,巡查员丙,烟袋斜街游商",
    ]
    (HERE / "excel_gbk.csv").write_bytes(("\r\n".join(gbk) + "\r\n").encode("gbk"))
    (HERE / "excel_utf8_bom.csv").write_bytes(("\r\n".join(gbk) + "\r\n").encode("utf-8-sig"))
    (HERE / "utf16.csv").write_bytes(("\r\n".join(gbk) + "\r\n").encode("utf-16"))
    (HERE / "malformed_quotes.csv").write_text(
        "\n".join(
            [
                good[0],
                good[1],
                f'M2,C07,{b[0]},{b[1]},2026-05-01 23:40,patrol,x,"unclosed quote,,82,,',
                good[3],
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    (HERE / "malformed_fields.csv").write_text(
        "\n".join(
            [
                good[0],
                good[1],
                f"M3,C21,{e[0]},{e[1]},2026-05-03 08:00,complaint,居民,垃圾堆放, 有异味,,,,",
                good[3],
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    (HERE / "missing_columns.csv").write_text(
        "report_id,category,lon,reported_at\nX1,C07,116.38,2026-05-01 23:00\n", encoding="utf-8"
    )
    bad = [
        "report_id,category,lon,lat,reported_at,source,reporter,description,db",
        f"B1,C07,,{b[1]},2026-05-01 23:40,patrol,x,missing lon,",  # row 2: lon missing
        f"B2,C07,116°23′,{b[1]},2026-05-01 23:40,patrol,x,degree sign,",  # row 3: lon not numeric
        f"B3,C07,{b[1]},{b[0]},2026-05-01 23:40,patrol,x,swapped,",  # row 4: swapped
        "B4,C07,116.2000,39.9000,2026-05-01 23:40,patrol,x,outside Shichahai,",  # row 5: outside
        f"B5,C99,{b[0]},{b[1]},2026-05-01 23:40,patrol,x,unknown category,",  # row 6
        f"B6,C07,{b[0]},{b[1]},2031-05-01 23:40,patrol,x,future,",  # row 7
        f"B7,C07,{b[0]},{b[1]},1900-01-01 00:00,patrol,x,impossible,",  # row 8
        f"B8,C07,{b[0]},{b[1]},yesterday evening,patrol,x,unparseable time,",  # row 9
        f"B9,C07,{b[0]},{b[1]},2026-05-01 23:40,radio,x,unknown source,",  # row 10
        f"B10,C07,{b[0]},{b[1]},2026-05-01 23:40,patrol,x,bad attribute,loud",  # row 11
        f"OK1,C07,{a[0]},{a[1]},2026-05-01 22:00,patrol,x,the one good row,75",  # row 12
        f"OK1,C07,{c[0]},{c[1]},2026-05-01 22:05,patrol,x,duplicate id,",  # row 13
    ]
    (HERE / "bad_rows.csv").write_text("\n".join(bad) + "\n", encoding="utf-8")
    inj = [
        "report_id,category,lon,lat,reported_at,source,reporter,description",
        f"I1,C08,{a[0]},{a[1]},2026-05-01 21:00,patrol,\"Robert'); DROP TABLE cases;--\",\"'; DELETE FROM case_audit WHERE '1'='1\"",
        f"I2,C08,{b[0]},{b[1]},2026-05-01 21:05,patrol,<b>bold</b>,\"<script>alert('x')</script><img src=x onerror=alert(1)>\"",
        f'I3,C08,{c[0]},{c[1]},2026-05-01 21:10,patrol,x,"tab\there \\N backslash \\\\ and ""quotes"""',
    ]
    (HERE / "injection.csv").write_text("\n".join(inj) + "\n", encoding="utf-8")
    p0 = lonlat(200, 200)
    poly = [
        lonlat(210, 210),
        lonlat(240, 210),
        lonlat(240, 230),
        lonlat(210, 230),
        lonlat(210, 210),
    ]
    fc = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": list(a)},
                "properties": {
                    "report_id": "J1",
                    "category": "C04",
                    "reported_at": "2026-05-01 17:30",
                    "frontage_m": 6,
                },
            },
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": list(p0)},
                "properties": {
                    "report_id": "J2",
                    "category": "C07",
                    "reported_at": "2026-05-01 23:30",
                    "db": 80,
                },
            },
            {
                "type": "Feature",
                "geometry": {"type": "Polygon", "coordinates": [[list(q) for q in poly]]},
                "properties": {
                    "report_id": "J3",
                    "category": "C01",
                    "reported_at": "2026-04-01 10:00",
                    "floors": 2,
                    "area_m2": 600,
                },
            },
        ],
    }
    (HERE / "reports.geojson").write_text(
        json.dumps(fc, ensure_ascii=False, indent=1), encoding="utf-8"
    )
    fc_bad = {
        "type": "FeatureCollection",
        "features": [
            fc["features"][0],
            {"type": "Feature", "geometry": None, "properties": {"category": "C07"}},
        ],
    }
    (HERE / "bad_geometry.geojson").write_text(
        json.dumps(fc_bad, ensure_ascii=False), encoding="utf-8"
    )

    fc_shapes = {
        "type": "FeatureCollection",
        "features": [
            fc["features"][0],
            5,
            {"type": "Feature", "geometry": fc["features"][0]["geometry"], "properties": [1, 2]},
        ],
    }
    (HERE / "bad_feature_shapes.geojson").write_text(
        json.dumps(fc_shapes, ensure_ascii=False), encoding="utf-8"
    )
    # a zip archive renamed to .gpkg: a mistake people really make with KMZ/shapefile zips
    (HERE / "corrupt.gpkg").write_bytes(b"PK\x03\x04" + b"\x00" * 2000)


if __name__ == "__main__":
    main()
