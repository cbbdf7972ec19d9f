"""Store administration: ``patrol db init|migrate|status|backup|restore``.

The store is ``PATROL_DATABASE_URL`` (a GeoPackage path or ``postgresql://…``) unless
``--url`` names another. Library code: :mod:`gis.store.migrate`.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from gis.errors import StoreError
from gis.settings import Settings
from gis.store.tenancy import DEFAULT_SUBDISTRICT

HELP = "store schema: init, migrate, status, backup, restore, load-geography"


def _target(args: argparse.Namespace, settings: Settings) -> tuple[bool, str]:
    """(is PostGIS, URL or path) of the store to work on, with the URL's scheme checked."""
    url = (args.url or settings.database_url).strip()
    if url.startswith(("postgresql://", "postgres://")):
        return True, url
    if "://" in url:
        from gis.store.migrate import redact

        raise StoreError(
            f"unsupported database URL {redact(url)!r}: use postgresql://user:pw@host:5432/db "
            "for PostGIS or a file path ending in .gpkg for a GeoPackage"
        )
    if not url:
        raise StoreError("no store given: set PATROL_DATABASE_URL or pass --url")
    return False, url


def _status(pg: bool, where: str):
    from gis.store import migrate

    return migrate.postgis_status(where) if pg else migrate.gpkg_status(Path(where))


def _open(pg: bool, where: str) -> None:
    """Open the store once (which creates or upgrades its schema) and close it."""
    if pg:
        from gis.store.postgis import PostGISStore

        PostGISStore(where, minconn=1, maxconn=1).close()
    else:
        from gis.store.geopackage import GeoPackageStore

        GeoPackageStore(where).close()


def _print(status) -> None:
    for line in status.lines():
        print(line)


def _cmd_status(args: argparse.Namespace, settings: Settings) -> int:
    pg, where = _target(args, settings)
    status = _status(pg, where)
    _print(status)
    up_to_date = status.initialised and not (status.newer_than_code or status.pending)
    return 0 if up_to_date else 1


def _cmd_init(args: argparse.Namespace, settings: Settings) -> int:
    pg, where = _target(args, settings)
    before = _status(pg, where)
    if before.newer_than_code:
        _print(before)
        raise StoreError(f"{before.location} was made by a newer release; nothing was changed")
    if before.initialised:
        raise StoreError(
            f"{before.location} already holds a store (schema version {before.version}); "
            "run patrol db migrate to upgrade it, or patrol db status to see it"
        )
    _open(pg, where)
    after = _status(pg, where)
    print(f"created the store at schema version {after.version}")
    _print(after)
    return 0


def _cmd_migrate(args: argparse.Namespace, settings: Settings) -> int:
    pg, where = _target(args, settings)
    before = _status(pg, where)
    if before.newer_than_code:
        _print(before)
        raise StoreError(f"{before.location} was made by a newer release; nothing was changed")
    if not before.initialised:
        raise StoreError(f"{before.location} holds no store yet: run patrol db init first")
    if not before.pending:
        print(f"already at schema version {before.version}; nothing to do")
    else:
        _open(pg, where)
        after = _status(pg, where)
        print(f"upgraded from schema version {before.version} to {after.version}:")
        for step in before.pending:
            print(f"  applied {step}")
        _print(after)
    if pg:
        _import_users(where, Path(args.users_from) if args.users_from else None)
    return 0


def _import_users(url: str, given: Path | None) -> None:
    """Bring the users of a pre-7 user file into PostGIS (idempotent)."""
    from gis.access.users import LEGACY_USERS_FILE
    from gis.store.migrate import import_sidecar_users

    sidecar = given or LEGACY_USERS_FILE
    if given is not None and not given.is_file():
        raise StoreError(f"no user file at {given}")
    if not sidecar.is_file():
        return
    counts = import_sidecar_users(url, sidecar)
    if counts:
        print(
            f"users of {sidecar} now in the store: "
            + ", ".join(f"{table} {n}" for table, n in counts.items())
            + " (the file is no longer read; keep it as a backup or delete it)"
        )


def _cmd_backup(args: argparse.Namespace, settings: Settings) -> int:
    from gis.store import migrate

    pg, where = _target(args, settings)
    dest = Path(args.file)
    if dest.exists() and not args.replace:
        raise StoreError(f"{dest} exists: choose a new file name or pass --replace")
    if dest.parent and not dest.parent.is_dir():
        raise StoreError(f"the folder {dest.parent} does not exist")
    if pg:
        migrate.backup_postgis(where, dest)
    else:
        migrate.backup_gpkg(Path(where), dest)
    print(f"backed up {_status(pg, where).location} to {dest} ({dest.stat().st_size} bytes)")
    return 0


def _users_backup(backup: Path) -> Path:
    """Where releases before version 7 put the user file beside a PostGIS backup."""
    return backup.with_name(backup.name + ".users.sqlite")


def _cmd_restore(args: argparse.Namespace, settings: Settings) -> int:
    from gis.store import migrate

    pg, where = _target(args, settings)
    src = Path(args.file)
    if not src.is_file():
        raise StoreError(f"no backup file at {src}")
    if pg:
        migrate.restore_postgis(where, src, replace=args.replace)
        users_copy = _users_backup(src)
        if users_copy.is_file():  # a backup made before users moved into the store
            _open(pg, where)
            _import_users(where, users_copy)
    else:
        migrate.restore_gpkg(Path(where), src, replace=args.replace)
    after = _status(pg, where)
    print(f"restored {src} into {after.location}")
    _print(after)
    return 0


def _cmd_load_geography(args: argparse.Namespace, settings: Settings) -> int:
    pg, where = _target(args, settings)
    from gis.geography.layers import load_bundled_geography, load_geography
    from gis.store.tenancy import writable_subdistrict

    code = writable_subdistrict(args.subdistrict or settings.subdistrict)
    geo = load_geography(args.data_dir) if args.data_dir else load_bundled_geography(settings)
    if pg:
        from gis.store.postgis import PostGISStore

        store: Any = PostGISStore(where, minconn=1, maxconn=1, subdistrict=code)
    else:
        from gis.store.geopackage import GeoPackageStore

        store = GeoPackageStore(where, subdistrict=code)
    from gis.services.subdistricts import load_subdistrict_geography

    try:
        counts = load_subdistrict_geography(store, geo, by="patrol db load-geography")
    finally:
        store.close()
    print(
        f"loaded the geography ({geo.crs}) of subdistrict {code} into "
        f"{_status(pg, where).location}:"
    )
    for layer, n in counts.items():
        print(f"  {layer}: {n}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``patrol db ...``."""
    p = sub.add_parser("db", help=HELP)
    dsub = p.add_subparsers(dest="db_command", required=True)

    def add(name: str, text: str, func) -> argparse.ArgumentParser:
        q = dsub.add_parser(name, help=text)
        q.add_argument("--url", help="store URL or GeoPackage path (default PATROL_DATABASE_URL)")
        q.set_defaults(func=func)
        return q

    add("init", "create the store's schema in an empty database or a new file", _cmd_init)
    m = add("migrate", "upgrade the store's schema to this release (no row is lost)", _cmd_migrate)
    m.add_argument(
        "--users-from",
        help="PostGIS: the user file of an older release to bring into the store "
        "(default var/patrol-users.sqlite when it exists)",
    )
    add("status", "schema version, pending upgrades and row counts (exit 1 if behind)", _cmd_status)
    b = add("backup", "a consistent copy (pg_dump custom format, or a GeoPackage)", _cmd_backup)
    b.add_argument("file", help="the backup file to write")
    b.add_argument("--replace", action="store_true", help="overwrite an existing backup file")
    r = add("restore", "restore a backup into an empty store", _cmd_restore)
    r.add_argument("file", help="the backup file to read")
    r.add_argument(
        "--replace", action="store_true", help="overwrite a store that already holds data"
    )
    g = add(
        "load-geography",
        "store a subdistrict's geography layers (replacing its stored ones; the others stay)",
        _cmd_load_geography,
    )
    g.add_argument("--data-dir", help="geography folder (default: the configured one)")
    g.add_argument(
        "--subdistrict",
        help="subdistrict code the layers belong to (default PATROL_SUBDISTRICT, else "
        f"{DEFAULT_SUBDISTRICT}); the layers of other subdistricts are kept",
    )
