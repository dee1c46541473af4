package v1alpha1

import (
	"math/rand"
	"strings"
	"testing"
)

// validDockerNameParts reports whether env is a valid Environment name and
// name a valid service or volume name: the inputs the Docker names are
// derived from.
func validDockerNameParts(env, name string) bool {
	return len(validateEnvironmentName(env, false)) == 0 && len(validateName(nil, name)) == 0
}

// splitDockerName undoes ContainerName/VolumeName. That every derived name
// splits back into the parts it came from is what makes the naming
// injective.
func splitDockerName(n string) (env, name string, ok bool) {
	rest, ok := strings.CutPrefix(n, DockerNamePrefix)
	if !ok {
		return "", "", false
	}
	return strings.Cut(rest, DockerNameSeparator)
}

func TestDockerNamesOfTheIssuePairDiffer(t *testing.T) {
	// Environment a with b-data and Environment a-b with data met at
	// berth-a-b-data (issue 8).
	if !validDockerNameParts("a", "b-data") || !validDockerNameParts("a-b", "data") {
		t.Fatal("the issue's names must be valid")
	}
	if a, b := ContainerName("a", "b-data"), ContainerName("a-b", "data"); a == b {
		t.Errorf("containers collide: both %q", a)
	}
	if a, b := VolumeName("a", "b-data"), VolumeName("a-b", "data"); a == b {
		t.Errorf("volumes collide: both %q", a)
	}
	if a, b := NetworkName("a"), NetworkName("a-b"); a == b {
		t.Errorf("networks collide: both %q", a)
	}
	if got := ContainerName("a", "b-data"); got != "berth_a_b-data" {
		t.Errorf("ContainerName(a, b-data) = %q, want berth_a_b-data", got)
	}
}

// TestDockerNamesAreInjectiveExhaustively derives the names of every pair of
// valid names up to four characters over an alphabet that holds a letter,
// the dash and every separator candidate, and finds no two pairs sharing a
// name. Validation decides what is valid, so a rule loosened later (say, to
// allow "_") makes this test fail rather than the names collide.
func TestDockerNamesAreInjectiveExhaustively(t *testing.T) {
	var names []string
	var gen func(prefix string)
	gen = func(prefix string) {
		if prefix != "" {
			names = append(names, prefix)
		}
		if len(prefix) == 4 {
			return
		}
		for _, r := range "ab-_." {
			gen(prefix + string(r))
		}
	}
	gen("")
	validEnv, validName := map[string]bool{}, map[string]bool{}
	for _, n := range names {
		validEnv[n] = len(validateEnvironmentName(n, false)) == 0
		validName[n] = len(validateName(nil, n)) == 0
	}
	type pair struct{ env, name string }
	containers, networks := map[string]pair{}, map[string]string{}
	pairs := 0
	for _, env := range names {
		for _, name := range names {
			if !validEnv[env] || !validName[name] {
				continue
			}
			pairs++
			p := pair{env, name}
			n := ContainerName(env, name)
			if prev, dup := containers[n]; dup {
				t.Fatalf("%+v and %+v both map to %q", prev, p, n)
			}
			containers[n] = p
			if VolumeName(env, name) != n {
				t.Fatalf("volume and container names of %+v differ in form", p)
			}
		}
		if validEnv[env] {
			n := NetworkName(env)
			if prev, dup := networks[n]; dup {
				t.Fatalf("Environments %q and %q share network %q", prev, env, n)
			}
			networks[n] = env
		}
	}
	if pairs < 2000 {
		t.Fatalf("only %d valid pairs generated; the generator is broken", pairs)
	}
}

// TestDockerNamesSplitBackRandomly draws long random names (biased towards
// dashes and the characters Docker names allow) and checks that every valid
// pair's names split back into exactly that pair.
func TestDockerNamesSplitBackRandomly(t *testing.T) {
	rng := rand.New(rand.NewSource(8))
	const alphabet = "abz09--"
	draw := func() string {
		b := make([]byte, 1+rng.Intn(MaxNameLength+2))
		for i := range b {
			switch r := rng.Intn(100); {
			case r == 0:
				b[i] = '_'
			case r == 1:
				b[i] = '.'
			default:
				b[i] = alphabet[rng.Intn(len(alphabet))]
			}
		}
		return string(b)
	}
	valid := 0
	for i := 0; i < 200000 && valid < 5000; i++ {
		env, name := draw(), draw()
		if !validDockerNameParts(env, name) {
			continue
		}
		valid++
		for _, n := range []string{ContainerName(env, name), VolumeName(env, name)} {
			e, s, ok := splitDockerName(n)
			if !ok || e != env || s != name {
				t.Fatalf("%q (from %q, %q) splits into %q, %q", n, env, name, e, s)
			}
		}
		if got := strings.TrimPrefix(NetworkName(env), DockerNamePrefix); got != env || strings.Contains(got, DockerNameSeparator) {
			t.Fatalf("network of %q is %q", env, NetworkName(env))
		}
	}
	if valid < 1000 {
		t.Fatalf("only %d valid pairs drawn", valid)
	}
}

func TestLegacyVolumeNameIsTheOldScheme(t *testing.T) {
	if got := LegacyVolumeName("a", "b-data"); got != "berth-a-b-data" {
		t.Errorf("LegacyVolumeName = %q", got)
	}
}
