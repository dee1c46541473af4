package cli

import (
	"bytes"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/duration"
	"k8s.io/kubectl/pkg/describe"

	"berth.dev/berth/apis/v1alpha1"
)

// lastAppliedAnnotation holds a JSON copy of the whole object after a
// client-side apply; kubectl's describers skip it as noise, and so does berth's.
const lastAppliedAnnotation = "kubectl.kubernetes.io/last-applied-configuration"

// RenderEnvironment writes env the way `kubectl describe` writes its kinds:
// "Field:\tvalue" lines and dashed tables, aligned by one tabwriter. now is a
// parameter so ages are reproducible in tests.
func RenderEnvironment(env *v1alpha1.Environment, showEvents bool, now time.Time) (string, error) {
	var buf bytes.Buffer
	tw := tabwriter.NewWriter(&buf, 0, 8, 2, ' ', 0)
	w := describe.NewPrefixWriter(tw)

	w.Write(describe.LEVEL_0, "Name:\t%s\n", env.Name)
	writeMap(w, "Labels", env.Labels, nil)
	writeMap(w, "Annotations", env.Annotations, []string{lastAppliedAnnotation})
	w.Write(describe.LEVEL_0, "Phase:\t%s\n", orNone(string(env.Status.Phase)))
	w.Write(describe.LEVEL_0, "Ready:\t%s\n", orNone(env.Status.Ready))
	w.Write(describe.LEVEL_0, "Generation:\t%d\n", env.Generation)
	observed := strconv.FormatInt(env.Status.ObservedGeneration, 10)
	if env.Status.ObservedGeneration < env.Generation {
		// Status then describes an older spec: say so, or a user reads a
		// stale Ready as the answer to the change they just applied.
		observed += fmt.Sprintf(" (generation %d not observed yet)", env.Generation)
	}
	w.Write(describe.LEVEL_0, "Observed Generation:\t%s\n", observed)
	w.Write(describe.LEVEL_0, "Created:\t%s\n", timeAndAge(env.CreationTimestamp, now))
	if env.DeletionTimestamp != nil {
		w.Write(describe.LEVEL_0, "Terminating:\tsince %s (finalizers: %s)\n",
			timeAndAge(*env.DeletionTimestamp, now), orNone(strings.Join(env.Finalizers, ", ")))
	}
	network := env.Name
	if ref := env.Spec.PoolRef; ref != nil {
		bound := "not bound yet"
		switch {
		case len(env.Spec.Services) > 0:
			bound = "no standby was free: converges from the pool's template"
		case ref.Standby != "":
			bound = "bound to standby " + ref.Standby + " (its containers are this Environment's)"
			network = ref.Standby
		}
		w.Write(describe.LEVEL_0, "Pool:\t%s, %s\n", ref.Name, bound)
	}
	if sb := env.Spec.Standby; sb != nil {
		claim := "waiting to be claimed"
		if sb.ClaimRef != nil {
			claim = "claimed by " + sb.ClaimRef.Name
		}
		w.Write(describe.LEVEL_0, "Standby:\tof pool %s (%s), %s\n", sb.Pool, sb.Mode, claim)
	}
	w.Write(describe.LEVEL_0, "Network:\t%s\n", v1alpha1.NetworkName(network))
	w.Write(describe.LEVEL_0, "TTL:\t%s\n", ttl(env, now))

	// Each section is aligned on its own: one tabwriter block for the whole
	// output would widen a table's first column to the longest field label
	// next to it.
	var err error
	flush := func() {
		if err == nil {
			err = tw.Flush()
		}
	}
	flush()
	writeServices(w, env)
	flush()
	writeVolumes(w, env)
	flush()
	writeConditions(w, env.Status.Conditions, now)
	flush()
	if showEvents {
		writeEvents(w, env.Status.Events, now)
	}
	flush()
	if err != nil {
		return "", fmt.Errorf("rendering environment %q: %w", env.Name, err)
	}
	return buf.String(), nil
}

// writeMap prints a map as kubectl prints labels: the first key=value on
// the field's line, the others below it, sorted so output is stable.
func writeMap(w describe.PrefixWriter, title string, m map[string]string, skip []string) {
	keys := slices.Sorted(maps.Keys(m))
	keys = slices.DeleteFunc(keys, func(k string) bool { return slices.Contains(skip, k) })
	if len(keys) == 0 {
		w.Write(describe.LEVEL_0, "%s:\t<none>\n", title)
		return
	}
	for i, k := range keys {
		label := title + ":"
		if i > 0 {
			label = ""
		}
		w.Write(describe.LEVEL_0, "%s\t%s=%s\n", label, k, m[k])
	}
}

// writeServices lists every service of the spec, in spec order, with what
// status observed of it; services only status knows (removed from the spec,
// not torn down yet) follow, so nothing running is hidden.
func writeServices(w describe.PrefixWriter, env *v1alpha1.Environment) {
	observed := make(map[string]v1alpha1.ServiceStatus, len(env.Status.Services))
	for _, s := range env.Status.Services {
		observed[s.Name] = s
	}
	var rows []v1alpha1.ServiceStatus
	for _, s := range env.Spec.Services {
		st, ok := observed[s.Name]
		if !ok {
			st = v1alpha1.ServiceStatus{Name: s.Name}
		}
		delete(observed, s.Name)
		rows = append(rows, st)
	}
	for _, s := range env.Status.Services {
		if _, orphan := observed[s.Name]; orphan {
			rows = append(rows, s)
		}
	}
	if len(rows) == 0 {
		w.Write(describe.LEVEL_0, "Services:\t<none>\n")
		return
	}
	w.Write(describe.LEVEL_0, "Services:\n")
	w.Write(describe.LEVEL_1, "Name\tState\tReady\tRestarts\tContainer\tPorts\tLast Exit\tMessage\n")
	w.Write(describe.LEVEL_1, "----\t-----\t-----\t--------\t---------\t-----\t---------\t-------\n")
	for _, s := range rows {
		lastExit := "-"
		if s.LastExitCode != nil {
			lastExit = strconv.Itoa(int(*s.LastExitCode))
		}
		w.Write(describe.LEVEL_1, "%s\t%s\t%t\t%d\t%s\t%s\t%s\t%s\n",
			s.Name, orDash(s.State), s.Ready, s.RestartCount, orDash(shortID(s.ContainerID)),
			orDash(ports(s.Ports)), lastExit, orDash(oneLine(s.Message)))
	}
}

// shortID is the 12-character container ID `docker ps` shows.
func shortID(id string) string {
	if i := strings.LastIndex(id, "://"); i >= 0 {
		id = id[i+3:]
	}
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

// ports prints published ports as `docker ps` does (127.0.0.1:32768->8080/tcp),
// and unpublished ones as the bare container port.
func ports(ps []v1alpha1.PortStatus) string {
	out := make([]string, 0, len(ps))
	for _, p := range ps {
		proto := strings.ToLower(string(p.Protocol))
		if proto == "" {
			proto = "tcp"
		}
		if p.HostPort == 0 {
			out = append(out, fmt.Sprintf("%d/%s", p.ContainerPort, proto))
			continue
		}
		ip := p.HostIP
		if ip == "" {
			ip = "0.0.0.0"
		}
		out = append(out, fmt.Sprintf("%s:%d->%d/%s", ip, p.HostPort, p.ContainerPort, proto))
	}
	return strings.Join(out, ", ")
}

func writeVolumes(w describe.PrefixWriter, env *v1alpha1.Environment) {
	if len(env.Spec.Volumes) == 0 {
		w.Write(describe.LEVEL_0, "Volumes:\t<none>\n")
		return
	}
	onDelete := "removed"
	if env.Spec.Teardown.RetainVolumes {
		onDelete = "retained"
	}
	w.Write(describe.LEVEL_0, "Volumes:\n")
	w.Write(describe.LEVEL_1, "Name\tDocker Volume\tOn Delete\tMounted By\n")
	w.Write(describe.LEVEL_1, "----\t-------------\t---------\t----------\n")
	for _, v := range env.Spec.Volumes {
		var mounts []string
		for _, s := range env.Spec.Services {
			for _, m := range s.VolumeMounts {
				if m.Name == v.Name {
					mounts = append(mounts, s.Name+":"+m.MountPath)
				}
			}
		}
		w.Write(describe.LEVEL_1, "%s\t%s\t%s\t%s\n",
			v.Name, v1alpha1.VolumeName(env.Name, v.Name), onDelete, orDash(strings.Join(mounts, ", ")))
	}
}

func writeConditions(w describe.PrefixWriter, conds []metav1.Condition, now time.Time) {
	if len(conds) == 0 {
		w.Write(describe.LEVEL_0, "Conditions:\t<none>\n")
		return
	}
	w.Write(describe.LEVEL_0, "Conditions:\n")
	w.Write(describe.LEVEL_1, "Type\tStatus\tReason\tMessage\tLast Transition\n")
	w.Write(describe.LEVEL_1, "----\t------\t------\t-------\t---------------\n")
	for _, c := range conds {
		since := "<unknown>"
		if !c.LastTransitionTime.IsZero() {
			since = age(c.LastTransitionTime, now) + " ago"
		}
		w.Write(describe.LEVEL_1, "%s\t%s\t%s\t%s\t%s\n",
			c.Type, c.Status, orDash(c.Reason), orDash(oneLine(c.Message)), since)
	}
}

// writeEvents prints berth's own event record from status.events: berth's
// API server has no core/v1 Events, so kubectl's event lookup cannot be used.
func writeEvents(w describe.PrefixWriter, events []v1alpha1.EnvironmentEvent, now time.Time) {
	if len(events) == 0 {
		w.Write(describe.LEVEL_0, "Events:\t<none>\n")
		return
	}
	w.Write(describe.LEVEL_0, "Events:\n")
	w.Write(describe.LEVEL_1, "Age\tType\tReason\tService\tMessage\n")
	w.Write(describe.LEVEL_1, "---\t----\t------\t-------\t-------\n")
	for _, e := range events {
		w.Write(describe.LEVEL_1, "%s\t%s\t%s\t%s\t%s\n",
			age(e.Time, now), orDash(e.Type), orDash(e.Reason), orDash(e.Service), oneLine(e.Message))
	}
}

// ttl explains the lease: how long after first Ready the Environment
// deletes itself, and when that is from now.
func ttl(env *v1alpha1.Environment, now time.Time) string {
	if env.Spec.TTLSecondsAfterReady == nil {
		return "<none>"
	}
	d := time.Duration(*env.Spec.TTLSecondsAfterReady) * time.Second
	lease := duration.HumanDuration(d) + " after first Ready"
	first := env.Status.FirstReadyTime
	switch {
	case first == nil:
		return lease + " (not Ready yet)"
	case now.Before(first.Add(d)):
		return fmt.Sprintf("%s (expires in %s)", lease, duration.HumanDuration(first.Add(d).Sub(now)))
	default:
		return fmt.Sprintf("%s (expired %s ago)", lease, duration.HumanDuration(now.Sub(first.Add(d))))
	}
}

func timeAndAge(t metav1.Time, now time.Time) string {
	if t.IsZero() {
		return "<unknown>"
	}
	return fmt.Sprintf("%s (%s ago)", t.Format(time.RFC1123Z), age(t, now))
}

// age is kubectl's short age (5s, 3m, 2d) of t at now.
func age(t metav1.Time, now time.Time) string {
	if t.IsZero() {
		return "<unknown>"
	}
	return duration.HumanDuration(now.Sub(t.Time))
}

func orNone(s string) string {
	if s == "" {
		return "<none>"
	}
	return s
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// oneLine keeps a multi-line message (a probe's output, a Docker error) from
// breaking the table it sits in.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
