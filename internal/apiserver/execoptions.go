package apiserver

import (
	"fmt"
	"net/url"
	"strconv"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/conversion"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"berth.dev/berth/apis/v1alpha1"
)

// Limits on what an exec or archive request may name; they keep a
// malformed client from handing Docker megabytes of arguments.
const (
	MaxExecArgs     = 1024
	MaxExecArgBytes = 128 << 10
	MaxPathBytes    = 4096
)

// EnvironmentExecOptions are the query parameters of
// POST /apis/berth.dev/v1alpha1/environments/NAME/exec, the counterpart of
// Kubernetes' PodExecOptions (same names: command, stdin, stdout, stderr,
// tty), with service in place of container. Like EnvironmentLogOptions it
// is decoded from the URL only, so it lives with the server.
type EnvironmentExecOptions struct {
	metav1.TypeMeta `json:",inline"`
	// Service names the service whose container runs the command; it may
	// be left out when the Environment has one service.
	Service string `json:"service,omitempty"`
	// Replica picks one container of a replicated service (0-based); unset
	// is the service's current container.
	Replica *int32 `json:"replica,omitempty"`
	// Command is the program and its arguments, run without a shell.
	Command []string `json:"command,omitempty"`
	Stdin   bool     `json:"stdin,omitempty"`
	Stdout  bool     `json:"stdout,omitempty"`
	Stderr  bool     `json:"stderr,omitempty"`
	// TTY runs the command on a terminal; its output then comes on stdout
	// only, so stderr must be false.
	TTY bool `json:"tty,omitempty"`
}

// SwaggerDoc describes the query parameters in the OpenAPI document.
func (EnvironmentExecOptions) SwaggerDoc() map[string]string {
	return map[string]string{
		"service": "The service whose container runs the command; optional when the Environment has one service.",
		"replica": "Which replica's container (0-based) of a replicated service; unset is the current container.",
		"command": "The command and its arguments, one parameter each; run without a shell.",
		"stdin":   "Attach the command's standard input.",
		"stdout":  "Attach the command's standard output.",
		"stderr":  "Attach the command's standard error (not with tty).",
		"tty":     "Run the command on a terminal.",
	}
}

// DeepCopyObject is written by hand, as for EnvironmentLogOptions.
func (o *EnvironmentExecOptions) DeepCopyObject() runtime.Object {
	if o == nil {
		return nil
	}
	out := *o
	out.Command = append([]string(nil), o.Command...)
	if o.Replica != nil {
		v := *o.Replica
		out.Replica = &v
	}
	return &out
}

// EnvironmentArchiveOptions are the query parameters of
// environments/NAME/archive: GET answers a tar stream of path, PUT unpacks
// the request body (a tar stream) at path.
type EnvironmentArchiveOptions struct {
	metav1.TypeMeta `json:",inline"`
	Service         string `json:"service,omitempty"`
	Replica         *int32 `json:"replica,omitempty"`
	// Path is absolute in the container.
	Path string `json:"path,omitempty"`
}

// SwaggerDoc describes the query parameters in the OpenAPI document.
func (EnvironmentArchiveOptions) SwaggerDoc() map[string]string {
	return map[string]string{
		"service": "The service whose container to copy from or to; optional when the Environment has one service.",
		"replica": "Which replica's container (0-based) of a replicated service; unset is the current container.",
		"path":    "Absolute path in the container: what GET archives, where PUT unpacks (into it when it is a directory, else as it).",
	}
}

// DeepCopyObject is written by hand, as for EnvironmentLogOptions.
func (o *EnvironmentArchiveOptions) DeepCopyObject() runtime.Object {
	if o == nil {
		return nil
	}
	out := *o
	if o.Replica != nil {
		v := *o.Replica
		out.Replica = &v
	}
	return &out
}

func init() {
	Scheme.AddKnownTypes(v1alpha1.SchemeGroupVersion, &EnvironmentExecOptions{}, &EnvironmentArchiveOptions{})
	utilruntime.Must(Scheme.AddConversionFunc((*url.Values)(nil), (*EnvironmentExecOptions)(nil),
		func(a, b interface{}, scope conversion.Scope) error {
			return execOptionsFromQuery(a.(*url.Values), b.(*EnvironmentExecOptions), scope)
		}))
	utilruntime.Must(Scheme.AddConversionFunc((*url.Values)(nil), (*EnvironmentArchiveOptions)(nil),
		func(a, b interface{}, scope conversion.Scope) error {
			return archiveOptionsFromQuery(a.(*url.Values), b.(*EnvironmentArchiveOptions), scope)
		}))
}

// execOptionsFromQuery fills out from the parameters it knows and ignores
// the others, as logOptionsFromQuery does.
func execOptionsFromQuery(in *url.Values, out *EnvironmentExecOptions, scope conversion.Scope) error {
	q := *in
	if err := targetFromQuery(q, &out.Service, &out.Replica, scope); err != nil {
		return err
	}
	out.Command = append([]string(nil), q["command"]...)
	for name, dst := range map[string]*bool{"stdin": &out.Stdin, "stdout": &out.Stdout, "stderr": &out.Stderr, "tty": &out.TTY} {
		if v, ok := q[name]; ok {
			if err := runtime.Convert_Slice_string_To_bool(&v, dst, scope); err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
		}
	}
	return nil
}

// targetFromQuery reads the service and replica parameters exec and
// archive share.
func targetFromQuery(q url.Values, service *string, replica **int32, scope conversion.Scope) error {
	if v, ok := q["service"]; ok {
		if err := runtime.Convert_Slice_string_To_string(&v, service, scope); err != nil {
			return fmt.Errorf("service: %w", err)
		}
	}
	if v, ok := q["replica"]; ok {
		r, err := replicaFromQuery(v)
		if err != nil {
			return err
		}
		*replica = r
	}
	return nil
}

func archiveOptionsFromQuery(in *url.Values, out *EnvironmentArchiveOptions, scope conversion.Scope) error {
	q := *in
	if err := targetFromQuery(q, &out.Service, &out.Replica, scope); err != nil {
		return err
	}
	if v, ok := q["path"]; ok {
		if err := runtime.Convert_Slice_string_To_string(&v, &out.Path, scope); err != nil {
			return fmt.Errorf("path: %w", err)
		}
	}
	return nil
}

// replicaFromQuery reads the last replica value, as the generated
// conversions read the last of a repeated parameter; "" is unset.
func replicaFromQuery(v []string) (*int32, error) {
	if len(v) == 0 || v[len(v)-1] == "" {
		return nil, nil
	}
	n, err := strconv.ParseInt(v[len(v)-1], 10, 32)
	if err != nil {
		return nil, fmt.Errorf("replica: %q is not a whole number", v[len(v)-1])
	}
	r := int32(n)
	return &r, nil
}

// validateExecOptions checks what needs no Environment: a command, at
// least one stream, no stderr on a terminal, sane sizes.
func validateExecOptions(o *EnvironmentExecOptions) field.ErrorList {
	var errs field.ErrorList
	cmd := field.NewPath("command")
	switch {
	case len(o.Command) == 0:
		errs = append(errs, field.Required(cmd, "a command to run"))
	case len(o.Command) > MaxExecArgs:
		errs = append(errs, field.TooMany(cmd, len(o.Command), MaxExecArgs))
	default:
		total := 0
		for i, a := range o.Command {
			total += len(a)
			if i == 0 && a == "" {
				errs = append(errs, field.Invalid(cmd.Index(0), a, "the program name must not be empty"))
			}
			for j := range len(a) {
				if a[j] == 0 {
					errs = append(errs, field.Invalid(cmd.Index(i), a, "must not contain a NUL byte"))
					break
				}
			}
		}
		if total > MaxExecArgBytes {
			errs = append(errs, field.TooLong(cmd, "", MaxExecArgBytes))
		}
	}
	if !o.Stdin && !o.Stdout && !o.Stderr {
		errs = append(errs, field.Required(field.NewPath("stdout"), "at least one of stdin, stdout and stderr must be attached"))
	}
	if o.TTY && o.Stderr {
		errs = append(errs, field.Invalid(field.NewPath("stderr"), true, "must be false with tty: a terminal has one output, on stdout"))
	}
	errs = append(errs, validateReplica(o.Replica)...)
	return errs
}

func validateArchiveOptions(o *EnvironmentArchiveOptions) field.ErrorList {
	var errs field.ErrorList
	p := field.NewPath("path")
	switch {
	case o.Path == "":
		errs = append(errs, field.Required(p, "an absolute path in the container"))
	case len(o.Path) > MaxPathBytes:
		errs = append(errs, field.TooLong(p, "", MaxPathBytes))
	case o.Path[0] != '/':
		errs = append(errs, field.Invalid(p, o.Path, "must be absolute"))
	default:
		for i := range len(o.Path) {
			if o.Path[i] == 0 {
				errs = append(errs, field.Invalid(p, o.Path, "must not contain a NUL byte"))
				break
			}
		}
	}
	errs = append(errs, validateReplica(o.Replica)...)
	return errs
}

func validateReplica(r *int32) field.ErrorList {
	if r != nil && *r < 0 {
		return field.ErrorList{field.Invalid(field.NewPath("replica"), *r, "must be 0 or more")}
	}
	return nil
}
