// Package e2e holds berth's end-to-end suites: they start the real manager
// binary on a temporary data dir, drive it with the real berth CLI (and
// kubectl when installed), and check the real Docker Engine.
package e2e
