"""The geography layers in the GeoPackage: one feature table per subdistrict and layer.

A GeoPackage feature table has one spatial reference system, and each subdistrict's
geography has its own metric CRS (Shichahai UTM 50N, an imported area its own), so each
subdistrict's layer is its own table, ``geo_<subdistrict>_<layer>`` (for example
``geo_shichahai_zones``): registered in ``gpkg_contents`` and ``gpkg_geometry_columns`` in
that CRS (added to ``gpkg_spatial_ref_sys``), with the standard's RTree spatial index, so
QGIS and GDAL open every layer where it lies. Every row carries its ``subdistrict`` key like
every other table. The attribute table ``geo_layers`` (version 11) lists them: subdistrict,
layer, table, CRS, the layer's columns and dtypes, source and when it was loaded.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import struct
from typing import TYPE_CHECKING

import shapely
from pyproj import CRS
from pyproj.enums import WktVersion

from gis.errors import NotFoundError, StoreError, ValidationError
from gis.store.geo_layers import (
    LAYERS,
    StoredLayer,
    frame_from_rows,
    geography_from_frames,
    stored_layers,
)
from gis.store.gpkg_index import ensure_rtree, rtree_name
from gis.store.tenancy import check_subdistrict

if TYPE_CHECKING:
    from gis.geography.layers import Geography

#: The GeoPackage version that keeps the geography layers.
GPKG_GEOGRAPHY_VERSION = 11
#: Spatial reference ids given to CRSs without an EPSG code (a local transverse Mercator).
_LOCAL_SRS_BASE = 990000

_CATALOGUE = """CREATE TABLE IF NOT EXISTS geo_layers (
  fid INTEGER PRIMARY KEY AUTOINCREMENT,
  subdistrict TEXT NOT NULL, layer TEXT NOT NULL CHECK (layer IN ({layers})),
  table_name TEXT NOT NULL UNIQUE, srs_id INTEGER NOT NULL, crs TEXT NOT NULL,
  n_features INTEGER NOT NULL, columns TEXT NOT NULL, source TEXT NOT NULL DEFAULT '',
  loaded_by TEXT NOT NULL DEFAULT '', loaded_at DATETIME NOT NULL,
  UNIQUE (subdistrict, layer))""".format(layers=", ".join(f"'{name}'" for name in LAYERS))


def ensure_geography_catalogue(con: sqlite3.Connection) -> None:
    """Create ``geo_layers`` (inside the opening write transaction; idempotent)."""
    con.execute(_CATALOGUE)
    con.execute(
        "INSERT OR IGNORE INTO gpkg_contents (table_name, data_type, identifier, description) "
        "VALUES ('geo_layers', 'attributes', 'geo_layers', '地理图层目录 geography layers')"
    )


def one_subdistrict(code: str) -> str:
    """``code``, refused at the district level (``*``), which has no geography of its own."""
    if code == "*":
        raise ValidationError(
            "the district level (*) has no geography of its own",
            field="subdistrict",
            fix="open the store for a subdistrict (--subdistrict CODE)",
        )
    return check_subdistrict(code, district=False)


def table_name(code: str, layer: str) -> str:
    """The feature table of a subdistrict's layer (the code is checked: letters, digits, _)."""
    if layer not in LAYERS:
        raise StoreError(f"unknown geography layer {layer!r}; known: {', '.join(LAYERS)}")
    return f"geo_{check_subdistrict(code, district=False)}_{layer}"


def _srs_id(con: sqlite3.Connection, crs_text: str) -> int:
    """The ``gpkg_spatial_ref_sys`` id of ``crs_text``, registering it when missing."""
    crs = CRS.from_user_input(crs_text)
    wkt = crs.to_wkt(WktVersion.WKT1_GDAL)
    epsg = crs.to_epsg()
    if epsg is not None:
        con.execute(
            "INSERT OR IGNORE INTO gpkg_spatial_ref_sys VALUES (?, ?, 'EPSG', ?, ?, ?)",
            (crs.name, epsg, epsg, wkt, f"{crs.name} (metric CRS of a geography)"),
        )
        return int(epsg)
    row = con.execute(
        "SELECT srs_id FROM gpkg_spatial_ref_sys WHERE organization = 'NONE' AND definition = ?",
        (wkt,),
    ).fetchone()
    if row is not None:
        return int(row[0])
    srs_id = int(
        con.execute(
            "SELECT max(?, coalesce(max(srs_id), 0) + 1) FROM gpkg_spatial_ref_sys "
            "WHERE srs_id >= ?",
            (_LOCAL_SRS_BASE, _LOCAL_SRS_BASE),
        ).fetchone()[0]
    )
    con.execute(
        "INSERT INTO gpkg_spatial_ref_sys VALUES (?, ?, 'NONE', ?, ?, ?)",
        (crs.name, srs_id, srs_id, wkt, "local metric CRS of a geography"),
    )
    return srs_id


def _blob(wkb: bytes, srs_id: int) -> bytes:
    """GeoPackage binary: the header (little-endian, with the xy envelope), then the WKB."""
    geom = shapely.from_wkb(wkb)
    minx, miny, maxx, maxy = geom.bounds
    return struct.pack("<2sBBi4d", b"GP", 0, 0b011, srs_id, minx, maxx, miny, maxy) + wkb


def _wkb(blob: bytes) -> bytes:
    """The WKB inside a GeoPackage binary geometry."""
    flags = blob[3]
    envelope = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}[(flags >> 1) & 0b111]
    return bytes(blob[8 + envelope :])


def _drop_layer_table(con: sqlite3.Connection, table: str) -> None:
    r = rtree_name(table, "geom")
    con.execute(f'DROP TABLE IF EXISTS "{r}"')
    con.execute(f'DROP TABLE IF EXISTS "{table}"')
    for meta in ("gpkg_extensions", "gpkg_geometry_columns", "gpkg_contents"):
        con.execute(f"DELETE FROM {meta} WHERE table_name = ?", (table,))  # noqa: S608


def _write_layer(
    con: sqlite3.Connection, code: str, layer: StoredLayer, srs_id: int, description: str
) -> str:
    table = table_name(code, layer.layer)
    con.execute(
        f"""CREATE TABLE "{table}" (
          fid INTEGER PRIMARY KEY AUTOINCREMENT, geom {layer.geometry_type} NOT NULL,
          subdistrict TEXT NOT NULL DEFAULT '{code}' CHECK (subdistrict = '{code}'),
          ord INTEGER NOT NULL UNIQUE, feature_id TEXT NOT NULL, name TEXT NOT NULL DEFAULT '',
          zone_id TEXT, front_id TEXT, props TEXT NOT NULL DEFAULT '{{}}')"""
    )
    con.execute(f'CREATE INDEX "{table}_feature_id" ON "{table}" (feature_id)')
    bounds = layer.bounds() or (None, None, None, None)
    con.execute(
        "INSERT INTO gpkg_contents (table_name, data_type, identifier, description, min_x, "
        "min_y, max_x, max_y, srs_id) VALUES (?, 'features', ?, ?, ?, ?, ?, ?, ?)",
        (table, table, description, *bounds, srs_id),
    )
    con.execute(
        "INSERT INTO gpkg_geometry_columns VALUES (?, 'geom', ?, ?, 0, 0)",
        (table, layer.geometry_type, srs_id),
    )
    con.executemany(
        f'INSERT INTO "{table}" (geom, subdistrict, ord, feature_id, name, zone_id, '  # noqa: S608
        "front_id, props) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (_blob(r.wkb, srs_id), code, i, r.feature_id, r.name, r.zone_id, r.front_id, r.props)
            for i, r in enumerate(layer.rows)
        ],
    )
    ensure_rtree(con, table, "geom")
    return table


def save_geography(
    con: sqlite3.Connection, code: str, geo: Geography, *, by: str = ""
) -> dict[str, int]:
    """Replace subdistrict ``code``'s layers with ``geo``'s (inside the caller's write
    transaction); features per layer. Other subdistricts' layers are left alone."""
    code = one_subdistrict(code)
    layers = stored_layers(geo)  # everything prepared before the first change
    ensure_geography_catalogue(con)
    srs_id = _srs_id(con, geo.crs)
    for (old,) in con.execute(
        "SELECT table_name FROM geo_layers WHERE subdistrict = ?", (code,)
    ).fetchall():
        _drop_layer_table(con, old)
    con.execute("DELETE FROM geo_layers WHERE subdistrict = ?", (code,))
    loaded_at = dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")[:-6] + "Z"
    counts: dict[str, int] = {}
    for layer in layers.values():
        table = table_name(code, layer.layer)
        _drop_layer_table(con, table)  # one left behind by an interrupted older write
        _write_layer(con, code, layer, srs_id, f"{code} {layer.layer}")
        con.execute(
            "INSERT INTO geo_layers (subdistrict, layer, table_name, srs_id, crs, n_features, "
            "columns, source, loaded_by, loaded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                code,
                layer.layer,
                table,
                srs_id,
                geo.crs,
                len(layer.rows),
                layer.columns_json,
                geo.source or "",
                by,
                loaded_at,
            ),
        )
        counts[layer.layer] = len(layer.rows)
    return counts


def _has_catalogue(con: sqlite3.Connection) -> bool:
    return bool(
        con.execute(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'geo_layers'"
        ).fetchone()[0]
    )


def geography_subdistricts(con: sqlite3.Connection) -> list[str]:
    """The subdistricts whose geography the file holds, in code order."""
    if not _has_catalogue(con):
        return []
    return [r[0] for r in con.execute("SELECT DISTINCT subdistrict FROM geo_layers ORDER BY 1")]


def geography_version(con: sqlite3.Connection, code: str) -> str | None:
    """What changes whenever subdistrict ``code``'s layers are replaced; None without any."""
    if not _has_catalogue(con):
        return None
    row = con.execute(
        "SELECT max(loaded_at), count(*) FROM geo_layers WHERE subdistrict = ?", (code,)
    ).fetchone()
    return None if not row[1] else f"{row[0]}/{row[1]}"


def read_geography(con: sqlite3.Connection, code: str, where: str) -> Geography:
    """Subdistrict ``code``'s stored geography; NotFoundError when the file has none."""
    code = check_subdistrict(code, district=False)
    rows = (
        con.execute(
            "SELECT layer, table_name, crs, columns, source FROM geo_layers WHERE subdistrict = ?",
            (code,),
        ).fetchall()
        if _has_catalogue(con)
        else []
    )
    found = {r[0]: r for r in rows}
    missing = [name for name in LAYERS if name not in found]
    if missing:
        raise NotFoundError(
            f"{where} holds no geography of subdistrict {code!r}"
            + (f" (layers {', '.join(missing)} missing)" if found else "")
            + f": load it with patrol --subdistrict {code} db load-geography --data-dir FOLDER"
        )
    frames = {}
    crs = str(found["boundary"][2])
    for layer in LAYERS:
        _, table, _, columns, _ = found[layer]
        if table != table_name(code, layer):
            raise StoreError(f"{where}: geo_layers names table {table!r} for {code} {layer}")
        features = con.execute(
            f'SELECT feature_id, name, zone_id, front_id, props, geom FROM "{table}" '  # noqa: S608
            "ORDER BY ord"
        ).fetchall()
        try:
            frames[layer] = frame_from_rows(
                layer,
                [(f[0], f[1], f[2], f[3], f[4], _wkb(f[5])) for f in features],
                json.loads(columns),
                crs,
            )
        except (ValueError, TypeError, KeyError, IndexError, shapely.errors.GEOSException) as exc:
            raise StoreError(
                f"{where}: the stored layer {table} cannot be read ({type(exc).__name__}); "
                f"load it again: patrol --subdistrict {code} db load-geography --data-dir FOLDER"
            ) from exc
    source = str(found["boundary"][4] or "")
    return geography_from_frames(frames, crs, source or f"GeoPackage {where}")
