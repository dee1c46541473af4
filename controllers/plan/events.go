package plan

import (
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
	case OpCreateContainer:
		return "Created"
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
	}
	return string(o.Kind)
}
