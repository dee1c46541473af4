package manager

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"berth.dev/berth/apis/v1alpha1"
	"berth.dev/berth/controllers/plan"
	"berth.dev/berth/internal/admission"
	"berth.dev/berth/internal/docker"
	"berth.dev/berth/internal/informer"
)

// memoryBudget is --memory-budget parsed: bytes, or a share of the
// daemon's memory that docker info must tell first.
type memoryBudget struct {
	bytes int64
	share float64 // > 0: a fraction of the daemon's MemTotal
}

// parseMemoryBudget reads "80%" (of the daemon's memory), "2Gi" (bytes)
// or "0" (no budget: admit everything).
func parseMemoryBudget(v string) (memoryBudget, error) {
	if pct, ok := strings.CutSuffix(strings.TrimSpace(v), "%"); ok {
		f, err := strconv.ParseFloat(strings.TrimSpace(pct), 64)
		if err != nil || f <= 0 || f > 100 || math.IsNaN(f) {
			return memoryBudget{}, fmt.Errorf("--memory-budget %q: a percentage must be above 0 and at most 100", v)
		}
		return memoryBudget{share: f / 100}, nil
	}
	b, err := parseBudget("--memory-budget", v)
	if err != nil {
		return memoryBudget{}, err
	}
	return memoryBudget{bytes: b}, nil
}

// parsePressure reads --memory-pressure: a percentage of the daemon's
// memory ("90%" or "90"), 0 to never stop for pressure.
func parsePressure(v string) (float64, error) {
	s := strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "%"))
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f < 0 || f > 100 || math.IsNaN(f) {
		return 0, fmt.Errorf("--memory-pressure %q: want a percentage from 0 (off) to 100", v)
	}
	return f / 100, nil
}

// admissionBudget is the resolved budget, shared by the API server's
// check (which may run before Docker answers: then it refuses nothing, and
// the controller reports such an Environment instead) and the ledger.
type admissionBudget struct {
	bytes atomic.Int64 // -1 until resolved
}

func newAdmissionBudget(b memoryBudget) *admissionBudget {
	a := &admissionBudget{}
	a.bytes.Store(-1)
	if b.share == 0 {
		a.bytes.Store(b.bytes)
	}
	return a
}

// specCheck is the API server's capacity check: requests beyond the whole
// budget are refused with the numbers.
func (a *admissionBudget) specCheck(planOpts plan.Options) func(*v1alpha1.EnvironmentSpec) field.ErrorList {
	return func(spec *v1alpha1.EnvironmentSpec) field.ErrorList {
		budget := a.bytes.Load()
		if budget <= 0 {
			return nil
		}
		req, err := plan.MemoryRequests(spec, planOpts)
		if err != nil {
			return nil // the API's validation names the bad quantity
		}
		return admission.ValidateRequests(req, budget)
	}
}

// resolve fixes a budget given as a share of the daemon's memory, asking
// docker info until it answers (the controllers wait for Docker anyway).
func (a *admissionBudget) resolve(ctx context.Context, b memoryBudget, d *docker.Client, log logr.Logger) (int64, docker.DaemonInfo, error) {
	delay := time.Second
	for {
		info, err := d.Info(ctx)
		if err == nil {
			if b.share > 0 {
				budget := int64(float64(info.MemTotal) * b.share)
				if info.MemTotal <= 0 {
					log.Info("docker info reports no memory total: admission has no budget")
					budget = 0
				}
				a.bytes.Store(budget)
			}
			return a.bytes.Load(), info, nil
		}
		log.Error(err, "docker info for the memory budget failed; retrying", "in", delay.String())
		select {
		case <-ctx.Done():
			return 0, info, ctx.Err()
		case <-time.After(delay):
		}
		delay = min(2*delay, 30*time.Second)
	}
}

// hostMeminfo is where the host's memory is read when the daemon is local.
const hostMeminfo = "/proc/meminfo"

// Meter intervals: a file read is cheap; a remote daemon costs a stats
// read per running container.
const (
	localMeterInterval  = 5 * time.Second
	remoteMeterInterval = 30 * time.Second
)

// chooseMeter picks how the daemon's memory use is read. A daemon behind a
// local unix socket whose memory total is the host's runs on this host:
// /proc/meminfo is exact and free. Otherwise (a remote daemon, or one in a
// VM like Docker Desktop's) the total is docker info's and the use is the
// sum of docker stats over berth's running containers, which leaves out
// what others run there.
func chooseMeter(host string, info docker.DaemonInfo, d *docker.Client, cache informer.Cache) (admission.Meter, time.Duration, string) {
	if strings.HasPrefix(host, "unix://") {
		local := admission.HostMeminfo{Path: hostMeminfo}
		if u, err := local.Memory(context.Background()); err == nil && near(u.Total, info.MemTotal) {
			return local, localMeterInterval, "host"
		}
	}
	total := info.MemTotal
	return admission.MeterFunc(func(ctx context.Context) (admission.Usage, error) {
		var used int64
		for _, c := range cache.All().Containers {
			if !c.Running() {
				continue
			}
			u, err := d.Usage(ctx, c.ID)
			if err != nil {
				continue // gone between the list and the read
			}
			used += u.MemoryUsage
		}
		return admission.Usage{Used: used, Total: total}, nil
	}), remoteMeterInterval, "docker stats"
}

// lazyMeter is the controller's meter before and after the daemon told
// which one fits: it reports an error until set, then reads the chosen
// meter at most every its own interval (the controller asks every
// localMeterInterval; a remote daemon's reading costs Docker reads).
type lazyMeter struct {
	mu    sync.Mutex
	inner admission.Meter
	every time.Duration
	last  admission.Usage
	at    time.Time
}

func (m *lazyMeter) set(inner admission.Meter, every time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.inner, m.every = inner, every
}

// Memory reads the chosen meter, or its last reading when that is recent.
func (m *lazyMeter) Memory(ctx context.Context) (admission.Usage, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.inner == nil {
		return admission.Usage{}, errors.New("the daemon's memory is not known yet")
	}
	if m.every > localMeterInterval && !m.at.IsZero() && time.Since(m.at) < m.every {
		return m.last, nil
	}
	u, err := m.inner.Memory(ctx)
	if err != nil {
		return u, err
	}
	m.last, m.at = u, time.Now()
	return u, nil
}

// near reports a and b within 2 % of each other.
func near(a, b int64) bool {
	if a <= 0 || b <= 0 {
		return false
	}
	return math.Abs(float64(a-b)) <= 0.02*float64(max(a, b))
}
