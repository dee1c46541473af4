package main

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
)

func TestCheckHTTP(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/ok":
		case "/moved":
			http.Redirect(w, r, "/elsewhere", http.StatusFound)
		default:
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	defer srv.Close()

	for path, want := range map[string]int{"/ok": checkOK, "/moved": checkOK, "/down": checkFail} {
		if got := runCheck([]string{"--http", srv.URL + path}, io.Discard, io.Discard); got != want {
			t.Errorf("check --http %s = %d, want %d", path, got, want)
		}
	}
	if got := runCheck([]string{"--http", "http://" + closedAddr(t) + "/"}, io.Discard, io.Discard); got != checkFail {
		t.Errorf("check --http on a closed port = %d, want %d", got, checkFail)
	}
	if got := runCheck([]string{"--http", "::not a url"}, io.Discard, io.Discard); got != checkFail {
		t.Errorf("check --http on a bad URL = %d, want %d", got, checkFail)
	}
}

func TestCheckTCP(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if got := runCheck([]string{"--tcp", ln.Addr().String()}, io.Discard, io.Discard); got != checkOK {
		t.Errorf("check --tcp on a listener = %d, want 0", got)
	}
	if got := runCheck([]string{"--tcp", closedAddr(t)}, io.Discard, io.Discard); got != checkFail {
		t.Errorf("check --tcp on a closed port = %d, want 1", got)
	}
}

func TestCheckFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ready")
	if got := runCheck([]string{"--file", path}, io.Discard, io.Discard); got != checkFail {
		t.Errorf("check --file before creation = %d, want 1", got)
	}
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if got := runCheck([]string{"--file", path}, io.Discard, io.Discard); got != checkOK {
		t.Errorf("check --file after creation = %d, want 0", got)
	}
}

func TestCheckUsage(t *testing.T) {
	for _, args := range [][]string{
		nil,
		{"--file", "/a", "--tcp", "127.0.0.1:1"},
		{"--file", "/a", "extra"},
		{"--file", "/a", "--timeout", "0s"},
		{"--bogus"},
	} {
		if got := runCheck(args, io.Discard, io.Discard); got != checkUsage {
			t.Errorf("check %q = %d, want %d", args, got, checkUsage)
		}
	}
}

// closedAddr returns a loopback address on which nothing listens.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}
