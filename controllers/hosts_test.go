package controllers

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"berth.dev/berth/apis/v1alpha1"
)

func TestRouteOf(t *testing.T) {
	deleted := metav1.NewTime(time.Unix(1700000000, 0))
	env := func(pinned, bound string, deleting bool) *v1alpha1.Environment {
		e := &v1alpha1.Environment{Spec: v1alpha1.EnvironmentSpec{Host: pinned}, Status: v1alpha1.EnvironmentStatus{Host: bound}}
		if deleting {
			e.DeletionTimestamp = &deleted
		}
		return e
	}
	cases := []struct {
		name string
		env  *v1alpha1.Environment
		host string
		solo bool
		want hostRoute
	}{
		{"no host serves all", env("b", "b", false), "", false, routeServe},
		{"bound here", env("", "a", false), "a", false, routeServe},
		{"bound here, deleting: teardown", env("", "a", true), "a", false, routeServe},
		{"bound elsewhere", env("", "b", false), "a", false, routeSkip},
		{"bound elsewhere, solo", env("", "b", false), "a", true, routeUnserved},
		{"bound elsewhere, solo, deleting", env("", "b", true), "a", true, routeRelease},
		{"bound elsewhere, deleting", env("", "b", true), "a", false, routeSkip},
		{"pinned here", env("a", "", false), "a", false, routeBind},
		{"pinned elsewhere", env("b", "", false), "a", false, routeSkip},
		{"pinned elsewhere, solo", env("b", "", false), "a", true, routeUnserved},
		{"unpinned: the placement's", env("", "", false), "a", false, routeSkip},
		{"unpinned, solo", env("", "", false), "a", true, routeBind},
		{"unbound, deleting", env("", "", true), "a", false, routeRelease},
		{"pinned elsewhere, unbound, deleting, solo", env("b", "", true), "a", true, routeRelease},
	}
	for _, tc := range cases {
		if got := routeOf(tc.env, tc.host, tc.solo); got != tc.want {
			t.Errorf("%s: route %d, want %d", tc.name, got, tc.want)
		}
	}
}

func TestUnknownConditionWrittenOncePerReason(t *testing.T) {
	now := time.Unix(1700000000, 0)
	e := &v1alpha1.Environment{}
	cond, changed := HostUnreachableCondition(e, "host a last seen 41s ago", now)
	if !changed || cond.Status != metav1.ConditionUnknown || cond.Reason != v1alpha1.ReasonHostUnreachable {
		t.Fatalf("first: %+v changed=%v", cond, changed)
	}
	e.Status.Conditions = []metav1.Condition{cond}
	if _, changed := HostUnreachableCondition(e, "host a last seen 50s ago", now.Add(9*time.Second)); changed {
		t.Error("same reason again: rewritten")
	}
	if _, changed := NoLiveHostCondition(e, "no live host", now); !changed {
		t.Error("another reason: not written")
	}
	e.Status.Conditions[0].Status = metav1.ConditionTrue
	if _, changed := HostUnreachableCondition(e, "x", now); !changed {
		t.Error("Ready True again, host gone again: not written")
	}
}
