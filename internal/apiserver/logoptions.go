package apiserver

import (
	"fmt"
	"net/url"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/conversion"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"

	"berth.dev/berth/apis/v1alpha1"
)

// EnvironmentLogOptions are the query parameters of
// GET /apis/berth.dev/v1alpha1/environments/NAME/log, the counterpart of
// Kubernetes' PodLogOptions. It lives with the server rather than in
// apis/v1alpha1 because nothing stores or sends it as a body: the server
// decodes it from the URL, and clients only set query parameters by name.
type EnvironmentLogOptions struct {
	metav1.TypeMeta `json:",inline"`
	// Service names the service whose container to read. It may be left out
	// when the Environment has exactly one service.
	Service string `json:"service,omitempty"`
	// Follow keeps the stream open and sends new lines as they are written.
	Follow bool `json:"follow,omitempty"`
	// TailLines starts that many lines from the end, 0 to MaxTailLines;
	// unset means MaxTailLines (a log can be gigabytes: never all of it).
	TailLines *int64 `json:"tailLines,omitempty"`
	// SinceSeconds drops lines older than that many seconds.
	SinceSeconds *int64 `json:"sinceSeconds,omitempty"`
	// Timestamps prefixes every line with the time Docker recorded it.
	Timestamps bool `json:"timestamps,omitempty"`
}

// SwaggerDoc describes the query parameters in the OpenAPI document, which
// the installer builds from the fields' JSON names.
func (EnvironmentLogOptions) SwaggerDoc() map[string]string {
	return map[string]string{
		"service":      "The service whose container output to read; optional when the Environment has one service.",
		"follow":       "Keep streaming new lines until the client disconnects or the container stops.",
		"tailLines":    "Start with this many lines from the end of the log (0 to 10000; 0 is only new lines with follow); 10000 when unset.",
		"sinceSeconds": "Only lines written in the last this many seconds.",
		"timestamps":   "Prefix every line with its RFC3339Nano timestamp.",
	}
}

// DeepCopyObject is written by hand: the type is registered with the server
// scheme only, outside the generated API package.
func (o *EnvironmentLogOptions) DeepCopyObject() runtime.Object {
	if o == nil {
		return nil
	}
	out := *o
	if o.TailLines != nil {
		v := *o.TailLines
		out.TailLines = &v
	}
	if o.SinceSeconds != nil {
		v := *o.SinceSeconds
		out.SinceSeconds = &v
	}
	return &out
}

func init() {
	Scheme.AddKnownTypes(v1alpha1.SchemeGroupVersion, &EnvironmentLogOptions{})
	// The generic GET handler turns the query string into the options
	// object through the scheme's converter; this is that conversion.
	utilruntime.Must(Scheme.AddConversionFunc((*url.Values)(nil), (*EnvironmentLogOptions)(nil),
		func(a, b interface{}, scope conversion.Scope) error {
			return logOptionsFromQuery(a.(*url.Values), b.(*EnvironmentLogOptions), scope)
		}))
}

// logOptionsFromQuery fills out from the query parameters it knows and
// ignores the others (pretty, and whatever a newer client sends), as the
// Kubernetes API server does.
func logOptionsFromQuery(in *url.Values, out *EnvironmentLogOptions, scope conversion.Scope) error {
	q := *in
	if v, ok := q["service"]; ok {
		if err := runtime.Convert_Slice_string_To_string(&v, &out.Service, scope); err != nil {
			return fmt.Errorf("service: %w", err)
		}
	}
	if v, ok := q["follow"]; ok {
		if err := runtime.Convert_Slice_string_To_bool(&v, &out.Follow, scope); err != nil {
			return fmt.Errorf("follow: %w", err)
		}
	}
	if v, ok := q["timestamps"]; ok {
		if err := runtime.Convert_Slice_string_To_bool(&v, &out.Timestamps, scope); err != nil {
			return fmt.Errorf("timestamps: %w", err)
		}
	}
	if v, ok := q["tailLines"]; ok {
		if err := runtime.Convert_Slice_string_To_Pointer_int64(&v, &out.TailLines, scope); err != nil {
			return fmt.Errorf("tailLines: %w", err)
		}
	}
	if v, ok := q["sinceSeconds"]; ok {
		if err := runtime.Convert_Slice_string_To_Pointer_int64(&v, &out.SinceSeconds, scope); err != nil {
			return fmt.Errorf("sinceSeconds: %w", err)
		}
	}
	return nil
}
