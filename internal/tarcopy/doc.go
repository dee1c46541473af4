// Package tarcopy packs and unpacks the tar streams `berth cp` moves
// between the local filesystem and a container (through the manager and
// Docker's archive API, which needs no tar binary in the image).
//
// Unpacking treats the archive as hostile: it comes from a container.
// Entry names are checked (no absolute paths, no "..", one root), and every
// write goes through an os.Root, which refuses to leave the target
// directory by any path, including through a symlink an earlier entry
// planted.
package tarcopy
