#!/usr/bin/env bash
# Set up .venv and start the app on the bundled Shichahai data (embedded GeoPackage store).
# On first start the store is seeded with the labelled synthetic demo history, the demo
# accounts (docs/app.md), the fictitious demo staff with this month's roster and districts
# (docs/people.md) and the synthetic crowd counts (docs/crowd.md), so every page has
# something to show.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
store="${PATROL_DATABASE_URL:-var/patrol.gpkg}"
if [[ "$store" != postgres* && ! -e "$store" ]]; then
  mkdir -p "$(dirname "$store")"
  .venv/bin/patrol demo-history --seed 1
  .venv/bin/patrol users seed-demo
  today="$(TZ=Asia/Shanghai date +%F)"  # the app's day is Beijing's
  .venv/bin/patrol staff import --demo
  .venv/bin/patrol roster make --month "${today:0:7}"
  .venv/bin/patrol plan day --draw-districts --date "$today" >/dev/null  # districts from today
  .venv/bin/patrol crowd demo
fi
exec .venv/bin/streamlit run serve.py "$@"
