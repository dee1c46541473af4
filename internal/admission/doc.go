// Package admission decides which Environments may have Docker objects:
// capacity-aware admission against the manager's memory budget. It is pure
// decision code (no Docker, no API calls): the controller hands it the
// Environments it knows with their memory requests, and a Meter's latest
// reading of the daemon's memory, and it answers admitted or queued, with
// the numbers.
//
// The rules:
//   - An Environment is admitted when the requests of everything admitted
//     plus its own fit the budget, and the daemon's memory use is not above
//     the pressure threshold.
//   - Admission is for life: an admitted Environment keeps it until it is
//     deleted (and holds its room until its teardown finished). It is
//     recorded in the store (condition Admitted=True), so a restarted
//     manager counts exactly those before admitting anything new.
//   - The queue is FIFO by class (user Environments before standbys, for
//     pools later), then creationTimestamp, then name. Its head blocks
//     those behind it: a small one never overtakes a large one that waits,
//     which would otherwise wait for ever under a stream of small ones.
//   - An Environment whose requests exceed the whole budget can never be
//     admitted; the API server refuses it, and one stored before the budget
//     was known is reported as such without blocking the queue.
package admission
