// Package apimetrics reads the API server's own request counts
// (apiserver_request_total) for one resource: what a run or a test cost
// the store, by request kind.
package apimetrics
