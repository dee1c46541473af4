package manager

import (
	"context"
	"testing"

	"berth.dev/berth/internal/admission"
	"berth.dev/berth/internal/docker"
)

func TestParseMemoryBudget(t *testing.T) {
	for in, want := range map[string]memoryBudget{
		"80%": {share: 0.8}, "100%": {share: 1}, "2Gi": {bytes: 2 << 30}, "0": {}, "512Mi": {bytes: 512 << 20},
	} {
		got, err := parseMemoryBudget(in)
		if err != nil || got != want {
			t.Errorf("%q: %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, bad := range []string{"0%", "101%", "x%", "-1Gi", "lots"} {
		if _, err := parseMemoryBudget(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestParsePressure(t *testing.T) {
	for in, want := range map[string]float64{"90%": 0.9, "90": 0.9, "0": 0, "100%": 1} {
		if got, err := parsePressure(in); err != nil || got != want {
			t.Errorf("%q: %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"-5", "120%", "high", ""} {
		if _, err := parsePressure(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestNear(t *testing.T) {
	if !near(1000, 1010) || near(1000, 1100) || near(0, 0) {
		t.Error("near is wrong")
	}
}

// TestChooseMeter: the host's meminfo only for a local socket whose daemon
// has this host's memory; docker stats otherwise.
func TestChooseMeter(t *testing.T) {
	host, err := admission.HostMeminfo{Path: hostMeminfo}.Memory(context.Background())
	if err != nil {
		t.Skipf("no %s here: %v", hostMeminfo, err)
	}
	if _, every, kind := chooseMeter("unix:///var/run/docker.sock", docker.DaemonInfo{MemTotal: host.Total}, nil, nil); kind != "host" || every != localMeterInterval {
		t.Errorf("local daemon: %s every %s", kind, every)
	}
	// Docker Desktop: a local socket, a VM with its own memory.
	if _, _, kind := chooseMeter("unix:///var/run/docker.sock", docker.DaemonInfo{MemTotal: host.Total / 4}, nil, nil); kind != "docker stats" {
		t.Errorf("daemon in a VM: %s", kind)
	}
	if _, every, kind := chooseMeter("tcp://10.0.0.5:2376", docker.DaemonInfo{MemTotal: host.Total}, nil, nil); kind != "docker stats" || every != remoteMeterInterval {
		t.Errorf("remote daemon: %s every %s", kind, every)
	}
}

// TestLazyMeter: an error until the meter is chosen; a remote daemon's
// meter is read at most every its interval.
func TestLazyMeter(t *testing.T) {
	var m lazyMeter
	if _, err := m.Memory(context.Background()); err == nil {
		t.Fatal("a reading before the meter is chosen")
	}
	reads := 0
	m.set(admission.MeterFunc(func(context.Context) (admission.Usage, error) {
		reads++
		return admission.Usage{Used: int64(reads), Total: 100}, nil
	}), remoteMeterInterval)
	for range 3 {
		if u, err := m.Memory(context.Background()); err != nil || u.Used != 1 {
			t.Fatalf("%+v %v", u, err)
		}
	}
	m.set(m.inner, localMeterInterval)
	if u, _ := m.Memory(context.Background()); u.Used != 2 {
		t.Errorf("a local meter is read every time: %+v", u)
	}
}
