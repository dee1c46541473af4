// Package dashboard is berth's web dashboard: server-rendered pages for the
// Environments, one Environment and the Docker engine, kept live over
// server-sent events that are fed by a watch on the API server (through a
// shared informer), never by the browser polling.
//
// Everything it shows comes from caches that exist anyway (the Environment
// informer, the Docker informer, the governor's counters and the metrics
// registry), so an open page costs the manager almost nothing. The few things
// that cost a Docker call (logs, a container's memory use, the daemon's
// info) are read only when a page asks, through the same governed Docker
// layer as the controller.
//
// The dashboard mutates in two ways only, both through the API: deleting an
// Environment and asking for a graceful restart of one service (an
// annotation the reconciler acts on).
package dashboard
