package manager

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"berth.dev/berth/apis/v1alpha1"
	"berth.dev/berth/controllers/plan"
)

// standbyOn is a converged, paused, unbound standby of pool p on host.
func standbyOn(name, host string) *v1alpha1.Environment {
	pool := &v1alpha1.EnvironmentPool{ObjectMeta: metav1.ObjectMeta{Name: "p"},
		Spec: v1alpha1.EnvironmentPoolSpec{Size: 1, Standby: v1alpha1.StandbyPaused,
			Template: v1alpha1.EnvironmentSpec{Services: []v1alpha1.Service{{Name: "web", Image: "x"}}}}}
	return &v1alpha1.Environment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Generation: 1},
		Spec:       plan.NewStandbySpec(pool),
		Status: v1alpha1.EnvironmentStatus{Host: host, Phase: v1alpha1.PhaseReady, ObservedGeneration: 1,
			Services: []v1alpha1.ServiceStatus{{Name: "web", State: string(plan.StatePaused), Ready: true}}},
	}
}

func TestPlaceClaimantGoesWhereItsPoolHasAFreeStandby(t *testing.T) {
	now := time.Unix(1700000000, 0)
	grace := 40 * time.Second
	fresh := now.Add(-time.Second)
	const gi = int64(1) << 30
	hosts := []HostBudget{
		{Name: "a", Budget: 8 * gi, Renewed: fresh}, // the most free
		{Name: "b", Budget: 2 * gi, Renewed: fresh},
		{Name: "c", Budget: 4 * gi, Renewed: now.Add(-time.Hour)}, // gone
	}
	claimed := standbyOn("p-claimed", "a")
	claimed.Spec.Standby.ClaimRef = &v1alpha1.ClaimRef{Name: "other"}
	free := freeStandbys([]*v1alpha1.Environment{
		standbyOn("p-1", "b"), standbyOn("p-2", "c"), standbyOn("p-unbound", ""), claimed,
	})
	if got := free["p"]; len(got) != 2 || got["b"] != 1 || got["c"] != 1 {
		t.Fatalf("free standbys %v, want b:1 c:1 (unbound and claimed ones do not count)", got)
	}
	// The one free standby on a live host is on b, though a has more room.
	if host, ok := placeClaimant("p", free, hosts, now, grace); !ok || host != "b" {
		t.Fatalf("first claimant placed on %q (%v), want b", host, ok)
	}
	// It is taken: the next claimant goes by free budget (c's standby is on
	// a host that is gone).
	if host, ok := placeClaimant("p", free, hosts, now, grace); !ok || host != "a" {
		t.Fatalf("second claimant placed on %q (%v), want a", host, ok)
	}
	// A pool without standbys: by free budget.
	if host, _ := placeClaimant("other", free, hosts, now, grace); host != "a" {
		t.Fatalf("claimant of a pool without standbys placed on %q, want a", host)
	}
	if _, ok := placeClaimant("p", free, []HostBudget{{Name: "c", Budget: gi, Renewed: now.Add(-time.Hour)}}, now, grace); ok {
		t.Fatal("placed with no live host")
	}
}
