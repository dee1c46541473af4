package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/kubectl/pkg/util/templates"

	"berth.dev/berth/apis/v1alpha1"
	"berth.dev/berth/internal/compose"
	"berth.dev/berth/internal/session"
)

var (
	runLong = dedent(`
		Run a command against a fresh Environment, then tear it down.

		berth run creates the Environment of the -f files (an Environment
		manifest, or compose files: together they form one compose project, as
		with docker compose -f a -f b) under a name of its
		own (the Environment's name, or the first file's, plus a random suffix,
		so parallel CI jobs never share one; --name picks it), waits until it
		is Ready while showing what it waits on, and runs CMD with the
		published endpoints in its environment:

		  BERTH_ENV                   the Environment's name
		  BERTH_KUBECONFIG            the manager's kubeconfig (for berth logs, berth describe, …)
		  BERTH_<SERVICE>_<PORT>      127.0.0.1:32768 (host:port to dial)
		  BERTH_<SERVICE>_<PORT>_HOST 127.0.0.1
		  BERTH_<SERVICE>_<PORT>_PORT 32768

		SERVICE and PORT are upper-cased with '-' turned into '_'. PORT is the
		port's name, or its container port number when it has none (with _UDP
		for an unnamed UDP port: BERTH_DNS_53_UDP). Replica N ≥ 1 of a service
		with replicas gets _R<N> after the port (BERTH_WEB_HTTP_R1); replica 0
		has the plain name. Ports without a hostPort are not published and get
		no variable; two endpoints whose variables would be the same are both
		left out, with a warning.

		When CMD fails, berth prints the last lines of each service's log. Then
		it tears the Environment down (unless --keep) and exits with CMD's exit
		code (128+N when CMD was killed by signal N). Ctrl-C or SIGTERM is
		passed on to CMD; berth then tears down and exits 130 or 143. A second
		signal during teardown stops waiting (the manager finishes the
		teardown on its own). berth's own failures exit 125 (126: CMD cannot
		be run, 127: CMD not found), as docker run does.

		Without --kubeconfig and $BERTH_KUBECONFIG, berth uses the manager on
		the default data dir and, when none answers, starts one in the
		background (bin/manager next to berth, else manager on $PATH), tells
		you how to stop it, and leaves it running for later runs. Extra flags
		for that manager come from $BERTH_MANAGER_FLAGS.`)

	runExample = templates.Examples(`
		# Run the tests against the demo stack; exits with go test's code
		berth run -f config/samples/demo.yaml -- go test ./integration/...

		# See what a command gets
		berth run -f env.yaml -- env

		# Reach a service through its published port
		berth run -f env.yaml -- sh -c 'curl -sf http://$BERTH_API_HTTP/healthz'

		# A compose project, with the test overlay
		berth run -f docker-compose.yml -f docker-compose.test.yml -- make integration

		# Keep the Environment for a look afterwards
		berth run -f env.yaml --name debug --keep -- ./smoke.sh`)
)

// Exit codes of berth run's own failures, as docker run has them.
const (
	exitBerthFailed  = 125
	exitCannotInvoke = 126
	exitNotFound     = 127
)

// ExitError ends berth with Code. Message, when set, has not been printed
// yet; an empty one means whatever there was to say was said.
type ExitError struct {
	Code    int
	Message string
}

func (e *ExitError) Error() string {
	if e.Message != "" {
		return e.Message
	}
	return fmt.Sprintf("exit status %d", e.Code)
}

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
	if len(o.files) == 0 {
		return errors.New("no file: berth run -f FILE -- CMD (at least one -f)")
	}
	if o.timeout <= 0 {
		return fmt.Errorf("--timeout %s: must be positive", o.timeout)
	}
	if o.logLines < 0 || o.logLines > session.MaxTailLines {
		return fmt.Errorf("--log-lines %d: must be from 0 to %d", o.logLines, session.MaxTailLines)
	}
	if f := cmd.Flags().Lookup("kubeconfig"); f != nil {
		o.kubeconfig = f.Value.String()
	}
	return nil
}

// load reads the -f files into the one Environment to run. Compose files
// among them (compose.IsComposeFile) form one project, loaded as `docker
// compose -f a -f b` would; Environment manifests are decoded as berth
// apply reads them.
func (o *runOptions) load(ctx context.Context) (*runInput, error) {
	var envs []*v1alpha1.Environment
	var from, composeFiles []string
	for _, f := range o.files {
		data, err := readManifest(f)
		if err != nil {
			return nil, err
		}
		if compose.IsComposeFile(f, data) {
			composeFiles = append(composeFiles, f)
			continue
		}
		got, err := decodeManifest(f, data)
		if err != nil {
			return nil, err
		}
		for range got {
			from = append(from, f)
		}
		envs = append(envs, got...)
	}
	if len(composeFiles) > 0 {
		env, err := compose.Load(ctx, compose.Options{Files: composeFiles, Profiles: o.profiles, EnvFiles: o.envFiles})
		if err != nil {
			return nil, err
		}
		envs = append(envs, env)
		from = append(from, "the compose project of "+strings.Join(composeFiles, ", "))
	} else if len(o.profiles) > 0 || len(o.envFiles) > 0 {
		return nil, errors.New("--profile and --env-file apply to compose files, and -f names none")
	}
	env, err := oneEnvironment(envs, from)
	if err != nil {
		return nil, err
	}
	return &runInput{env: env, base: baseName(o.files[0])}, nil
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
	env, err := client.Create(setupCtx, in.env, session.CreateOptions{Name: o.name, NameBase: in.base})
	if err != nil {
		close(setupDone)
		if e := signalled(); e != nil {
			return e
		}
		return err
	}
	say("created Environment %s", env.Name)
	pp.start = pp.now() // the elapsed time shown is the Environment's
	teardown := func() error { return o.teardown(env, sigs, say) }

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
	for _, svc := range env.Last.Spec.Services {
		fmt.Fprintf(w, "berth: ---- last %d lines of %s/%s ----\n", o.logLines, env.Name, svc.Name)
		if err := env.Logs(ctx, svc.Name, o.logLines, w); err != nil {
			fmt.Fprintf(w, "berth: (no log: %v)\n", err)
		}
	}
	fmt.Fprintf(w, "berth: ---- end of logs ----\n")
}
