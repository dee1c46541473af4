package plan

import (
	"fmt"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"berth.dev/berth/apis/v1alpha1"
)

// ComputeStatus is env's status as observed at now. It is computed from the
// observation (the plan only says why a service waits and whether work
// remains), never from what the plan intends. prev is the stored status:
// conditions keep their transition times unless their status changes,
// FirstReadyTime and Events carry over.
//
// Every time in the result is truncated to the second, the precision the
// API stores, so a status that did not change compares equal to the stored
// one and need not be written.
func ComputeStatus(env *v1alpha1.Environment, obs Observed, opts Options, p Plan, prev v1alpha1.EnvironmentStatus, now time.Time) v1alpha1.EnvironmentStatus {
	out := v1alpha1.EnvironmentStatus{
		Conditions:     cloneConditions(prev.Conditions),
		FirstReadyTime: prev.FirstReadyTime.DeepCopy(),
		Events:         append([]v1alpha1.EnvironmentEvent(nil), prev.Events...),
	}
	if env == nil {
		return out
	}
	opts = opts.withDefaults()
	out.ObservedGeneration = env.Generation

	facts := observeServices(env, obs, opts, p, prev, now)
	ready := 0
	for _, f := range facts {
		out.Services = append(out.Services, f.status)
		if f.status.Ready {
			ready++
		}
	}
	out.Ready = fmt.Sprintf("%d/%d", ready, len(facts))
	setConditions(&out, env, facts, p, obs.Failure, now)
	return out
}

// serviceFacts is one service as observed, with what the conditions need.
type serviceFacts struct {
	status       v1alpha1.ServiceStatus
	waiting      *Waiting
	hasContainer bool
	current      bool // the container matches the spec
	failed       bool // exited non-zero and not restarted: restartPolicy Never, or restartLimit used up
	crashLoop    bool // in back-off, or restarted after short runs and not ready
	probePending bool // running, probe has no verdict yet
	probeFailing bool // running, probe says not ready
	regressed    bool // probe failing after the container had been ready
}

func observeServices(env *v1alpha1.Environment, obs Observed, opts Options, p Plan, prev v1alpha1.EnvironmentStatus, now time.Time) []serviceFacts {
	hashes := map[string][]string{}
	cfgs := map[string][]ContainerConfig{}
	volumeNames := resolveVolumes(env, obs, opts)
	for i := range env.Spec.Services {
		svc := &env.Spec.Services[i]
		if cfg, err := BuildContainerConfigHost(env, svc, opts, obs.Host); err == nil {
			// Hashed as Compute hashes it: mounting the volumes it adopted.
			cfgs[svc.Name] = replicaConfigs(env, svc, remount(env, cfg, volumeNames))
			hashes[svc.Name] = replicaHashes(cfgs[svc.Name])
		}
	}
	cl := classify(env, obs.Containers, hashes, opts)
	memory := memoryFor(obs, prev)

	facts := make([]serviceFacts, 0, len(env.Spec.Services))
	for i := range env.Spec.Services {
		svc := &env.Spec.Services[i]
		f := serviceFacts{status: v1alpha1.ServiceStatus{Name: svc.Name}}
		if w, ok := p.Waiting[svc.Name]; ok {
			f.waiting = &w
		}
		c, m := cl.primary[svc.Name], memory[svc.Name]
		if c == nil {
			describeAbsent(&f, m, obs.Images[svc.Image])
		} else {
			describeContainer(&f, svc, c, m, obs, opts.Backoff, now)
			f.current = len(hashes[svc.Name]) > 0 && c.specHash() == hashes[svc.Name][0]
			f.status.Ready = f.status.Ready && f.current
			f.status.Ports = portStatus(svc, replicaCfg(cfgs[svc.Name], 0), c)
			memoryStatus(&f.status, replicaCfg(cfgs[svc.Name], 0))
			if !f.current {
				f.addMessage("spec changed: the container will be recreated")
			}
		}
		replicaStatus(&f, svc, cl.replicas[svc.Name], cfgs[svc.Name], memory, obs, opts, now)
		facts = append(facts, f)
	}
	return facts
}

// describeAbsent is a service without a container: Waiting when something
// holds it back, Pending when it is about to be created. The counters of
// its last container are kept, so a blip does not erase them.
func describeAbsent(f *serviceFacts, m ServiceMemory, img ObservedImage) {
	f.status.State = "Pending"
	f.status.RestartCount = m.RestartCount
	f.status.LastExitCode = copyCode(m.LastExitCode)
	if f.waiting != nil {
		f.status.State = "Waiting"
		f.addMessage(f.waiting.Message)
		return
	}
	f.addMessage("the container is about to be created")
	if img.PullFailures > 0 && img.PullError != "" {
		f.addMessage("last pull failed: " + img.PullError)
	}
}

func describeContainer(f *serviceFacts, svc *v1alpha1.Service, c *ObservedContainer, m ServiceMemory,
	obs Observed, b BackoffPolicy, now time.Time) {
	b = b.withDefaults()
	probes := obs.Probes
	f.hasContainer = true
	run := trackRun(*c, m, b, obs.Outages)
	st := &f.status
	st.ContainerID = c.ID
	st.State = string(c.State)
	st.RestartCount = run.restarts
	if c.hasRun() {
		st.StartedAt = secondTime(c.StartedAt)
	}
	st.Ready = containerReady(svc, c, probes)
	loop := run.loopRestarts
	if c.running() && now.Sub(c.StartedAt) >= b.Reset {
		loop = 0 // ran long enough to count as healthy
	}

	if c.Error != "" {
		f.addMessage("docker: " + c.Error)
	}
	switch {
	case c.exited() || c.State == StateDead:
		code := c.ExitCode
		st.LastExitCode = &code
		switch {
		case completedJob(svc, c):
			f.addMessage("completed")
		case failedJob(svc, c, run.restarts):
			f.failed = true
			if retriesExhausted(svc, code, run.restarts) {
				f.addMessage(fmt.Sprintf("failed with exit code %d after %d restarts (restartLimit %d)", code, run.restarts, *svc.RestartLimit))
			} else {
				f.addMessage(fmt.Sprintf("failed with exit code %d", code))
			}
		case f.waiting == nil:
			f.addMessage(fmt.Sprintf("exited with code %d", code))
		}
		if c.OOMKilled {
			f.addMessage("OOMKilled: the container hit its memory limit")
		}
	case run.newRun && c.PreviousExit != nil:
		st.LastExitCode = copyCode(c.PreviousExit)
	case m.ContainerID == c.ID:
		st.LastExitCode = copyCode(m.LastExitCode)
	}
	if f.waiting != nil {
		f.addMessage(f.waiting.Message)
		f.crashLoop = f.waiting.Reason == WaitCrashLoopBackOff
	}

	if c.running() && svc.ReadinessProbe != nil {
		r, ok := probes[c.ID]
		switch {
		case !ok || !r.Known:
			f.probePending = true
			f.addMessage("waiting for the readiness probe")
		case !r.Ready:
			f.probeFailing = true
			f.regressed = r.HasBeenReady
			f.addMessage(strings.TrimSpace("readiness probe failing: " + r.Message))
		}
	}
	describeHealth(f, svc, c)
	if loop > 0 && !st.Ready {
		f.crashLoop = true
	}
	// The streak has a field of its own, which MemoryFromStatus reads
	// back; the message stays for people.
	st.RestartStreak = loop
	if !run.lastCrash.IsZero() {
		st.LastCrashTime = secondTime(run.lastCrash)
	}
}

// portStatus reports each spec port with the host binding Docker reports.
func portStatus(svc *v1alpha1.Service, cfg ContainerConfig, c *ObservedContainer) []v1alpha1.PortStatus {
	var out []v1alpha1.PortStatus
	for _, sp := range svc.Ports {
		ps := v1alpha1.PortStatus{Name: sp.Name, ContainerPort: sp.ContainerPort, Protocol: sp.Protocol}
		if ps.Protocol == "" {
			ps.Protocol = v1alpha1.ProtocolTCP
		}
		want := ""
		// Ports are keyed by container port and protocol; names are
		// optional, so they cannot pair a status entry with its binding.
		for _, b := range cfg.Ports {
			if b.ContainerPort == sp.ContainerPort && strings.EqualFold(string(b.Protocol), string(ps.Protocol)) {
				want = b.HostIP
			}
		}
		var found *ObservedPort
		for i := range c.Ports {
			op := &c.Ports[i]
			if op.ContainerPort != sp.ContainerPort || !strings.EqualFold(op.Protocol, string(ps.Protocol)) || op.HostPort == 0 {
				continue
			}
			if found == nil || (op.HostIP == want && found.HostIP != want) {
				found = op
			}
		}
		if found != nil {
			ps.HostIP, ps.HostPort = found.HostIP, found.HostPort
		}
		out = append(out, ps)
	}
	return out
}

func (f *serviceFacts) addMessage(m string) {
	if m == "" {
		return
	}
	if f.status.Message != "" {
		f.status.Message += "; "
	}
	f.status.Message += m
}

func secondTime(t time.Time) *metav1.Time {
	mt := metav1.NewTime(t.Truncate(time.Second))
	return &mt
}

func copyCode(c *int32) *int32 {
	if c == nil {
		return nil
	}
	v := *c
	return &v
}

func cloneConditions(cs []metav1.Condition) []metav1.Condition {
	if cs == nil {
		return nil
	}
	out := make([]metav1.Condition, len(cs))
	for i := range cs {
		cs[i].DeepCopyInto(&out[i])
	}
	return out
}
