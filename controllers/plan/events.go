package plan

import (
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"berth.dev/berth/apis/v1alpha1"
)

// MaxEvents is how many events status keeps, newest last.
const MaxEvents = 50

// Event types, as in Kubernetes events.
const (
	EventNormal  = "Normal"
	EventWarning = "Warning"
)

// AppendEvent adds ev to the status's record and drops the oldest beyond
// limit (MaxEvents when limit <= 0).
func AppendEvent(st *v1alpha1.EnvironmentStatus, ev v1alpha1.EnvironmentEvent, limit int) {
	if st == nil {
		return
	}
	if limit <= 0 {
		limit = MaxEvents
	}
	st.Events = append(st.Events, ev)
	if extra := len(st.Events) - limit; extra > 0 {
		// Copy so the dropped events do not stay reachable through the
		// backing array.
		st.Events = append([]v1alpha1.EnvironmentEvent(nil), st.Events[extra:]...)
	}
}

// Event is the record of op having been executed at now. Restarts and
// removals forced by something going wrong are warnings.
func (o Op) Event(now time.Time) v1alpha1.EnvironmentEvent {
	ev := v1alpha1.EnvironmentEvent{
		Time:    metav1.NewTime(now.Truncate(time.Second)),
		Type:    EventNormal,
		Reason:  o.eventReason(),
		Service: o.Service,
		Message: o.Reason,
	}
	if o.Restart || o.RemoveReason == RemoveDead || o.RemoveReason == RemoveDuplicate {
		ev.Type = EventWarning
	}
	return ev
}

func (o Op) eventReason() string {
	switch o.Kind {
	case OpEnsureNetwork:
		return "NetworkCreated"
	case OpEnsureVolume:
		return "VolumeCreated"
	case OpPullImage:
		return "Pulled"
	case OpBuildImage:
		return "Built"
	case OpCreateContainer:
		return "Created"
	case OpCopyFiles:
		return "FilesWritten"
	case OpStartContainer:
		if o.Restart {
			return "Restarted"
		}
		return "Started"
	case OpRemoveContainer:
		switch o.RemoveReason {
		case RemoveSpecChanged, RemoveDead:
			return "Replaced"
		case RemoveTeardown:
			return "TornDown"
		case RemoveOrphan:
			return "OrphanCollected"
		}
		return "Removed"
	case OpRemoveNetwork:
		return "NetworkRemoved"
	case OpRemoveVolume:
		return "VolumeRemoved"
	case OpDisconnectStaleEndpoints:
		return "StaleEndpointsDisconnected"
	case OpConnectNetwork:
		return "NetworkConnected"
	}
	return string(o.Kind)
}

// EventNetworkLeftBehind is the reason of the warning a teardown ends with
// when the daemon would not remove the network.
const EventNetworkLeftBehind = "NetworkLeftBehind"

// Event is the warning that ends a teardown which left the network: what
// is left, why, and what clears it.
func (l LeftNetwork) Event(now time.Time) v1alpha1.EnvironmentEvent {
	return v1alpha1.EnvironmentEvent{
		Time:   metav1.NewTime(now.Truncate(time.Second)),
		Type:   EventWarning,
		Reason: EventNetworkLeftBehind,
		Message: fmt.Sprintf("teardown finished without network %s (%s): the Docker daemon refused its removal %d times for active endpoints "+
			"although none of this Environment's containers exists any more and its stale endpoints were disconnected; the endpoints are "+
			"stale entries in the daemon's own network store (seen with Docker 20.10), which a restart of the Docker daemon clears. "+
			"The network holds no data; berth's orphan collector removes it once the daemon allows it, and an Environment of the "+
			"same name adopts it meanwhile. Last answer: %s", l.Name, shortID(l.ID), l.Refusals, l.Message),
	}
}
