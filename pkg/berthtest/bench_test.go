package berthtest

import (
	"context"
	"testing"
)

// BenchmarkNewAndClose is one test's cost on top of its own work: create
// a one-service Environment, wait for Ready (an HTTP probe), tear it down
// gracefully and wait until it is gone, through the binary's shared
// manager (started once, before the timer).
func BenchmarkNewAndClose(b *testing.B) {
	if _, err := client(context.Background(), b.Logf); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		env, err := New(context.Background(), Spec(appSpec()))
		if err != nil {
			b.Fatal(err)
		}
		if err := env.Close(); err != nil {
			b.Fatal(err)
		}
	}
}
