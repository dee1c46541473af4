package e2e

import (
	"context"
	"strconv"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/yaml"

	"berth.dev/berth/apis/v1alpha1"
	"berth.dev/berth/client/clientset/versioned"
)

// mebi is a MiB in bytes, for the budgets' arithmetic.
const mebi = int64(1) << 20

// sizedService is a testapp service whose memory request (and limit, so
// the request is not capped by a smaller default limit) is mib MiB: what
// the hosts' admission and the placement count.
func sizedService(name string, mib int64) M {
	s := service(name)
	q := strconv.FormatInt(mib, 10) + "Mi"
	s["resources"] = M{"limits": M{"memory": q}, "requests": M{"memory": q}}
	return s
}

// createEnv creates the Environment document doc through the cluster's API.
func createEnv(cs versioned.Interface, doc M) {
	GinkgoHelper()
	var env v1alpha1.Environment
	Expect(yamlInto(render(doc), &env)).To(Succeed())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := cs.BerthV1alpha1().Environments().Create(ctx, &env, metav1.CreateOptions{})
	Expect(err).NotTo(HaveOccurred(), "create %s", env.Name)
}

// yamlInto decodes a rendered document into v, by its JSON field names.
func yamlInto(doc string, v any) error { return yaml.Unmarshal([]byte(doc), v) }

// heartbeat is a host's heartbeat Lease as the placement reads it: the
// budget and the admitted requests its manager published, in bytes (-1
// while there is no Lease or no figure).
func heartbeat(kube kubernetes.Interface, host string) (budget, admitted int64) {
	GinkgoHelper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// The Lease's name and annotations are the README's (Several Docker
	// hosts: placement).
	l, err := kube.CoordinationV1().Leases("default").Get(ctx, "berth-host-"+host, metav1.GetOptions{})
	if err != nil {
		return -1, -1
	}
	parse := func(key string) int64 {
		v, err := strconv.ParseInt(l.Annotations[key], 10, 64)
		if err != nil {
			return -1
		}
		return v
	}
	return parse("berth.dev/memory-budget-bytes"), parse("berth.dev/admitted-requests-bytes")
}

// containersOn lists every container of the daemon c talks to that
// carries berth's managed-by label (whoever's), running or not.
func containersOn(c *client.Client) []container.Summary {
	GinkgoHelper()
	ctx, cancel := dockerCtx()
	defer cancel()
	f := make(client.Filters)
	f.Add("label", v1alpha1.LabelManagedBy)
	res, err := c.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: f})
	Expect(err).NotTo(HaveOccurred())
	return res.Items
}

// networkOn reports whether the daemon c talks to has network name.
func networkOn(c *client.Client, name string) bool {
	GinkgoHelper()
	ctx, cancel := dockerCtx()
	defer cancel()
	_, err := c.NetworkInspect(ctx, name, client.NetworkInspectOptions{})
	return err == nil
}

// placement is where each Environment is, as the two daemons show it:
// env → "<daemon> <managed-by> <state>" per container, sorted by daemon.
type placement map[string][]string

// observePlacement reads the berth containers of both daemons, keyed by
// their Environment label; the decoys (managed by someone-else) are left
// out.
func observePlacement(main, second *client.Client) placement {
	GinkgoHelper()
	out := placement{}
	for _, d := range []struct {
		name string
		c    *client.Client
	}{{"main", main}, {"second", second}} {
		for _, c := range containersOn(d.c) {
			if c.Labels[v1alpha1.LabelManagedBy] == "someone-else" {
				continue
			}
			env := c.Labels[v1alpha1.LabelEnvironment]
			out[env] = append(out[env], d.name+" "+c.Labels[v1alpha1.LabelManagedBy]+" "+string(c.State))
		}
	}
	return out
}
