"""Hotspot counts done in PostGIS: cases per grid cell, linear bins and cases per street segment."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
from numpy.typing import NDArray
from pyproj import CRS

from gis.errors import StoreError
from gis.localtime import LOCAL_TZ_NAME

if TYPE_CHECKING:
    from gis.analytics.grid import GridSpec
    from gis.analytics.selection import CaseFilter
    from gis.store.postgis import PostGISStore

TIMEZONE = LOCAL_TZ_NAME


#: Cases per street segment over the points ``c`` (``segment_id``, metric point ``g``): the
#: stored segment where it is a known one, else the nearest within the reach (``{reach}``,
#: the reach's placeholder, in metres); ties go to the lowest segment id. It goes on after
#: ``WITH c AS (...),``.
SEGMENT_COUNTS_SQL = """
known AS (SELECT feature_id FROM geo_features
  WHERE subdistrict = current_setting('app.subdistrict') AND layer = 'segments')
SELECT coalesce(k.feature_id, n.feature_id) AS sid, count(*)
FROM c
LEFT JOIN known k ON k.feature_id = c.segment_id
LEFT JOIN LATERAL (
  SELECT f.feature_id FROM geo_features f
  WHERE k.feature_id IS NULL AND f.layer = 'segments'
    AND f.subdistrict = current_setting('app.subdistrict')
    AND ST_DWithin(f.geom, c.g, {reach})
  ORDER BY f.geom <-> c.g, f.feature_id LIMIT 1) n ON true
WHERE coalesce(k.feature_id, n.feature_id) IS NOT NULL
GROUP BY 1
"""


def _srid(crs: str) -> int:
    epsg = CRS.from_user_input(crs).to_epsg()
    if epsg is None:
        raise StoreError(
            f"the geography's CRS {crs} has no EPSG code for PostGIS: measure the geography "
            "in a UTM zone (gis.geography.crs.metric_crs_for)"
        )
    return int(epsg)


def _no_jit(cur: Any) -> None:
    """Turn off JIT compilation for this transaction: ST_Transform's high cost estimate makes
    PostgreSQL compile every counting query, which costs ~0.5 s, more than the count."""
    cur.execute("SET LOCAL jit = off")


def _grid_params(grid: GridSpec) -> dict[str, Any]:
    minx, miny, maxx, maxy = grid.bounds
    return {
        "x0": grid.x0,
        "y0": grid.y0,
        "cell": grid.cell_m,
        "nx": grid.nx,
        "ny": grid.ny,
        "minx": minx,
        "miny": miny,
        "maxx": maxx,
        "maxy": maxy,
    }


class PostGISCaseCounts:
    """The cases a filter selects, counted in PostGIS in the metric CRS ``crs``.

    The database's :class:`~gis.analytics.counts.CaseCounts`: the same numbers
    :class:`~gis.analytics.counts.FrameCounts` gives for the store's case frame, without
    reading the cases into Python. The filter of a
    :class:`~gis.analytics.selection.CaseFilter` is applied in SQL (local hours and days in
    Asia/Shanghai); segments are found on the partial GiST index of the stored geography
    (``ST_DWithin`` + KNN). Values are always bound.

    ``exclude_states`` leaves out cases in those states (the reports drop rejected and
    duplicate reports).
    """

    def __init__(
        self,
        store: PostGISStore,
        flt: CaseFilter,
        *,
        crs: str,
        exclude_states: Iterable[str] = (),
    ) -> None:
        self._store = store
        self._flt = flt
        self._crs = str(crs)
        self._srid = _srid(crs)
        self._exclude = sorted(set(exclude_states))

    @property
    def crs(self) -> str:
        """The metric CRS the counts are measured in."""
        return self._crs

    # -- the selection -------------------------------------------------------------------
    def _where(self) -> tuple[list[str], dict[str, Any]]:
        """The filter's conditions (constant SQL text) and their bound values."""
        f = self._flt
        local = f"(reported_at AT TIME ZONE '{TIMEZONE}')"
        clauses: list[str] = []
        params: dict[str, Any] = {}
        if f.categories is not None:
            clauses.append("category = ANY(%(categories)s)")
            params["categories"] = list(f.categories)
        if f.tiers is not None:
            clauses.append("tier = ANY(%(tiers)s)")
            params["tiers"] = list(f.tiers)
        if f.start is not None:
            clauses.append("reported_at >= %(start)s")
            params["start"] = f.start.to_pydatetime()
        if f.end is not None:
            clauses.append("reported_at < %(end)s")
            params["end"] = f.end.to_pydatetime()
        if f.hours is not None:
            clauses.append(f"extract(hour FROM {local})::int = ANY(%(hours)s)")
            params["hours"] = [int(h) for h in f.hours]
        if f.day_type != "all":
            off = (
                f"(extract(isodow FROM {local}) >= 6 OR {local}::date = ANY(%(holidays)s::date[]))"
            )
            clauses.append(off if f.day_type == "weekend_holiday" else f"NOT {off}")
            params["holidays"] = sorted(f.holidays)
        if self._exclude:
            clauses.append("state <> ALL(%(exclude)s)")
            params["exclude"] = self._exclude
        return clauses, params

    def _points(self) -> tuple[str, dict[str, Any]]:
        """SELECT of (reported_at, case_id, segment_id, metric point g, x, y) of the selection.

        Grids read every case of the selection: they cover the subdistrict, whose cases
        row-level security already picks, so an area test first (through
        ``patrol_cases_within`` and the GiST index) only added time (50k cases: 0.90 s
        against 0.57 s per grid).
        """
        clauses, params = self._where()
        params["srid"] = self._srid
        where = (" WHERE " + " AND ".join(clauses)) if clauses else ""
        # x and y once per case: a CTE over this is MATERIALIZED, else PostgreSQL inlines it
        # and transforms the point again at every use
        sql = (
            "SELECT reported_at, case_id, segment_id, g, ST_X(g) AS x, ST_Y(g) AS y FROM "
            "(SELECT reported_at, case_id, segment_id, ST_Transform(geom, %(srid)s) AS g "
            "FROM cases" + where + ") AS s"
        )
        return sql, params

    def _over_points(self, sql: str, extra: dict[str, Any] | None = None) -> list[tuple]:
        """The rows of ``sql`` over ``c``, the selection's points (:meth:`_points`, computed
        once): ``sql`` goes on after ``WITH c AS MATERIALIZED (...)``, with more CTEs after a
        comma or straight to the SELECT. ``sql`` is constant text; ``extra`` values are bound."""
        pts, params = self._points()
        with self._store._tx() as cur:
            _no_jit(cur)
            cur.execute(f"WITH c AS MATERIALIZED ({pts}) {sql}", params | (extra or {}))
            return list(cur.fetchall())

    @functools.cached_property
    def _summary(self) -> tuple[int, Any, Any]:
        clauses, params = self._where()
        where = (" WHERE " + " AND ".join(clauses)) if clauses else ""
        with self._store._tx() as cur:
            _no_jit(cur)
            cur.execute(
                "SELECT count(*), min(reported_at), max(reported_at) FROM cases" + where, params
            )
            n, first, last = cur.fetchone()
        return int(n), first, last

    def total(self) -> int:
        """How many cases the filter selects."""
        return self._summary[0]

    def span(self) -> tuple[pd.Timestamp, pd.Timestamp] | None:
        """First and last report time (local)."""
        n, first, last = self._summary
        if not n:
            return None
        return (
            pd.Timestamp(first).tz_convert(TIMEZONE),
            pd.Timestamp(last).tz_convert(TIMEZONE),
        )

    @functools.cached_property
    def _extent(self) -> tuple[float, float, float, float] | None:
        (box,) = self._over_points("SELECT min(x), min(y), max(x), max(y) FROM c")
        return None if box[0] is None else tuple(float(v) for v in box)  # type: ignore[return-value]

    def extent(self) -> tuple[float, float, float, float] | None:
        """(minx, miny, maxx, maxy) of the cases in :attr:`crs`."""
        return self._extent

    # -- counts --------------------------------------------------------------------------
    def per_cell(self, grid: GridSpec) -> NDArray[np.int64]:
        """Cases per cell of ``grid`` (flat, row-major from the south-west)."""
        self._check_grid(grid)
        rows = self._over_points(
            """,
            rc AS (SELECT floor((x - %(x0)s) / %(cell)s)::bigint AS col,
                          floor((y - %(y0)s) / %(cell)s)::bigint AS row FROM c)
            SELECT row * %(nx)s + col, count(*) FROM rc
            WHERE col >= 0 AND col < %(nx)s AND row >= 0 AND row < %(ny)s GROUP BY 1
            """,
            _grid_params(grid),
        )
        out = np.zeros(grid.nx * grid.ny, dtype=np.int64)
        for idx, n in rows:
            out[int(idx)] = int(n)
        return out

    def binned(self, grid: GridSpec) -> tuple[NDArray[np.float64], int]:
        """Linear bins of the cases inside the grid's extent (as
        :func:`gis.analytics.counts.linear_bins`: each case spread over the four nearest cell
        centres, clipped at the edge), and how many cases that is."""
        self._check_grid(grid)
        found = self._over_points(
            """,
            inside AS (SELECT (x - %(x0)s) / %(cell)s - 0.5 AS gx,
                              (y - %(y0)s) / %(cell)s - 0.5 AS gy
                       FROM c WHERE x >= %(minx)s AND x < %(maxx)s
                         AND y >= %(miny)s AND y < %(maxy)s),
            f AS (SELECT floor(gx)::bigint AS c0, floor(gy)::bigint AS r0,
                         gx - floor(gx) AS fx, gy - floor(gy) AS fy FROM inside)
            SELECT r0, c0, sum((1 - fx) * (1 - fy)), sum(fx * (1 - fy)),
                   sum((1 - fx) * fy), sum(fx * fy), count(*)
            FROM f GROUP BY 1, 2
            """,
            _grid_params(grid),
        )
        rows = np.asarray(found, dtype=float).reshape(-1, 7)
        out = np.zeros((grid.ny, grid.nx))
        r0, c0 = rows[:, 0].astype(np.int64), rows[:, 1].astype(np.int64)
        # each base cell's four weight sums go to its four neighbours, clipped at the edge
        for k, (dr, dc) in enumerate(((0, 0), (0, 1), (1, 0), (1, 1))):
            rr = np.clip(r0 + dr, 0, grid.ny - 1)
            cc = np.clip(c0 + dc, 0, grid.nx - 1)
            np.add.at(out, (rr, cc), rows[:, 2 + k])
        return out, int(rows[:, 6].sum())

    def per_segment(
        self, gdf_segments: gpd.GeoDataFrame, *, max_distance_m: float = 200.0
    ) -> NDArray[np.int64]:
        """Cases per segment in the order of ``gdf_segments``: the stored segment where it
        is a known one, else the nearest within ``max_distance_m`` (ties: the lowest id).

        The segments must be the ones stored with the geography (``patrol db
        load-geography``), in the same CRS.
        """
        ids = [str(s) for s in gdf_segments["segment_id"]]
        self._check_segments(ids)
        rows = self._over_points(
            ", " + SEGMENT_COUNTS_SQL.format(reach="%(reach)s"), {"reach": float(max_distance_m)}
        )
        got = {str(s): int(n) for s, n in rows}
        return np.array([got.get(s, 0) for s in ids], dtype=np.int64)

    # -- checks --------------------------------------------------------------------------
    def _check_grid(self, grid: GridSpec) -> None:
        if _srid(grid.crs) != self._srid:
            raise StoreError(f"the grid is in {grid.crs}, the counts in {self._crs}")

    def _check_segments(self, ids: list[str]) -> None:
        with self._store._tx() as cur:
            _no_jit(cur)
            cur.execute(
                "SELECT srid FROM geo_layers WHERE layer = 'segments' "
                "AND subdistrict = current_setting('app.subdistrict')"
            )
            row = cur.fetchone()
            cur.execute(
                "SELECT feature_id FROM geo_features WHERE layer = 'segments' "
                "AND subdistrict = current_setting('app.subdistrict')"
            )
            stored = {str(r[0]) for r in cur.fetchall()}
        if row is None or int(row[0]) != self._srid or stored != set(ids):
            raise StoreError(
                "the street segments in the database are not this geography's: "
                "load them with `patrol db load-geography`"
            )
