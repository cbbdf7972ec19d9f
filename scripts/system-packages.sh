#!/usr/bin/env bash
# Debian packages the full test suite needs: python3-venv (.venv), PostGIS (store tests),
# Chromium and CJK fonts (browser tests), nginx-light (the test of deploy/nginx.conf).
# Installs what is missing when run as root; otherwise says what to install.
set -euo pipefail
pkgs=(python3-venv postgresql-15 postgresql-15-postgis-3 chromium fonts-noto-cjk nginx-light)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -eq 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "missing Debian packages: ${missing[*]} (sudo apt-get install ${missing[*]});" \
       "the PostGIS and browser tests will be skipped" >&2
fi
