// Package docker is berth's only door to the Docker Engine.
//
// Every Docker API call the manager makes goes through a Governor, which caps
// the calls in flight, spaces their starts with a token bucket, retries
// transient failures with backoff, and exports what it did as Prometheus
// metrics and a Stats snapshot. The seed this project grew from crashed
// Docker Desktop with unthrottled call storms and forced removals; this
// package is where both lessons live.
//
// The rest of berth (controllers, probes, dashboard) sees berth's own types:
// a Client with ensure/create/start/teardown methods that refuse to stop or
// remove anything without this manager's identity label, and an Informer that
// keeps an event-fed cache of every berth-owned container, network and volume
// so the reconciler's observe step costs no Docker call. Nothing here ever
// removes an object by force.
package docker
