package buildctx

import (
	"strings"
	"testing"
)

func TestTailKeepsTheNewestBytesOnly(t *testing.T) {
	tl := NewTail(10)
	for i := 0; i < 10000; i++ {
		tl.Write([]byte("abc\n"))
	}
	b, trunc := tl.Bytes()
	if len(b) != 10 || !trunc || cap(tl.buf) > 64 {
		t.Fatalf("kept %d bytes (cap %d), truncated=%v", len(b), cap(tl.buf), trunc)
	}
	if !strings.HasSuffix(string(b), "abc\n") {
		t.Errorf("kept %q", b)
	}
	tl.Write([]byte(strings.Repeat("x", 100) + "END"))
	if b, _ := tl.Bytes(); string(b) != "xxxxxxxEND" {
		t.Errorf("kept %q", b)
	}
}

func TestTailLastLines(t *testing.T) {
	tl := NewTail(1000)
	tl.Write([]byte("one\ntwo\nthree\nfour\n"))
	if got := tl.LastLines(2); got != "three\nfour" {
		t.Errorf("got %q", got)
	}
	if got := tl.LastLines(10); got != "one\ntwo\nthree\nfour" {
		t.Errorf("got %q", got)
	}
}
