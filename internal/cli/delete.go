package cli

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/dynamic"
	cmddelete "k8s.io/kubectl/pkg/cmd/delete"
	cmdutil "k8s.io/kubectl/pkg/cmd/util"
	"k8s.io/kubectl/pkg/util/completion"

	"berth.dev/berth/apis/v1alpha1"
)

// defaultDeleteTimeout bounds the wait for teardown. kubectl waits a week by
// default; an Environment's teardown is a few graceful container stops, so
// minutes mean something is stuck and the user should hear about it.
const defaultDeleteTimeout = 5 * time.Minute

// newDeleteCommand is kubectl's delete, whose --wait (on by default) waits
// for the finalizer berth's controller removes after teardown. berth changes
// the default timeout and says on stderr what it waits for.
func newDeleteCommand(f cmdutil.Factory, streams genericiooptions.IOStreams) *cobra.Command {
	flags := cmddelete.NewDeleteCommandFlags("containing the Environments to delete.")
	*flags.Timeout = defaultDeleteTimeout
	// Environments are cluster-scoped: there is no namespace to span.
	flags.AllNamespaces = nil

	cmd := &cobra.Command{
		Use:                   "delete ([-f FILENAME] | TYPE [(NAME | -l label | --all)])",
		DisableFlagsInUseLine: true,
		Short:                 "Delete Environments by file name, stdin, name or label, and wait until they are torn down",
		Long:                  deleteLong,
		Example:               deleteExample,
		ValidArgsFunction:     completion.ResourceTypeAndNameCompletionFunc(f),
		Run: func(cmd *cobra.Command, args []string) {
			o, err := flags.ToOptions(nil, streams)
			cmdutil.CheckErr(err)
			cmdutil.CheckErr(o.Complete(f, args, cmd))
			cmdutil.CheckErr(o.Validate())
			var notice *teardownNotice
			if o.WaitForDeletion && o.DynamicClient != nil {
				notice = &teardownNotice{out: streams.ErrOut, timeout: o.Timeout, mapper: o.Mapper}
				o.DynamicClient = notice.wrap(o.DynamicClient)
			}
			err = o.RunDelete(f)
			if err != nil {
				notice.stillWaiting()
			}
			cmdutil.CheckErr(err)
			notice.finish()
		},
		SuggestFor: []string{"rm", "remove", "down"},
	}
	flags.AddFlags(cmd)
	cmdutil.AddDryRunFlag(cmd)
	// delete -f docker-compose.yml deletes the Environment the compose
	// files convert to (same --name, --profile, --env-file as apply).
	withResolvedPaths(cmd)
	cmd.Flags().Lookup("timeout").Usage = "How long to wait for the deleted objects to be gone (an Environment stays until " +
		"its containers are torn down and its finalizer is removed). 0 waits without limit."
	// These steer the API server's graceful deletion of pods and garbage
	// collection of dependents; an Environment has neither, so they only
	// suggest a forced teardown that does not exist.
	for _, name := range []string{"force", "grace-period", "now", "cascade"} {
		cmdutil.CheckErr(cmd.Flags().MarkHidden(name))
	}
	return cmd
}

// teardownNotice watches the reads kubectl's delete makes while it waits,
// and tells the user which objects are still being torn down. Wrapping the
// client keeps kubectl's wait logic (UID checks, watch, timeout) untouched.
type teardownNotice struct {
	out     io.Writer
	timeout time.Duration
	mapper  meta.RESTMapper

	mu      sync.Mutex
	waiting []string
	seen    map[string]bool
}

func (n *teardownNotice) wrap(c dynamic.Interface) dynamic.Interface {
	return noticeClient{Interface: c, notice: n}
}

// saw is called with every object kubectl's wait reads; one that carries a
// deletionTimestamp is still there because its finalizer has not been
// removed yet.
func (n *teardownNotice) saw(gvr schema.GroupVersionResource, obj *unstructured.Unstructured) {
	if obj == nil || obj.GetDeletionTimestamp() == nil {
		return
	}
	ref := n.singular(gvr) + "/" + obj.GetName()
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.seen[ref] {
		return
	}
	if n.seen == nil {
		n.seen = map[string]bool{}
	}
	n.seen[ref] = true
	n.waiting = append(n.waiting, ref)

	what := "deleted"
	if gvr.GroupResource() == v1alpha1.GroupResource {
		what = "torn down"
	}
	limit := "no timeout"
	if n.timeout > 0 {
		limit = "timeout " + n.timeout.String()
	}
	fmt.Fprintf(n.out, "waiting for %s to be %s (%s; --wait=false to return at once)…\n", ref, what, limit)
}

// finish confirms the waits announced, once kubectl's delete returned
// without error: every one of them ended with the object gone.
func (n *teardownNotice) finish() {
	if n == nil {
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, ref := range n.waiting {
		fmt.Fprintf(n.out, "%s is gone\n", ref)
	}
}

// stillWaiting explains a failed wait: kubectl stops at the first object
// that is not gone in time, which is the last one announced, and its
// deletion was accepted all the same, so the teardown goes on without berth.
func (n *teardownNotice) stillWaiting() {
	if n == nil {
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if len(n.waiting) == 0 {
		return
	}
	ref := n.waiting[len(n.waiting)-1]
	fmt.Fprintf(n.out, "%s is still being torn down; the manager carries on, `%s describe %s` shows how far it got\n",
		ref, rootName, ref)
}

// singular names a resource the way users type it (environment, not
// environments.berth.dev).
func (n *teardownNotice) singular(gvr schema.GroupVersionResource) string {
	if n.mapper != nil {
		if s, err := n.mapper.ResourceSingularizer(gvr.Resource); err == nil && s != "" {
			return s
		}
	}
	return gvr.Resource
}

// noticeClient and the two types below pass everything to the real dynamic
// client and report the objects Get returns; kubectl's wait uses Get for its
// first look and a watch afterwards.
type noticeClient struct {
	dynamic.Interface
	notice *teardownNotice
}

func (c noticeClient) Resource(gvr schema.GroupVersionResource) dynamic.NamespaceableResourceInterface {
	return noticeResource{NamespaceableResourceInterface: c.Interface.Resource(gvr), gvr: gvr, notice: c.notice}
}

type noticeResource struct {
	dynamic.NamespaceableResourceInterface
	gvr    schema.GroupVersionResource
	notice *teardownNotice
}

func (r noticeResource) Namespace(ns string) dynamic.ResourceInterface {
	return noticeNamespaced{ResourceInterface: r.NamespaceableResourceInterface.Namespace(ns), gvr: r.gvr, notice: r.notice}
}

func (r noticeResource) Get(ctx context.Context, name string, opts metav1.GetOptions, sub ...string) (*unstructured.Unstructured, error) {
	obj, err := r.NamespaceableResourceInterface.Get(ctx, name, opts, sub...)
	if err == nil && len(sub) == 0 {
		r.notice.saw(r.gvr, obj)
	}
	return obj, err
}

type noticeNamespaced struct {
	dynamic.ResourceInterface
	gvr    schema.GroupVersionResource
	notice *teardownNotice
}

func (r noticeNamespaced) Get(ctx context.Context, name string, opts metav1.GetOptions, sub ...string) (*unstructured.Unstructured, error) {
	obj, err := r.ResourceInterface.Get(ctx, name, opts, sub...)
	if err == nil && len(sub) == 0 {
		r.notice.saw(r.gvr, obj)
	}
	return obj, err
}
