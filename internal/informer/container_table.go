package informer

import "berth.dev/berth/internal/docker"

// containerTable is the cache's containers, by ID, with the two lookups
// every reconcile makes kept as indexes: by name (the plan names containers,
// Docker keys them by ID) and by Environment. Scanning the whole cache for
// each would cost a reconcile time in proportion to every container of every
// Environment, which at hundreds of Environments is most of its work.
// The caller holds the informer's lock.
type containerTable struct {
	byID   map[string]*docker.Container
	byName map[string]string              // name -> ID
	byEnv  map[string]map[string]struct{} // Environment -> IDs
}

func newContainerTable() containerTable {
	return containerTable{
		byID:   map[string]*docker.Container{},
		byName: map[string]string{},
		byEnv:  map[string]map[string]struct{}{},
	}
}

func (t *containerTable) get(id string) (*docker.Container, bool) {
	c, ok := t.byID[id]
	return c, ok
}

// lookup finds a container by ID or by name.
func (t *containerTable) lookup(idOrName string) (*docker.Container, bool) {
	if c, ok := t.byID[idOrName]; ok {
		return c, true
	}
	if id, ok := t.byName[idOrName]; ok {
		return t.byID[id], true
	}
	return nil, false
}

// put stores c under its ID, replacing what was there, and moves the
// indexes with it (a rename, a relabelled container).
func (t *containerTable) put(c *docker.Container) {
	if old, ok := t.byID[c.ID]; ok {
		t.unindex(old)
	}
	t.byID[c.ID] = c
	if c.Name != "" {
		t.byName[c.Name] = c.ID
	}
	ids := t.byEnv[c.Environment]
	if ids == nil {
		ids = map[string]struct{}{}
		t.byEnv[c.Environment] = ids
	}
	ids[c.ID] = struct{}{}
}

func (t *containerTable) remove(id string) {
	if old, ok := t.byID[id]; ok {
		t.unindex(old)
		delete(t.byID, id)
	}
}

func (t *containerTable) unindex(c *docker.Container) {
	if t.byName[c.Name] == c.ID {
		delete(t.byName, c.Name)
	}
	if ids := t.byEnv[c.Environment]; ids != nil {
		delete(ids, c.ID)
		if len(ids) == 0 {
			delete(t.byEnv, c.Environment)
		}
	}
}

// ofEnvironment returns the containers labelled with Environment env.
func (t *containerTable) ofEnvironment(env string) []*docker.Container {
	ids := t.byEnv[env]
	out := make([]*docker.Container, 0, len(ids))
	for id := range ids {
		out = append(out, t.byID[id])
	}
	return out
}

func (t *containerTable) len() int { return len(t.byID) }
