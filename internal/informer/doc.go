// Package informer keeps an event-fed cache of every container, network and
// volume carrying this manager's identity, in the spirit of client-go's
// tools/cache: one list at start, then the Docker events stream keeps it
// current; a broken stream is resumed from its last event and reconciled
// with a relist, and the outages seen on the way are recorded. Reads from
// the cache cost no Docker call, so the reconciler's observe step is free;
// handlers learn which Environment an object belongs to and enqueue it.
//
// The Docker calls themselves (lists, inspects, the event stream) are
// internal/docker's, so they pass its governor like every other call.
package informer
