package controllers

import (
	"context"
	"strconv"
	"testing"

	"github.com/go-logr/logr/testr"
	"github.com/prometheus/client_golang/prometheus"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"berth.dev/berth/apis/v1alpha1"
	"berth.dev/berth/internal/docker"
	"berth.dev/berth/internal/probe"
)

// TestSyncProbesEveryReplica: each running replica of a probed service gets
// a probe of its own (the probe manager keeps one per key, so keying by
// service alone would probe one replica and leave the others unknown).
func TestSyncProbesEveryReplica(t *testing.T) {
	env := &v1alpha1.Environment{ObjectMeta: metav1.ObjectMeta{Name: "demo", UID: "u1"}}
	env.Spec.Services = []v1alpha1.Service{{Name: "api", Replicas: ptrTo(int32(3)),
		Ports:          []v1alpha1.ServicePort{{Name: "http", ContainerPort: 8080}},
		ReadinessProbe: &v1alpha1.Probe{TCPSocket: &v1alpha1.TCPSocketAction{Port: intstr.FromString("http")}, PeriodSeconds: 60, TimeoutSeconds: 1}}}
	cache := &fakeCache{}
	for i := range 3 {
		labels := labelled("demo", "u1")
		labels[v1alpha1.LabelService], labels[v1alpha1.LabelReplica] = "api", strconv.Itoa(i)
		if i == 0 {
			delete(labels, v1alpha1.LabelReplica) // created before replicas existed
		}
		cache.containers = append(cache.containers, docker.Container{
			ID: "c-" + strconv.Itoa(i), Name: v1alpha1.ReplicaContainerName("demo", "api", i), Labels: labels,
			Environment: "demo", Service: "api", State: "running",
			Networks: map[string]string{"berth_demo": "127.0.0.1"},
		})
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pm, err := probe.NewManager(ctx, probe.Options{Logger: testr.New(t), Registerer: prometheus.NewRegistry()})
	if err != nil {
		t.Fatal(err)
	}
	defer pm.Stop()
	c := &Controller{cache: cache, images: newImageBook(), runs: newRunMemory(), everReady: newReadyMemory(), probes: pm, refusals: newNetworkRefusals()}
	c.syncProbes(env, c.observe(env))
	for i := range 3 {
		if _, ok := pm.Result("c-" + strconv.Itoa(i)); !ok {
			t.Errorf("replica %d is not probed", i)
		}
	}
}
