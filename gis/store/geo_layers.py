"""A subdistrict's geography layers as stored rows, shared by the GeoPackage and PostGIS stores.

Each layer of a :class:`~gis.geography.layers.Geography` becomes one row per feature, in
layer order: the feature's id, name, zone and front ids, its other columns as JSON and its
geometry as WKB in the geography's metric CRS. Beside the rows each layer records its
columns with their dtypes, so reading back gives equal frames (same columns in the same
order, same values and types, same geometries), and the whole geography is rebuilt without
deriving fronts, clipped zones or segments again.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

if TYPE_CHECKING:
    from gis.geography.layers import Geography

#: Each stored layer and its id column, in load order.
LAYERS: dict[str, str] = {
    "boundary": "adcode",
    "lakes": "lake_id",
    "fronts": "front_id",
    "zones": "zone_id",
    "streets": "street_id",
    "segments": "segment_id",
    "pois": "poi_id",
}
#: Columns every stored feature has besides its JSON properties.
_OWN = ("name", "zone_id", "front_id")


@dataclass(frozen=True)
class FeatureRow:
    """One stored feature (``feature_id`` is the id column's text, else the row number)."""

    feature_id: str
    name: str
    zone_id: str | None
    front_id: str | None
    props: str
    wkb: bytes


@dataclass(frozen=True)
class StoredLayer:
    """A layer ready to store: its columns (name, dtype; ``geometry`` in its place), the
    geometry type the layer's features share (``GEOMETRY`` when mixed) and its rows."""

    layer: str
    columns: tuple[tuple[str, str], ...]
    geometry_type: str
    rows: tuple[FeatureRow, ...]

    @property
    def columns_json(self) -> str:
        return json.dumps([list(c) for c in self.columns], ensure_ascii=False)

    def bounds(self) -> tuple[float, float, float, float] | None:
        """(minx, miny, maxx, maxy) of the layer, None when it is empty."""
        if not self.rows:
            return None
        geoms = shapely.from_wkb([r.wkb for r in self.rows])
        b = shapely.total_bounds(geoms)
        return float(b[0]), float(b[1]), float(b[2]), float(b[3])


def _text(v: Any) -> str | None:
    if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)):
        return None
    return str(v)


def _plain(v: Any) -> Any:
    if isinstance(v, np.generic):
        v = v.item()
    if v is pd.NA or (isinstance(v, float) and not np.isfinite(v)):
        return None
    return v if isinstance(v, (str, int, float, bool)) or v is None else str(v)


def stored_layers(geo: Geography) -> dict[str, StoredLayer]:
    """Every layer of ``geo`` as rows to store, in :data:`LAYERS` order."""
    out: dict[str, StoredLayer] = {}
    for layer, id_col in LAYERS.items():
        gdf: gpd.GeoDataFrame = getattr(geo, layer)
        columns = tuple((str(c), str(gdf[c].dtype)) for c in gdf.columns)
        geoms = np.asarray(gdf.geometry.values)
        wkbs = shapely.to_wkb(geoms, byte_order=1, output_dimension=2) if len(gdf) else []
        kinds = {g.geom_type.upper() for g in geoms if g is not None}
        records = gdf.drop(columns=gdf.geometry.name).to_dict("records")
        rows = []
        for i, (rec, wkb) in enumerate(zip(records, wkbs, strict=True)):
            fid = _text(rec.get(id_col))
            own = {c: _text(rec.get(c)) for c in _OWN}
            # a text value moves to its own column; every other value stays in the JSON
            keep = {
                k: _plain(v)
                for k, v in rec.items()
                if not (isinstance(v, str) and (k == id_col or k in _OWN))
            }
            rows.append(
                FeatureRow(
                    feature_id=fid if fid is not None else str(i),
                    name=own["name"] or "",
                    zone_id=own["zone_id"],
                    front_id=own["front_id"],
                    props=json.dumps(keep, ensure_ascii=False),
                    wkb=bytes(wkb),
                )
            )
        out[layer] = StoredLayer(
            layer=layer,
            columns=columns,
            geometry_type=kinds.pop() if len(kinds) == 1 else "GEOMETRY",
            rows=tuple(rows),
        )
    return out


#: The dtypes a stored layer's column is given back (others stay as JSON gave them).
_DTYPES = frozenset({"str", "string", "int64", "int32", "float64", "float32", "bool"})


def _restore(values: pd.Series, dtype: str) -> pd.Series:
    if dtype not in _DTYPES:  # object columns, and text another program wrote here
        return values
    try:
        return values.astype(dtype)
    except (TypeError, ValueError):  # a column a type cannot hold (an int column with gaps)
        return values


def frame_from_rows(
    layer: str,
    rows: Sequence[tuple[str, str, str | None, str | None, Any, bytes]],
    columns: Sequence[Sequence[str]] | None,
    crs: str,
) -> gpd.GeoDataFrame:
    """A layer's frame from stored rows ``(feature_id, name, zone_id, front_id, props,
    wkb)`` in layer order; ``columns`` (name, dtype) as recorded when it was stored, or None
    for layers stored before columns were recorded (then every stored column, as text)."""
    id_col = LAYERS[layer]
    records: list[dict[str, Any]] = []
    geoms = []
    for fid, name, zone_id, front_id, props, wkb in rows:
        rec: dict[str, Any] = {id_col: fid, "name": name}
        for col, v in (("zone_id", zone_id), ("front_id", front_id)):
            if v is not None or columns is not None:
                rec[col] = v
        rec.update(props if isinstance(props, Mapping) else json.loads(props or "{}"))
        records.append(rec)
        geoms.append(shapely.from_wkb(bytes(wkb)))
    frame = pd.DataFrame.from_records(records)
    if columns is None:
        return gpd.GeoDataFrame(frame, geometry=geoms, crs=crs)
    data: dict[str, Any] = {}
    for name, dtype in columns:
        if name == "geometry":
            data[name] = gpd.GeoSeries(geoms, crs=crs)
            continue
        values = frame[name] if name in frame else pd.Series([None] * len(records), dtype=object)
        data[name] = _restore(values.reset_index(drop=True), dtype)
    if not columns:
        return gpd.GeoDataFrame(geometry=gpd.GeoSeries(geoms, crs=crs))
    return gpd.GeoDataFrame(data, geometry="geometry", crs=crs)


def geography_from_frames(
    frames: Mapping[str, gpd.GeoDataFrame], crs: str, source: str
) -> Geography:
    """The :class:`~gis.geography.layers.Geography` of stored frames (all seven layers,
    validated when they were stored)."""
    from gis.geography.layers import Geography

    return Geography(**{layer: frames[layer] for layer in LAYERS}, source=source, crs=crs)
