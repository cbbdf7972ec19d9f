#!/usr/bin/env bash
# Set up everything (Debian packages, .venv, the project) and run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/system-packages.sh
bash scripts/setup.sh
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy gis layers ui app.py
exec .venv/bin/python -m pytest "$@"
