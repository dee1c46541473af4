package docker

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"berth.dev/berth/internal/docker/faultproxy"
	"berth.dev/berth/internal/governor"
)

// removalSpan is when the daemon worked on one container's stop and
// remove, as the proxy saw it: from the stop's start to the remove's
// answer.
type removalSpan struct{ from, to time.Time }

func (a removalSpan) overlaps(b removalSpan) bool { return a.from.Before(b.to) && b.from.Before(a.to) }

// removalSpans reads each container's span from the proxy's record.
func removalSpans(t *testing.T, reqs []faultproxy.Request, known []KnownContainer) []removalSpan {
	t.Helper()
	var out []removalSpan
	for _, k := range known {
		var s removalSpan
		for _, r := range reqs {
			path, _, _ := strings.Cut(r.URI, "?")
			switch {
			case r.Method == "POST" && strings.HasSuffix(path, "/containers/"+k.ID+"/stop"):
				s.from = r.Start
			case r.Method == "DELETE" && strings.HasSuffix(path, "/containers/"+k.ID):
				s.to = r.Answered
			}
		}
		if s.from.IsZero() || s.to.IsZero() {
			t.Fatalf("%s: no stop or no remove recorded", k.Name)
		}
		out = append(out, s)
	}
	return out
}

// TestRemoveKnownOneContainerOfAnEnvironmentAtATime: on a daemon that keeps
// a stored endpoint count (before API 1.49: Docker 20.10 here), the
// containers of one Environment removed at once go one at a time, each
// stop and remove over before the next stop starts, while another
// Environment's go at the same time; on a newer daemon those of one
// Environment overlap too. Everything is gone afterwards, the networks
// included, and nothing was forced (startProxy checks).
func TestRemoveKnownOneContainerOfAnEnvironmentAtATime(t *testing.T) {
	needDocker(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	p := startProxy(t)
	c := newTestClient(t, p.Host(), governor.ProfileCI)
	envs := []string{envName(t, "turns"), envName(t, "turns")}
	known := map[string][]KnownContainer{}
	nets := map[string]Network{}
	for _, env := range envs {
		cleanupEnv(t, env)
		n, err := c.EnsureNetwork(ctx, NetworkSpec{Environment: env})
		if err != nil {
			t.Fatal(err)
		}
		nets[env] = n
		// Half a second on SIGTERM: each stop lasts long enough that two
		// at once would overlap.
		known[env] = startOwned(t, ctx, c, env, 3, "--stop-delay", "500ms")
	}
	if _, err := c.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	serial := c.storesEndpointCount(ctx)
	t.Logf("daemon API %v: stored endpoint count %v", c.daemonAPI.Load(), serial)
	p.Reset()

	var wg sync.WaitGroup
	for _, env := range envs {
		for _, k := range known[env] {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := c.RemoveKnown(ctx, k, 10*time.Second); err != nil {
					t.Errorf("RemoveKnown %s: %v", k.Name, err)
				}
			}()
		}
	}
	wg.Wait()
	for _, env := range envs {
		n := nets[env]
		if err := c.RemoveKnownNetwork(ctx, KnownNetwork{ID: n.ID, Name: n.Name, Labels: n.Labels}); err != nil {
			t.Errorf("remove network of %s: %v", env, err)
		}
	}

	reqs := p.Requests()
	spans := map[string][]removalSpan{}
	for _, env := range envs {
		spans[env] = removalSpans(t, reqs, known[env])
		within := 0
		for i, a := range spans[env] {
			for _, b := range spans[env][i+1:] {
				if a.overlaps(b) {
					within++
				}
			}
		}
		switch {
		case serial && within > 0:
			t.Errorf("%s: %d pairs of its containers were stopped and removed at the same time, want one at a time: %v", env, within, spans[env])
		case !serial && within == 0:
			t.Errorf("%s: its containers went one at a time on a daemon without a stored endpoint count: %v", env, spans[env])
		}
		for _, k := range known[env] {
			if _, err := rawState(ctx, k.ID); err == nil {
				t.Errorf("%s still exists", k.Name)
			}
		}
	}
	across := 0
	for _, a := range spans[envs[0]] {
		for _, b := range spans[envs[1]] {
			if a.overlaps(b) {
				across++
			}
		}
	}
	if across == 0 {
		t.Errorf("the two Environments' containers went one after the other, want them at the same time: %v and %v", spans[envs[0]], spans[envs[1]])
	}
}
