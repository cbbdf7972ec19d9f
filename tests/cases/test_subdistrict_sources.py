"""Where a subdistrict's geography and staff come from: the store, on both stores; the bundled
subdistrict's are stored from the data folder at first use (again only when the folder
changes), another subdistrict has only what was loaded for it."""

from __future__ import annotations

import dataclasses
import os
import shutil
from pathlib import Path

import pytest

from gis.errors import NotFoundError, ValidationError
from gis.geography.layers import load_geography
from gis.people.staff import read_people_csv
from gis.services.subdistricts import (
    SEED_META,
    ensure_subdistrict_geography,
    load_subdistrict_geography,
    settings_geography,
    subdistrict_geography,
    subdistrict_people,
    subdistrict_staff,
)
from gis.settings import BUNDLED_DATA_DIR, Settings
from gis.store.geo_layers import LAYERS


@pytest.fixture
def folder(tmp_path: Path, tiny_geo_dir: Path) -> Path:
    """A data folder of its own: the tiny geography and the bundled staff table."""
    out = tmp_path / "data"
    shutil.copytree(tiny_geo_dir, out)
    shutil.copy(BUNDLED_DATA_DIR / "staff_demo.csv", out / "staff_demo.csv")
    return out


def _ids(geo) -> dict[str, list[str]]:
    return {layer: list(map(str, getattr(geo, layer).iloc[:, 0])) for layer in LAYERS}


def test_the_bundled_subdistrict_is_stored_from_the_folder_once(store, folder, tiny_geo):
    settings = Settings(data_dir=folder)
    assert store.geography_version() is None
    assert ensure_subdistrict_geography(store, settings) is True
    version = store.geography_version()
    assert version and store.get_meta(SEED_META)
    assert _ids(store.read_geography()) == _ids(tiny_geo)
    # later calls read the store and write nothing
    assert ensure_subdistrict_geography(store, settings) is False
    assert _ids(subdistrict_geography(store, settings)) == _ids(tiny_geo)
    assert store.geography_version() == version


def test_a_changed_folder_is_stored_again_but_loaded_layers_are_kept(store, folder, tiny_geo):
    settings = Settings(data_dir=folder)
    ensure_subdistrict_geography(store, settings)
    first = store.geography_version()
    # the folder's zones are edited (a renamed zone): the next use stores them again
    zones = folder / "zones.geojson"
    zones.write_text(zones.read_text(encoding="utf-8").replace("西片", "西片甲"), "utf-8")
    stamp = zones.stat().st_mtime_ns + 2_000_000_000
    os.utime(zones, ns=(stamp, stamp))
    assert ensure_subdistrict_geography(store, settings) is True
    assert store.geography_version() != first
    assert "西片甲" in list(store.read_geography().zones["name"])
    # layers loaded deliberately stay, whatever the folder does afterwards
    load_subdistrict_geography(store, tiny_geo, by="admin")
    assert not store.get_meta(SEED_META)
    os.utime(zones, ns=(stamp + 10**9, stamp + 10**9))
    assert ensure_subdistrict_geography(store, settings) is False
    assert list(store.read_geography().zones["name"]) == list(tiny_geo.zones["name"])


def test_a_folder_that_no_longer_loads_leaves_the_stored_layers(store, folder, tiny_geo):
    settings = Settings(data_dir=folder)
    ensure_subdistrict_geography(store, settings)
    version = store.geography_version()
    (folder / "zones.geojson").write_text("not geojson", encoding="utf-8")
    assert ensure_subdistrict_geography(store, settings) is False
    assert store.geography_version() == version
    assert _ids(subdistrict_geography(store, settings)) == _ids(tiny_geo)
    # another data folder that does not load is an error, not the first folder's map
    with pytest.raises(ValidationError, match="not found"):
        ensure_subdistrict_geography(store, Settings(data_dir=folder.parent / "elsewhere"))
    # a store that has none yet says what is wrong with the folder
    from gis.store.geopackage import GeoPackageStore

    with GeoPackageStore(folder.parent / "fresh.gpkg") as fresh:
        with pytest.raises(ValidationError, match="zones.geojson"):
            ensure_subdistrict_geography(fresh, settings)
        assert fresh.geography_version() is None


def test_another_subdistrict_has_only_what_was_loaded_for_it(store, folder, tiny_geo):
    other = store.scoped("xinjiekou")
    try:
        settings = Settings(data_dir=folder)
        assert ensure_subdistrict_geography(other, settings) is False
        with pytest.raises(NotFoundError, match="xinjiekou.*load-geography"):
            subdistrict_geography(other, settings)
        assert store.geography_subdistricts() == []  # nothing was stored for it
        load_subdistrict_geography(other, tiny_geo, by="admin")
        assert _ids(subdistrict_geography(other, settings)) == _ids(tiny_geo)
        assert store.geography_subdistricts() == ["xinjiekou"]
        # its staff are its own: none until imported, never the bundled table
        assert subdistrict_people(other, settings) == []
        assert subdistrict_staff(other, settings).empty
    finally:
        other.close()


def test_the_bundled_staff_table_is_stored_once(store, folder):
    settings = Settings(data_dir=folder)
    want = read_people_csv(folder / "staff_demo.csv")
    assert store.people.list_people() == []
    people = subdistrict_people(store, settings)
    assert people == sorted(want, key=lambda p: p.person_id)
    assert {p.shift for p in people} == {p.shift for p in want} and "" not in {
        p.shift for p in want
    }
    # edited in the store, the store wins: nothing is read from the file again
    store.people.save_people([dataclasses.replace(people[0], name="改名")])
    again = subdistrict_people(store, settings)
    assert again[0].name == "改名" and len(again) == len(want)
    frame = subdistrict_staff(store, settings)
    assert list(frame["person_id"]) == [p.person_id for p in again]
    assert list(frame["shift"]) == [p.shift for p in again]


def test_a_command_reads_the_folder_before_the_store_file_exists(tmp_path, folder, tiny_geo):
    target = tmp_path / "var" / "patrol.gpkg"
    settings = Settings(data_dir=folder, database_url=str(target))
    assert _ids(settings_geography(settings)) == _ids(tiny_geo)
    assert not target.exists()  # no store is created just to read a map
    with pytest.raises(NotFoundError, match="xinjiekou"):
        settings_geography(
            Settings(data_dir=folder, database_url=str(target), subdistrict="xinjiekou")
        )
    # once the file exists, the command reads the store (and stores the folder's first)
    from gis.store.geopackage import GeoPackageStore

    GeoPackageStore(target).close()
    assert _ids(settings_geography(settings)) == _ids(load_geography(folder))
    with GeoPackageStore(target) as s:
        assert s.geography_subdistricts() == ["shichahai"]
