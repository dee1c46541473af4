package docker

import (
	"context"
	"sync"
	"time"

	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
)

// Under the desktop profile every call costs 0.55 s, and the Docker
// informer used to ask Docker back about what this process had just made:
// an inspect of every container after its start (host ports, whether a
// healthcheck decides readiness) and of every network after its create
// (its labels, which network events do not carry). What this process
// created it already knows; known remembers it for the informer, which
// then asks Docker only about what it cannot know. Only facts that cannot
// change after create are kept (config, labels); a manager that restarts
// starts with nothing remembered and inspects, as before.

// maxKnown bounds each table: a long-running manager forgets everything at
// that size and goes back to an inspect per object.
const maxKnown = 4096

// StartFacts are what Docker decides at a container's start that berth
// already knew when it created it.
type StartFacts struct {
	// Healthcheck: the container has a healthcheck (the spec's, or the
	// image's when the spec leaves it), so Docker reports its health
	// ("starting" from the start on) and readiness waits for it.
	Healthcheck bool
}

type knownObjects struct {
	mu sync.Mutex
	// starts are the containers created by this process that publish no
	// host port and whose healthcheck is known: their start event says
	// all the informer needs.
	starts map[string]StartFacts
	// networks are the networks this process created, by ID, as created.
	networks map[string]Network
	// creating are the network names with a create of this process in
	// flight, each closed when it returned: Docker may send the create
	// event before the create's answer arrives.
	creating map[string]chan struct{}
	// imageHealth is, by image reference, whether the image as last
	// inspected has a HEALTHCHECK; a pull or a build of the reference
	// forgets it.
	imageHealth map[string]bool
}

func (k *knownObjects) setStart(id string, f StartFacts) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.starts == nil || len(k.starts) >= maxKnown {
		k.starts = map[string]StartFacts{}
	}
	k.starts[id] = f
}

func (k *knownObjects) setNetwork(n Network) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.networks == nil || len(k.networks) >= maxKnown {
		k.networks = map[string]Network{}
	}
	k.networks[n.ID] = n
}

func (k *knownObjects) setImageHealth(ref string, has bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.imageHealth == nil || len(k.imageHealth) >= maxKnown {
		k.imageHealth = map[string]bool{}
	}
	k.imageHealth[ref] = has
}

func (k *knownObjects) forgetImage(ref string) {
	k.mu.Lock()
	delete(k.imageHealth, ref)
	k.mu.Unlock()
}

func (k *knownObjects) imageHasHealthcheck(ref string) (has, known bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	has, known = k.imageHealth[ref]
	return has, known
}

// StartFacts returns what this process knew, at create, about what the
// start of container id (a full ID) decides; ok is false when the
// informer must inspect it (published ports, an unknown healthcheck, a
// container created by another process or before a restart).
func (c *Client) StartFacts(id string) (StartFacts, bool) {
	c.known.mu.Lock()
	defer c.known.mu.Unlock()
	f, ok := c.known.starts[id]
	return f, ok
}

// beginNetworkCreate marks a create of name in flight; the returned func
// ends it. EnsureNetwork serialises creates of one name, so one is enough.
func (k *knownObjects) beginNetworkCreate(name string) func() {
	ch := make(chan struct{})
	k.mu.Lock()
	if k.creating == nil {
		k.creating = map[string]chan struct{}{}
	}
	k.creating[name] = ch
	k.mu.Unlock()
	return func() {
		k.mu.Lock()
		if k.creating[name] == ch {
			delete(k.creating, name)
		}
		k.mu.Unlock()
		close(ch)
	}
}

// createWait bounds how long a create event waits for this process's
// create of the same name to return.
const createWait = 5 * time.Second

// CreatedNetwork returns the network id as this process created it (its
// labels and name cannot change), so a create event needs no inspect.
// A create of the same name still in flight in this process (the event
// overtook the answer) is waited for, briefly.
func (c *Client) CreatedNetwork(ctx context.Context, id, name string) (Network, bool) {
	c.known.mu.Lock()
	ch := c.known.creating[name]
	c.known.mu.Unlock()
	if ch != nil {
		t := time.NewTimer(createWait)
		select {
		case <-ch:
		case <-t.C:
		case <-ctx.Done():
		}
		t.Stop()
	}
	c.known.mu.Lock()
	defer c.known.mu.Unlock()
	n, ok := c.known.networks[id]
	return n, ok
}

// Forget drops what is remembered about a container or network that is
// gone.
func (c *Client) Forget(id string) {
	c.known.mu.Lock()
	delete(c.known.starts, id)
	delete(c.known.networks, id)
	c.known.mu.Unlock()
}

// rememberCreated records a container this process just created, when its
// start will decide nothing berth does not already know.
func (c *Client) rememberCreated(id string, spec ContainerSpec) {
	if !isFullID(id) || len(spec.Ports) > 0 {
		return // host ports are assigned at start: the inspect says which
	}
	has, known := specHealthcheck(spec.Healthcheck)
	if !known {
		if has, known = c.known.imageHasHealthcheck(spec.Image); !known {
			return
		}
	}
	c.known.setStart(id, StartFacts{Healthcheck: has})
}

// specHealthcheck says whether the spec's healthcheck decides: known is
// false when the image's applies (no spec healthcheck, or one without a
// test, which Docker fills from the image).
func specHealthcheck(h *HealthcheckSpec) (has, known bool) {
	if h == nil || len(h.Test) == 0 {
		return false, false
	}
	return h.Test[0] != "NONE", true
}

// imageHealthcheck says whether an image's config has a HEALTHCHECK.
func imageHealthcheck(cfg *dockerspec.DockerOCIImageConfig) bool {
	if cfg == nil || cfg.Healthcheck == nil || len(cfg.Healthcheck.Test) == 0 {
		return false
	}
	return cfg.Healthcheck.Test[0] != "NONE"
}
