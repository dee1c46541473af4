#!/usr/bin/env bash
# berth never force-removes a container, network or volume: the seed's
# Docker Desktop crashes came from force-removal storms. This fails the build
# if `Force: true` (or a force query flag) appears in non-test Go code.
set -euo pipefail
cd "$(dirname "$0")/.."
hits=$(git grep -nE 'Force:[[:space:]]*true|"force",[[:space:]]*"(1|true)"' -- '*.go' ':!*_test.go' || true)
if [ -n "$hits" ]; then
  echo "forced removal found outside tests:" >&2
  echo "$hits" >&2
  exit 1
fi
