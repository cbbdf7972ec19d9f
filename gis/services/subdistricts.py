"""A subdistrict's own geography and staff, from the store both front ends share.

Each subdistrict's layers and staff live in the store under its key (docs/store.md). The
bundled subdistrict (``shichahai``) starts from the files of the data folder
(``PATROL_DATA_DIR``): the first time its store has no geography, or no staff, the folder's
layers and staff table are stored, once, so that a fresh embedded store still starts with
one command. Any other subdistrict has what was loaded for it (``patrol --subdistrict CODE
db load-geography --data-dir FOLDER``, ``patrol --subdistrict CODE staff import FILE``).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pandas as pd

from gis.errors import NotFoundError, PatrolError
from gis.geography.layer_files import LAYER_SPECS, layer_path
from gis.geography.layers import (
    METADATA_FILE,
    Geography,
    bundled_data_dir,
    load_bundled_geography,
)
from gis.people.staff import Person, read_people_csv
from gis.people.staff_table import STAFF_COLUMNS, demo_staff_path
from gis.settings import Settings
from gis.store.tenancy import DEFAULT_SUBDISTRICT, DISTRICT

log = logging.getLogger(__name__)

#: Who the first-start copies of the data folder are recorded as.
SEEDED_BY = "system (data folder)"
#: Named value: the data folder (:func:`folder_stamp`) the subdistrict's stored layers came
#: from; empty when an administrator loaded them.
SEED_META = "geography.seeded_from"


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


def folder_stamp(folder: Path) -> str:
    """What identifies a geography folder's content: its path and each layer file's name,
    size and modification time (a few ``stat`` calls, no reading)."""
    parts = [str(folder.resolve())]
    files = [layer_path(folder, name) for name in LAYER_SPECS] + [folder / METADATA_FILE]
    for path in files:
        if path is None:
            continue
        try:
            info = path.stat()
        except OSError:
            continue
        parts.append(f"{path.name}:{info.st_size}:{info.st_mtime_ns}")
    return json.dumps(parts, ensure_ascii=False)


def _stamp_folder(stamp: str) -> str:
    """The folder a :func:`folder_stamp` names ("" for text that is not a stamp)."""
    try:
        parts = json.loads(stamp)
    except ValueError:
        return ""
    return str(parts[0]) if isinstance(parts, list) and parts else ""


def ensure_subdistrict_geography(store: Any, settings: Settings) -> bool:
    """Store the data folder's layers for the bundled subdistrict when its store has none,
    or when they were stored from the folder and the folder has changed since (layers an
    administrator loaded are kept). True when it stored them now."""
    if not seeds_from_data_folder(store.subdistrict):
        return False
    folder = bundled_data_dir(settings)
    stamp = folder_stamp(folder)
    recorded = store.get_meta(SEED_META)
    stored = store.geography_version() is not None
    if stored and (not recorded or recorded == stamp):
        return False
    try:
        geo = load_bundled_geography(settings)
        with store.transaction():
            counts = store.save_geography(geo, by=SEEDED_BY)
            store.set_meta(SEED_META, stamp)
    except PatrolError as exc:
        # the same folder changed into something that does not load, or another process
        # stored the layers at the same moment: the stored layers serve on. Another folder
        # (PATROL_DATA_DIR changed) that does not load is an error, not the old folder's map.
        same_folder = bool(recorded) and _stamp_folder(recorded) == _stamp_folder(stamp)
        if stored and not same_folder:
            raise
        if not stored and store.geography_version() is None:
            raise
        log.warning("kept the stored geography of %s: %s", store.subdistrict, exc)
        return False
    log.info(
        "stored the geography of %s from %s (%d features)",
        store.subdistrict,
        folder,
        sum(counts.values()),
    )
    return True


def load_subdistrict_geography(store: Any, geo: Geography, *, by: str) -> dict[str, int]:
    """Store ``geo`` as the layers of ``store``'s subdistrict, loaded deliberately: they
    stay until loaded again, whatever the data folder holds. Features per layer."""
    with store.transaction():
        counts = store.save_geography(geo, by=by)
        if store.get_meta(SEED_META):
            store.set_meta(SEED_META, "")
    return dict(counts)


def subdistrict_geography(store: Any, settings: Settings) -> Geography:
    """The geography of ``store``'s subdistrict, from the store (the bundled subdistrict's
    stored from the data folder first: :func:`ensure_subdistrict_geography`). A store
    without geography tables (a test double) gives the data folder's layers.

    Raises
    ------
    NotFoundError
        Another subdistrict without stored layers: the message says how to load them.
    """
    try:
        ensure_subdistrict_geography(store, settings)
        return store.read_geography()
    except NotImplementedError:
        return load_bundled_geography(settings)


def settings_geography(settings: Settings) -> Geography:
    """The geography of ``settings.subdistrict`` (the district level: the bundled
    subdistrict's) from the store ``settings`` names, for one command. Before the embedded
    store's file exists, the bundled subdistrict's is the data folder's (no store is
    created just to read a map)."""
    from gis.store import open_store

    code = map_subdistrict(settings.subdistrict, settings)
    if not settings.uses_postgis and not Path(settings.database_url).exists():
        if seeds_from_data_folder(code):
            return load_bundled_geography(settings)
        raise NotFoundError(
            f"{settings.database_url} does not exist, so it holds no geography of "
            f"subdistrict {code!r}: load it with patrol --subdistrict {code} db "
            "load-geography --data-dir FOLDER"
        )
    with open_store(settings, subdistrict=code) as store:
        return subdistrict_geography(store, settings)


def staff_frame(people: list[Person]) -> pd.DataFrame:
    """The staff table (:data:`~gis.people.staff_table.STAFF_COLUMNS`) of stored people."""
    rows = [{c: getattr(p, c) for c in STAFF_COLUMNS} for p in people]
    return pd.DataFrame(rows, columns=list(STAFF_COLUMNS))


def subdistrict_people(store: Any, settings: Settings) -> list[Person]:
    """The staff of ``store``'s subdistrict, from the store; for the bundled subdistrict
    the data folder's staff table is stored first when the store has no staff (once). A
    store without people tables (a test double) gives the data folder's staff table."""
    try:
        people = list(store.people.list_people())
    except NotImplementedError:
        path = demo_staff_path(settings.data_dir)
        return read_people_csv(path) if path.is_file() else []
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
