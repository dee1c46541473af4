#!/usr/bin/env bash
# Compiles the platform sample's programs (config/samples/platform/{backend,
# auth,frontend}) into their own Docker build contexts, next to their
# Dockerfiles, so that `build: {context: ./backend}` in platform.yaml builds
# an image FROM scratch with no Go toolchain image (none can be pulled).
# Static binaries (CGO_ENABLED=0) for the Docker Engine's architecture.
# The binaries are gitignored; a warm run costs a cached go build.
#
# Usage: hack/build-platform.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dir=$root/config/samples/platform

if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then
  PATH=$PATH:/usr/local/go/bin
fi
# The engine's architecture, which is not always the client's; without an
# engine (a plain compile check), the host's.
arch=$(docker version --format '{{.Server.Arch}}' 2>/dev/null || go env GOARCH)

cd "$dir"
for svc in backend auth frontend; do
  CGO_ENABLED=0 GOOS=linux GOARCH=$arch go build -trimpath -ldflags "-s -w" -o "$svc/$svc" "./$svc" || {
    echo "build-platform: go build ./$svc failed" >&2
    exit 1
  }
done
echo "build-platform: compiled backend, auth, frontend ($arch) into config/samples/platform/*/"
