// Package governor is berth's flow control for calls to the Docker Engine,
// in the spirit of client-go's util/flowcontrol: a concurrency cap with a
// share reserved for writes (lanes), a token bucket spacing call starts,
// profiles of limits (desktop, ci, adaptive), AIMD moving the limit under
// the adaptive profile, retries of transient failures with jittered
// backoff, and statistics as Prometheus metrics and a Stats snapshot.
//
// It knows nothing about Docker: the caller passes a Classifier that says
// which errors are transient, which sentinel they map to and when the daemon
// was unreachable. internal/docker wraps every Docker API call in Do or
// Stream.
package governor
