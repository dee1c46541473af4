package cli

import (
	"fmt"
	"path"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
)

// ExitCodeError ends berth with Code and prints nothing more: the command
// berth ran (berth exec) has said what it had to say on its own streams.
type ExitCodeError struct{ Code int }

func (e *ExitCodeError) Error() string { return fmt.Sprintf("exit code %d", e.Code) }

// parseExecArgs splits `berth exec ENV [SERVICE] -- CMD...` where dashAt
// is cobra's ArgsLenAtDash (-1 without "--").
func parseExecArgs(args []string, dashAt int) (env, service string, cmd []string, err error) {
	if dashAt < 0 {
		return "", "", nil, fmt.Errorf("put the command after \"--\": berth exec ENV SERVICE -- CMD [ARGS...]")
	}
	before, after := args[:dashAt], args[dashAt:]
	switch len(before) {
	case 0:
		return "", "", nil, fmt.Errorf("name the Environment: berth exec ENV SERVICE -- CMD [ARGS...]")
	case 1, 2:
	default:
		return "", "", nil, fmt.Errorf("too many arguments before \"--\" (%s): berth exec ENV SERVICE -- CMD [ARGS...]", strings.Join(before, " "))
	}
	if len(after) == 0 || after[0] == "" {
		return "", "", nil, fmt.Errorf("no command after \"--\"")
	}
	env = before[0]
	if len(before) == 2 {
		service = before[1]
	}
	if err := checkNames(env, service); err != nil {
		return "", "", nil, err
	}
	return env, service, after, nil
}

// checkNames refuses names that cannot be an Environment's or a
// service's, before anything is sent.
func checkNames(env, service string) error {
	if msgs := validation.IsDNS1123Subdomain(env); len(msgs) > 0 {
		return fmt.Errorf("environment name %q: %s", env, strings.Join(msgs, "; "))
	}
	if service != "" {
		if msgs := validation.IsDNS1123Label(service); len(msgs) > 0 {
			return fmt.Errorf("service name %q: %s", service, strings.Join(msgs, "; "))
		}
	}
	return nil
}

// cpEnd is one side of `berth cp`: a local path, or a path in a service's
// container.
type cpEnd struct {
	Remote      bool
	Environment string
	Service     string // "" with ENV:PATH, for a single-service Environment
	Path        string
}

// parseCpEnd reads ENV/SERVICE:PATH, ENV:PATH or a local path. A local
// path with a colon in it is written with a leading ./ or / (as with
// kubectl cp), which is never remote.
func parseCpEnd(arg string) (cpEnd, error) {
	if arg == "" {
		return cpEnd{}, fmt.Errorf("empty path")
	}
	if strings.HasPrefix(arg, "/") || strings.HasPrefix(arg, ".") || !strings.Contains(arg, ":") {
		return cpEnd{Path: arg}, nil
	}
	target, p, _ := strings.Cut(arg, ":")
	env, service, _ := strings.Cut(target, "/")
	if err := checkNames(env, service); err != nil {
		return cpEnd{}, fmt.Errorf("%q: %w (a local path with a colon is written ./%s)", arg, err, arg)
	}
	if strings.Contains(target, "/") && service == "" {
		return cpEnd{}, fmt.Errorf("%q: empty service name", arg)
	}
	if !path.IsAbs(p) {
		return cpEnd{}, fmt.Errorf("%q: the container path %q must be absolute", arg, p)
	}
	return cpEnd{Remote: true, Environment: env, Service: service, Path: p}, nil
}

// parseCpArgs reads `berth cp SRC DST`: exactly one side in a container.
func parseCpArgs(src, dst string) (from, to cpEnd, err error) {
	if from, err = parseCpEnd(src); err != nil {
		return cpEnd{}, cpEnd{}, fmt.Errorf("source: %w", err)
	}
	if to, err = parseCpEnd(dst); err != nil {
		return cpEnd{}, cpEnd{}, fmt.Errorf("destination: %w", err)
	}
	switch {
	case from.Remote && to.Remote:
		return cpEnd{}, cpEnd{}, fmt.Errorf("both sides are in containers: copy through a local directory")
	case !from.Remote && !to.Remote:
		return cpEnd{}, cpEnd{}, fmt.Errorf("neither side is in a container: one must be ENV/SERVICE:PATH")
	}
	return from, to, nil
}
