package controllers

import (
	"strings"
	"sync"

	"k8s.io/apimachinery/pkg/types"

	"berth.dev/berth/apis/v1alpha1"
	"berth.dev/berth/controllers/plan"
	"berth.dev/berth/internal/docker"
)

// failureMemory remembers, per Environment incarnation, the op that failed
// in its latest reconcile and how many reconciles in a row one failed (a
// plan.OpFailure), so that the status says why the Environment is stuck,
// not only the event record. A restart forgets it; the next attempt of
// the op learns it again.
type failureMemory struct {
	mu    sync.Mutex
	byEnv map[string]failureRecord
}

type failureRecord struct {
	uid     types.UID
	failure *plan.OpFailure
}

func newFailureMemory() *failureMemory {
	return &failureMemory{byEnv: map[string]failureRecord{}}
}

// get is env's latest failure, nil when its latest reconcile had none.
func (m *failureMemory) get(env *v1alpha1.Environment) *plan.OpFailure {
	m.mu.Lock()
	defer m.mu.Unlock()
	rec, ok := m.byEnv[env.Name]
	if !ok || rec.uid != env.UID {
		return nil
	}
	return rec.failure
}

// record folds one reconcile's executed ops into env's streak and returns
// the failure to show: the first op that failed, or nil.
func (m *failureMemory) record(env *v1alpha1.Environment, outcomes []outcome) *plan.OpFailure {
	var failed *outcome
	for i := range outcomes {
		if outcomes[i].err != nil {
			failed = &outcomes[i]
			break
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if failed == nil {
		delete(m.byEnv, env.Name)
		return nil
	}
	prev := m.byEnv[env.Name]
	if prev.uid != env.UID {
		prev = failureRecord{uid: env.UID}
	}
	f := plan.NextFailure(prev.failure, &failed.op, failed.err.Error(), imageMissing(failed.err))
	m.byEnv[env.Name] = failureRecord{uid: env.UID, failure: f}
	return f
}

func (m *failureMemory) forget(env string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.byEnv, env)
}

// imageMissing: Docker refused a create because the image is not there
// (removed after the pull, or never pulled under policy Never).
func imageMissing(err error) bool {
	return docker.IsImageNotPresent(err) || (docker.IsNotFound(err) && strings.Contains(strings.ToLower(err.Error()), "no such image"))
}
