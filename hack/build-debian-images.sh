#!/usr/bin/env bash
# Builds berth-postgres:dev and berth-redis:dev from Debian's packages, with
# no registry: machines here cannot pull postgres:16 or redis:7, so the base
# is a debootstrap'ed Debian (minbase + postgresql + redis-server) imported
# with `docker import`, and each image adds a small entrypoint of ours
# (hack/images/postgres, hack/images/redis) that behaves like the official
# image's for what compose files rely on.
#
# Usage: hack/build-debian-images.sh   (called by hack/build-images.sh)
#   BERTH_CACHE            cache dir outside the repo (default /var/cache/berth)
#   BERTH_DEBIAN_MIRROR    Debian mirror (default: the one apt uses here)
#   BERTH_IMAGES_FORCE=1   rebuild the images (the cached rootfs is kept)
#
# Three steps, each skipped when its output is current:
#   1. rootfs: debootstrap into $BERTH_CACHE/staging.*, trimmed, then kept as
#      $BERTH_CACHE/rootfs-bookworm-<hash>.tar, where <hash> covers the suite,
#      the package list and the functions below that shape the rootfs.
#   2. berth-debian-base:dev: `docker import` of that tar, labelled with <hash>.
#   3. berth-postgres:dev, berth-redis:dev: `docker build` FROM the base
#      (a local image: no pull), labelled with a hash of <hash> + their dir.
# Needs root (debootstrap chroots and creates device nodes) and a Docker Engine.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cache=${BERTH_CACHE:-/var/cache/berth}
suite=bookworm
packages=postgresql,redis-server
base_image=berth-debian-base:dev
label=berth.dev/content-hash
start_ns=$(date +%s%N)

log() { echo "build-debian-images: $*"; }
die() { echo "build-debian-images: $*" >&2; exit 1; }
elapsed() { local ms=$((($(date +%s%N) - start_ns) / 1000000)); printf '%d.%03ds' $((ms / 1000)) $((ms % 1000)); }

# The mirror apt already uses here (deb822 "URIs:" or one-line "deb URL
# bookworm"), so debootstrap reaches the same, reachable, archive.
apt_mirror() {
  local f uri
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    uri=$(awk '/^$/{u=""} /^URIs:/{u=$2} /^Suites:/{for(i=2;i<=NF;i++) if($i=="'"$suite"'" && u!=""){print u; exit}}' "$f")
    [ -n "$uri" ] && { echo "$uri"; return; }
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    uri=$(awk '$1=="deb" && $3=="'"$suite"'" {print $2; exit}' "$f")
    [ -n "$uri" ] && { echo "$uri"; return; }
  done
  echo http://deb.debian.org/debian
}

# Runs in the fresh rootfs: what the images need that Debian's packages
# do not do, and removal of what a container never uses.
shape_rootfs() {
  local r=$1 major
  major=$(ls "$r/usr/lib/postgresql")
  # Like the official image: initdb's sample config listens on every
  # interface; pg_hba (written by the entrypoint) asks remote clients for a password.
  sed -i "s/^#listen_addresses = 'localhost'/listen_addresses = '*'/" \
    "$r/usr/share/postgresql/$major/postgresql.conf.sample"
  grep -q "^listen_addresses = '\*'" "$r/usr/share/postgresql/$major/postgresql.conf.sample"
  # The package's own cluster (15/main) is not used: the entrypoint makes one in PGDATA.
  rm -rf "$r/etc/postgresql/$major" "$r/var/lib/postgresql/$major"
  # Size (measure with `du` on the tar): LLVM and its solver are a third of
  # the rootfs and serve only postgres' optional JIT, which turns itself off
  # when its provider library is absent (queries run the same, interpreted).
  rm -rf "$r/usr/lib/postgresql/$major/lib/bitcode" "$r/usr/lib/postgresql/$major"/lib/llvmjit*
  rm -f "$r"/usr/lib/*/libLLVM-*.so* "$r"/usr/lib/*/libz3.so*
  # Debian's multi-cluster tools (pg_wrapper, pg_ctlcluster) are perl and
  # pointless with one server per container: /usr/bin's client names point
  # at the binaries themselves, and perl beyond Essential perl-base goes.
  local link name
  for link in "$r"/usr/bin/*; do
    [ "$(readlink "$link")" = ../share/postgresql-common/pg_wrapper ] || continue
    name=${link##*/}
    rm -f "$link"
    [ -e "$r/usr/lib/postgresql/$major/bin/$name" ] && ln -s "../lib/postgresql/$major/bin/$name" "$link"
  done
  rm -rf "$r"/usr/share/perl "$r"/usr/lib/*/perl "$r"/usr/lib/*/libperl.so* "$r"/usr/share/i18n
  rm -rf "$r"/usr/share/doc/* "$r"/usr/share/man/* "$r"/usr/share/info/* \
    "$r"/usr/share/locale/* "$r"/usr/share/lintian "$r"/usr/share/bash-completion \
    "$r"/var/lib/apt/lists/* "$r"/var/cache/apt/* "$r"/var/cache/debconf/*-old \
    "$r"/var/log/*.log "$r"/var/log/apt/* "$r"/tmp/* "$r"/root/.bash_history
  # Docker mounts its own /dev, /proc and /sys.
  rm -rf "$r"/dev/* "$r"/proc/* "$r"/sys/*
}

build_rootfs() {
  local out=$1 staging rootfs mirror
  command -v debootstrap >/dev/null 2>&1 || {
    log "installing debootstrap"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null 2>&1 || {
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
    } || die "apt-get install debootstrap failed"
  }
  mirror=${BERTH_DEBIAN_MIRROR:-$(apt_mirror)}
  mkdir -p "$cache/debs"
  staging=$(mktemp -d "$cache/staging.XXXXXX")
  rootfs=$staging/rootfs
  log "debootstrap $suite ($packages) from $mirror into $rootfs"
  if ! debootstrap --variant=minbase --include="$packages" --cache-dir="$cache/debs" \
    "$suite" "$rootfs" "$mirror" >"$staging/debootstrap.log" 2>&1; then
    tail -n 30 "$staging/debootstrap.log" >&2
    cp "$staging/debootstrap.log" "$cache/debootstrap-failed.log"
    remove_staging "$staging"
    die "debootstrap failed (log: $cache/debootstrap-failed.log)"
  fi
  unmount_under "$rootfs"
  shape_rootfs "$rootfs"
  tar --numeric-owner --xattrs -C "$rootfs" -cf "$staging/rootfs.tar" .
  ls "$rootfs/usr/lib/postgresql" >"$out.pg-major"
  mv "$staging/rootfs.tar" "$out"
  remove_staging "$staging"
}

# debootstrap leaves nothing mounted on success, but a failed run can leave
# proc/sys mounted in the target: never delete through a mount.
unmount_under() {
  local m
  for m in $(awk -v p="$1/" 'index($2, p) == 1 {print $2}' /proc/mounts | sort -r); do
    umount "$m" 2>/dev/null || umount -l "$m" || true
  done
}

# Only ever below $cache, and only when nothing is mounted in it.
remove_staging() {
  local d=$1
  case $d in "$cache"/staging.*) ;; *) die "refusing to remove $d (not a staging dir of $cache)" ;; esac
  unmount_under "$d"
  if awk -v p="$d/" 'index($2, p) == 1 {found=1} END{exit !found}' /proc/mounts; then
    die "$d still has mounts; left in place"
  fi
  rm -rf --one-file-system "$d"
}

label_of() {
  docker image inspect --format "{{with .Config.Labels}}{{index . \"$label\"}}{{end}}" "$1" 2>/dev/null || true
}

# Removes the image a rebuild untagged, unless it is still tagged or used.
drop_old() {
  local old=$1 new=$2
  if [ -n "$old" ] && [ "$old" != "$new" ] &&
    [ "$(docker image inspect --format '{{len .RepoTags}}' "$old" 2>/dev/null)" = 0 ]; then
    docker rmi "$old" >/dev/null 2>&1 || true
  fi
}

[ "$(id -u)" = 0 ] || die "needs root (debootstrap); CI runs as root"
docker version >/dev/null 2>&1 || die "the Docker Engine does not answer (run hack/ensure-docker.sh)"
mkdir -p "$cache"

rootfs_hash=$({
  echo "$suite $packages"
  declare -f shape_rootfs build_rootfs
} | sha256sum | cut -c1-16)
tarball=$cache/rootfs-$suite-$rootfs_hash.tar

# 1. rootfs (the only step that needs the network: a few minutes cold).
if [ ! -s "$tarball" ]; then
  (
    # One builder at a time (two CI runs on one machine share the cache).
    exec 9>"$cache/.lock"
    flock 9
    # A run killed mid-debootstrap leaves its staging dir (we hold the lock,
    # so no other builder is using one).
    for d in "$cache"/staging.*; do
      [ -d "$d" ] && remove_staging "$d"
    done
    [ -s "$tarball" ] || build_rootfs "$tarball"
  )
  # Older rootfs tars are stale once this one exists.
  for f in "$cache"/rootfs-$suite-*.tar; do
    [ "$f" = "$tarball" ] || rm -f "$f" "$f.pg-major"
  done
  log "rootfs $tarball ($(du -sh "$tarball" | cut -f1)) after $(elapsed)"
fi
pg_major=$(cat "$tarball.pg-major")

# 2. the base image.
if [ "$(label_of "$base_image")" != "$rootfs_hash" ] || [ "${BERTH_IMAGES_FORCE:-0}" = 1 ]; then
  old=$(docker image inspect --format '{{.Id}}' "$base_image" 2>/dev/null || true)
  docker import --change "LABEL $label=$rootfs_hash" --change 'CMD ["bash"]' \
    --message "debootstrap $suite minbase + $packages (hack/build-debian-images.sh)" \
    "$tarball" "$base_image" >/dev/null || die "docker import of $tarball failed"
  drop_old "$old" "$(docker image inspect --format '{{.Id}}' "$base_image")"
  log "imported $base_image after $(elapsed)"
fi

# 3. the service images (see hack/build-images.sh for why the classic builder).
if ! docker buildx version >/dev/null 2>&1; then
  export DOCKER_BUILDKIT=0
fi
for name in postgres redis; do
  image=berth-$name:dev
  dir=$root/hack/images/$name
  hash=$({
    echo "$rootfs_hash $pg_major"
    (cd "$dir" && find . -type f | LC_ALL=C sort | xargs sha256sum)
  } | sha256sum | cut -c1-16)
  if [ "$(label_of "$image")" = "$hash" ] && [ "${BERTH_IMAGES_FORCE:-0}" != 1 ]; then
    log "$image up to date ($hash)"
    continue
  fi
  old=$(docker image inspect --format '{{.Id}}' "$image" 2>/dev/null || true)
  buildlog=$(mktemp "${TMPDIR:-/tmp}/berth-$name-build.XXXXXX")
  if ! docker build --build-arg "BASE=$base_image" --build-arg "PG_MAJOR=$pg_major" \
    --label "$label=$hash" --tag "$image" "$dir" >"$buildlog" 2>&1; then
    cat "$buildlog" >&2
    rm -f "$buildlog"
    die "docker build of $image failed"
  fi
  rm -f "$buildlog"
  drop_old "$old" "$(docker image inspect --format '{{.Id}}' "$image")"
  log "built $image ($hash, $(docker image inspect --format '{{.Size}}' "$image") bytes) after $(elapsed)"
done
log "done in $(elapsed)"
