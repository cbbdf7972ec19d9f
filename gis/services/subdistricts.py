"""A subdistrict's own geography and staff, from the store both front ends share.

Each subdistrict's layers and staff live in the store under its key (docs/store.md). The
bundled subdistrict (``shichahai``) starts from the files of the data folder
(``PATROL_DATA_DIR``): the first time its store has no geography, or no staff, the folder's
layers and staff table are stored, once, so that a fresh embedded store still starts with
one command. Any other subdistrict has what was loaded for it (``patrol --subdistrict CODE
db load-geography --data-dir FOLDER``, ``patrol --subdistrict CODE staff import FILE``).
"""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd

from gis.errors import NotFoundError
from gis.geography.layers import Geography, load_bundled_geography
from gis.people.staff import Person, read_people_csv
from gis.people.staff_table import STAFF_COLUMNS, demo_staff_path
from gis.settings import Settings
from gis.store.tenancy import DEFAULT_SUBDISTRICT, DISTRICT

log = logging.getLogger(__name__)

#: Who the first-start copies of the data folder are recorded as.
SEEDED_BY = "system (data folder)"


def map_subdistrict(code: str, settings: Settings) -> str:
    """The subdistrict whose map a user of ``code`` works on: their own; at the district
    level (``*``), which has no geography of its own, the deployment's subdistrict
    (``PATROL_SUBDISTRICT``), else the bundled one."""
    if code and code != DISTRICT:
        return code
    own = settings.subdistrict
    return own if own and own != DISTRICT else DEFAULT_SUBDISTRICT


def seeds_from_data_folder(code: str) -> bool:
    """True for the subdistrict whose layers and staff the data folder holds."""
    return code == DEFAULT_SUBDISTRICT


def subdistrict_geography(store: Any, settings: Settings) -> Geography:
    """The geography of ``store``'s subdistrict, from the store.

    When the store has none and the subdistrict is the bundled one, the data folder's
    layers are stored first (once; later calls read the store). A store without geography
    tables (a test double) gives the data folder's layers.

    Raises
    ------
    NotFoundError
        Another subdistrict without stored layers: the message says how to load them.
    """
    try:
        return store.read_geography()
    except NotImplementedError:
        return load_bundled_geography(settings)
    except NotFoundError:
        if not seeds_from_data_folder(store.subdistrict):
            raise
    geo = load_bundled_geography(settings)
    counts = store.save_geography(geo, by=SEEDED_BY)
    log.info(
        "stored the geography of %s from %s (%d features)",
        store.subdistrict,
        geo.source,
        sum(counts.values()),
    )
    return geo


def staff_frame(people: list[Person]) -> pd.DataFrame:
    """The staff table (:data:`~gis.people.staff_table.STAFF_COLUMNS`) of stored people."""
    rows = [{c: getattr(p, c) for c in STAFF_COLUMNS} for p in people]
    return pd.DataFrame(rows, columns=list(STAFF_COLUMNS))


def subdistrict_people(store: Any, settings: Settings) -> list[Person]:
    """The staff of ``store``'s subdistrict, from the store; for the bundled subdistrict
    the data folder's staff table is stored first when the store has no staff (once)."""
    people = list(store.people.list_people())
    if people or not seeds_from_data_folder(store.subdistrict):
        return people
    path = demo_staff_path(settings.data_dir)
    if not path.is_file():
        return people
    store.people.save_people(read_people_csv(path), by=SEEDED_BY)
    log.info("stored the staff of %s from %s", store.subdistrict, path.name)
    return list(store.people.list_people())


def subdistrict_staff(store: Any, settings: Settings) -> pd.DataFrame:
    """:func:`subdistrict_people` as the staff table the crowd and district planning read."""
    return staff_frame(subdistrict_people(store, settings))
