package plan

import (
	"fmt"
	"slices"

	"berth.dev/berth/apis/v1alpha1"
)

// intent is what a service's container needs.
type intent int

const (
	intentKeep     intent = iota // nothing: running, completed, failed for good, paused
	intentHold                   // blocked; the reason is in Plan.Waiting
	intentCreate                 // no container
	intentRecreate               // a container that no longer matches the spec
	intentStart                  // created, never started
	intentRestart                // exited, restart due by policy
)

// serviceState is one service's part of a Compute.
type serviceState struct {
	svc     *v1alpha1.Service
	cfg     ContainerConfig
	cfgErr  error
	primary *ObservedContainer
	intent  intent
	// why is the recreate removal's reason and message.
	removeReason  RemoveReason
	removeMessage string
	run           runInfo
	streak        int32 // crash streak of a restart
	outageExit    bool  // the exit being restarted happened in a daemon outage
	startOp       int
	replica       int // index among the service's replicas; 0 is the service's own container
}

func (st *serviceState) hash() string { return st.cfg.Labels[v1alpha1.LabelSpecHash] }

// current reports a container that matches the spec and is not about to be
// replaced: only such a container speaks for the service to dependents.
func (st *serviceState) current() bool {
	return st.primary != nil && st.cfgErr == nil && st.primary.specHash() == st.hash() &&
		st.intent != intentRecreate && st.primary.State != StateDead
}

// decideServices works out every service's intent from its container.
func (b *builder) decideServices() {
	for _, name := range b.order {
		for _, st := range b.replicas[name] {
			b.decide(st)
		}
	}
}

func (b *builder) decide(st *serviceState) {
	name, c := st.svc.Name, st.primary
	hold := func(w Waiting) {
		st.intent = intentHold
		b.plan.wait(name, w)
	}
	switch {
	case st.cfgErr != nil:
		hold(cfgErrWaiting(st.cfgErr))
		return
	case c == nil && b.cl.removing[st.cfg.Name]:
		// The name frees up when Docker finishes; its event re-enqueues.
		hold(Waiting{Reason: WaitContainerRemoving, Message: "waiting for Docker to finish removing the old container"})
		b.plan.requeueAt(b.now, b.now.Add(b.opts.WaitPoll))
		return
	case c == nil:
		st.intent = intentCreate
	case c.State == StateDead:
		st.intent, st.removeReason = intentRecreate, RemoveDead
		st.removeMessage = fmt.Sprintf("replace %s: container %s is dead", st.label(), shortID(c.ID))
	case c.specHash() != st.hash() && c.Labels[v1alpha1.LabelRestartedAt] != st.cfg.RestartedAt:
		st.intent, st.removeReason = intentRecreate, RemoveSpecChanged
		st.removeMessage = fmt.Sprintf("restart %s: requested at %s (hash %s → %s)", st.label(), st.cfg.RestartedAt, shortHash(c.specHash()), shortHash(st.hash()))
	case c.specHash() != st.hash() && c.name() != st.cfg.Name:
		// An older berth's name (see naming.go): replaced, not adopted.
		st.intent, st.removeReason = intentRecreate, RemoveSpecChanged
		st.removeMessage = fmt.Sprintf("recreate %s as %s: container %s has an older name (hash %s → %s)", st.label(), st.cfg.Name, c.name(), shortHash(c.specHash()), shortHash(st.hash()))
	case c.specHash() != st.hash():
		st.intent, st.removeReason = intentRecreate, RemoveSpecChanged
		st.removeMessage = fmt.Sprintf("recreate %s: spec changed (hash %s → %s)", st.label(), shortHash(c.specHash()), shortHash(st.hash()))
	case c.State == StateCreated:
		st.intent = intentStart
	case c.exited():
		b.decideExited(st)
		return
	default:
		// running, paused, restarting: berth never pauses or sets a Docker
		// restart policy, so the last two are someone else's doing; a
		// restart would fight them.
		st.intent = intentKeep
		return
	}
	if st.intent == intentCreate || st.intent == intentRecreate {
		b.checkCreatable(st)
	}
}

// checkCreatable holds a service whose new container could not be created:
// its name, network or a volume is held by something berth does not own.
func (b *builder) checkCreatable(st *serviceState) {
	msg := b.cl.conflicts[st.cfg.Name]
	if msg == "" {
		msg = b.networkConflictFor(st.cfg)
	}
	for _, m := range st.cfg.Mounts {
		if msg == "" {
			msg = b.volumeConflicts[m.Volume]
		}
	}
	if msg != "" {
		st.intent = intentHold
		b.plan.wait(st.svc.Name, Waiting{Reason: WaitNameConflict, Message: msg})
	}
}

// decideExited applies the restart policy and the crash-loop back-off.
func (b *builder) decideExited(st *serviceState) {
	c := st.primary
	if !wantsRestart(st.svc, c.ExitCode) {
		st.intent = intentKeep
		return
	}
	m := b.memoryOf(st)
	if restartPending(*c, m, b.now) {
		// berth restarted this exit already; the cache has not seen the
		// start event yet. Wait for it rather than start (and report) the
		// same restart twice.
		st.intent = intentKeep
		b.plan.requeueAt(b.now, b.now.Add(b.opts.WaitPoll))
		return
	}
	st.run = trackRun(*c, m, b.opts.Backoff, b.obs.Outages)
	if retriesExhausted(st.svc, c.ExitCode, st.run.restarts) {
		st.intent = intentKeep
		return
	}
	due, streak, outage := restartDue(*c, st.run, b.opts.Backoff, b.obs.Outages)
	st.streak, st.outageExit = streak, outage
	if b.now.Before(due) {
		st.intent = intentHold
		b.plan.wait(st.svc.Name, Waiting{
			Reason: WaitCrashLoopBackOff, Until: due,
			Message: fmt.Sprintf("back-off %s restarting failed container (exit code %d)",
				b.opts.Backoff.RestartDelay(streak), c.ExitCode),
		})
		b.plan.requeueAt(b.now, due)
		return
	}
	st.intent = intentRestart
}

// emitServices adds each service's ops in dependency order, so a dependent
// can rely on the ops of what it depends on.
func (b *builder) emitServices() {
	views := map[string]depView{}
	for _, name := range b.order {
		units := b.replicas[name]
		for _, st := range units {
			b.emitReplica(st, views)
		}
		views[name] = b.serviceView(units)
	}
}

// emitReplica adds the ops of one replica of a service.
func (b *builder) emitReplica(st *serviceState, views map[string]depView) {
	name := st.svc.Name
	switch st.intent {
	case intentRestart:
		reason := fmt.Sprintf("restart %s after exit code %d (restart %d, backoff %s)", st.label(), st.primary.ExitCode, st.run.restarts+1, b.opts.Backoff.RestartDelay(st.streak))
		if st.outageExit {
			reason = fmt.Sprintf("restart %s after exit code %d during a Docker daemon outage (restart %d, not counted as a crash)", st.label(), st.primary.ExitCode, st.run.restarts+1)
		}
		st.startOp = b.plan.add(Op{
			Kind: OpStartContainer, Environment: b.env.Name, Service: name,
			ContainerID: st.primary.ID, ContainerName: st.primary.name(), Restart: true,
			Needs: b.networkNeeds(), Reason: reason,
		})
	case intentStart, intentCreate, intentRecreate:
		needs, w := checkDependencies(st.svc, views)
		if w != nil {
			st.intent = intentHold
			b.plan.wait(name, *w)
			b.plan.requeueAt(b.now, b.now.Add(b.opts.WaitPoll))
			break
		}
		b.emitNewContainer(st, needs)
	case intentKeep:
		b.repairAttachments(st)
	}
}

// emitNewContainer starts a created container, or creates (after removing
// the old one) and starts a new one.
func (b *builder) emitNewContainer(st *serviceState, depNeeds []int) {
	name := st.svc.Name
	startNeeds := append(slices.Clone(depNeeds), b.networkNeeds()...)
	if st.intent == intentStart {
		// A container created but never started may have missed its
		// copy (a failure between the two): copying again is harmless.
		if copyOp, ok := b.copyFiles(st, st.primary.ID, st.primary.name(), nil); ok {
			startNeeds = append(startNeeds, copyOp)
		}
		// A create whose connects did not all run: they are idempotent.
		startNeeds = append(startNeeds, b.connectOps(st, st.primary.ID, nil)...)
		st.startOp = b.plan.add(Op{
			Kind: OpStartContainer, Environment: b.env.Name, Service: name,
			ContainerID: st.primary.ID, ContainerName: st.primary.name(),
			Needs: sortedNeeds(startNeeds), Reason: "start " + st.label(),
		})
		return
	}

	createNeeds := b.networkNeeds()
	if st.replica == 0 {
		createNeeds = append(createNeeds, b.serviceRemovals[name]...)
	}
	createReason := "create " + st.label()
	if st.intent == intentRecreate {
		rm := b.plan.add(Op{
			Kind: OpRemoveContainer, Environment: b.env.Name, Service: name,
			ContainerID: st.primary.ID, ContainerName: st.primary.name(),
			Grace: GracePeriod(st.svc), RemoveReason: st.removeReason, Reason: st.removeMessage,
		})
		createNeeds = append(createNeeds, rm)
		createReason = st.removeMessage
	} else if m := b.memoryOf(st); m.ContainerID != "" {
		createReason = fmt.Sprintf("create %s: container %s is gone", st.label(), shortID(m.ContainerID))
	}
	for _, m := range st.cfg.Mounts {
		if i, ok := b.volumeOps[m.Volume]; ok {
			createNeeds = append(createNeeds, i)
		}
	}
	if i, ok := b.pullOps[st.cfg.Image]; ok {
		createNeeds = append(createNeeds, i)
	}
	cfg := st.cfg
	create := b.plan.add(Op{
		Kind: OpCreateContainer, Environment: b.env.Name, Service: name,
		ContainerName: cfg.Name, Config: &cfg, Needs: sortedNeeds(createNeeds), Reason: createReason,
	})
	startNeeds = append(startNeeds, create)
	if copyOp, ok := b.copyFiles(st, "", cfg.Name, []int{create}); ok {
		startNeeds = append(startNeeds, copyOp)
	}
	startNeeds = append(startNeeds, b.connectOps(st, "", []int{create})...)
	if publishesFixedPort(cfg) {
		// A removed service may still hold the host port.
		startNeeds = append(startNeeds, b.otherRemovals...)
	}
	st.startOp = b.plan.add(Op{
		Kind: OpStartContainer, Environment: b.env.Name, Service: name, ContainerName: cfg.Name,
		Needs: sortedNeeds(startNeeds), Reason: "start " + st.label(),
	})
}

// view is what dependents may assume of st after this plan.
func (b *builder) view(st *serviceState) depView {
	v := depView{}
	if st.startOp >= 0 {
		v.startOps, v.started = []int{st.startOp}, true
	}
	if st.current() {
		v.running = st.primary.running()
		v.completed = completedJob(st.svc, st.primary)
		v.ready = containerReady(st.svc, st.primary, b.obs.Probes)
	}
	return v
}

// networkNeeds are the Ensure ops of every network of the plan.
func (b *builder) networkNeeds() []int {
	var out []int
	for _, i := range b.networkOps {
		out = append(out, i)
	}
	return sortedNeeds(out)
}

func publishesFixedPort(cfg ContainerConfig) bool {
	for _, p := range cfg.Ports {
		if p.HostPort > 0 {
			return true
		}
	}
	return false
}

func sortedNeeds(n []int) []int {
	if len(n) == 0 {
		return nil
	}
	n = slices.Clone(n)
	slices.Sort(n)
	return slices.Compact(n)
}
