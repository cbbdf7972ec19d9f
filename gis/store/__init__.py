"""Case storage: one :class:`~gis.store.base.Store` interface, GeoPackage or PostGIS behind it."""

from __future__ import annotations

from gis.cases.categories import References
from gis.settings import Settings
from gis.store.base import AddResult, CaseQuery, Store

__all__ = ["AddResult", "CaseQuery", "Store", "open_store"]


def open_store(
    settings: Settings, *, refs: References | None = None, subdistrict: str | None = None
) -> Store:
    """The store ``settings.database_url`` names: PostGIS for ``postgresql://…``, else a
    GeoPackage file path (created on first use), opened for ``subdistrict`` (default
    ``settings.subdistrict``; ``'*'`` is the district level): see docs/store.md."""
    code = subdistrict or settings.subdistrict
    if settings.uses_postgis:
        from gis.store.postgis import PostGISStore

        return PostGISStore(settings.database_url, refs=refs, subdistrict=code)
    from gis.store.geopackage import GeoPackageStore

    return GeoPackageStore(settings.database_url, refs=refs, subdistrict=code)
