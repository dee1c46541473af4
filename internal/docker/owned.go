package docker

import (
	"context"
	"fmt"
	"sync"
)

// Every call that takes a container ID from outside (logs, exec, stats,
// inspect) checks that the container carries this manager's identity: an ID
// can come from a status anyone with write access to it may set, and a
// container berth does not own is none of its business to read or run
// commands in.

// maxOwnedIDs bounds the memory of verified IDs; when it fills up it starts
// over, which only costs one inspect per container.
const maxOwnedIDs = 4096

// ownedIDs remembers full container IDs already verified as owned. A
// container's labels cannot change after create and an ID is never reused,
// so a verified ID stays verified: probes and log streams of berth's own
// containers pay no extra inspect.
type ownedIDs struct {
	mu  sync.Mutex
	ids map[string]struct{}
}

func (o *ownedIDs) has(id string) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	_, ok := o.ids[id]
	return ok
}

func (o *ownedIDs) add(id string) {
	if !isFullID(id) {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.ids == nil || len(o.ids) >= maxOwnedIDs {
		o.ids = make(map[string]struct{})
	}
	o.ids[id] = struct{}{}
}

// isFullID: only a full ID names one container for good; a name or a
// prefix may name another container tomorrow.
func isFullID(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, r := range s {
		if (r < '0' || r > '9') && (r < 'a' || r > 'f') {
			return false
		}
	}
	return true
}

// ownedContainer resolves idOrName to the full ID of a container this
// manager owns, or returns an ErrNotOwned (or NotFound) error. The caller
// acts on the returned ID only, so a name reassigned in between cannot
// redirect it.
func (c *Client) ownedContainer(ctx context.Context, op, idOrName string) (string, error) {
	if c.owned.has(idOrName) {
		return idOrName, nil
	}
	cur, err := c.inspectContainer(ctx, idOrName)
	if err != nil {
		return "", err
	}
	if err := c.checkOwned(op, containerLabel(cur, idOrName), cur.Labels); err != nil {
		return "", err
	}
	c.owned.add(cur.ID)
	return cur.ID, nil
}

func containerLabel(c Container, asked string) string {
	if c.Name != "" {
		return fmt.Sprintf("%s (%s)", c.Name, shortID(c.ID))
	}
	return asked
}
