#!/usr/bin/env bash
# Builds berth-testapp:dev, the image behind every Docker test and the demo,
# FROM scratch and without any registry: machines here cannot pull images, so
# the only base is the empty one and the only content is our static binary.
#
# Also builds berth-postgres:dev and berth-redis:dev from Debian's packages
# (hack/build-debian-images.sh; BERTH_DEBIAN_IMAGES=0 skips them).
#
# Usage: hack/build-images.sh
#   BERTH_TESTAPP_IMAGE  image to build (default berth-testapp:dev)
#   BERTH_IMAGES_FORCE=1 rebuild even when the image is up to date
#
# A warm run is a no-op: the image carries the label berth.dev/testapp-hash
# (sha256 of the binary and the Dockerfile), and a matching label skips the
# docker build. Needs Go and a Docker Engine (hack/ensure-docker.sh).
set -euo pipefail

image=${BERTH_TESTAPP_IMAGE:-berth-testapp:dev}
label=berth.dev/testapp-hash
root=$(cd "$(dirname "$0")/.." && pwd)
start_ns=$(date +%s%N)

# CI shells may not have Go's default install dir on PATH.
if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then
  PATH=$PATH:/usr/local/go/bin
fi
for tool in go docker; do
  command -v "$tool" >/dev/null 2>&1 || { echo "build-images: $tool not found on PATH" >&2; exit 1; }
done

# Build for the engine's architecture, which is not always the client's.
arch=$(docker version --format '{{.Server.Arch}}' 2>/dev/null) || {
  echo "build-images: the Docker Engine does not answer (run hack/ensure-docker.sh)" >&2
  exit 1
}

# The real-server images (berth-postgres:dev, berth-redis:dev) from
# Debian's packages; debootstrap needs root, so others get a warning and
# the tests that use those images fail naming them.
if [ "${BERTH_DEBIAN_IMAGES:-1}" = 1 ]; then
  if [ "$(id -u)" = 0 ]; then
    "$root/hack/build-debian-images.sh"
  else
    echo "build-images: not root: skipping berth-postgres:dev and berth-redis:dev (sudo hack/build-debian-images.sh)" >&2
  fi
fi

ctx=$(mktemp -d "${TMPDIR:-/tmp}/berth-testapp.XXXXXX")
trap 'rm -rf "$ctx"' EXIT

(cd "$root" && CGO_ENABLED=0 GOOS=linux GOARCH=$arch \
  go build -trimpath -ldflags "-s -w" -o "$ctx/testapp" ./hack/testapp) || {
  echo "build-images: go build ./hack/testapp failed" >&2
  exit 1
}

cat >"$ctx/Dockerfile" <<'EOF'
FROM scratch
COPY testapp /testapp
EXPOSE 8080
ENTRYPOINT ["/testapp"]
EOF

hash=$(cat "$ctx/testapp" "$ctx/Dockerfile" | sha256sum | cut -d' ' -f1)
old_id=$(docker image inspect --format '{{.Id}}' "$image" 2>/dev/null || true)
old_hash=""
if [ -n "$old_id" ]; then
  old_hash=$(docker image inspect --format "{{with .Config.Labels}}{{index . \"$label\"}}{{end}}" "$image")
fi
if [ "$old_hash" = "$hash" ] && [ "${BERTH_IMAGES_FORCE:-0}" != 1 ]; then
  echo "build-images: $image up to date (${hash:0:12})"
  exit 0
fi

# This engine (Debian's 20.10) comes with a CLI that has no buildx plugin;
# such a CLI refuses BuildKit, so use the classic builder, which handles a
# FROM scratch + COPY build alike. With buildx present, keep the default.
if ! docker buildx version >/dev/null 2>&1; then
  export DOCKER_BUILDKIT=0
fi
if ! docker build --label "$label=$hash" --tag "$image" "$ctx" >"$ctx/build.log" 2>&1; then
  cat "$ctx/build.log" >&2
  echo "build-images: docker build of $image failed" >&2
  exit 1
fi

new_id=$(docker image inspect --format '{{.Id}}' "$image")
# The previous build is now untagged; remove it (never forced) unless it is
# still tagged elsewhere or a container uses it, in which case it stays.
if [ -n "$old_id" ] && [ "$old_id" != "$new_id" ] &&
  [ "$(docker image inspect --format '{{len .RepoTags}}' "$old_id" 2>/dev/null)" = 0 ]; then
  docker rmi "$old_id" >/dev/null 2>&1 || true
fi

ms=$((($(date +%s%N) - start_ns) / 1000000))
size=$(docker image inspect --format '{{.Size}}' "$image")
printf 'build-images: built %s %s (%s, %d bytes) in %d.%03ds\n' \
  "$image" "${new_id:7:12}" "${hash:0:12}" "$size" $((ms / 1000)) $((ms % 1000))
