package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/dynamic"
	cmddescribe "k8s.io/kubectl/pkg/cmd/describe"
	cmdutil "k8s.io/kubectl/pkg/cmd/util"
	"k8s.io/kubectl/pkg/describe"
	"k8s.io/kubectl/pkg/util/completion"

	"berth.dev/berth/apis/v1alpha1"
)

// environmentKind is what the describer lookup recognises as berth's own.
var environmentKind = schema.GroupKind{Group: v1alpha1.GroupName, Kind: "Environment"}

// environmentDecoder turns what the server sends into berth's Go types; the
// scheme registration rejects anything that is not a berth.dev/v1alpha1 kind.
var environmentDecoder = sync.OnceValues(func() (runtime.Decoder, error) {
	scheme := runtime.NewScheme()
	if err := v1alpha1.AddToScheme(scheme); err != nil {
		return nil, fmt.Errorf("registering berth's API types: %w", err)
	}
	return serializer.NewCodecFactory(scheme).UniversalDeserializer(), nil
})

// newDescribeCommand is kubectl's describe with the describer lookup
// replaced: Environments get berth's describer, any other kind kubectl's.
func newDescribeCommand(f cmdutil.Factory, streams genericiooptions.IOStreams) *cobra.Command {
	flags := cmddescribe.NewDescribeFlags(f, streams)
	cmd := &cobra.Command{
		Use:                   "describe (-f FILENAME | TYPE [NAME_PREFIX | -l label] | TYPE/NAME)",
		DisableFlagsInUseLine: true,
		Short:                 "Show an Environment's services, ports, conditions and events",
		Long:                  describeLong,
		Example:               describeExample,
		ValidArgsFunction:     completion.ResourceTypeAndNameCompletionFunc(f),
		Run: func(cmd *cobra.Command, args []string) {
			cmdutil.CheckErr(requireResource(cmd, args, "describe"))
			o, err := flags.ToOptions(rootName, args)
			cmdutil.CheckErr(err)
			o.Describer = describerLookup(f)
			cmdutil.CheckErr(o.Validate())
			cmdutil.CheckErr(o.Run())
		},
	}
	flags.AddFlags(cmd)
	return cmd
}

// describerLookup picks berth's describer for Environments and falls back
// to kubectl's lookup (a typed describer or the generic one) for the rest.
func describerLookup(f cmdutil.Factory) func(*meta.RESTMapping) (describe.ResourceDescriber, error) {
	return func(mapping *meta.RESTMapping) (describe.ResourceDescriber, error) {
		if mapping.GroupVersionKind.GroupKind() != environmentKind {
			return describe.Describer(f, mapping)
		}
		client, err := f.DynamicClient()
		if err != nil {
			return nil, fmt.Errorf("describing environments: %w", err)
		}
		return &environmentDescriber{client: client, now: time.Now}, nil
	}
}

// environmentDescriber fetches one Environment and renders it.
type environmentDescriber struct {
	client dynamic.Interface
	now    func() time.Time
}

// Describe asks for v1alpha1 explicitly whatever version discovery
// preferred, because that is the version berth's types decode.
func (d *environmentDescriber) Describe(_, name string, settings describe.DescriberSettings) (string, error) {
	gvr := v1alpha1.SchemeGroupVersion.WithResource(v1alpha1.EnvironmentsResource)
	u, err := d.client.Resource(gvr).Get(context.TODO(), name, metav1.GetOptions{})
	if err != nil {
		return "", fmt.Errorf("getting environment %q: %w", name, err)
	}
	env, err := decodeEnvironment(u)
	if err != nil {
		return "", err
	}
	return RenderEnvironment(env, settings.ShowEvents, d.now())
}

// decodeEnvironment converts the server's object into berth's type through
// the registered scheme.
func decodeEnvironment(u *unstructured.Unstructured) (*v1alpha1.Environment, error) {
	data, err := json.Marshal(u.Object)
	if err != nil {
		return nil, fmt.Errorf("encoding environment %q: %w", u.GetName(), err)
	}
	decoder, err := environmentDecoder()
	if err != nil {
		return nil, err
	}
	obj, _, err := decoder.Decode(data, nil, nil)
	if err != nil {
		return nil, fmt.Errorf("decoding environment %q: %w", u.GetName(), err)
	}
	env, ok := obj.(*v1alpha1.Environment)
	if !ok {
		return nil, fmt.Errorf("decoding environment %q: got %T", u.GetName(), obj)
	}
	return env, nil
}
