"""A throwaway PostgreSQL + PostGIS cluster for tests and benchmarks (initdb, pg_ctl, trust).

The cluster lives in a temporary directory, listens on 127.0.0.1 at a free port and is
removed on stop. When running as root the server runs as the ``postgres`` system user
(PostgreSQL refuses to run as root).
"""

from __future__ import annotations

import logging
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from gis.errors import StoreError

log = logging.getLogger(__name__)

#: Where Debian installs the server binaries; PATROL_PG_BIN overrides it.
DEFAULT_PG_BIN = "/usr/lib/postgresql/15/bin"


def pg_bin_dir() -> Path | None:
    """The directory with initdb and pg_ctl, or None when PostgreSQL is not installed."""
    candidates = [os.environ.get("PATROL_PG_BIN", ""), DEFAULT_PG_BIN]
    found = shutil.which("initdb")
    if found:
        candidates.append(str(Path(found).parent))
    for c in candidates:
        if c and (Path(c) / "initdb").is_file() and (Path(c) / "pg_ctl").is_file():
            return Path(c)
    return None


def missing_reason() -> str | None:
    """Why a throwaway PostGIS cluster cannot start here (None when it can)."""
    bindir = pg_bin_dir()
    if bindir is None:
        return "PostgreSQL server binaries (initdb, pg_ctl) not found; set PATROL_PG_BIN"
    out = subprocess.run(
        [str(bindir / "pg_config"), "--sharedir"], capture_output=True, text=True, check=False
    )
    share = Path(out.stdout.strip()) if out.returncode == 0 else None
    if share is None or not (share / "extension" / "postgis.control").is_file():
        return "the PostGIS extension is not installed for this PostgreSQL"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root and there is no 'postgres' user to run the server"
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PgCluster:
    """Start with :meth:`start`, use :attr:`url`, stop with :meth:`stop` (or ``with``)."""

    def __init__(self, *, fast: bool = True) -> None:
        self.fast = fast
        self.port = 0
        self.dir: Path | None = None
        self._user: pwd.struct_passwd | None = None

    @property
    def url(self) -> str:
        """Connection URL of the ``postgres`` database (trust auth)."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, args: list[str], **kw) -> subprocess.CompletedProcess:
        if self._user is not None:
            args = ["runuser", "-u", self._user.pw_name, "--", *args]
        return subprocess.run(args, capture_output=True, text=True, check=False, **kw)

    def start(self) -> PgCluster:
        """initdb, start the server, create the PostGIS extension in ``postgres``."""
        reason = missing_reason()
        if reason:
            raise StoreError(f"cannot start a test PostGIS: {reason}")
        bindir = pg_bin_dir()
        assert bindir is not None
        self.dir = Path(tempfile.mkdtemp(prefix="patrol-pg-"))
        if os.geteuid() == 0:
            self._user = pwd.getpwnam("postgres")
            os.chown(self.dir, self._user.pw_uid, self._user.pw_gid)
        data = self.dir / "data"
        res = self._run(
            [
                str(bindir / "initdb"),
                "-D",
                str(data),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--locale=C",
            ]
        )
        if res.returncode != 0:
            raise StoreError(f"initdb failed: {res.stderr.strip()}")
        self.port = _free_port()
        opts = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1"
        if self.fast:
            opts += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        res = self._run(
            [
                str(bindir / "pg_ctl"),
                "-D",
                str(data),
                "-l",
                str(self.dir / "server.log"),
                "-o",
                opts,
                "-w",
                "-t",
                "60",
                "start",
            ]
        )
        if res.returncode != 0:
            log_text = (self.dir / "server.log").read_text(errors="replace")[-2000:]
            raise StoreError(f"pg_ctl start failed: {res.stderr.strip()} {log_text}")
        self._create_postgis()
        return self

    def _create_postgis(self) -> None:
        import psycopg2

        deadline = time.monotonic() + 30
        while True:
            try:
                con = psycopg2.connect(self.url)
                break
            except psycopg2.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        try:
            con.autocommit = True
            with con.cursor() as cur:
                cur.execute("CREATE EXTENSION IF NOT EXISTS postgis")
        finally:
            con.close()

    def create_database(self, name: str) -> str:
        """A fresh database with PostGIS; returns its URL."""
        import psycopg2
        from psycopg2 import sql

        con = psycopg2.connect(self.url)
        try:
            con.autocommit = True
            with con.cursor() as cur:
                cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        finally:
            con.close()
        url = f"postgresql://postgres@127.0.0.1:{self.port}/{name}"
        con = psycopg2.connect(url)
        try:
            con.autocommit = True
            with con.cursor() as cur:
                cur.execute("CREATE EXTENSION IF NOT EXISTS postgis")
        finally:
            con.close()
        return url

    def stop(self) -> None:
        """Stop the server and delete its directory."""
        if self.dir is None:
            return
        bindir = pg_bin_dir()
        if bindir is not None and (self.dir / "data" / "postmaster.pid").exists():
            self._run(
                [str(bindir / "pg_ctl"), "-D", str(self.dir / "data"), "-m", "immediate", "stop"]
            )
        shutil.rmtree(self.dir, ignore_errors=True)
        self.dir = None

    def __enter__(self) -> PgCluster:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
