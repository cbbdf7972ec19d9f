"""``patrol --help`` and each command's ``--help`` load no heavy stack; the index matches."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from gis.cli import COMMANDS, build_parser, main

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("geopandas", "pandas", "folium", "streamlit", "osmnx", "pyrosm", "scipy", "shapely")

PROBE = """
import json, sys
from gis.cli import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
print(json.dumps(sorted(m for m in {heavy!r} if m in sys.modules)))
"""


def _loaded_by(*argv: str) -> list[str]:
    out = subprocess.run(
        [sys.executable, "-c", PROBE.format(heavy=HEAVY), *argv],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def test_top_level_help_imports_no_heavy_stack() -> None:
    assert _loaded_by("--help") == []


@pytest.mark.parametrize("command", ["map", "info", "import-osm", "route", "districts"])
def test_geography_commands_help_imports_no_heavy_stack(command: str) -> None:
    assert _loaded_by(command, "--help") == []


def test_the_index_lists_every_registered_command_with_its_own_help() -> None:
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    registered = {a.dest: a.help for a in sub._choices_actions}
    assert registered == {name: cmd.help for name, cmd in COMMANDS.items()}


def test_help_lists_every_command(capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    for name in COMMANDS:
        assert name in out


def test_unknown_command_is_refused(capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as info:
        main(["nonsense"])
    assert info.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def test_options_before_the_command(capsys: pytest.CaptureFixture) -> None:
    assert main(["-v", "info"]) == 0
    assert "segments" in capsys.readouterr().out
