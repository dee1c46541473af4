// Package docker is berth's only door to the Docker Engine: the operations
// on containers, networks, volumes and images (ensure, create, start, exec,
// logs, usage, graceful teardown), the manager's identity and the ownership
// checks, deterministic names and subnets, the client's configuration, and
// the mapping of Docker's errors onto berth's sentinels.
//
// Every call goes through an internal/governor Governor (concurrency cap,
// token bucket, retries, metrics), to which this package hands its error
// classifier; internal/informer keeps the event-fed cache built on this
// Client. Stop and remove methods refuse objects without this manager's
// identity label, and nothing here ever removes an object by force: the seed
// this project grew from crashed Docker Desktop with unthrottled call storms
// and forced removals.
package docker
