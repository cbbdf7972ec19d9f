"""One layer file (GeoJSON or GeoPackage, WGS 84) read and validated completely, or refused."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gis.errors import CRSError, ValidationError


@dataclass(frozen=True)
class LayerSpec:
    """What a geography layer file must contain."""

    name: str
    geom_types: tuple[str, ...]
    columns: tuple[str, ...]
    id_column: str | None
    required: bool = True


LAYER_SPECS: dict[str, LayerSpec] = {
    "boundary": LayerSpec("boundary", ("Polygon", "MultiPolygon"), ("name",), None),
    "lakes": LayerSpec("lakes", ("Polygon", "MultiPolygon"), ("lake_id", "name"), "lake_id"),
    "zones": LayerSpec("zones", ("Polygon", "MultiPolygon"), ("zone_id", "name"), "zone_id"),
    "streets": LayerSpec(
        "streets",
        ("LineString", "MultiLineString"),
        ("street_id", "name", "highway", "kind"),
        "street_id",
    ),
    "pois": LayerSpec("pois", ("Point",), ("poi_id", "name", "kind"), "poi_id", required=False),
}


def layer_path(data_dir: Path, name: str) -> Path | None:
    for ext in (".geojson", ".gpkg"):
        p = data_dir / f"{name}{ext}"
        if p.exists():
            return p
    return None


def read_layer(path: Path, spec: LayerSpec, crs: str) -> gpd.GeoDataFrame:
    """Read one layer file and check columns, geometry types, validity and CRS.

    Returns the layer in the metric CRS ``crs``. Every problem raises a :class:`ValidationError` that
    names the file, the feature (row number and id) and the field.
    """
    src = str(path)
    try:
        gdf = gpd.read_file(path)
    except Exception as exc:  # pyogrio raises several types; all mean "unreadable"
        raise ValidationError(
            f"cannot be read as a GIS layer ({exc})",
            source=src,
            fix="save it as GeoJSON or GeoPackage (UTF-8)",
        ) from exc
    if gdf.crs is None:
        raise CRSError(
            "has no coordinate reference system",
            source=src,
            fix="save the layer with its CRS (WGS 84, EPSG:4326)",
        )
    missing = [c for c in spec.columns if c not in gdf.columns]
    if missing and gdf.empty:
        # An empty FeatureCollection carries no property names: nothing is missing from it.
        for col in missing:
            gdf[col] = pd.Series(dtype=str)
        missing = []
    if missing:
        raise ValidationError(
            f"layer '{spec.name}' lacks column(s) {missing}",
            source=src,
            field=missing[0],
            fix=f"add the columns {list(spec.columns)}",
        )
    if gdf.empty and spec.name in ("boundary", "zones", "streets"):
        raise ValidationError(
            f"layer '{spec.name}' has no features", source=src, fix="draw at least one"
        )
    for i, geom in enumerate(gdf.geometry.values):
        fid = gdf[spec.id_column].iloc[i] if spec.id_column else i + 1
        row = f"{i + 1} ({spec.id_column}={fid})" if spec.id_column else i + 1
        if geom is None or geom.is_empty:
            raise ValidationError(
                "empty geometry",
                source=src,
                row=row,
                field="geometry",
                fix="draw it or delete the feature",
            )
        if geom.geom_type not in spec.geom_types:
            raise ValidationError(
                f"geometry is {geom.geom_type}, expected {' or '.join(spec.geom_types)}",
                source=src,
                row=row,
                field="geometry",
                fix=f"layer '{spec.name}' holds {spec.geom_types[0]}s only",
            )
        if not geom.is_valid:
            raise ValidationError(
                f"invalid geometry: {shapely.is_valid_reason(geom)}",
                source=src,
                row=row,
                field="geometry",
                fix="repair it (QGIS 'Fix geometries' or shapely.make_valid)",
            )
    _check_coordinates(gdf, spec, src)
    if spec.id_column:
        ids = gdf[spec.id_column].astype(str)
        blank = ids.str.strip().isin(["", "nan", "None"])
        if blank.any():
            i = int(np.flatnonzero(blank.to_numpy())[0])
            raise ValidationError(
                "blank id",
                source=src,
                row=i + 1,
                field=spec.id_column,
                fix="give every feature an id",
            )
        dup = ids.duplicated()
        if dup.any():
            i = int(np.flatnonzero(dup.to_numpy())[0])
            raise ValidationError(
                f"duplicate id {ids.iloc[i]!r}",
                source=src,
                row=i + 1,
                field=spec.id_column,
                fix="ids must be unique",
            )
        gdf[spec.id_column] = ids
    for col in ("name", "name_en"):
        if col in gdf.columns:
            gdf[col] = gdf[col].fillna("").astype(str)
    metric = gdf.to_crs(crs)
    bad = ~np.isfinite(metric.geometry.bounds.to_numpy()).all(axis=1)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValidationError(
            "coordinates cannot be projected to metres (outside the CRS's valid area)",
            source=src,
            row=_row_label(gdf, spec, i),
            field="geometry",
            fix="check the coordinates and the layer's CRS",
        )
    return metric


def _row_label(gdf: gpd.GeoDataFrame, spec: LayerSpec, i: int) -> object:
    if spec.id_column and spec.id_column in gdf.columns:
        return f"{i + 1} ({spec.id_column}={gdf[spec.id_column].iloc[i]})"
    return i + 1


def _check_coordinates(gdf: gpd.GeoDataFrame, spec: LayerSpec, src: str) -> None:
    """Refuse non-finite coordinates, and longitudes/latitudes out of range."""
    if gdf.empty:
        return
    bounds = gdf.geometry.bounds.to_numpy()
    bad = ~np.isfinite(bounds).all(axis=1)
    if gdf.crs is not None and gdf.crs.is_geographic:
        with np.errstate(invalid="ignore"):
            bad |= (
                (bounds[:, 0] < -180)
                | (bounds[:, 2] > 180)
                | (bounds[:, 1] < -90)
                | (bounds[:, 3] > 90)
            )
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValidationError(
            f"coordinates out of range (bounds {np.round(bounds[i], 6).tolist()})",
            source=src,
            row=_row_label(gdf, spec, i),
            field="geometry",
            fix="longitude must be within ±180 and latitude within ±90 (WGS 84 degrees); are x and y swapped or in another CRS?",
        )
