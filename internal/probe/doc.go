// Package probe runs the readiness probes of an Environment's services
// (exec, httpGet and tcpSocket) on behalf of the controller.
//
// Run performs one probe against one container and says whether it passed.
// Manager keeps one worker per probed container, runs its probe on the
// probe's period, applies the success and failure thresholds the way the
// kubelet does, caches the resulting readiness, and tells the controller
// when an Environment's readiness picture changed, so a reconcile reads
// readiness from memory instead of probing on its hot path.
//
// The package never talks to Docker itself: exec probes go through an
// Execer, which the controller backs with the governed Docker client, so
// probe traffic is rate-limited like every other read.
package probe
