package v1alpha1

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/yaml"
)

// Fuzz targets for what reads user input: the decoder (berth apply's
// files) and the validation (every write to the API server). Neither may
// panic on any input. `make fuzz` runs each briefly; a crasher the fuzzer
// finds lands in testdata/fuzz/<target>/ and stays there as a regression
// seed, run by every plain `go test`.

// fuzzSeeds are the samples users start from and edge cases of the
// formats the decoder accepts.
func fuzzSeeds(f *testing.F) {
	files, err := filepath.Glob(filepath.Join(samplesDir, "*.yaml"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no samples in %s: %v", samplesDir, err)
	}
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	list := func(item string) string {
		return "apiVersion: v1\nkind: List\nitems:\n- " + strings.ReplaceAll(item, "\n", "\n  ")
	}
	svc := header + "metadata: {name: a}\nspec:\n  services:\n  - "
	for _, s := range []string{
		"",
		"---",
		"---\n---\n...\n",
		"null",
		"[]",
		"{}",
		"\t{}",
		`{"apiVersion":"berth.dev/v1alpha1","kind":"Environment","metadata":{"name":"j"},"spec":{"services":[{"name":"web","image":"nginx"}]}}`,
		`{"apiVersion":"berth.dev/v1alpha1","kind":"Environment"}{"apiVersion":"v1","kind":"List","items":[null]}`,
		header + "metadata: {name: a}\nspec: null\n",
		header + "metadata: {name: a}\nspec: {services: [null, {}]}\n",
		header + "metadata: {name: a, generateName: b-, namespace: x, labels: {a: b}, annotations: {c: d}}\n",
		header + "metadata: {name: a}\nspec: {services: [{name: a, image: a}], volumes: [{name: a}], ttlSecondsAfterReady: -1}\n",
		svc + "{name: web, image: nginx, ports: [{name: http, containerPort: 99999, hostPort: -1, hostIP: '::', protocol: SCTP}]}\n",
		svc + "{name: web, image: nginx, resources: {limits: {memory: 1e400, cpu: -1}, requests: {memory: '1Ei'}}}\n",
		svc + "{name: web, image: nginx, readinessProbe: {httpGet: {port: '8080', path: '%zz'}, exec: {command: []}}}\n",
		svc + "{name: web, image: nginx, readinessProbe: {tcpSocket: {port: 1.5}, timeoutSeconds: 2147483647, periodSeconds: -2147483648}}\n",
		svc + "{name: a, image: x, dependsOn: [{service: b}]}\n  - {name: b, image: x, dependsOn: [{service: a, condition: Ready}]}\n",
		svc + "{name: web, image: nginx, env: [{name: 'A=B'}, {name: ''}], volumeMounts: [{name: v, mountPath: '/a/../'}]}\n",
		svc + "{name: web, image: nginx, terminationGracePeriodSeconds: 9223372036854775807}\n",
		header + "metadata: {name: a}\nspec: {services: [{name: a, image: a, imagePolicy: Always}]}\n",
		header + "metadata: {name: a}\nmetadata: {name: b}\n",
		header + "metadata: &m {name: a}\nspec: {services: [{name: *m}]}\n",
		list(header + "metadata: {name: l1}\n"),
		list(list(header + "metadata: {name: nested}\n")),
		"apiVersion: berth.dev/v1alpha1\nkind: EnvironmentList\nitems: [{}]\n",
		header + "status: {phase: Ready, services: [{name: a, ports: [{containerPort: 1}]}], conditions: [{type: Ready}]}\n",
	} {
		f.Add([]byte(s))
	}
}

// checkErrors asserts what every validation error must carry: the path
// of the field it is about and a message.
func checkErrors(t *testing.T, what string, errs field.ErrorList) {
	t.Helper()
	for _, e := range errs {
		if e.Field == "" || e.Error() == "" {
			t.Errorf("%s: an error without a field path or message: %#v", what, e)
		}
	}
}

func FuzzDecodeEnvironments(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		envs, err := DecodeEnvironments(data)
		if err != nil {
			if envs != nil {
				t.Errorf("an error (%v) and %d Environments", err, len(envs))
			}
			if err.Error() == "" {
				t.Error("an error without a message")
			}
			return
		}
		if len(envs) == 0 {
			t.Fatal("no error and no Environment")
		}
		for _, env := range envs {
			if env == nil {
				t.Fatal("a nil Environment")
			}
			validateAll(t, env)
		}
	})
}

// FuzzValidateEnvironment reaches validation with inputs the strict
// decoder would refuse (unknown fields, wrong kinds), decoded leniently.
func FuzzValidateEnvironment(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		env := &Environment{}
		if err := yaml.Unmarshal(data, env); err != nil {
			return
		}
		validateAll(t, env)
	})
}

// validateAll runs defaulting and every validation entry point on env, as
// the API server would on create, update and status update, and checks
// the properties they promise.
func validateAll(t *testing.T, env *Environment) {
	t.Helper()
	SetDefaults(env)
	again := env.DeepCopy()
	SetDefaults(again)
	if !apiequality.Semantic.DeepEqual(env, again) {
		t.Errorf("SetDefaults is not idempotent")
	}

	checkErrors(t, "create", ValidateEnvironment(env))

	old := validEnv()
	old.ResourceVersion, old.Generation, old.UID = "7", 1, "6a1f8a4e-8f0e-4f4e-9a51-0d5c1f3e2b11"
	upd := env.DeepCopy()
	upd.ObjectMeta = *old.ObjectMeta.DeepCopy()
	checkErrors(t, "update", ValidateEnvironmentUpdate(upd, old))
	// Deleting: any spec change is refused, never a panic.
	old.DeletionTimestamp = &metav1.Time{}
	checkErrors(t, "update while deleting", ValidateEnvironmentUpdate(upd, old))
	// Status written by the controller over this spec.
	st := env.DeepCopy()
	st.Spec = old.Spec
	st.ObjectMeta = old.ObjectMeta
	checkErrors(t, "status update", ValidateEnvironmentStatusUpdate(st, old))
	// And the update from itself: an unchanged spec is not re-checked.
	checkErrors(t, "no-op update", ValidateEnvironmentUpdate(env, env.DeepCopy()))
}
