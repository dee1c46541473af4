package streamcap

import (
	"errors"
	"testing"
)

func TestCapsPerKeyAndInTotal(t *testing.T) {
	l := New("log streams", 3, 2)
	r1, err := l.Acquire("a")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Acquire("a"); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Acquire("a"); !errors.Is(err, ErrTooMany) {
		t.Fatalf("third stream of one key: %v, want ErrTooMany", err)
	}
	r3, err := l.Acquire("b")
	if err != nil {
		t.Fatalf("another key while the first is at its cap: %v", err)
	}
	if _, err := l.Acquire("c"); !errors.Is(err, ErrTooMany) {
		t.Fatalf("fourth stream in total: %v, want ErrTooMany", err)
	}
	r1()
	r1() // twice is harmless: it must not free a second slot
	if l.Open() != 2 {
		t.Fatalf("open = %d after one release, want 2", l.Open())
	}
	if _, err := l.Acquire("c"); err != nil {
		t.Fatalf("after a release: %v", err)
	}
	r3()
	if _, err := l.Acquire("a"); err != nil {
		t.Fatalf("key a holds one: %v", err)
	}
	if _, err := l.Acquire("a"); !errors.Is(err, ErrTooMany) {
		t.Fatalf("key a holds two again: %v, want ErrTooMany", err)
	}
}
