// Package plan is the pure decision half of the Environment reconciler:
// from a desired Environment and what the Docker caches observed, it
// computes the desired container configuration and its spec hash, the
// ordered list of single Docker operations that moves the engine one step
// closer to the spec (or tears it down), and the status that describes what
// was observed.
//
// Nothing here talks to Docker, reads a clock or keeps state between calls:
// every function takes the observation and the current time as arguments,
// so the reconciler can be killed between any two operations and the next
// Compute on the new observation continues where the last one stopped. That
// also lets every rule be tested on tables, without containers.
package plan
