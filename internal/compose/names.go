package compose

import (
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
	"k8s.io/apimachinery/pkg/util/validation"

	"berth.dev/berth/apis/v1alpha1"
)

// names maps the compose names of a project's volumes, networks, configs
// and secrets onto berth's, which are DNS-1123 labels: compose allows
// db_password, berth writes db-password. These names are the project's
// own (berth derives Docker's names from them, and a secret keeps its
// /run/secrets path), so renaming them changes nothing a container sees.
// Service names are DNS names other services use, and are never renamed.
type names struct {
	volumes, networks, configs, secrets map[string]string
}

func newNames(p *types.Project, r *refusals) *names {
	return &names{
		volumes:  kindNames("volumes", sortedKeys(p.Volumes), r),
		networks: kindNames("networks", sortedKeys(p.Networks), r),
		configs:  kindNames("configs", sortedKeys(p.Configs), r),
		secrets:  kindNames("secrets", sortedKeys(p.Secrets), r),
	}
}

func kindNames(kind string, list []string, r *refusals) map[string]string {
	out := map[string]string{}
	owner := map[string]string{}
	for _, name := range list {
		b, ok := berthName(name)
		if !ok {
			r.add(kind+"."+name, "berth's names are DNS-1123 labels of at most %d characters, and %q does not become one", v1alpha1.MaxNameLength, name)
			continue
		}
		if other, dup := owner[b]; dup {
			r.add(kind+"."+name, "%q and %q both become %q in berth (lower case, _ and . as -)", other, name, b)
			continue
		}
		owner[b] = name
		out[name] = b
	}
	return out
}

// berthName is name in lower case with _ and . written as -, when that is
// a DNS-1123 label of at most MaxNameLength characters.
func berthName(name string) (string, bool) {
	b := strings.ToLower(strings.NewReplacer("_", "-", ".", "-").Replace(name))
	return b, len(b) <= v1alpha1.MaxNameLength && len(validation.IsDNS1123Label(b)) == 0
}

// of returns the berth name for a compose name of the kind m holds; a name
// the project does not declare is passed on (compose-go's consistency check
// has refused it already).
func of(m map[string]string, name string) string {
	if b, ok := m[name]; ok {
		return b
	}
	return name
}
