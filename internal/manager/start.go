package manager

import (
	"context"
	"errors"
	"fmt"

	"k8s.io/client-go/rest"
)

// Manager is a manager started in this process by Start.
type Manager struct {
	kubeconfig string
	dataDir    string
	config     *rest.Config

	cancel context.CancelFunc
	done   chan struct{}
	err    error // set before done is closed
}

// Start runs a manager in this process and returns once its API answers
// and its kubeconfig is written, or with the error that stopped it first.
// The manager runs until ctx is done or Stop is called; either way it
// shuts down as Run does. This is what pkg/berthtest uses when no manager
// answers: the same wiring as cmd/manager, nothing else to install.
func Start(ctx context.Context, o Options) (*Manager, error) {
	runCtx, cancel := context.WithCancel(ctx)
	ready := make(chan store, 1)
	o.onReady = func(api store) { ready <- api }
	m := &Manager{cancel: cancel, done: make(chan struct{})}
	go func() {
		m.err = Run(runCtx, o)
		close(m.done)
	}()
	select {
	case api := <-ready:
		if ctx.Err() != nil {
			_ = m.Stop()
			return nil, fmt.Errorf("start manager: %w", ctx.Err())
		}
		m.kubeconfig = api.KubeconfigPath()
		m.config = rest.CopyConfig(api.RESTConfig())
		m.dataDir = o.DataDir
		return m, nil
	case <-m.done:
		cancel()
		if m.err == nil {
			m.err = errors.New("manager stopped before its API answered")
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("start manager: %w (%v)", ctx.Err(), m.err)
		}
		return nil, fmt.Errorf("start manager: %w", m.err)
	}
}

// Kubeconfig is the path of the kubeconfig the manager wrote in its data dir.
func (m *Manager) Kubeconfig() string { return m.kubeconfig }

// RESTConfig is a copy of the API server's client configuration (loopback
// address, CA and bearer token).
func (m *Manager) RESTConfig() *rest.Config { return rest.CopyConfig(m.config) }

// Done is closed once the manager has stopped.
func (m *Manager) Done() <-chan struct{} { return m.done }

// Stop shuts the manager down gracefully and waits until it has: the
// controllers finish their reconciles, then the API server drains and the
// data-dir lock is released. Environments are left as they are (a
// manager's shutdown never tears down what it manages). It returns the
// error the manager stopped with; calling it again returns the same.
func (m *Manager) Stop() error {
	m.cancel()
	<-m.done
	return m.err
}
