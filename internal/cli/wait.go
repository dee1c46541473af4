package cli

import (
	"context"
	"fmt"
	"io"
	"slices"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	apiwait "k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/cli-runtime/pkg/resource"
	cmdutil "k8s.io/kubectl/pkg/cmd/util"
	"k8s.io/kubectl/pkg/cmd/wait"

	"berth.dev/berth/apis/v1alpha1"
)

// newWaitCommand is kubectl's wait, plus what kubectl cannot know: while it
// waits, a failure that holds an Environment back (a Ready reason such as
// NetworkCreateFailed or ImagePullFailed) is printed to stderr when it
// appears, and on a timeout every Environment that is not Ready says why,
// so a script's log shows the cause, not only "timed out".
func newWaitCommand(f cmdutil.Factory, streams genericiooptions.IOStreams) *cobra.Command {
	flags := wait.NewWaitFlags(f, streams)
	cmd := &cobra.Command{
		Use:                   "wait ([-f FILENAME] | TYPE/NAME | TYPE [(-l label | --all)]) [--for=delete|--for=condition=Ready|--for=jsonpath='{}'[=value]]",
		Short:                 "Wait until Environments reach a condition, or are deleted",
		Long:                  waitLong,
		Example:               waitExample,
		DisableFlagsInUseLine: true,
		Run: func(cmd *cobra.Command, args []string) {
			o, err := flags.ToOptions(args)
			cmdutil.CheckErr(err)
			ctx := cmd.Context()
			if ctx == nil {
				ctx = context.Background()
			}
			r := &readyReporter{finder: o.ResourceFinder, out: streams.ErrOut, said: map[string]string{}}
			forDelete := slices.Contains(o.ForCondition, "delete")
			stop := func() {}
			if !forDelete {
				stop = r.follow(ctx, waitReportEvery)
			}
			err = o.RunWaitContext(ctx)
			stop()
			if err != nil && apiwait.Interrupted(err) && !forDelete {
				r.explain()
			}
			cmdutil.CheckErr(err)
		},
	}
	flags.AddFlags(cmd)
	return cmd
}

// waitReportEvery spaces the reporter's reads: one GET (or LIST) of the
// waited Environments per period, next to kubectl's own watch.
const waitReportEvery = 2 * time.Second

// readyReporter reads the Environments a wait is about and prints their
// Ready condition when it shows a failure.
type readyReporter struct {
	finder interface{ Do() resource.Visitor }
	out    io.Writer
	mu     sync.Mutex
	said   map[string]string // environment -> last reason printed
}

// follow prints new failure reasons every period until stop is called.
func (r *readyReporter) follow(ctx context.Context, period time.Duration) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(period)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			r.visit(func(key string, c *metav1.Condition) {
				if c == nil || c.Status == metav1.ConditionTrue || !failureReason(c.Reason) || r.said[key] == c.Reason {
					return
				}
				r.said[key] = c.Reason
				fmt.Fprintf(r.out, "berth: %s: %s: %s\n", key, c.Reason, c.Message)
			})
		}
	}()
	return func() { cancel(); <-done }
}

// explain prints, after a timeout, why each Environment is not Ready.
func (r *readyReporter) explain() {
	r.visit(func(key string, c *metav1.Condition) {
		fmt.Fprintln(r.out, "berth: "+notReadyLine(key, c))
	})
}

func (r *readyReporter) visit(fn func(key string, c *metav1.Condition)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	_ = r.finder.Do().Visit(func(info *resource.Info, err error) error {
		if err != nil || info.Mapping == nil || info.Mapping.GroupVersionKind.Kind != "Environment" {
			return nil
		}
		u, ok := info.Object.(*unstructured.Unstructured)
		if !ok {
			return nil
		}
		var env v1alpha1.Environment
		if runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &env) != nil {
			return nil
		}
		c := meta.FindStatusCondition(env.Status.Conditions, v1alpha1.ConditionReady)
		if c != nil && c.Status == metav1.ConditionTrue {
			return nil
		}
		fn("environment/"+env.Name, c)
		return nil
	})
}

// notReadyLine says why key is not Ready.
func notReadyLine(key string, c *metav1.Condition) string {
	if c == nil {
		return key + " is not Ready: the controller has not reported on it yet"
	}
	return fmt.Sprintf("%s is not Ready: %s: %s", key, c.Reason, c.Message)
}

// progressReasons are Ready reasons of an Environment on its normal way to
// Ready: the reporter prints only the others while waiting.
var progressReasons = map[string]bool{
	"Progressing": true, "Converging": true, "WaitingForReadiness": true, "WaitingForDependency": true,
	"ContainerRemoving": true, "AllServicesReady": true, "TearingDown": true, "Queued": true,
}

func failureReason(reason string) bool { return reason != "" && !progressReasons[reason] }
