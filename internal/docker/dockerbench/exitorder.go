package dockerbench

import "sync"

// exitOrder hands out the containers of a direct teardown so that no two
// of one Environment are in flight at once, which is how the manager
// tears down on a daemon that keeps a stored endpoint count per network
// (docker.StoresEndpointCount): there, two containers of one network
// exiting together can leave the network unremovable until the daemon
// restarts, and a floor that does that is no floor. Environments are
// served lowest index first, so they finish one after the other as the
// manager's do, and workers beyond the first spread over the next ones.
type exitOrder struct {
	mu   sync.Mutex
	cond *sync.Cond
	left [][]string // per Environment, the containers not handed out yet
	busy []bool     // per Environment, one of its containers is out
	// from is the lowest Environment with containers left to hand out.
	from int
	// undealt counts the containers not handed out yet.
	undealt int
}

func newExitOrder(ids [][]string) *exitOrder {
	o := &exitOrder{left: make([][]string, len(ids)), busy: make([]bool, len(ids))}
	o.cond = sync.NewCond(&o.mu)
	for e, list := range ids {
		o.left[e] = append([]string(nil), list...)
		o.undealt += len(list)
	}
	return o
}

// take waits until a container of an Environment with none in flight is
// free and hands it out, with whether it is that Environment's last; ok
// is false once every container was handed out. done(e) must follow.
func (o *exitOrder) take() (e int, id string, last, ok bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for {
		if o.undealt == 0 {
			return 0, "", false, false
		}
		for e := o.from; e < len(o.left); e++ {
			if o.busy[e] || len(o.left[e]) == 0 {
				continue
			}
			id, o.left[e] = o.left[e][0], o.left[e][1:]
			o.busy[e] = true
			o.undealt--
			for o.from < len(o.left) && len(o.left[o.from]) == 0 {
				o.from++
			}
			return e, id, len(o.left[e]) == 0, true
		}
		o.cond.Wait()
	}
}

// done ends Environment e's turn.
func (o *exitOrder) done(e int) {
	o.mu.Lock()
	o.busy[e] = false
	o.mu.Unlock()
	o.cond.Broadcast()
}
