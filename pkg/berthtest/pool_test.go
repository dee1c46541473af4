package berthtest

import (
	"context"
	"testing"
)

func TestPoolOptionMakesAClaimant(t *testing.T) {
	c := &config{}
	Pool("warm")(c)
	env, err := load(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	if env.Spec.PoolRef == nil || env.Spec.PoolRef.Name != "warm" || len(env.Spec.Services) != 0 {
		t.Fatalf("spec %+v: want a claimant of pool warm with no services", env.Spec)
	}
}
