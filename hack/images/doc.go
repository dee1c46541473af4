// Package images holds the build contexts of the real-server images that
// hack/build-debian-images.sh builds from Debian's packages, with no
// registry: berth-postgres:dev (postgres/) and berth-redis:dev (redis/). Its
// tests run those images against the real Docker Engine and check that they
// keep the official postgres and redis images' contract compose files rely
// on. `make images` must have built them first (`make test` does).
package images
