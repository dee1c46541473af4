// Package controllers holds the Environment controller: an informer on
// Environments and berth's Docker informer feed one rate-limited workqueue;
// each worker reconciles one Environment at a time by observing the caches,
// planning single Docker operations (package plan, pure), executing them
// through the Docker layer's governor, and writing status.
package controllers
