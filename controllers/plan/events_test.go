package plan

import (
	"fmt"
	"testing"
	"time"

	"berth.dev/berth/apis/v1alpha1"
)

func TestAppendEventKeepsTheNewest(t *testing.T) {
	var st v1alpha1.EnvironmentStatus
	for i := range 61 {
		AppendEvent(&st, v1alpha1.EnvironmentEvent{Type: EventNormal, Reason: "Created", Message: fmt.Sprint(i)}, 0)
	}
	if len(st.Events) != MaxEvents || st.Events[0].Message != "11" || st.Events[49].Message != "60" {
		t.Errorf("%d events from %q to %q, want the last 50 (11…60)", len(st.Events), st.Events[0].Message, st.Events[len(st.Events)-1].Message)
	}
	AppendEvent(&st, v1alpha1.EnvironmentEvent{Message: "x"}, 3)
	if len(st.Events) != 3 || st.Events[2].Message != "x" || st.Events[0].Message != "59" {
		t.Errorf("limit 3: %+v", st.Events)
	}
	AppendEvent(nil, v1alpha1.EnvironmentEvent{}, 0) // must not panic
}

func TestOpEvent(t *testing.T) {
	now := t0.Add(1500 * time.Millisecond)
	tests := []struct {
		op     Op
		reason string
		typ    string
	}{
		{Op{Kind: OpCreateContainer, Service: "api", Reason: "create api"}, "Created", EventNormal},
		{Op{Kind: OpStartContainer, Service: "api"}, "Started", EventNormal},
		{Op{Kind: OpStartContainer, Service: "db", Restart: true}, "Restarted", EventWarning},
		{Op{Kind: OpRemoveContainer, RemoveReason: RemoveSpecChanged}, "Replaced", EventNormal},
		{Op{Kind: OpRemoveContainer, RemoveReason: RemoveDead}, "Replaced", EventWarning},
		{Op{Kind: OpRemoveContainer, RemoveReason: RemoveServiceRemoved}, "Removed", EventNormal},
		{Op{Kind: OpRemoveContainer, RemoveReason: RemoveTeardown}, "TornDown", EventNormal},
		{Op{Kind: OpRemoveContainer, RemoveReason: RemoveOrphan}, "OrphanCollected", EventNormal},
		{Op{Kind: OpPullImage}, "Pulled", EventNormal},
		{Op{Kind: OpEnsureNetwork}, "NetworkCreated", EventNormal},
		{Op{Kind: OpRemoveVolume}, "VolumeRemoved", EventNormal},
	}
	for _, tt := range tests {
		ev := tt.op.Event(now)
		if ev.Reason != tt.reason || ev.Type != tt.typ || ev.Service != tt.op.Service || ev.Message != tt.op.Reason || !ev.Time.Time.Equal(t0.Add(time.Second)) {
			t.Errorf("%s: event %+v, want %s/%s at whole seconds", tt.op, ev, tt.typ, tt.reason)
		}
	}
}
