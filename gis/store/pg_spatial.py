"""Spatial SQL on PostGIS: the geography layers as tables, and the lookups done in the database.

:meth:`PostGISSpatial.load_geography` writes a :class:`~gis.geography.layers.Geography` into
``geo_layers`` / ``geo_features`` (migration 006) in its metric CRS. Then:

- :meth:`~PostGISSpatial.place_at` — "what is here": inside the boundary, front, zone
  (``ST_Contains``) and nearest street segment within reach (``ST_DWithin`` + KNN), the
  same answer as :func:`gis.geography.place.place_at`;
- :meth:`~PostGISSpatial.zones_at` — the zone of many points in one statement;
- :meth:`~PostGISSpatial.segment_counts` — cases per street segment (stored segment, else
  the nearest within reach), as :func:`gis.analytics.counts.case_segments` counts them;
- :meth:`~PostGISSpatial.grid_counts` — cases per cell of a :class:`~gis.analytics.grid.GridSpec`,
  as ``np.bincount(spec.index_of(x, y))`` counts them.

Every lookup uses the partial GiST index of its layer; values are always bound.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray
from pyproj import CRS

from gis.errors import NotFoundError, StoreError, ValidationError
from gis.geography.place import EDGE_M
from gis.store.base import CaseQuery, make_query
from gis.store.geo_layers import LAYERS, frame_from_rows, geography_from_frames, stored_layers
from gis.store.pg_counts import SEGMENT_COUNTS_SQL

if TYPE_CHECKING:
    from gis.analytics.grid import GridSpec
    from gis.geography.layers import Geography
    from gis.store.postgis import PostGISStore


@dataclass(frozen=True)
class PlaceRow:
    """The database's answer for one point (ids None where nothing applies)."""

    inside: bool
    front_id: str | None
    zone_id: str | None
    segment_id: str | None
    distance_m: float | None


class PostGISSpatial:
    """Spatial queries of one :class:`~gis.store.postgis.PostGISStore`."""

    def __init__(self, store: PostGISStore) -> None:
        self._store = store

    def _tx(self) -> Any:
        """A transaction of the store, whose subdistrict's layers every query reads (each
        names ``subdistrict = current_setting('app.subdistrict')``: the layers are readable
        by all, see sql/008_subdistricts.sql, so that the GiST indexes stay usable)."""
        if self._store.subdistrict == "*":
            raise ValidationError(
                "spatial lookups need one subdistrict's geography; the district level (*) has none",
                field="subdistrict",
                fix="open the store for a subdistrict (--subdistrict CODE)",
            )
        return self._store._tx()

    # -- the layers ----------------------------------------------------------------------
    def load_geography(self, geo: Geography, *, by: str = "") -> dict[str, int]:
        """Replace the stored layers with ``geo``'s, in one transaction; counts per layer.
        Each layer records its columns and dtypes (:mod:`gis.store.geo_layers`), so that
        :meth:`read_geography` gives back the same frames."""
        epsg = CRS.from_user_input(geo.crs).to_epsg()
        if epsg is None:
            raise StoreError(f"the geography's CRS {geo.crs} has no EPSG code to store")
        layers = stored_layers(geo)
        counts: dict[str, int] = {}
        with self._tx() as cur:
            # this subdistrict's layers only (also where row-level security is not in force);
            # cascades to geo_features
            cur.execute(
                "DELETE FROM geo_layers WHERE subdistrict = current_setting('app.subdistrict')"
            )
            for layer in layers.values():
                cur.execute(
                    "INSERT INTO geo_layers (layer, srid, n_features, source, loaded_by, "
                    "columns, crs) VALUES (%s, %s, %s, %s, %s, %s::jsonb, %s)",
                    (
                        layer.layer,
                        epsg,
                        len(layer.rows),
                        geo.source or "",
                        by,
                        layer.columns_json,
                        geo.crs,
                    ),
                )
                counts[layer.layer] = len(layer.rows)
                if not layer.rows:
                    continue
                from psycopg2.extras import execute_values

                execute_values(
                    cur,
                    "INSERT INTO geo_features (layer, ord, feature_id, name, zone_id, front_id, "
                    "props, geom) VALUES %s",
                    [
                        (
                            layer.layer,
                            i,
                            r.feature_id,
                            r.name,
                            r.zone_id,
                            r.front_id,
                            r.props,
                            r.wkb.hex(),
                        )
                        for i, r in enumerate(layer.rows)
                    ],
                    template=f"(%s, %s, %s, %s, %s, %s, %s::jsonb, "
                    f"ST_SetSRID(ST_GeomFromWKB(decode(%s, 'hex')), {int(epsg)}))",
                    page_size=1000,
                )
            cur.execute("ANALYZE geo_features")
        return counts

    def version(self) -> str | None:
        """Changes whenever this subdistrict's layers are replaced; None without any."""
        with self._tx() as cur:
            cur.execute(
                "SELECT max(loaded_at), count(*) FROM geo_layers "
                "WHERE subdistrict = current_setting('app.subdistrict')"
            )
            at, n = cur.fetchone()
        return None if not n else f"{at.isoformat()}/{n}"

    def srid(self) -> int:
        """The metric SRID of the stored layers; StoreError when none are loaded."""
        with self._tx() as cur:
            cur.execute(
                "SELECT min(srid), max(srid) FROM geo_layers "
                "WHERE subdistrict = current_setting('app.subdistrict')"
            )
            lo, hi = cur.fetchone()
        if lo is None:
            raise StoreError(
                f"no geography layers of subdistrict {self._store.subdistrict} in the "
                "database: run patrol db load-geography first (--subdistrict CODE)"
            )
        if lo != hi:  # pragma: no cover - load_geography writes one SRID
            raise StoreError(f"the stored layers mix SRIDs {lo} and {hi}; load them again")
        return int(lo)

    def read_geography(self) -> Geography:
        """The stored layers of this store's subdistrict as a :class:`Geography` (its own
        street network, zones and boundary, in its own metric CRS): plan routes and
        districts on what the database holds. NotFoundError when none are loaded.

        Layers stored with their columns (version 11) come back as the same frames; older
        ones are rebuilt from boundary, lakes, zones, streets and POIs as when loaded."""
        from gis.geography.layers import geography_from_layers

        try:
            srid = self.srid()
        except StoreError as exc:
            raise NotFoundError(str(exc)) from None
        frames: dict[str, Any] = {}
        with self._tx() as cur:
            cur.execute(
                "SELECT layer, columns, crs, source FROM geo_layers "
                "WHERE subdistrict = current_setting('app.subdistrict')"
            )
            meta = {r[0]: r[1:] for r in cur.fetchall()}
            exact = all(layer in meta and meta[layer][0] is not None for layer in LAYERS)
            source = max((m[2] or "" for m in meta.values()), default="")
            crs = str(meta["boundary"][1] or f"EPSG:{srid}") if exact else f"EPSG:{srid}"
            wanted = LAYERS if exact else ("boundary", "lakes", "zones", "streets", "pois")
            for layer in wanted:
                cur.execute(
                    "SELECT feature_id, name, zone_id, front_id, props, ST_AsBinary(geom) "
                    "FROM geo_features WHERE subdistrict = current_setting('app.subdistrict') "
                    "AND layer = %s ORDER BY ord",
                    (layer,),
                )
                columns = meta[layer][0] if exact else None
                if isinstance(columns, str):
                    columns = json.loads(columns)
                frames[layer] = frame_from_rows(layer, cur.fetchall(), columns, crs)
        if exact:
            return geography_from_frames(frames, crs, source or "PostGIS")
        return geography_from_layers(
            frames["boundary"],
            frames["lakes"],
            frames["zones"],
            frames["streets"],
            frames["pois"] if len(frames["pois"]) else None,
            source=f"PostGIS ({source})" if source else "PostGIS",
        )

    # -- lookups -------------------------------------------------------------------------
    def place_at(self, x: float, y: float, *, reach_m: float = 60.0) -> PlaceRow:
        """Boundary, front, zone and nearest segment of the metric point (x, y)."""
        srid = self.srid()
        with self._tx() as cur:
            cur.execute(
                """
                WITH p AS (SELECT ST_SetSRID(ST_MakePoint(%(x)s, %(y)s), %(srid)s) AS g)
                SELECT
                  EXISTS (SELECT 1 FROM geo_features f, p WHERE f.subdistrict = current_setting('app.subdistrict') AND f.layer = 'boundary'
                          AND ST_DWithin(f.geom, p.g, %(edge)s)),
                  (SELECT f.feature_id FROM geo_features f, p WHERE f.subdistrict = current_setting('app.subdistrict') AND f.layer = 'fronts'
                   AND ST_Contains(f.geom, p.g) ORDER BY f.ord LIMIT 1),
                  (SELECT f.feature_id FROM geo_features f, p WHERE f.subdistrict = current_setting('app.subdistrict') AND f.layer = 'zones'
                   AND ST_Contains(f.geom, p.g) ORDER BY f.ord LIMIT 1),
                  s.feature_id, s.d
                FROM p LEFT JOIN LATERAL (
                  SELECT f.feature_id, ST_Distance(f.geom, p.g) AS d FROM geo_features f
                  WHERE f.subdistrict = current_setting('app.subdistrict') AND f.layer = 'segments' AND ST_DWithin(f.geom, p.g, %(reach)s)
                  ORDER BY ST_Distance(f.geom, p.g), f.feature_id LIMIT 1
                ) s ON true
                """,
                {
                    "x": float(x),
                    "y": float(y),
                    "srid": srid,
                    "reach": float(reach_m),
                    "edge": EDGE_M,
                },
            )
            inside, front, zone, seg, dist = cur.fetchone()
        if not inside:
            return PlaceRow(False, None, None, None, None)
        return PlaceRow(True, front, zone, seg, None if dist is None else float(dist))

    def zones_at(self, x: Sequence[float], y: Sequence[float]) -> list[str | None]:
        """The zone id containing each metric point (first zone in layer order), or None."""
        srid = self.srid()
        with self._tx() as cur:
            cur.execute(
                """
                SELECT z.feature_id FROM unnest(%s::float8[], %s::float8[])
                  WITH ORDINALITY AS p(x, y, i)
                LEFT JOIN LATERAL (
                  SELECT f.feature_id FROM geo_features f WHERE f.subdistrict = current_setting('app.subdistrict') AND f.layer = 'zones'
                  AND ST_Contains(f.geom, ST_SetSRID(ST_MakePoint(p.x, p.y), %s))
                  ORDER BY f.ord LIMIT 1) z ON true
                ORDER BY p.i
                """,
                (list(map(float, x)), list(map(float, y)), srid),
            )
            return [r[0] for r in cur.fetchall()]

    def _case_points(self, q: CaseQuery, srid: int) -> tuple[str, list[Any]]:
        """A SELECT of (case_id, segment_id, metric point) of the cases matching ``q``."""
        where, params = self._store._where(q)
        with self._tx() as cur:
            where_sql = where.as_string(cur)
        sql = "SELECT case_id, segment_id, ST_Transform(geom, %s) AS g FROM cases" + where_sql
        return sql, [srid, *params]

    def segment_counts(
        self, query: CaseQuery | None = None, *, max_distance_m: float = 200.0, **filters: Any
    ) -> dict[str, int]:
        """Cases per segment id: the stored segment where it is a known one, else the
        nearest segment within ``max_distance_m`` (cases farther away are not counted).

        A point equally near several segments (beside a junction) goes to the lowest
        segment id, as :meth:`gis.geography.network.SegmentIndex.snap` decides.
        """
        srid = self.srid()
        pts, params = self._case_points(make_query(query, filters), srid)
        with self._tx() as cur:
            cur.execute(
                # pts is built from constants and psycopg2.sql identifiers; values are bound
                f"WITH c AS ({pts}), " + SEGMENT_COUNTS_SQL.format(reach="%s"),
                [*params, float(max_distance_m)],
            )
            return {str(r[0]): int(r[1]) for r in cur.fetchall()}

    def grid_counts(
        self, spec: GridSpec, query: CaseQuery | None = None, **filters: Any
    ) -> NDArray[np.int64]:
        """Cases per cell of ``spec`` (row-major from the south-west), counted in SQL."""
        srid = CRS.from_user_input(spec.crs).to_epsg()
        if srid is None:
            raise StoreError(f"the grid's CRS {spec.crs} has no EPSG code")
        pts, params = self._case_points(make_query(query, filters), srid)
        with self._tx() as cur:
            cur.execute(
                f"""
                WITH c AS ({pts}),
                rc AS (SELECT floor((ST_X(g) - %s) / %s)::bigint AS col,
                              floor((ST_Y(g) - %s) / %s)::bigint AS row FROM c)
                SELECT row * %s + col, count(*) FROM rc
                WHERE col >= 0 AND col < %s AND row >= 0 AND row < %s GROUP BY 1
                """,  # noqa: S608 - pts is built from constants and psycopg2.sql identifiers
                [
                    *params,
                    spec.x0,
                    spec.cell_m,
                    spec.y0,
                    spec.cell_m,
                    spec.nx,
                    spec.nx,
                    spec.ny,
                ],
            )
            out = np.zeros(spec.nx * spec.ny, dtype=np.int64)
            for idx, n in cur.fetchall():
                out[int(idx)] = int(n)
        return out
