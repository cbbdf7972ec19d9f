"""A non-editable install carries every package and data file (built wheel and ``pip install .``).

Both install into fresh virtual environments with ``--no-deps``; the third-party libraries
come from the running environment through a path file, so nothing is downloaded except
the build backend. Each check runs from a folder outside the repository, so only the
installed copy can be imported.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow

CHECK = r"""
import importlib, pkgutil, sys
from pathlib import Path
import gis, layers, ui
assert "site-packages" in gis.__file__, gis.__file__
names = []
for pkg in (gis, layers, ui):
    for m in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + "."):
        if m.name.endswith("__main__"):
            continue
        importlib.import_module(m.name)
        names.append(m.name)
from gis.settings import BUNDLED_DATA_DIR
from gis.geography.layers import load_bundled_geography
from gis.cases.categories import load_references
from gis.store.postgis import SQL_DIR
assert "site-packages" not in str(BUNDLED_DATA_DIR) and str(BUNDLED_DATA_DIR).startswith(sys.prefix), BUNDLED_DATA_DIR
geo = load_bundled_geography()
assert geo.crs == "EPSG:32650" and len(geo.segments) > 100
load_references()
assert sorted(p.name for p in SQL_DIR.glob("*.sql")), SQL_DIR
print(len(names), "modules")
"""


def _repo_files(pattern: str) -> set[str]:
    return {p.relative_to(ROOT).as_posix() for p in ROOT.glob(pattern)}


def _venv(path: Path) -> Path:
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(path)], check=True)
    py = path / "bin" / "python"
    site = subprocess.run(
        [str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    ours = [p for p in sys.path if p.endswith("site-packages")]
    # the running environment's libraries (not its .pth files, so not its editable install)
    (Path(site) / "deps.pth").write_text("\n".join(ours) + "\n", encoding="utf-8")
    return py


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "PATROL_DATA_DIR"}}


def _pip(*args: str, cwd: Path = ROOT) -> None:
    subprocess.run([sys.executable, "-m", "pip", *args], cwd=cwd, env=_env(), check=True)


def _source(tmp: Path) -> Path:
    """A clean copy of the source tree: a build never sees (or leaves) build/ in the checkout."""
    dst = tmp / "src"
    skip = (".git", ".venv", "build", "*.egg-info", "var", "artifacts", "__pycache__", ".*cache")
    shutil.copytree(ROOT, dst, ignore=shutil.ignore_patterns(*skip))
    return dst


def _check_installed(py: Path, tmp: Path) -> None:
    out = subprocess.run(
        [str(py), "-c", CHECK], cwd=tmp, env=_env(), capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr[-3000:]
    patrol = py.parent / "patrol"
    help_out = subprocess.run(
        [str(patrol), "--help"], cwd=tmp, env=_env(), capture_output=True, text=True, check=True
    )
    assert "import-osm" in help_out.stdout
    info = subprocess.run(
        [str(patrol), "info"], cwd=tmp, env=_env(), capture_output=True, text=True, check=True
    )
    assert "segments" in info.stdout


def test_built_wheel_carries_every_file_and_works(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    _pip("wheel", ".", "--no-deps", "-w", str(dist), "-q", cwd=_source(tmp_path))
    (wheel,) = dist.glob("*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    code = _repo_files("gis/**/*.py") | _repo_files("layers/**/*.py") | _repo_files("ui/**/*.py")
    code |= _repo_files("gis/**/*.sql") | {"app.py", "serve.py"}
    assert code - names == set()
    data_prefix = next(n.split("/share/")[0] for n in names if "/share/" in n)
    share = f"{data_prefix}/share/shichahai-patrol/"
    data = _repo_files("data/*.csv") | _repo_files("data/shichahai/*.geojson")
    data |= _repo_files("data/shichahai/*.json") | _repo_files("data/crowd/*.geojson")
    assert {share + d for d in data} - names == set()
    py = _venv(tmp_path / "venv")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(py),
            "install",
            "--no-deps",
            "-q",
            str(wheel),
        ],
        env=_env(),
        check=True,
    )
    _check_installed(py, tmp_path)


def test_pip_install_dot_works(tmp_path: Path) -> None:
    py = _venv(tmp_path / "venv")
    _pip("--python", str(py), "install", "--no-deps", "-q", ".", cwd=_source(tmp_path))
    _check_installed(py, tmp_path)
