#!/usr/bin/env bash
# Set up .venv and start the app on the bundled Shichahai data (embedded GeoPackage store).
# On first start the store is seeded with the labelled synthetic demo history and the demo
# accounts (docs/app.md), so maps, heatmaps and reports have something to show.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
store="${PATROL_DATABASE_URL:-var/patrol.gpkg}"
if [[ "$store" != postgres* && ! -e "$store" ]]; then
  mkdir -p "$(dirname "$store")"
  .venv/bin/patrol demo-history --seed 1
  .venv/bin/patrol users seed-demo
fi
exec .venv/bin/streamlit run app.py "$@"
