#!/usr/bin/env bash
# Makes sure a real kube-apiserver and an etcd are available for the
# "Kubernetes API" tests, and prints the kube-apiserver's path as its last
# line of output.
#
# No binary release can be downloaded on these machines, so kube-apiserver is
# built from the k8s.io/kubernetes module (Go module proxy) and etcd is taken
# from Debian's etcd-server package (unpacked with dpkg -x, not installed).
# Both are cached by version outside the repository:
#
#   $BERTH_CACHE/kube/<version>/bin/kube-apiserver
#   $BERTH_CACHE/kube/<version>/bin/etcd        (symlink into the unpacked .deb)
#   $BERTH_CACHE/kube/<version>/env             (BERTH_KUBE_APISERVER=, BERTH_ETCD=)
#
# BERTH_CACHE defaults to /var/cache/berth; BERTH_KUBE_VERSION to v1.37.2.
# A warm run only checks that the files exist. A cold build takes about ten
# minutes on two idle cores (much longer under load) and runs at nice 19 with
# its own GOCACHE under the cache directory, so the shared Go build cache is
# not filled with Kubernetes objects.
#
# Usage: hack/ensure-kube-apiserver.sh [--env]
#   --env  print shell export lines for BERTH_KUBE_APISERVER and BERTH_ETCD
#          instead of the bare path.
set -euo pipefail

version=${BERTH_KUBE_VERSION:-v1.37.2}
cache=${BERTH_CACHE:-/var/cache/berth}/kube
dir=$cache/$version
apiserver=$dir/bin/kube-apiserver
etcd=$dir/bin/etcd

print_result() {
  if [ "${1:-}" = --env ]; then
    echo "export BERTH_KUBE_APISERVER=$apiserver"
    echo "export BERTH_ETCD=$etcd"
  else
    echo "$apiserver"
  fi
}

ready() { [ -x "$apiserver" ] && [ -x "$etcd" ] && [ -f "$dir/env" ]; }

if ready; then
  print_result "${1:-}"
  exit 0
fi

mkdir -p "$dir/bin"
# One builder at a time: a second caller waits for the first and then finds
# the binaries in place.
exec 9>"$dir/.lock"
flock 9
if ready; then
  print_result "${1:-}"
  exit 0
fi

log() { echo "ensure-kube-apiserver: $*" >&2; }

# moddir prints the module cache directory of MODULE@VERSION, downloading it
# from the module proxy when needed ("" when the proxy has no such module).
moddir() {
  go mod download -json "$1" 2>/dev/null | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p' || true
}

ensure_etcd() {
  [ -x "$etcd" ] && return 0
  local tmp deb
  tmp=$(mktemp -d "$dir/etcd-deb.XXXXXX")
  log "fetching Debian's etcd-server package"
  if ! (cd "$tmp" && apt-get download -qq etcd-server >/dev/null 2>&1); then
    apt-get update -qq >/dev/null
    (cd "$tmp" && apt-get download -qq etcd-server >/dev/null)
  fi
  deb=$(ls "$tmp"/etcd-server_*.deb)
  rm -rf "$dir/etcd-server"
  dpkg -x "$deb" "$dir/etcd-server"
  rm -rf "$tmp"
  ln -sfn ../etcd-server/usr/bin/etcd "$etcd"
  "$etcd" --version >/dev/null
}

build_apiserver() {
  [ -x "$apiserver" ] && return 0
  local minor src build staging m d start
  minor=${version#v1.}
  minor=${minor%%.*}
  start=$(date +%s)
  export GOWORK=off GOTOOLCHAIN=local
  export GOCACHE=$cache/gocache
  export GOFLAGS="-mod=mod -buildvcs=false -p=1"
  build=$dir/build
  rm -rf "$build"
  log "downloading k8s.io/kubernetes@$version"
  src=$(moddir "k8s.io/kubernetes@$version")
  if [ -z "$src" ]; then
    log "the Go module proxy ($(go env GOPROXY)) has no k8s.io/kubernetes@$version"
    exit 1
  fi
  cp -r "$src" "$build"
  chmod -R u+w "$build"
  cd "$build"
  # The module zip has neither staging/ nor a usable vendor/: fill staging/
  # from the published k8s.io/* modules of the matching version (v0.<minor>.<patch>).
  rm -rf vendor go.work go.work.sum
  staging=v0.${version#v1.}
  for m in $(grep -E '=> \./staging' go.mod | awk '{print $1}'); do
    # sample-cli-plugin and sample-controller are not published; the
    # apiserver does not need them.
    d=$(moddir "$m@$staging")
    if [ -n "$d" ] && [ -d "$d" ]; then
      mkdir -p "staging/src/$(dirname "$m")"
      cp -r "$d" "staging/src/$m"
    fi
  done
  chmod -R u+w staging
  log "building kube-apiserver $version (nice 19, GOCACHE=$GOCACHE)"
  local ld="-s -w -X k8s.io/component-base/version.gitVersion=$version -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor"
  nice -n 19 go build -ldflags "$ld" -o "$dir/bin/kube-apiserver.tmp" ./cmd/kube-apiserver
  mv "$dir/bin/kube-apiserver.tmp" "$apiserver"
  cd /
  rm -rf "$build"
  log "built kube-apiserver in $(($(date +%s) - start)) s"
}

ensure_etcd
build_apiserver
"$apiserver" --version >&2
printf 'BERTH_KUBE_APISERVER=%s\nBERTH_ETCD=%s\n' "$apiserver" "$etcd" >"$dir/env"
print_result "${1:-}"
