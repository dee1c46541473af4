package v1alpha1

import (
	"strings"
	"testing"
)

const header = "apiVersion: berth.dev/v1alpha1\nkind: Environment\n"

func TestDecodeEnvironmentsAccepts(t *testing.T) {
	cases := []struct {
		name  string
		data  string
		names []string
	}{
		{"one YAML document", header + "metadata: {name: a}\nspec:\n  services: [{name: web, image: nginx}]\n", []string{"a"}},
		{"several documents, comments and empty ones", "# leading comment\n---\n" + header + "metadata: {name: a}\n---\n# nothing\n---\n" +
			header + "metadata: {name: b}\n...\n", []string{"a", "b"}},
		{"JSON", `{"apiVersion":"berth.dev/v1alpha1","kind":"Environment","metadata":{"name":"j"}}`, []string{"j"}},
		{"tab-indented JSON stream", "{\n\t\"apiVersion\": \"berth.dev/v1alpha1\",\n\t\"kind\": \"Environment\",\n\t\"metadata\": {\"name\": \"t1\"}\n}\n" +
			`{"apiVersion":"berth.dev/v1alpha1","kind":"Environment","metadata":{"name":"t2"}}`, []string{"t1", "t2"}},
		{"List from get -o yaml", "apiVersion: v1\nkind: List\nmetadata: {resourceVersion: \"\"}\nitems:\n- " +
			strings.ReplaceAll(header, "\n", "\n  ") + "metadata: {name: l1}\n- " + strings.ReplaceAll(header, "\n", "\n  ") + "metadata: {name: l2}\n",
			[]string{"l1", "l2"}},
		{"EnvironmentList", "apiVersion: berth.dev/v1alpha1\nkind: EnvironmentList\nitems:\n- " + strings.ReplaceAll(header, "\n", "\n  ") +
			"metadata: {name: e1}\n", []string{"e1"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			envs, err := DecodeEnvironments([]byte(tc.data))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, e := range envs {
				got = append(got, e.Name)
			}
			if strings.Join(got, ",") != strings.Join(tc.names, ",") {
				t.Errorf("got %v, want %v", got, tc.names)
			}
		})
	}
}

func TestDecodeEnvironmentsKeepsValuesAsWritten(t *testing.T) {
	envs, err := DecodeEnvironments([]byte(header + `metadata: {name: a}
spec:
  services:
  - name: db
    image: postgres
    ports: [{name: sql, containerPort: 5432, hostPort: 0}]
    resources: {limits: {memory: 512Mi, cpu: 2}}
    readinessProbe: {tcpSocket: {port: sql}}
`))
	if err != nil {
		t.Fatal(err)
	}
	s := envs[0].Spec.Services[0]
	if hp := s.Ports[0].HostPort; hp == nil || *hp != 0 {
		t.Errorf("hostPort 0 must survive decoding as set, got %v", hp)
	}
	lim := s.Resources.Limits
	if m, c := lim[ResourceMemory], lim[ResourceCPU]; m.String() != "512Mi" || c.String() != "2" {
		t.Errorf("limits: memory %s cpu %s", m.String(), c.String())
	}
	if s.ImagePullPolicy != "" || s.ReadinessProbe.PeriodSeconds != 0 {
		t.Error("decoding must not apply defaults")
	}
}

func TestDecodeEnvironmentsRejects(t *testing.T) {
	cases := []struct {
		name string
		data string
		want []string // substrings of the error
	}{
		{"unknown service field", header + "metadata: {name: a}\nspec:\n  services:\n  - name: web\n    image: nginx\n    imagePolicy: Always\n",
			[]string{"document 1", `Environment "a"`, `unknown field "spec.services[0].imagePolicy"`}},
		{"unknown fields everywhere, all named", header + "metadata: {name: a, nmae: b}\nspec:\n  servics: []\n  volumes: [{name: v, driver: local}]\n",
			[]string{`unknown field "metadata.nmae"`, `unknown field "spec.servics"`, `unknown field "spec.volumes[0].driver"`}},
		{"field in the wrong case", header + "metadata: {name: a}\nspec: {services: [{Name: web, image: nginx}]}\n",
			[]string{`unknown field "spec.services[0].Name"`}},
		{"duplicate key", header + "metadata: {name: a}\nmetadata: {name: b}\n",
			[]string{"document 1", `"metadata" already set`}},
		{"in the second document", header + "metadata: {name: a}\n---\n" + header + "metadata: {name: b}\nspec: {ttl: 5}\n",
			[]string{"document 2", `unknown field "spec.ttl"`}},
		{"unknown JSON field", `{"apiVersion":"berth.dev/v1alpha1","kind":"Environment","metadata":{"name":"j"},"spec":{"services":[{"name":"a","image":"b","ports":[{"name":"p","containerPort":1,"hostport":2}]}]}}`,
			[]string{`unknown field "spec.services[0].ports[0].hostport"`}},
		{"wrong type", header + "metadata: {name: a}\nspec: {services: [{name: web, image: nginx, ports: [{name: p, containerPort: http}]}]}\n",
			[]string{"document 1", "containerPort"}},
		{"wrong kind", "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\n",
			[]string{`kind "Pod" is not supported`}},
		{"wrong version", "apiVersion: berth.dev/v1\nkind: Environment\nmetadata: {name: a}\n",
			[]string{`apiVersion "berth.dev/v1" is not supported`, "berth.dev/v1alpha1"}},
		{"no kind", "apiVersion: berth.dev/v1alpha1\nmetadata: {name: a}\n", []string{"kind is required"}},
		{"no apiVersion", "kind: Environment\nmetadata: {name: a}\n", []string{"apiVersion is required"}},
		{"unknown field in a list item", "apiVersion: v1\nkind: List\nitems:\n- " + strings.ReplaceAll(header, "\n", "\n  ") + "metadata: {name: a}\n  spec: {x: 1}\n",
			[]string{"items[0]", `unknown field "spec.x"`}},
		{"not an object", "- a\n- b\n", []string{"not a Kubernetes-style object"}},
		{"bad YAML", header + "metadata: {name: a\n", []string{"document 1"}},
		{"bad separator", header + "metadata: {name: a}\n--- x\n", []string{"invalid Yaml document separator"}},
		{"nothing", "# just a comment\n", []string{"no Environment found"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			envs, err := DecodeEnvironments([]byte(tc.data))
			if err == nil {
				t.Fatalf("accepted: %+v", envs)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}
