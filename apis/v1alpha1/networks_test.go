package v1alpha1

import (
	"fmt"
	"testing"

	"k8s.io/apimachinery/pkg/util/validation/field"
)

// TestNetworkNamesAreInjectiveAcrossKinds derives, over every valid name up
// to three characters of an alphabet holding the separator candidates, the
// Docker names of Environments' default networks, their spec networks,
// containers (replicas too) and volumes, and finds no name given twice: not within one
// kind, not across kinds.
func TestNetworkNamesAreInjectiveAcrossKinds(t *testing.T) {
	var names []string
	var gen func(prefix string)
	gen = func(prefix string) {
		if prefix != "" {
			names = append(names, prefix)
		}
		if len(prefix) == 4 {
			return
		}
		for _, r := range "a1-_." {
			gen(prefix + string(r))
		}
	}
	gen("")
	var envs, parts []string
	for _, n := range names {
		if len(validateEnvironmentName(n, false)) == 0 {
			envs = append(envs, n)
		}
		if len(validateName(nil, n)) == 0 {
			parts = append(parts, n)
		}
	}
	parts = append(parts, DefaultNetworkName)
	seen := map[string]string{}
	claim := func(name, what string) {
		t.Helper()
		if prev, dup := seen[name]; dup && prev != what {
			t.Fatalf("%s and %s both map to %q", prev, what, name)
		}
		seen[name] = what
	}
	for _, env := range envs {
		claim(NetworkName(env), "default network of "+env)
		for _, p := range parts {
			// Containers and volumes share a form (different Docker
			// namespaces); a network must not take either.
			claim(ContainerName(env, p), "container/volume "+env+"/"+p)
			if VolumeName(env, p) != ContainerName(env, p) {
				t.Fatalf("volume and container names of %s/%s differ in form", env, p)
			}
			what := "network " + env + "/" + p
			if p == DefaultNetworkName {
				what = "default network of " + env
			}
			claim(SpecNetworkName(env, p), what)
			for _, i := range []int{1, 2, 10, 11} {
				claim(ReplicaContainerName(env, p, i), fmt.Sprintf("replica %d of %s/%s", i, env, p))
			}
			if ReplicaContainerName(env, p, 0) != ContainerName(env, p) {
				t.Fatalf("replica 0 of %s/%s is not the service's container", env, p)
			}
		}
	}
	if len(seen) < 5000 {
		t.Fatalf("only %d names generated; the generator is broken", len(seen))
	}
}

func withNetworks(e *Environment) {
	e.Spec.Networks = []Network{{Name: "front"}, {Name: "back"}}
	e.Spec.Services[0].Networks = []ServiceNetwork{{Name: "back"}}
	e.Spec.Services[1].Networks = []ServiceNetwork{{Name: "back", Aliases: []string{"postgres", "pg.internal"}}}
	// api joins both (no list).
}

func TestValidateNetworksAccepts(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mutate func(e *Environment)
	}{
		{"two networks", func(*Environment) {}},
		{"default network aliases without spec.networks", func(e *Environment) {
			e.Spec.Networks = nil
			e.Spec.Services[0].Networks = nil
			e.Spec.Services[1].Networks = []ServiceNetwork{{Name: DefaultNetworkName, Aliases: []string{"pg"}}}
		}},
		{"default listed with another", func(e *Environment) {
			e.Spec.Networks = append(e.Spec.Networks, Network{Name: DefaultNetworkName})
			e.Spec.Services[0].Networks = []ServiceNetwork{{Name: DefaultNetworkName}}
		}},
		{"alias equal to a service on another network", func(e *Environment) {
			e.Spec.Services[2].Networks = []ServiceNetwork{{Name: "front", Aliases: []string{"migrate"}}}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := validEnv()
			withNetworks(env)
			tc.mutate(env)
			if errs := ValidateEnvironment(env); len(errs) != 0 {
				t.Errorf("unexpected errors:\n%s", dump(errs))
			}
		})
	}
}

func TestValidateNetworksRejects(t *testing.T) {
	const (
		required  = field.ErrorTypeRequired
		invalid   = field.ErrorTypeInvalid
		duplicate = field.ErrorTypeDuplicate
		notFound  = field.ErrorTypeNotFound
		tooMany   = field.ErrorTypeTooMany
	)
	db := "spec.services[1].networks"
	cases := []struct {
		name   string
		mutate func(e *Environment)
		path   string
		typ    field.ErrorType
		detail string
	}{
		{"network without name", func(e *Environment) { e.Spec.Networks[0].Name = "" }, "spec.networks[0].name", required, ""},
		{"network name not a label", func(e *Environment) { e.Spec.Networks[0].Name = "Front_1" }, "spec.networks[0].name", invalid, "RFC 1123"},
		{"duplicate network", func(e *Environment) {
			e.Spec.Networks[1].Name = "front"
			e.Spec.Services[0].Networks = nil
			e.Spec.Services[1].Networks = nil
		},
			"spec.networks[1].name", duplicate, ""},
		{"too many networks", func(e *Environment) {
			for i := 0; i < MaxNetworks; i++ {
				e.Spec.Networks = append(e.Spec.Networks, Network{Name: "n" + string(rune('a'+i))})
			}
		}, "spec.networks", tooMany, ""},
		{"undeclared network", func(e *Environment) { e.Spec.Services[1].Networks[0].Name = "middle" }, db + "[0].name", notFound, `"back", "front"`},
		{"default not declared", func(e *Environment) { e.Spec.Services[1].Networks[0].Name = DefaultNetworkName }, db + "[0].name", notFound, "spec.networks"},
		{"joined twice", func(e *Environment) {
			e.Spec.Services[1].Networks = append(e.Spec.Services[1].Networks, ServiceNetwork{Name: "front"}, ServiceNetwork{Name: "back"})
		}, db + "[2].name", duplicate, ""},
		{"empty network name", func(e *Environment) { e.Spec.Services[1].Networks[0].Name = "" }, db + "[0].name", required, ""},
		{"alias not a DNS name", func(e *Environment) { e.Spec.Services[1].Networks[0].Aliases[0] = "Pg_1" }, db + "[0].aliases[0]", invalid, "RFC 1123"},
		{"duplicate alias", func(e *Environment) { e.Spec.Services[1].Networks[0].Aliases[1] = "postgres" }, db + "[0].aliases[1]", duplicate, ""},
		{"own name as alias", func(e *Environment) { e.Spec.Services[1].Networks[0].Aliases[0] = "db" }, db + "[0].aliases[0]", invalid, "own name"},
		{"another service's name on the network", func(e *Environment) { e.Spec.Services[1].Networks[0].Aliases[0] = "api" },
			db + "[0].aliases[0]", invalid, `service "api" on network "back"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := validEnv()
			withNetworks(env)
			tc.mutate(env)
			expectError(t, ValidateEnvironment(env), 1, tc.path, tc.typ, tc.detail)
		})
	}
}
