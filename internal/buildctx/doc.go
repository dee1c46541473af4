// Package buildctx reads a Docker build context from the manager's host:
// the files `.dockerignore` leaves in, a content hash of them (the tag of
// the image berth builds) and the tar the daemon's classic builder takes.
// It imports no Docker package; the Docker layer sends what it produces.
package buildctx
