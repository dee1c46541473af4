package remote

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/remotecommand"
	"k8s.io/client-go/util/exec"

	"berth.dev/berth/apis/v1alpha1"
	"berth.dev/berth/client/clientset/versioned"
)

// ExecOptions is one command to run in a service's container.
type ExecOptions struct {
	// Namespace is accepted for symmetry with the Kubernetes API and must
	// be "": Environments are cluster-scoped.
	Namespace   string
	Environment string
	// Service may be "" when the Environment has one service.
	Service string
	// Replica picks a replica's container (nil: the current one).
	Replica *int32
	Command []string
	// Stdin, when set, is attached; its end closes the command's input.
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	// TTY runs the command on a terminal: its output all comes on Stdout.
	TTY bool
	// Sizes feeds the terminal's size (TTY only; nil: Docker's default).
	Sizes remotecommand.TerminalSizeQueue
}

// Exec runs cmd in a service's container and returns its exit code. A
// command that ran and exited non-zero is not an error: err is for the
// cases where no exit code exists (no such service, not owned, the
// connection failed).
func Exec(ctx context.Context, cfg *rest.Config, namespace, env, service string, cmd []string, stdin io.Reader, stdout, stderr io.Writer, tty bool) (exitCode int, err error) {
	return Run(ctx, cfg, ExecOptions{Namespace: namespace, Environment: env, Service: service, Command: cmd,
		Stdin: stdin, Stdout: stdout, Stderr: stderr, TTY: tty})
}

// Run is Exec with every option.
func Run(ctx context.Context, cfg *rest.Config, o ExecOptions) (int, error) {
	if len(o.Command) == 0 {
		return -1, errors.New("exec: no command given")
	}
	if o.Namespace != "" {
		return -1, fmt.Errorf("exec: namespace %q: Environments are cluster-scoped, leave it empty", o.Namespace)
	}
	cs, err := versioned.NewForConfig(cfg)
	if err != nil {
		return -1, fmt.Errorf("exec: client: %w", err)
	}
	req := cs.BerthV1alpha1().RESTClient().Post().
		Resource(v1alpha1.EnvironmentsResource).Name(o.Environment).SubResource("exec")
	if o.Service != "" {
		req.Param("service", o.Service)
	}
	if o.Replica != nil {
		req.Param("replica", strconv.Itoa(int(*o.Replica)))
	}
	for _, c := range o.Command {
		req.Param("command", c)
	}
	stdout, stderr := o.Stdout, o.Stderr
	if stdout == nil {
		stdout = io.Discard
	}
	if stderr == nil {
		stderr = io.Discard
	}
	req.Param("stdout", "true")
	if !o.TTY {
		req.Param("stderr", "true")
	}
	if o.Stdin != nil {
		req.Param("stdin", "true")
	}
	if o.TTY {
		req.Param("tty", "true")
	}
	executor, err := remotecommand.NewSPDYExecutor(cfg, "POST", req.URL())
	if err != nil {
		return -1, fmt.Errorf("exec: %w", err)
	}
	so := remotecommand.StreamOptions{Stdin: o.Stdin, Stdout: stdout, Tty: o.TTY}
	if !o.TTY {
		so.Stderr = stderr
	}
	if o.TTY {
		so.TerminalSizeQueue = o.Sizes
	}
	err = executor.StreamWithContext(ctx, so)
	var exitErr exec.CodeExitError
	switch {
	case err == nil:
		return 0, nil
	case errors.As(err, &exitErr):
		return exitErr.Code, nil
	}
	return -1, fmt.Errorf("exec in %s of environment %s: %w", serviceName(o.Service), o.Environment, Explain(cfg, "exec", err))
}

func serviceName(s string) string {
	if s == "" {
		return "the service"
	}
	return "service " + s
}
