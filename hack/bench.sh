#!/usr/bin/env bash
# make bench: the Docker layer's Go benchmarks, then hack/bench's figures
# (governor profiles vs direct calls; Environment convergence vs direct;
# the platform sample's compose files through berth vs docker-compose).
# Machines are shared and noisy: compare ratios from one run, not absolute
# times across runs.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "== go test -bench (internal/docker)"
go test -run '^$' -bench . -benchtime 1x ./internal/docker/
echo "== hack/bench docker"
go run ./hack/bench docker
echo "== hack/bench converge"
go run ./hack/bench converge --manager bin/manager
echo "== hack/bench compose"
go run ./hack/bench compose --manager bin/manager --berth bin/berth
