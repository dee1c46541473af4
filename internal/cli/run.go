package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"berth.dev/berth/apis/v1alpha1"
	"berth.dev/berth/internal/lease"
	"berth.dev/berth/internal/session"
)

// Exit codes of berth run's own failures, as docker run has them.
const (
	exitBerthFailed  = 125
	exitCannotInvoke = 126
	exitNotFound     = 127
)

// runOptions are berth run's flags.
type runOptions struct {
	files    []string
	name     string
	keep     bool
	timeout  time.Duration
	logLines int
	command  []string
	profiles []string
	envFiles []string
	// leaseDuration binds the Environment to this run (0: no lease).
	leaseDuration time.Duration
	// pool, when set, makes the Environment a claimant of this
	// EnvironmentPool instead of the files' spec.
	pool string

	// kubeconfig is the global --kubeconfig flag's value.
	kubeconfig string
	getenv     func(string) string
}

func newRunCommand(streams genericiooptions.IOStreams) *cobra.Command {
	return buildRunCommand(&runOptions{getenv: os.Getenv}, func(ctx context.Context, o *runOptions) error {
		return o.run(ctx, streams)
	})
}

// buildRunCommand wires the flags to o; run does the work once they are
// checked (tests parse without running).
func buildRunCommand(o *runOptions, run func(context.Context, *runOptions) error) *cobra.Command {
	cmd := &cobra.Command{
		Use:                   "run -f FILE [-f FILE…] [--name NAME] [--keep] [--timeout 5m] -- CMD [ARG…]",
		DisableFlagsInUseLine: true,
		Short:                 "Run a command against a fresh Environment, then tear it down",
		Long:                  runLong,
		Example:               runExample,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.complete(cmd, args); err != nil {
				return err
			}
			err := run(cmd.Context(), o)
			var ee *ExitError
			if err != nil && !errors.As(err, &ee) {
				// berth's own failure, told apart from CMD's codes.
				return &ExitError{Code: exitBerthFailed, Message: err.Error()}
			}
			return err
		},
	}
	fl := cmd.Flags()
	fl.StringArrayVarP(&o.files, "filename", "f", nil, "An Environment manifest or a compose file (repeatable; compose files form one project; together they must make one Environment).")
	fl.StringVar(&o.name, "name", "", "The Environment's name. Default: its metadata.name (else the first file's name) plus a random suffix.")
	fl.BoolVar(&o.keep, "keep", false, "Leave the Environment running after CMD exits (delete it later with berth delete env NAME).")
	fl.DurationVar(&o.timeout, "timeout", 5*time.Minute, "How long to wait for the Environment to become Ready, and again for its teardown.")
	fl.StringArrayVar(&o.profiles, "profile", nil, "Compose files only: enable the services of this compose profile (repeatable; default $COMPOSE_PROFILES).")
	fl.StringArrayVar(&o.envFiles, "env-file", nil, "Compose files only: read ${VAR} values from this file (repeatable; default the project directory's .env).")
	fl.DurationVar(&o.leaseDuration, "lease-duration", lease.DefaultDuration, fmt.Sprintf("Hold a lease on the Environment, renewed every third of this, so that the manager tears it down this long after berth run dies (kill -9, a cancelled CI job); %ds to 24h, 0 for no lease.", v1alpha1.MinLeaseDurationSeconds))
	fl.StringVar(&o.pool, "pool", "", "Claim a standby of this EnvironmentPool instead of creating the -f files' services (-f is then optional and gives only the name); with no free standby the Environment converges from the pool's template.")
	fl.IntVar(&o.logLines, "log-lines", 50, fmt.Sprintf("Lines of each service's log printed when CMD fails or the Environment does not become Ready (0 to %d; 0: none).", session.MaxTailLines))
	return cmd
}

// complete checks the flags and splits off CMD (everything after --).
func (o *runOptions) complete(cmd *cobra.Command, args []string) error {
	dash := cmd.ArgsLenAtDash()
	switch {
	case dash < 0 && len(args) > 0:
		return fmt.Errorf("put the command after --: berth run -f FILE -- %s", args[0])
	case dash > 0:
		return fmt.Errorf("unexpected argument %q before --: berth run takes files with -f", args[0])
	case len(args) == 0:
		return errors.New("no command: berth run -f FILE -- CMD [ARG…]")
	}
	o.command = args
	if len(o.files) == 0 && o.pool == "" {
		return errors.New("no file: berth run -f FILE -- CMD (at least one -f, or --pool POOL)")
	}
	if o.timeout <= 0 {
		return fmt.Errorf("--timeout %s: must be positive", o.timeout)
	}
	if o.leaseDuration != 0 && (o.leaseDuration < v1alpha1.MinLeaseDurationSeconds*time.Second || o.leaseDuration > v1alpha1.MaxLeaseDurationSeconds*time.Second) {
		return fmt.Errorf("--lease-duration %s: must be 0 (no lease) or from %ds to %s", o.leaseDuration,
			v1alpha1.MinLeaseDurationSeconds, time.Duration(v1alpha1.MaxLeaseDurationSeconds)*time.Second)
	}
	if o.logLines < 0 || o.logLines > session.MaxTailLines {
		return fmt.Errorf("--log-lines %d: must be from 0 to %d", o.logLines, session.MaxTailLines)
	}
	if f := cmd.Flags().Lookup("kubeconfig"); f != nil {
		o.kubeconfig = f.Value.String()
	}
	return nil
}

// connect finds the manager: the one the user named, or the default data
// dir's, started when none answers.
func (o *runOptions) connect(ctx context.Context, say func(string, ...any)) (*session.Client, error) {
	kubeconfig := o.kubeconfig
	if kubeconfig == "" {
		kubeconfig = o.getenv(session.EnvKubeconfig)
	}
	if kubeconfig != "" {
		c, err := session.Connect(kubeconfig)
		if err != nil {
			return nil, err
		}
		if err := c.Ping(ctx); err != nil {
			return nil, fmt.Errorf("%w (kubeconfig %s)", err, kubeconfig)
		}
		return c, nil
	}
	info, err := session.EnsureManagerWith(ctx, session.ManagerOptions{Args: splitFields(o.getenv(session.EnvManagerFlags))})
	if err != nil {
		return nil, err
	}
	if info.Started {
		say("no manager was running: started %s (pid %d) on data dir %s; it keeps running for later runs", info.Binary, info.PID, info.DataDir)
		say("its log (with the dashboard address): %s", info.LogFile)
		say("stop it with: %s", info.StopHint())
	}
	if info.Shared {
		say("no manager was running, and another run started one at the same time: using it (data dir %s, log %s)", info.DataDir, info.LogFile)
	}
	return session.Connect(info.Kubeconfig)
}

// run is the whole of berth run after the flags are checked.
func (o *runOptions) run(parent context.Context, streams genericiooptions.IOStreams) error {
	in, err := o.load(parent)
	if err != nil {
		return err
	}
	pp := newProgressPrinter(streams.ErrOut)
	say := func(format string, args ...any) { pp.Println("berth: "+format, args...) }
	if o.pool != "" && len(o.files) > 0 {
		say("claiming from pool %s instead of the services of %s", o.pool, strings.Join(o.files, ", "))
	}

	// Signals: before CMD runs they cancel setup; while it runs they are
	// passed on to it. Either way berth tears down, then exits 128+N.
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sigs)
	setupCtx, cancelSetup := context.WithCancel(parent)
	defer cancelSetup()
	var gotSignal atomic.Value // os.Signal
	setupDone := make(chan struct{})
	go func() {
		select {
		case s := <-sigs:
			gotSignal.Store(s)
			cancelSetup()
		case <-setupDone:
		}
	}()
	signalled := func() *ExitError {
		s, _ := gotSignal.Load().(os.Signal)
		if s == nil {
			return nil
		}
		return &ExitError{Code: 128 + int(s.(syscall.Signal))}
	}

	client, err := o.connect(setupCtx, say)
	if err != nil {
		close(setupDone)
		if e := signalled(); e != nil {
			return e
		}
		return err
	}
	holder := lease.DefaultHolder()
	if o.leaseDuration > 0 {
		// In the create itself: a berth killed right after it still
		// leaves an Environment that expires.
		lease.Bind(in.env, holder, o.leaseDuration)
	}
	env, err := client.Create(setupCtx, in.env, session.CreateOptions{Name: o.name, NameBase: in.base})
	if err != nil {
		close(setupDone)
		if e := signalled(); e != nil {
			return e
		}
		return err
	}
	say("created Environment %s", env.Name)
	pp.restart() // the elapsed time shown is the Environment's
	var held *lease.Holder
	ending := make(chan struct{}) // closed when berth itself ends the Environment
	var endOnce sync.Once
	end := func() { endOnce.Do(func() { close(ending) }) }
	defer end()
	teardown := func() error {
		end()
		err := o.teardown(env, sigs, say)
		if held != nil {
			// Gone or being deleted: nothing left to release.
			_ = held.Stop()
		}
		return err
	}
	if o.leaseDuration > 0 {
		held, err = lease.Hold(context.Background(), client.Clientset, env.Name, holder, o.leaseDuration)
		if err != nil {
			close(setupDone)
			say("%v (--lease-duration 0 runs without a lease, e.g. against a manager that has none)", err)
			if terr := teardown(); terr != nil {
				say("%v", terr)
			}
			return &ExitError{Code: exitBerthFailed}
		}
		go func() {
			select {
			case <-held.Expired():
				say("warning: lost the lease on %s (%v): the manager tears it down", env.Name, held.Err())
			case <-ending:
			}
		}()
	}

	waitCtx, cancelWait := context.WithTimeout(setupCtx, o.timeout)
	stopTick := o.tick(pp)
	_, err = env.WaitReady(waitCtx, pp.Update)
	stopTick()
	cancelWait()
	pp.Finish()
	close(setupDone)
	if err != nil {
		if e := signalled(); e != nil {
			say("interrupted while waiting for %s", env.Name)
			if terr := teardown(); terr != nil {
				say("%v", terr)
			}
			return e
		}
		say("%v", err)
		o.printLogs(env, streams.ErrOut)
		if terr := teardown(); terr != nil {
			say("%v", terr)
		}
		return &ExitError{Code: exitBerthFailed}
	}

	vars, warnings := session.EnvVars(env.Name, env.Endpoints())
	for _, w := range warnings {
		say("warning: %s", w)
	}
	vars = append(vars, session.EnvKubeconfig+"="+client.Kubeconfig)
	say("%s is Ready; running %s", env.Name, o.command[0])

	code, sig, runErr := runCommand(o.command, vars, streams, sigs)
	switch {
	case runErr != nil:
		say("%v", runErr)
	case sig != nil:
		say("%s: %s; tearing down", o.command[0], sig)
	case code != 0:
		say("%s exited with code %d", o.command[0], code)
	}
	if code != 0 && sig == nil {
		o.printLogs(env, streams.ErrOut)
	}
	if o.keep {
		end()
		if held != nil {
			// Released, or the manager would delete it once renewals stop.
			if err := held.Stop(); err != nil {
				say("warning: releasing the lease on %s: %v (the manager deletes it %s after this run)", env.Name, err, o.leaseDuration)
			}
		}
		say("kept Environment %s (delete it with: berth delete env %s)", env.Name, env.Name)
	} else if terr := teardown(); terr != nil {
		say("%v", terr)
		if code == 0 {
			code = exitBerthFailed
		}
	}
	if sig != nil {
		return &ExitError{Code: 128 + int(sig.(syscall.Signal))}
	}
	if code != 0 {
		return &ExitError{Code: code}
	}
	return nil
}

// tick redraws the live progress line every second until stopped.
func (o *runOptions) tick(pp *progressPrinter) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				pp.Tick()
			}
		}
	}()
	return func() { close(done); <-finished }
}

// teardown deletes the Environment and waits until it is gone, for at
// most --timeout; another signal stops the wait (the deletion is already
// the manager's to finish).
func (o *runOptions) teardown(env *session.Env, sigs <-chan os.Signal, say func(string, ...any)) error {
	say("tearing down %s", env.Name)
	ctx, cancel := context.WithTimeout(context.Background(), o.timeout)
	defer cancel()
	go func() {
		select {
		case <-sigs:
			cancel()
		case <-ctx.Done():
		}
	}()
	start := time.Now()
	if err := env.Teardown(ctx); err != nil {
		return fmt.Errorf("teardown of %s: %w (the manager goes on deleting it; see berth describe env %s)", env.Name, err, env.Name)
	}
	say("%s torn down in %s", env.Name, time.Since(start).Round(100*time.Millisecond))
	return nil
}

// printLogs writes the last --log-lines lines of each service's log.
func (o *runOptions) printLogs(env *session.Env, w io.Writer) {
	if o.logLines == 0 || env.Last == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	services := env.Last.Spec.Services
	if len(services) == 0 {
		// A pool claimant: its services are its standby's, in its status.
		for _, st := range env.Last.Status.Services {
			services = append(services, v1alpha1.Service{Name: st.Name})
		}
	}
	for _, svc := range services {
		fmt.Fprintf(w, "berth: ---- last %d lines of %s/%s ----\n", o.logLines, env.Name, svc.Name)
		if err := env.Logs(ctx, svc.Name, o.logLines, w); err != nil {
			fmt.Fprintf(w, "berth: (no log: %v)\n", err)
		}
	}
	fmt.Fprintf(w, "berth: ---- end of logs ----\n")
}
