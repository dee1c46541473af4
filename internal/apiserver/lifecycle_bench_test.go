package apiserver_test

import (
	"context"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-logr/logr"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/cache"

	"berth.dev/berth/apis/v1alpha1"
	"berth.dev/berth/client/clientset/versioned"
	"berth.dev/berth/client/informers/externalversions"
	"berth.dev/berth/internal/apiserver"
)

// BenchmarkEnvironmentLife is the API side of one 5-service Environment's
// life as the manager drives it (create, the admission and Ready status
// writes, delete, then a teardown over before its Terminating notice:
// the finalizer's release alone) while
// a shared informer and a second watcher follow, as in bench scale. It
// reports the process's CPU per Environment: the embedded API server,
// etcd and the clients all run here, so this is the manager's cost per
// Environment that no Docker call is part of.
func BenchmarkEnvironmentLife(b *testing.B) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s, err := apiserver.New(ctx, apiserver.Options{DataDir: b.TempDir(), ListenAddress: "127.0.0.1:0", Log: logr.Discard()})
	if err != nil {
		b.Fatal(err)
	}
	done := make(chan error, 1)
	ready := make(chan struct{})
	go func() { done <- s.Run(ctx, func() { close(ready) }) }()
	defer func() { cancel(); <-done }()
	select {
	case <-ready:
	case err := <-done:
		b.Fatal(err)
	}
	cs, err := versioned.NewForConfig(s.LocalRESTConfig())
	if err != nil {
		b.Fatal(err)
	}
	factory := externalversions.NewSharedInformerFactory(cs, 0)
	informer := factory.Berth().V1alpha1().Environments().Informer()
	factory.Start(ctx.Done())
	cache.WaitForCacheSync(ctx.Done(), informer.HasSynced)
	w, err := cs.BerthV1alpha1().Environments().Watch(ctx, metav1.ListOptions{})
	if err != nil {
		b.Fatal(err)
	}
	go func() {
		for range w.ResultChan() {
		}
	}()
	defer w.Stop()

	envs := cs.BerthV1alpha1().Environments()
	b.ResetTimer()
	cpu0 := processCPU()
	for i := 0; i < b.N; i++ {
		if err := environmentLife(ctx, envs, informer.GetStore(), fmt.Sprintf("life-%05d", i)); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric((processCPU()-cpu0).Seconds()*1000/float64(b.N), "cpu-ms/env")
}

type environments interface {
	Create(context.Context, *v1alpha1.Environment, metav1.CreateOptions) (*v1alpha1.Environment, error)
	UpdateStatus(context.Context, *v1alpha1.Environment, metav1.UpdateOptions) (*v1alpha1.Environment, error)
	Update(context.Context, *v1alpha1.Environment, metav1.UpdateOptions) (*v1alpha1.Environment, error)
	Delete(context.Context, string, metav1.DeleteOptions) error
}

func environmentLife(ctx context.Context, envs environments, seen cache.Store, name string) error {
	env := &v1alpha1.Environment{ObjectMeta: metav1.ObjectMeta{Name: name}}
	grace := int64(10)
	for i := 0; i < 5; i++ {
		env.Spec.Services = append(env.Spec.Services, v1alpha1.Service{
			Name: fmt.Sprintf("s%03d", i), Image: "berth-testapp:dev", Args: []string{"--http-port=0"},
			TerminationGracePeriodSeconds: &grace,
		})
	}
	env, err := envs.Create(ctx, env, metav1.CreateOptions{})
	if err != nil {
		return fmt.Errorf("create: %w", err)
	}
	now := metav1.NewTime(time.Now().Truncate(time.Second))
	env.Status.Host = "local"
	env.Status.Phase = v1alpha1.PhasePending
	env.Status.ObservedGeneration = env.Generation
	apimeta.SetStatusCondition(&env.Status.Conditions, metav1.Condition{Type: "Admitted", Status: metav1.ConditionTrue, Reason: "Fits", Message: "requests 320Mi of budget 18Gi", LastTransitionTime: now})
	if env, err = envs.UpdateStatus(ctx, env, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("admission: %w", err)
	}
	env.Status.Phase = v1alpha1.PhaseReady
	env.Status.Ready = "5/5"
	env.Status.FirstReadyTime = &now
	apimeta.SetStatusCondition(&env.Status.Conditions, metav1.Condition{Type: v1alpha1.ConditionReady, Status: metav1.ConditionTrue, Reason: "AllServicesReady", Message: "5/5 services ready", LastTransitionTime: now})
	apimeta.SetStatusCondition(&env.Status.Conditions, metav1.Condition{Type: "Progressing", Status: metav1.ConditionFalse, Reason: "Converged", Message: "the Docker objects match the spec", LastTransitionTime: now})
	env.Status.Events = append(env.Status.Events, v1alpha1.EnvironmentEvent{Time: now, Type: "Normal", Reason: "NetworkCreated", Message: "network berth_" + name})
	for _, svc := range env.Spec.Services {
		id := strings.Repeat("0123456789abcdef", 4)
		env.Status.Services = append(env.Status.Services, v1alpha1.ServiceStatus{Name: svc.Name, ContainerID: id, State: "running", Ready: true, StartedAt: &now})
		env.Status.Events = append(env.Status.Events,
			v1alpha1.EnvironmentEvent{Time: now, Type: "Normal", Reason: "Created", Message: "container berth-" + name + "-" + svc.Name + " (" + id[:12] + ")"},
			v1alpha1.EnvironmentEvent{Time: now, Type: "Normal", Reason: "Started", Message: "container berth-" + name + "-" + svc.Name})
	}
	if env, err = envs.UpdateStatus(ctx, env, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("ready: %w", err)
	}
	if err := envs.Delete(ctx, name, metav1.DeleteOptions{}); err != nil {
		return fmt.Errorf("delete: %w", err)
	}
	// The manager learns of the delete from its informer.
	for {
		obj, ok, _ := seen.GetByKey(name)
		if !ok {
			return fmt.Errorf("%s gone before its finalizer was released", name)
		}
		if e := obj.(*v1alpha1.Environment); e.DeletionTimestamp != nil {
			env = e.DeepCopy()
			break
		}
		time.Sleep(time.Millisecond)
	}
	env.Finalizers = nil
	if _, err = envs.Update(ctx, env, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("release: %w", err)
	}
	return nil
}

func processCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
