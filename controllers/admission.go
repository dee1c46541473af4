package controllers

import (
	"context"
	"fmt"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"berth.dev/berth/apis/v1alpha1"
	"berth.dev/berth/controllers/plan"
	"berth.dev/berth/internal/admission"
)

// EventAdmitted and EventQueued are the event reasons of admission.
const (
	EventAdmitted = "Admitted"
	EventQueued   = "Queued"
)

// defaultMeterInterval is how often the daemon's memory is sampled when
// Options.MeterInterval is zero: pressure builds over seconds, and a
// sample is one file read (or, for a remote daemon, a few Docker reads).
const defaultMeterInterval = 5 * time.Second

// admitted reports whether the store records env's admission.
func admitted(env *v1alpha1.Environment) bool {
	return meta.IsStatusConditionTrue(env.Status.Conditions, v1alpha1.ConditionAdmitted)
}

// admit is the gate before an Environment gets any Docker object. It
// returns the Environment to go on with (its admission written to the
// store first, so a crash right after cannot create containers that no
// admission accounts for) and whether to go on: false leaves it Queued.
func (c *Controller) admit(ctx context.Context, env *v1alpha1.Environment) (*v1alpha1.Environment, bool, error) {
	if c.opts.Admission == nil || admitted(env) {
		return env, true, nil
	}
	// env is the lister's copy or, while the lister lags behind this
	// controller's own writes, the last one written (writtenMemory): an
	// admission is written, and its event recorded, once.
	now := time.Now()
	cands, err := c.admissionCandidates()
	if err != nil {
		return nil, false, err
	}
	d := c.opts.Admission.Decide(cands, env.Name)
	for _, name := range d.Newly {
		c.enqueue(name)
	}
	status := env.Status.DeepCopy()
	cond := metav1.Condition{
		Type: v1alpha1.ConditionAdmitted, Status: metav1.ConditionFalse, Reason: d.Reason, Message: d.Message,
		ObservedGeneration: env.Generation, LastTransitionTime: metav1.NewTime(now.Truncate(time.Second)),
	}
	var events []v1alpha1.EnvironmentEvent
	if d.Admitted {
		cond.Status = metav1.ConditionTrue
		if c.runsContainers(env) {
			cond.Reason, cond.Message = admission.ReasonAlreadyRunning, "it had containers before admission was recorded; "+d.Message
		}
		events = append(events, v1alpha1.EnvironmentEvent{
			Time: metav1.NewTime(now.Truncate(time.Second)), Type: plan.EventNormal, Reason: EventAdmitted, Message: cond.Message,
		})
	} else {
		if status.Phase != v1alpha1.PhaseQueued {
			events = append(events, v1alpha1.EnvironmentEvent{
				Time: metav1.NewTime(now.Truncate(time.Second)), Type: plan.EventNormal, Reason: EventQueued, Message: d.Message,
			})
		}
		status.Phase = v1alpha1.PhaseQueued
		status.ObservedGeneration = env.Generation
		if status.Ready == "" {
			status.Ready = fmt.Sprintf("0/%d", len(env.Spec.Services))
		}
	}
	if status.Conditions == nil {
		status.Conditions = []metav1.Condition{}
	}
	meta.SetStatusCondition(&status.Conditions, cond)
	latest, err := c.writeStatusLatest(ctx, env, *status, events)
	if err != nil {
		return nil, false, fmt.Errorf("admission of %s: %w", env.Name, err)
	}
	if latest == nil || !d.Admitted || latest.DeletionTimestamp != nil {
		// Gone, queued, or deleted meanwhile (the write was retried on
		// the stored object): the event for it enqueues it.
		return latest, false, nil
	}
	c.log.Info("admitted", "environment", env.Name, "reason", cond.Reason, "requests", d.Requests, "free", d.Free, "budget", d.Budget)
	return latest.DeepCopy(), true, nil
}

// admissionCandidates is every stored Environment as admission sees it,
// from the caches only.
func (c *Controller) admissionCandidates() ([]admission.Candidate, error) {
	envs, err := c.lister.List(everything)
	if err != nil {
		// Never decide on a partial view: the ledger would forget
		// admissions of Environments it did not see.
		return nil, fmt.Errorf("list environments for admission: %w", err)
	}
	out := make([]admission.Candidate, 0, len(envs))
	for _, env := range envs {
		if !c.mine(env) {
			continue // another host's budget
		}
		req := c.requests.of(env, c.opts.Plan)
		out = append(out, admission.Candidate{
			Name:     env.Name,
			UID:      string(env.UID),
			Requests: req,
			Created:  env.CreationTimestamp.Time,
			Class:    admissionClass(env),
			// Containers without a recorded admission are an older
			// berth's: they use memory now, so they count.
			Admitted: admitted(env) || c.runsContainers(env),
			Deleting: env.DeletionTimestamp != nil,
		})
	}
	c.requests.keep(envs)
	return out, nil
}

// requestBook caches each Environment's memory requests by UID and
// generation: every admission decision and meter tick walks the whole
// store, and only a spec change changes its requests.
type requestBook struct {
	mu    sync.Mutex
	byUID map[types.UID]requestEntry
}

type requestEntry struct {
	generation int64
	bytes      int64
}

func (b *requestBook) of(env *v1alpha1.Environment, opts plan.Options) int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	if e, ok := b.byUID[env.UID]; ok && e.generation == env.Generation {
		return e.bytes
	}
	// An unparsable quantity is refused by validation before it is
	// stored; should one get through, the plan reports it and it counts
	// as nothing here.
	req, _ := plan.MemoryRequests(&env.Spec, opts)
	if b.byUID == nil {
		b.byUID = map[types.UID]requestEntry{}
	}
	b.byUID[env.UID] = requestEntry{generation: env.Generation, bytes: req}
	return req
}

// keep drops the entries of Environments no longer stored.
func (b *requestBook) keep(envs []*v1alpha1.Environment) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.byUID) <= len(envs) {
		return
	}
	live := make(map[types.UID]bool, len(envs))
	for _, e := range envs {
		live[e.UID] = true
	}
	for uid := range b.byUID {
		if !live[uid] {
			delete(b.byUID, uid)
		}
	}
}

// admissionClass places env in the queue: a pool's unclaimed standby is
// background work and waits behind every user's Environment, so a refill
// never holds up an apply; a claimed one serves a user.
func admissionClass(env *v1alpha1.Environment) admission.Class {
	if sb := env.Spec.Standby; sb != nil && sb.ClaimRef == nil {
		return admission.ClassStandby
	}
	return admission.ClassUser
}

// runsContainers reports whether the Docker cache holds a container of
// env (this incarnation of it, by UID).
func (c *Controller) runsContainers(env *v1alpha1.Environment) bool {
	for _, ct := range c.cache.Containers(env.Name) {
		if ct.EnvironmentUID == string(env.UID) {
			return true
		}
	}
	return false
}

// admissionChanged re-evaluates the queue after room may have freed (an
// Environment gone, the pressure relieved) and enqueues those it admits,
// and the rest of the queue so their positions and numbers stay current.
func (c *Controller) admissionChanged() {
	if c.opts.Admission == nil {
		return
	}
	cands, err := c.admissionCandidates()
	if err != nil {
		c.log.Error(err, "admission not re-evaluated")
		return
	}
	out := c.opts.Admission.Evaluate(cands)
	for _, name := range out.Newly {
		c.enqueue(name)
	}
	for _, name := range out.Queued {
		c.enqueue(name)
	}
}

// sampleMemory takes one reading of the daemon's memory into the ledger.
func (c *Controller) sampleMemory(ctx context.Context, interval time.Duration) {
	if c.opts.Admission == nil || c.opts.Meter == nil {
		return
	}
	sctx, cancel := context.WithTimeout(ctx, interval)
	defer cancel()
	u, err := c.opts.Meter.Memory(sctx)
	if err != nil {
		// Unknown use does not stop admission: the budget still holds.
		c.log.V(1).Info("memory sample failed", "err", err.Error())
		u = admission.Usage{}
	}
	c.opts.Admission.SetUsage(u)
}

func (c *Controller) meterInterval() time.Duration {
	if c.opts.MeterInterval > 0 {
		return c.opts.MeterInterval
	}
	return defaultMeterInterval
}

// runMeter samples the daemon's memory for the pressure check (Run took
// the first sample before any worker started), and re-evaluates the queue
// when the figures move: pressure relieved, or the admitted total and
// queue length changed since the last sample (a spec shrank, an
// Environment went while no event reached admission).
func (c *Controller) runMeter(ctx context.Context) {
	if c.opts.Admission == nil {
		return
	}
	interval := c.meterInterval()
	var last admission.Snapshot
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		if cands, err := c.admissionCandidates(); err != nil {
			c.log.Error(err, "admission not re-evaluated")
		} else if out := c.opts.Admission.Evaluate(cands); len(out.Newly) > 0 || changed(last, out.Snapshot) {
			for _, name := range append(out.Newly, out.Queued...) {
				c.enqueue(name)
			}
			last = out.Snapshot
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		c.sampleMemory(ctx, interval)
	}
}

// changed reports that the queue's figures moved between two snapshots.
func changed(a, b admission.Snapshot) bool {
	return a.Admitted != b.Admitted || a.QueueLength != b.QueueLength || a.UnderPress != b.UnderPress
}
