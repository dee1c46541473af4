package controllers

import (
	"slices"
	"strings"
	"sync"

	"k8s.io/apimachinery/pkg/types"

	"berth.dev/berth/apis/v1alpha1"
	"berth.dev/berth/controllers/plan"
	"berth.dev/berth/internal/docker"
)

// networkRefusals remembers, per Environment incarnation, the daemon's
// refusals to remove its network for active endpoints and the names of
// the containers its teardown removed. Neither is visible in the caches: a
// stale endpoint is listed nowhere, and a removed container is gone from
// the informer. Losing this on a manager restart costs one more refusal
// before the stale endpoints are cleared, never a forced removal.
type networkRefusals struct {
	mu    sync.Mutex
	byEnv map[string]refusalRecord
}

type refusalRecord struct {
	uid  types.UID
	hist plan.NetworkRemoval
}

func newNetworkRefusals() *networkRefusals {
	return &networkRefusals{byEnv: map[string]refusalRecord{}}
}

// get is env's history, or nil when no removal was refused.
func (r *networkRefusals) get(env *v1alpha1.Environment) *plan.NetworkRemoval {
	r.mu.Lock()
	defer r.mu.Unlock()
	rec, ok := r.byEnv[env.Name]
	if !ok || rec.uid != env.UID || rec.hist.Refusals == 0 {
		return nil
	}
	h := rec.hist
	h.Containers = slices.Clone(h.Containers)
	return &h
}

// record folds executed teardown ops into env's history.
func (r *networkRefusals) record(env *v1alpha1.Environment, outcomes []outcome) {
	r.mu.Lock()
	defer r.mu.Unlock()
	rec := r.byEnv[env.Name]
	if rec.uid != env.UID {
		rec = refusalRecord{uid: env.UID}
	}
	for _, o := range outcomes {
		switch o.op.Kind {
		case plan.OpRemoveContainer:
			if name := strings.TrimPrefix(o.op.ContainerName, "/"); name != "" && !slices.Contains(rec.hist.Containers, name) {
				rec.hist.Containers = append(rec.hist.Containers, name)
			}
		case plan.OpDisconnectStaleEndpoints:
			if o.err == nil {
				rec.hist.Disconnected = true
				rec.hist.RefusalsAfterDisconnect = 0
			}
		case plan.OpRemoveNetwork:
			if !docker.IsActiveEndpoints(o.err) {
				continue
			}
			if rec.hist.NetworkID != o.op.NetworkID {
				// Another network than the one refused before.
				rec.hist = plan.NetworkRemoval{Containers: rec.hist.Containers}
			}
			rec.hist.NetworkID = o.op.NetworkID
			rec.hist.Refusals++
			if rec.hist.Disconnected {
				rec.hist.RefusalsAfterDisconnect++
			}
			rec.hist.Message = o.err.Error()
		}
	}
	r.byEnv[env.Name] = rec
}

func (r *networkRefusals) forget(env string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.byEnv, env)
}
