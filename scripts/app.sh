#!/usr/bin/env bash
# Set up .venv and start the app on the bundled Shichahai data (embedded GeoPackage store).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/streamlit run app.py "$@"
