#!/usr/bin/env bash
# berth never force-removes a container, network or volume: the seed's
# Docker Desktop crashes came from force-removal storms. This fails the build
# if `Force: true` (or a force query flag) appears in non-test Go code.
#
# One use is allowed: a forced NetworkDisconnect of a stale endpoint (an
# endpoint whose container no longer exists, which Docker deletes only when
# asked with force). It removes no container, network or volume. The line
# must build a client.NetworkDisconnectOptions and say so in a comment
# containing "disconnect of a stale endpoint"; internal/docker's
# TestNoForcedRemovalInCode holds the same rule.
set -euo pipefail
cd "$(dirname "$0")/.."
hits=$(git grep -nE 'Force:[[:space:]]*true|"force",[[:space:]]*"(1|true)"' -- '*.go' ':!*_test.go' || true)
hits=$(printf '%s\n' "$hits" | grep -vE 'NetworkDisconnectOptions\{.*Force:[[:space:]]*true\}.*// disconnect of a stale endpoint' || true)
if [ -n "$hits" ]; then
  echo "forced removal found outside tests:" >&2
  echo "$hits" >&2
  exit 1
fi
