package controllers

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"berth.dev/berth/apis/v1alpha1"
	"berth.dev/berth/controllers/plan"
	"berth.dev/berth/internal/docker"
)

// refused is the error the Docker layer returns when the daemon keeps a
// stale endpoint count for the network.
func refused(network string) error {
	return fmt.Errorf("remove network %s: %w", network, &docker.Error{Op: "network_remove", Object: network, Kind: docker.ErrActiveEndpoints,
		Err: errors.New("Error response from daemon: error while removing network: network " + network + " id n1 has active endpoints")})
}

// TestStaleNetworkTeardownFinishes is issue 8 point 9 end to end through
// the reconciler's memory and the pure plan, with a daemon that refuses
// the network's removal every time: teardown goes remove → disconnect
// stale endpoints → remove → done without the network (an empty plan, so
// the finalizer is released), where today's main plans the same removal
// for ever.
func TestStaleNetworkTeardownFinishes(t *testing.T) {
	env := &v1alpha1.Environment{}
	env.Name, env.UID = "sbs", "uid-1"
	env.DeletionTimestamp = &metav1.Time{Time: time.Now()}
	env.Spec.Services = []v1alpha1.Service{{Name: "s000", Image: "berth-testapp:dev"}, {Name: "s001", Image: "berth-testapp:dev"}}
	opts := plan.Options{ManagerID: "m1"}
	labels := map[string]string{v1alpha1.LabelManagedBy: "m1", v1alpha1.LabelEnvironment: "sbs", v1alpha1.LabelEnvironmentUID: "uid-1"}
	netName := plan.NetworkName("sbs")
	ctr := plan.ObservedContainer{ID: "c-old", Name: "/berth-sbs-gone", State: plan.StateExited,
		Labels: map[string]string{v1alpha1.LabelManagedBy: "m1", v1alpha1.LabelEnvironment: "sbs", v1alpha1.LabelService: "gone"}}
	obs := plan.Observed{Network: &plan.ObservedNetwork{Name: netName, ID: "n1", Labels: labels}, Containers: []plan.ObservedContainer{ctr}}

	book := newNetworkRefusals()
	var disconnected []string
	var left *plan.LeftNetwork
	for pass := 0; pass < 10; pass++ {
		obs.NetworkRemoval = book.get(env)
		p := plan.Teardown(env, obs, opts)
		if p.Empty() {
			left = p.LeftNetwork
			break
		}
		var outs []outcome
		for _, op := range p.Ops {
			o := outcome{op: op}
			switch op.Kind {
			case plan.OpRemoveContainer:
				obs.Containers = nil
			case plan.OpRemoveNetwork:
				o.err = refused(netName)
			case plan.OpDisconnectStaleEndpoints:
				disconnected = append(disconnected, op.Endpoints...)
			}
			outs = append(outs, o)
			if o.err != nil {
				break
			}
		}
		book.record(env, outs)
	}
	if left == nil {
		t.Fatalf("teardown never finished against a daemon that keeps refusing the network: %+v", book.get(env))
	}
	if left.Name != netName || left.Refusals != 2 || !strings.Contains(left.Message, "has active endpoints") {
		t.Errorf("left %+v, want %s after 2 refusals with the daemon's answer", left, netName)
	}
	want := []string{"berth-sbs-gone", plan.ContainerName("sbs", "s000"), plan.ContainerName("sbs", "s001")}
	if strings.Join(disconnected, ",") != strings.Join(want, ",") {
		t.Errorf("disconnected %v, want every container name berth created: %v", disconnected, want)
	}

	// A new incarnation of the same name starts with no history.
	again := env.DeepCopy()
	again.UID = "uid-2"
	if h := book.get(again); h != nil {
		t.Errorf("a new incarnation inherited the refusals %+v", h)
	}
	book.forget(env.Name)
	if h := book.get(env); h != nil {
		t.Errorf("forgotten history still there: %+v", h)
	}
}

// TestRefusalBookIgnoresOtherErrors: only the typed active-endpoints
// refusal counts; a conflict (a container still attached) or an outage
// never leads to giving up the network.
func TestRefusalBookIgnoresOtherErrors(t *testing.T) {
	env := &v1alpha1.Environment{}
	env.Name, env.UID = "e", "u"
	book := newNetworkRefusals()
	op := plan.Op{Kind: plan.OpRemoveNetwork, Network: "berth-e", NetworkID: "n1"}
	book.record(env, []outcome{
		{op: op, err: &docker.Error{Op: "network_remove", Kind: docker.ErrConflict, Err: errors.New("container x is still running on it")}},
		{op: op, err: &docker.Error{Op: "network_remove", Kind: docker.ErrUnavailable, Err: errors.New("EOF")}},
		{op: op, err: &docker.Error{Op: "network_remove", Kind: docker.ErrForbidden, Err: errors.New("operation not permitted")}},
		{op: op},
	})
	if h := book.get(env); h != nil {
		t.Fatalf("non-refusals recorded as refusals: %+v", h)
	}
}
