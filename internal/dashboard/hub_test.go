package dashboard

import (
	"slices"
	"testing"
)

func TestHubCoalescesAndFilters(t *testing.T) {
	h := newHub()
	all := h.subscribe("")
	one := h.subscribe("a")
	if h.subscribers() != 2 {
		t.Fatalf("subscribers = %d", h.subscribers())
	}
	for range 5 {
		h.changed("a") // a burst: one wake, one name
	}
	h.changed("b")
	h.changed("") // unnamed objects are ignored

	select {
	case <-all.wake:
	default:
		t.Fatal("overview subscriber not woken")
	}
	got := all.take()
	slices.Sort(got)
	if !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("overview took %v, want [a b]", got)
	}
	if got := one.take(); !slices.Equal(got, []string{"a"}) {
		t.Errorf("page of a took %v, want [a]", got)
	}
	if got := all.take(); len(got) != 0 {
		t.Errorf("second take %v, want nothing", got)
	}
	h.unsubscribe(one)
	h.changed("a")
	if got := one.take(); len(got) != 0 {
		t.Errorf("unsubscribed page still marked: %v", got)
	}
}
