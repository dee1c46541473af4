package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// cpuProfiler saves a manager's CPU profile (served with --profiling) in
// 5 s pieces while a phase runs: Go's profile endpoint wants its duration
// up front, and the length of a phase is what is being measured. The
// pieces are read together (go tool pprof bin/manager FILE.up.*). A nil
// cpuProfiler does nothing.
type cpuProfiler struct {
	addr, dataDir, prefix string
}

const profileSeconds = 5

// start begins fetching pieces named prefix.phase.N; the returned func
// stops after the piece in progress and waits for it.
func (p *cpuProfiler) start(ctx context.Context, phase string) (stop func()) {
	if p == nil {
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	done := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for n := 0; ; n++ {
			select {
			case <-done:
				return
			default:
			}
			if err := p.fetch(ctx, fmt.Sprintf("%s.%s.%d", p.prefix, phase, n)); err != nil {
				if ctx.Err() == nil {
					fmt.Fprintf(os.Stderr, "cpu profile: %v\n", err)
				}
				return
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			close(done)
			wg.Wait()
			cancel()
		})
	}
}

func (p *cpuProfiler) fetch(ctx context.Context, file string) error {
	token, err := os.ReadFile(filepath.Join(p.dataDir, "token"))
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", p.addr, profileSeconds), nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(token)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET /debug/pprof/profile: %s", resp.Status)
	}
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// freeLoopbackAddr is a loopback address whose port was free a moment ago.
func freeLoopbackAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}
