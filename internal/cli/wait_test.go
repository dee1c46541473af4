package cli

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/cli-runtime/pkg/resource"

	"berth.dev/berth/apis/v1alpha1"
)

// envFinder serves Environments with a Ready condition that the test changes.
type envFinder struct {
	mu    sync.Mutex
	ready map[string]metav1.Condition
}

func (f *envFinder) set(name string, status metav1.ConditionStatus, reason, msg string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ready[name] = metav1.Condition{Type: v1alpha1.ConditionReady, Status: status, Reason: reason, Message: msg}
}

func (f *envFinder) Do() resource.Visitor {
	f.mu.Lock()
	defer f.mu.Unlock()
	var infos resource.InfoListVisitor
	for name, c := range f.ready {
		env := &v1alpha1.Environment{ObjectMeta: metav1.ObjectMeta{Name: name}}
		env.Status.Conditions = []metav1.Condition{c}
		obj, err := runtime.DefaultUnstructuredConverter.ToUnstructured(env)
		if err != nil {
			panic(err)
		}
		infos = append(infos, &resource.Info{Name: name, Object: &unstructured.Unstructured{Object: obj},
			Mapping: &meta.RESTMapping{GroupVersionKind: v1alpha1.SchemeGroupVersion.WithKind("Environment")}})
	}
	return infos
}

// syncWriter is a bytes.Buffer safe for the reporter's goroutine.
type syncWriter struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (w *syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *syncWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

func TestWaitReportsFailuresOnceAndExplainsATimeout(t *testing.T) {
	f := &envFinder{ready: map[string]metav1.Condition{}}
	f.set("web", metav1.ConditionFalse, "Progressing", "0/1 services ready; 2 operations pending")
	f.set("done", metav1.ConditionTrue, "AllServicesReady", "1/1 services ready")
	out := &syncWriter{}
	r := &readyReporter{finder: f, out: out, said: map[string]string{}}
	stop := r.follow(context.Background(), 5*time.Millisecond)
	time.Sleep(30 * time.Millisecond)
	if s := out.String(); s != "" {
		t.Fatalf("printed normal progress: %q", s)
	}
	f.set("web", metav1.ConditionFalse, "NetworkCreateFailed", "create network berth_web failed once, retrying with back-off: no free /24")
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(out.String(), "NetworkCreateFailed") && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	f.set("web", metav1.ConditionFalse, "NetworkCreateFailed", "create network berth_web failed 2 times in a row, retrying with back-off: no free /24")
	time.Sleep(30 * time.Millisecond)
	stop()
	want := "berth: environment/web: NetworkCreateFailed: create network berth_web failed once, retrying with back-off: no free /24\n"
	if got := out.String(); got != want {
		t.Fatalf("while waiting printed %q, want once %q", got, want)
	}

	out2 := &syncWriter{}
	r.out = out2
	r.explain()
	if got := out2.String(); got != "berth: environment/web is not Ready: NetworkCreateFailed: create network berth_web failed 2 times in a row, retrying with back-off: no free /24\n" {
		t.Fatalf("explain printed %q", got)
	}
}
