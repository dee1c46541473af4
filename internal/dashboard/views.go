package dashboard

import (
	"cmp"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/yaml"

	"berth.dev/berth/apis/v1alpha1"
)

// envRow is one line of the overview.
type envRow struct {
	Name     string
	Phase    string
	Ready    string
	Services int
	Created  time.Time
	Labels   []string // key=value, sorted
	// Host is the Docker host it is bound to (status.host), "" before
	// placement.
	Host string
	// Status is the Ready condition's reason and message while it is not
	// True: the one line that says what the Environment is waiting for.
	Status string
}

// envView is the Environment page's live part.
type envView struct {
	envRow
	Generation         int64
	ObservedGeneration int64
	Terminating        bool
	Services           []serviceView
	Conditions         []conditionView
	Events             []eventView
	Spec               string
}

type serviceView struct {
	Name        string
	Image       string
	ContainerID string // short, as docker ps shows it
	State       string
	StateClass  string
	Ready       bool
	Restarts    int32
	Ports       []portView
	LastExit    string
	Message     string
}

// portView is a published port; URL is set when the port speaks HTTP.
type portView struct {
	Text string
	URL  string
}

type conditionView struct {
	Type, Status, Reason, Message string
	Time                          time.Time
}

type eventView struct {
	Time                           time.Time
	Type, Reason, Service, Message string
}

// phaseOf is the phase to show: an Environment the controller has not
// touched yet has none, which is Pending to a user.
func phaseOf(env *v1alpha1.Environment) string {
	if env.DeletionTimestamp != nil {
		return string(v1alpha1.PhaseTerminating)
	}
	if env.Status.Phase == "" {
		return string(v1alpha1.PhasePending)
	}
	return string(env.Status.Phase)
}

func rowOf(env *v1alpha1.Environment) envRow {
	r := envRow{
		Name:     env.Name,
		Phase:    phaseOf(env),
		Ready:    env.Status.Ready,
		Services: len(env.Spec.Services),
		Created:  env.CreationTimestamp.Time,
		Host:     env.Status.Host,
	}
	if r.Ready == "" {
		r.Ready = fmt.Sprintf("0/%d", r.Services)
	}
	for k, v := range env.Labels {
		r.Labels = append(r.Labels, k+"="+v)
	}
	slices.Sort(r.Labels)
	for _, c := range env.Status.Conditions {
		if c.Type == v1alpha1.ConditionReady && c.Status != "True" && r.Phase != string(v1alpha1.PhaseTerminating) {
			r.Status = strings.TrimSpace(c.Reason + ": " + c.Message)
		}
	}
	// Queued: what it waits on is admission (needs, free, place).
	for _, c := range env.Status.Conditions {
		if c.Type == v1alpha1.ConditionAdmitted && c.Status != "True" && r.Phase == string(v1alpha1.PhaseQueued) {
			r.Status = strings.TrimSpace(c.Reason + ": " + c.Message)
		}
	}
	return r
}

func viewOf(env *v1alpha1.Environment) envView {
	v := envView{
		envRow:             rowOf(env),
		Generation:         env.Generation,
		ObservedGeneration: env.Status.ObservedGeneration,
		Terminating:        env.DeletionTimestamp != nil,
	}
	status := map[string]v1alpha1.ServiceStatus{}
	for _, s := range env.Status.Services {
		status[s.Name] = s
	}
	for i := range env.Spec.Services {
		v.Services = append(v.Services, serviceViewOf(&env.Spec.Services[i], status[env.Spec.Services[i].Name]))
	}
	for _, c := range env.Status.Conditions {
		v.Conditions = append(v.Conditions, conditionView{c.Type, string(c.Status), c.Reason, c.Message, c.LastTransitionTime.Time})
	}
	for _, e := range slices.Backward(env.Status.Events) {
		v.Events = append(v.Events, eventView{e.Time.Time, e.Type, e.Reason, e.Service, e.Message})
	}
	// Secrets' content is never shown; everything else as stored.
	if spec, err := yaml.Marshal(v1alpha1.RedactSecrets(env.Spec)); err == nil {
		v.Spec = string(spec)
	} else {
		v.Spec = "# cannot render the spec: " + err.Error()
	}
	return v
}

func serviceViewOf(svc *v1alpha1.Service, st v1alpha1.ServiceStatus) serviceView {
	v := serviceView{
		Name:        svc.Name,
		Image:       svc.Image,
		ContainerID: shortID(st.ContainerID),
		State:       cmp.Or(st.State, "Pending"),
		Ready:       st.Ready,
		Restarts:    st.RestartCount,
		Message:     st.Message,
		LastExit:    "",
	}
	v.StateClass = stateClass(v.State, st.LastExitCode)
	if st.LastExitCode != nil {
		v.LastExit = strconv.Itoa(int(*st.LastExitCode))
	}
	for _, p := range st.Ports {
		if p.HostPort == 0 {
			continue
		}
		host := linkHost(p.HostIP)
		pv := portView{Text: fmt.Sprintf("%s:%d→%d", host, p.HostPort, p.ContainerPort)}
		if scheme := portScheme(svc, p); scheme != "" && cmp.Or(p.Protocol, v1alpha1.ProtocolTCP) == v1alpha1.ProtocolTCP {
			pv.URL = scheme + "://" + net.JoinHostPort(host, strconv.Itoa(int(p.HostPort)))
			pv.Text = pv.URL
		}
		v.Ports = append(v.Ports, pv)
	}
	return v
}

// linkHost is where a browser on this machine reaches a published port:
// a wildcard bind is reachable on loopback.
func linkHost(ip string) string {
	switch ip {
	case "", "0.0.0.0":
		return "127.0.0.1"
	case "::":
		return "::1"
	}
	return ip
}

// portScheme says whether a port speaks HTTP: by its name (http, web,
// http-*, *-http; https) or because the readiness probe GETs it.
func portScheme(svc *v1alpha1.Service, p v1alpha1.PortStatus) string {
	name := strings.ToLower(p.Name)
	switch {
	case name == "https" || strings.HasPrefix(name, "https-") || strings.HasSuffix(name, "-https"):
		return "https"
	case name == "http" || name == "web" || strings.HasPrefix(name, "http-") || strings.HasSuffix(name, "-http"):
		return "http"
	}
	if pr := svc.ReadinessProbe; pr != nil && pr.HTTPGet != nil {
		port := pr.HTTPGet.Port
		if (port.Type == intstr.Int && port.IntVal == p.ContainerPort) ||
			(port.Type == intstr.String && p.Name != "" && port.StrVal == p.Name) {
			return "http"
		}
	}
	return ""
}

// stateClass picks the color of a container state; the state's name is
// always shown next to it.
func stateClass(state string, exit *int32) string {
	switch state {
	case "running":
		return "ok"
	case "exited":
		if exit != nil && *exit == 0 {
			return "done"
		}
		return "bad"
	case "dead", "oomkilled":
		return "bad"
	case "restarting", "paused", "removing":
		return "warn"
	}
	return "wait"
}

// phaseClass colors a phase the same way.
func phaseClass(phase string) string {
	switch v1alpha1.EnvironmentPhase(phase) {
	case v1alpha1.PhaseReady:
		return "ok"
	case v1alpha1.PhaseProgressing:
		return "busy"
	case v1alpha1.PhaseDegraded:
		return "warn"
	case v1alpha1.PhaseFailed:
		return "bad"
	case v1alpha1.PhaseTerminating:
		return "gone"
	}
	return "wait"
}

func shortID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

// phaseCount is one badge of the overview's summary.
type phaseCount struct {
	Phase string
	Count int
}

// countPhases counts Environments by phase, every phase listed.
func countPhases(envs []*v1alpha1.Environment) []phaseCount {
	order := []v1alpha1.EnvironmentPhase{v1alpha1.PhaseReady, v1alpha1.PhaseProgressing, v1alpha1.PhasePending, v1alpha1.PhaseQueued,
		v1alpha1.PhaseDegraded, v1alpha1.PhaseFailed, v1alpha1.PhaseTerminating}
	n := map[string]int{}
	for _, e := range envs {
		n[phaseOf(e)]++
	}
	out := make([]phaseCount, 0, len(order))
	for _, p := range order {
		out = append(out, phaseCount{string(p), n[string(p)]})
	}
	return out
}
