#!/usr/bin/env bash
# Makes sure a headless-capable Chromium is on PATH for the dashboard's
# browser test, and prints its path. Uses an existing chromium,
# chromium-browser or google-chrome; otherwise installs Debian's chromium
# package (a browser build fetched from anywhere else cannot be downloaded
# on these machines).
set -euo pipefail

find_browser() {
  local b
  for b in chromium chromium-browser google-chrome google-chrome-stable; do
    if command -v "$b" >/dev/null 2>&1; then
      command -v "$b"
      return 0
    fi
  done
  return 1
}

if path=$(find_browser); then
  echo "$path"
  exit 0
fi

if [ "$(id -u)" != 0 ]; then
  echo "ensure-chromium: no Chromium on PATH, and installing it needs root" >&2
  exit 1
fi
echo "ensure-chromium: installing Debian's chromium (takes a while)" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq chromium >/dev/null

if ! path=$(find_browser); then
  echo "ensure-chromium: chromium installed but not found on PATH" >&2
  exit 1
fi
echo "$path"
