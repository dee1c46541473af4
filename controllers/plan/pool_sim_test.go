package plan

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"berth.dev/berth/apis/v1alpha1"
)

// The binding simulated: claimants and standbys are reconciled in random
// order from random stale snapshots of the store, each step is one
// write guarded by the resourceVersion it was decided on (the API
// server's precondition), and the run is cut off (a crash) after a
// random number of steps, then driven to a fixpoint from fresh reads.
// Destructive decisions (unbind, release, delete, fallback) are
// confirmed on fresh reads, as the controller confirms them with live
// GETs. Whatever the order: no standby ever serves two claimants, no
// claimant is ever served by two standbys, and at the end each claimant
// is bound both ways or converges on its own.

type simObj struct {
	env *v1alpha1.Environment
	rv  int
}

type simStore struct {
	objs    map[string]simObj
	history []map[string]simObj
	rv      int
	served  map[string]string   // standby -> the claimant it served
	servers map[string][]string // claimant -> standbys that served it
}

func newSimStore(t *testing.T, standbys, claimants int) *simStore {
	s := &simStore{objs: map[string]simObj{}, served: map[string]string{}, servers: map[string][]string{}}
	for i := 0; i < standbys; i++ {
		s.put(readyStandby(fmt.Sprintf("p-%d", i), i))
	}
	for i := 0; i < claimants; i++ {
		s.put(claimant(fmt.Sprintf("c%d", i)))
	}
	return s
}

func (s *simStore) put(env *v1alpha1.Environment) {
	s.rv++
	s.objs[env.Name] = simObj{env: env.DeepCopy(), rv: s.rv}
	snap := make(map[string]simObj, len(s.objs))
	for k, v := range s.objs {
		snap[k] = v
	}
	s.history = append(s.history, snap)
}

// update applies fn to name if it still has resourceVersion rv.
func (s *simStore) update(name string, rv int, fn func(*v1alpha1.Environment)) bool {
	cur, ok := s.objs[name]
	if !ok || cur.rv != rv {
		return false
	}
	env := cur.env.DeepCopy()
	fn(env)
	s.put(env)
	return true
}

func (s *simStore) remove(name string) {
	delete(s.objs, name)
	s.put(&v1alpha1.Environment{}) // a snapshot point; the empty name is ignored
	delete(s.objs, "")
}

func (s *simStore) view(r *rand.Rand, stale bool) map[string]simObj {
	if !stale || len(s.history) == 0 {
		return s.objs
	}
	return s.history[len(s.history)-1-r.IntN(min(3, len(s.history)))]
}

func standbysOf(v map[string]simObj) []*v1alpha1.Environment {
	var out []*v1alpha1.Environment
	for _, o := range v {
		if o.env.Spec.Standby != nil {
			out = append(out, o.env)
		}
	}
	return out
}

// stepClaimant runs one decision of claimant name; false when it did nothing.
func (s *simStore) stepClaimant(t *testing.T, r *rand.Rand, name string, stale bool) bool {
	pool := testPool(2)
	v := s.view(r, stale)
	c, ok := v[name]
	if !ok || c.env.Name == "" {
		return false
	}
	d := DecideClaim(c.env, standbysOf(v), pool)
	switch d.Action {
	case ClaimBind:
		return s.update(d.Standby.Name, v[d.Standby.Name].rv, func(e *v1alpha1.Environment) { claim(e, c.env) })
	case ClaimFinish:
		return s.update(name, c.rv, func(e *v1alpha1.Environment) { e.Spec.PoolRef.Standby = d.Standby.Name })
	case ClaimUnbind, ClaimFallback:
		fresh := s.objs[name]
		if DecideClaim(fresh.env, standbysOf(s.objs), pool).Action != d.Action {
			return false
		}
		if d.Action == ClaimUnbind {
			return s.update(name, fresh.rv, func(e *v1alpha1.Environment) { e.Spec.PoolRef.Standby = "" })
		}
		return s.update(name, fresh.rv, func(e *v1alpha1.Environment) { e.Spec = ClaimantSpec(e, pool) })
	}
	return false
}

func (s *simStore) stepStandby(t *testing.T, r *rand.Rand, name string, stale bool) bool {
	v := s.view(r, stale)
	sb, ok := v[name]
	if !ok || sb.env.Spec.Standby == nil {
		return false
	}
	var cl *v1alpha1.Environment
	if ref := sb.env.Spec.Standby.ClaimRef; ref != nil {
		if o, ok := v[ref.Name]; ok && o.env.Name != "" {
			cl = o.env
		}
	}
	a := DecideStandby(sb.env, cl, s.served[name] == "")
	switch a {
	case StandbyServe:
		who := cl.Name
		if prev := s.served[name]; prev != "" && prev != who {
			t.Fatalf("standby %s served %s, then %s", name, prev, who)
		}
		if s.served[name] == "" {
			s.served[name] = who
			s.servers[who] = append(s.servers[who], name)
			if len(s.servers[who]) > 1 {
				t.Fatalf("claimant %s served by %v", who, s.servers[who])
			}
		}
		return false
	case StandbyRelease, StandbyDelete:
		fresh, ok := s.objs[name]
		if !ok {
			return false
		}
		var fc *v1alpha1.Environment
		if o, ok := s.objs[fresh.env.Spec.Standby.ClaimRef.Name]; ok {
			fc = o.env
		}
		if DecideStandby(fresh.env, fc, s.served[name] == "") != a {
			return false
		}
		if a == StandbyDelete {
			s.remove(name)
			return true
		}
		return s.update(name, fresh.rv, func(e *v1alpha1.Environment) { e.Spec.Standby.ClaimRef = nil; e.Generation++ })
	}
	return false
}

func TestBindingSimulation(t *testing.T) {
	var served, ordinary int
	defer func() {
		// The run must exercise both outcomes, or it proves nothing.
		if served == 0 || ordinary == 0 {
			t.Errorf("%d claims served, %d converged on their own: the simulation is vacuous", served, ordinary)
		}
	}()
	for seed := uint64(0); seed < 2000; seed++ {
		r := rand.New(rand.NewPCG(seed, 7))
		nStandby, nClaim := 1+r.IntN(3), 1+r.IntN(4)
		s := newSimStore(t, nStandby, nClaim)
		var names []string
		for n := range s.objs {
			names = append(names, n)
		}
		step := func(stale bool) bool {
			n := names[r.IntN(len(names))]
			if o, ok := s.objs[n]; ok && o.env.Spec.Standby != nil {
				return s.stepStandby(t, r, n, stale)
			}
			return s.stepClaimant(t, r, n, stale)
		}
		crash := r.IntN(40)
		for i := 0; i < crash; i++ {
			step(true)
		}
		// Recovery: fresh reads until nothing changes.
		for round := 0; round < 200; round++ {
			changed := false
			for _, n := range names {
				if o, ok := s.objs[n]; ok && o.env.Spec.Standby != nil {
					changed = s.stepStandby(t, r, n, false) || changed
				} else {
					changed = s.stepClaimant(t, r, n, false) || changed
				}
			}
			if !changed {
				break
			}
		}
		served += len(s.served)
		for _, n := range names {
			o, ok := s.objs[n]
			if !ok {
				continue
			}
			e := o.env
			switch {
			case e.Spec.Standby != nil && e.Spec.Standby.ClaimRef != nil:
				c, ok := s.objs[e.Spec.Standby.ClaimRef.Name]
				if !ok || c.env.Spec.PoolRef.Standby != e.Name {
					t.Fatalf("seed %d: standby %s names %s, which does not name it back", seed, e.Name, e.Spec.Standby.ClaimRef.Name)
				}
			case e.Spec.PoolRef != nil:
				d := DecideClaim(e, standbysOf(s.objs), testPool(2))
				if d.Action != ClaimBound && d.Action != ClaimOrdinary {
					t.Fatalf("seed %d: claimant %s left at %v", seed, e.Name, d.Action)
				}
				if d.Action == ClaimOrdinary {
					ordinary++
				}
			}
		}
	}
}
