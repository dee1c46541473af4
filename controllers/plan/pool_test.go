package plan

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"berth.dev/berth/apis/v1alpha1"
)

func testPool(size int32) *v1alpha1.EnvironmentPool {
	return &v1alpha1.EnvironmentPool{
		ObjectMeta: metav1.ObjectMeta{Name: "p", Generation: 1},
		Spec: v1alpha1.EnvironmentPoolSpec{Size: size, Standby: v1alpha1.StandbyPaused,
			Template: v1alpha1.EnvironmentSpec{Services: []v1alpha1.Service{{Name: "web", Image: "berth-testapp:dev"}}}},
	}
}

// readyStandby is a converged, paused, unbound standby.
func readyStandby(name string, age int) *v1alpha1.Environment {
	return &v1alpha1.Environment{
		ObjectMeta: metav1.ObjectMeta{Name: name, UID: types.UID("uid-" + name), Generation: 1,
			CreationTimestamp: metav1.NewTime(time.Unix(int64(1000+age), 0)),
			Annotations:       map[string]string{v1alpha1.AnnotationPoolTemplate: TemplateHash(testPool(2))}},
		Spec: NewStandbySpec(testPool(2)),
		Status: v1alpha1.EnvironmentStatus{Phase: v1alpha1.PhaseReady, ObservedGeneration: 1,
			Services: []v1alpha1.ServiceStatus{{Name: "web", State: string(StatePaused), Ready: true}}},
	}
}

func claimant(name string) *v1alpha1.Environment {
	return &v1alpha1.Environment{
		ObjectMeta: metav1.ObjectMeta{Name: name, UID: types.UID("uid-" + name), Generation: 1},
		Spec:       v1alpha1.EnvironmentSpec{PoolRef: &v1alpha1.PoolRef{Name: "p"}},
	}
}

func claim(s, c *v1alpha1.Environment) {
	s.Spec.Standby.ClaimRef = &v1alpha1.ClaimRef{Name: c.Name, UID: string(c.UID)}
	s.Generation++
}

func TestDecideClaimBindsTheOldestFreeStandby(t *testing.T) {
	s1, s2 := readyStandby("p-new", 5), readyStandby("p-old", 1)
	d := DecideClaim(claimant("a"), []*v1alpha1.Environment{s1, s2}, testPool(2))
	if d.Action != ClaimBind || d.Standby.Name != "p-old" {
		t.Fatalf("decision %+v, want bind p-old", d)
	}
}

func TestDecideClaimSkipsUnavailableStandbys(t *testing.T) {
	converging := readyStandby("p-a", 1)
	converging.Status.Phase = v1alpha1.PhaseProgressing
	notPaused := readyStandby("p-b", 2)
	notPaused.Status.Services[0].State = string(StateRunning) // Ready, pause not yet observed
	stale := readyStandby("p-c", 3)
	stale.Generation = 2
	taken := readyStandby("p-d", 4)
	claim(taken, claimant("other"))
	deleting := readyStandby("p-e", 5)
	deleting.DeletionTimestamp = &metav1.Time{Time: time.Now()}
	d := DecideClaim(claimant("a"), []*v1alpha1.Environment{converging, notPaused, stale, taken, deleting}, testPool(2))
	if d.Action != ClaimFallback {
		t.Fatalf("decision %+v, want fallback (no standby available)", d)
	}
}

func TestDecideClaimBindsOnlyAStandbyOnItsOwnHost(t *testing.T) {
	onB, onA, unbound := readyStandby("p-b", 1), readyStandby("p-a", 2), readyStandby("p-none", 0)
	onB.Status.Host, onA.Status.Host = "host-b", "host-a"
	c := claimant("a")
	c.Status.Host = "host-a"
	d := DecideClaim(c, []*v1alpha1.Environment{onB, unbound, onA}, testPool(2))
	if d.Action != ClaimBind || d.Standby.Name != "p-a" {
		t.Fatalf("decision %+v, want bind p-a (the oldest, p-b, is on another host)", d)
	}
	if d := DecideClaim(c, []*v1alpha1.Environment{onB, unbound}, testPool(2)); d.Action != ClaimFallback {
		t.Fatalf("decision %+v, want fallback (no standby on host-a)", d)
	}
	// A standby of another host that names the claimant already (an older
	// manager bound it) stays bound: the binding is not undone.
	claim(onB, c)
	if d := DecideClaim(c, []*v1alpha1.Environment{onB, onA}, testPool(2)); d.Action != ClaimFinish || d.Standby.Name != "p-b" {
		t.Fatalf("decision %+v, want finish p-b", d)
	}
	// Without hosts (a controller serving all), every standby is a match.
	if d := DecideClaim(claimant("x"), []*v1alpha1.Environment{unbound}, testPool(2)); d.Action != ClaimBind {
		t.Fatalf("decision %+v, want bind p-none", d)
	}
}

func TestNewStandbySpecDefaultsTheMode(t *testing.T) {
	p := testPool(1)
	p.Spec.Standby = "" // a pool stored by a cluster, whose CRD defaults nothing
	if got := NewStandbySpec(p).Standby; got.Mode != v1alpha1.StandbyPaused || got.Pool != "p" {
		t.Fatalf("standby %+v, want pool p mode Paused", got)
	}
	p.Spec.Standby = v1alpha1.StandbyRunning
	if got := NewStandbySpec(p).Standby.Mode; got != v1alpha1.StandbyRunning {
		t.Fatalf("mode %q, want Running", got)
	}
}

func TestClaimantSpecKeepsTheClaimantsHost(t *testing.T) {
	c := claimant("a")
	c.Spec.Host = "host-b"
	pool := testPool(1)
	pool.Spec.Template.Host = "host-a"
	if got := ClaimantSpec(c, pool); got.Host != "host-b" || len(got.Services) != 1 {
		t.Fatalf("fallback spec host %q services %d, want host-b and the template's service", got.Host, len(got.Services))
	}
	if got := ClaimantSpec(claimant("x"), pool).Host; got != "" {
		t.Fatalf("an unpinned claimant's fallback pinned to %q", got)
	}
}

func TestDecideClaimWaitsForAMissingPool(t *testing.T) {
	if d := DecideClaim(claimant("a"), nil, nil); d.Action != ClaimWaitPool {
		t.Fatalf("decision %+v, want wait for the pool", d)
	}
}

func TestDecideClaimOrdinaryOnceTheTemplateIsCopied(t *testing.T) {
	c := claimant("a")
	c.Spec = ClaimantSpec(c, testPool(2))
	if d := DecideClaim(c, []*v1alpha1.Environment{readyStandby("p-x", 1)}, testPool(2)); d.Action != ClaimOrdinary {
		t.Fatalf("decision %+v, want ordinary", d)
	}
	if c.Spec.PoolRef == nil || c.Spec.PoolRef.Name != "p" || len(c.Spec.Services) != 1 {
		t.Fatalf("claimant spec %+v lost its pool reference or services", c.Spec)
	}
}

// Every crash point of one binding, seen from both sides.
func TestBindingCrashPoints(t *testing.T) {
	pool := testPool(2)
	cases := []struct {
		name      string
		setup     func(s, c *v1alpha1.Environment) *v1alpha1.Environment // returns the claimant as stored (nil: gone)
		pristine  bool
		claim     ClaimAction
		standby   StandbyAction
		bothNames bool
	}{
		{"before step 1", func(s, c *v1alpha1.Environment) *v1alpha1.Environment { return c },
			true, ClaimBind, StandbyIdle, false},
		{"after step 1", func(s, c *v1alpha1.Environment) *v1alpha1.Environment { claim(s, c); return c },
			true, ClaimFinish, StandbyWait, false},
		{"after step 1, claimant deleted meanwhile", func(s, c *v1alpha1.Environment) *v1alpha1.Environment { claim(s, c); return nil },
			true, -1, StandbyRelease, false},
		{"after step 1, claimant recreated under its name", func(s, c *v1alpha1.Environment) *v1alpha1.Environment {
			claim(s, c)
			c.UID = "uid-new"
			return c
		}, true, ClaimFallback, StandbyRelease, false},
		{"after step 1, claimant fell back (stale cache)", func(s, c *v1alpha1.Environment) *v1alpha1.Environment {
			claim(s, c)
			c.Spec = ClaimantSpec(c, pool)
			return c
		}, true, ClaimOrdinary, StandbyRelease, false},
		{"after step 1, claimant bound elsewhere (stale cache)", func(s, c *v1alpha1.Environment) *v1alpha1.Environment {
			claim(s, c)
			c.Spec.PoolRef.Standby = "p-other"
			return c
		}, true, ClaimUnbind, StandbyRelease, false},
		{"after step 1, claimant being deleted", func(s, c *v1alpha1.Environment) *v1alpha1.Environment {
			claim(s, c)
			c.DeletionTimestamp = &metav1.Time{Time: time.Now()}
			return c
		}, true, -1, StandbyRelease, false},
		{"after step 2, before the unpause", func(s, c *v1alpha1.Environment) *v1alpha1.Environment {
			claim(s, c)
			c.Spec.PoolRef.Standby = s.Name
			return c
		}, true, ClaimBound, StandbyServe, true},
		{"after the unpause", func(s, c *v1alpha1.Environment) *v1alpha1.Environment {
			claim(s, c)
			c.Spec.PoolRef.Standby = s.Name
			return c
		}, false, ClaimBound, StandbyServe, true},
		{"served, claimant deleting", func(s, c *v1alpha1.Environment) *v1alpha1.Environment {
			claim(s, c)
			c.Spec.PoolRef.Standby = s.Name
			c.DeletionTimestamp = &metav1.Time{Time: time.Now()}
			return c
		}, false, -1, StandbyDelete, true},
		{"served, claimant gone without deleting it", func(s, c *v1alpha1.Environment) *v1alpha1.Environment {
			claim(s, c)
			return nil
		}, false, -1, StandbyDelete, false},
		{"claimant names a standby that was released", func(s, c *v1alpha1.Environment) *v1alpha1.Environment {
			c.Spec.PoolRef.Standby = s.Name
			return c
		}, true, ClaimUnbind, StandbyIdle, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, c := readyStandby("p-1", 1), claimant("a")
			stored := tc.setup(s, c)
			if stored != nil && stored.DeletionTimestamp == nil && tc.claim >= 0 {
				if d := DecideClaim(stored, []*v1alpha1.Environment{s}, pool); d.Action != tc.claim {
					t.Errorf("claimant decides %v, want %v", d.Action, tc.claim)
				}
			}
			if a := DecideStandby(s, stored, tc.pristine); a != tc.standby {
				t.Errorf("standby decides %v, want %v", a, tc.standby)
			}
			if got := stored != nil && ClaimedBy(s, stored) && stored.Spec.PoolRef.Standby == s.Name; got != tc.bothNames {
				t.Errorf("both sides name each other: %v, want %v", got, tc.bothNames)
			}
		})
	}
}

func TestStandbyServingWaitsForTheUnpauseAndTheGeneration(t *testing.T) {
	s := readyStandby("p-1", 1)
	claim(s, claimant("a")) // generation 2, status still of generation 1
	if StandbyServing(s) {
		t.Fatal("serving before the standby observed its claim")
	}
	s.Status.ObservedGeneration = s.Generation
	if StandbyServing(s) {
		t.Fatal("serving while still paused")
	}
	s.Status.Services[0].State = string(StateRunning)
	if !StandbyServing(s) {
		t.Fatal("not serving once unpaused and observed")
	}
	c := claimant("a")
	c.Spec.PoolRef.Standby = s.Name
	st := MirrorStatus(c, s, metav1.Now())
	if st.Phase != v1alpha1.PhaseReady || st.ObservedGeneration != c.Generation || len(st.Services) != 1 {
		t.Fatalf("mirrored status %+v", st)
	}
	s.Status.Services[0].State = string(StatePaused)
	if st := MirrorStatus(c, s, metav1.Now()); st.Phase == v1alpha1.PhaseReady || st.Conditions[0].Reason != ReasonUnpausingStandby {
		t.Fatalf("claimant of a paused standby: %+v", st)
	}
}

func TestDecidePoolRefillsAndTrims(t *testing.T) {
	pool := testPool(2)
	bound := readyStandby("p-b", 0)
	claim(bound, claimant("a"))
	d := DecidePool(pool, []*v1alpha1.Environment{bound, readyStandby("p-1", 1)})
	if d.Create != 1 || len(d.Delete) != 0 || d.Status.Bound != 1 || d.Status.Available != 1 {
		t.Fatalf("decision %+v, want one more standby", d)
	}
	pool.Spec.Size = 1
	d = DecidePool(pool, []*v1alpha1.Environment{readyStandby("p-1", 1), readyStandby("p-2", 2), readyStandby("p-3", 3)})
	if d.Create != 0 || len(d.Delete) != 2 || d.Delete[0] != "p-3" || d.Delete[1] != "p-2" {
		t.Fatalf("decision %+v, want the two newest deleted", d)
	}
	d = DecidePool(nil, []*v1alpha1.Environment{bound, readyStandby("p-1", 1)})
	if len(d.Delete) != 1 || d.Delete[0] != "p-1" {
		t.Fatalf("pool gone: %+v, want its unbound standby deleted and the bound one kept", d)
	}
}

func TestStandbyAvailableWithACompletedJob(t *testing.T) {
	s := readyStandby("p-1", 1)
	s.Status.Services = append(s.Status.Services, v1alpha1.ServiceStatus{Name: "migrate", State: string(StateExited), Ready: true})
	if !StandbyAvailable(s) {
		t.Fatal("a paused standby with a completed one-shot service is not available")
	}
	s.Status.Services[0].State = string(StateRunning)
	if StandbyAvailable(s) {
		t.Fatal("available before its running service was paused")
	}
}

// A template change: unbound standbys of the old template are neither
// claimed nor counted, and are replaced.
func TestStaleStandbysAreReplacedNotClaimed(t *testing.T) {
	pool := testPool(1)
	old := readyStandby("p-old", 1)
	pool.Spec.Template.Services[0].Image = "berth-testapp:v2"
	if TemplateHash(pool) == old.Annotations[v1alpha1.AnnotationPoolTemplate] {
		t.Fatal("a template change kept the hash")
	}
	if d := DecideClaim(claimant("a"), []*v1alpha1.Environment{old}, pool); d.Action != ClaimFallback {
		t.Fatalf("claim of a stale standby: %+v", d)
	}
	d := DecidePool(pool, []*v1alpha1.Environment{old})
	if d.Create != 1 || len(d.Delete) != 1 || d.Delete[0] != "p-old" || d.Status.Available != 0 {
		t.Fatalf("decision %+v, want the stale standby replaced", d)
	}
	bound := readyStandby("p-bound", 2)
	claim(bound, claimant("b"))
	if d := DecidePool(pool, []*v1alpha1.Environment{bound}); len(d.Delete) != 0 || d.Status.Bound != 1 {
		t.Fatalf("a bound standby of the old template was touched: %+v", d)
	}
}
