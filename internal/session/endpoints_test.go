package session

import (
	"slices"
	"testing"

	"berth.dev/berth/apis/v1alpha1"
)

func demoEnv() *v1alpha1.Environment {
	env := &v1alpha1.Environment{}
	env.Name = "demo-abcde"
	env.Spec.Services = []v1alpha1.Service{{Name: "api"}, {Name: "my-db"}, {Name: "dns"}}
	env.Status.Services = []v1alpha1.ServiceStatus{
		// Status order differs from spec order on purpose.
		{Name: "dns", Ports: []v1alpha1.PortStatus{{ContainerPort: 53, Protocol: "UDP", HostIP: "127.0.0.1", HostPort: 40053}}},
		{Name: "my-db", Ports: []v1alpha1.PortStatus{{ContainerPort: 5432, HostPort: 40432}, {ContainerPort: 9999}}},
		{Name: "api", Ports: []v1alpha1.PortStatus{
			{Name: "http", ContainerPort: 8080, HostIP: "127.0.0.1", HostPort: 32768},
			{Name: "http", ContainerPort: 8080, HostIP: "127.0.0.1", HostPort: 32770, Replica: 1},
			{Name: "admin", ContainerPort: 9090, HostIP: "0.0.0.0", HostPort: 32769},
		}},
	}
	return env
}

func TestEndpoints(t *testing.T) {
	eps := Endpoints(demoEnv())
	var got []string
	for _, e := range eps {
		got = append(got, e.Service+"/"+e.Port+"@"+e.Address())
	}
	want := []string{
		"api/http@127.0.0.1:32768", "api/admin@127.0.0.1:32769", "api/http@127.0.0.1:32770",
		"my-db/5432@127.0.0.1:40432", "dns/53/udp@127.0.0.1:40053",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("endpoints\n got %v\nwant %v", got, want)
	}
}

func TestFindEndpoint(t *testing.T) {
	eps := Endpoints(demoEnv())
	for _, c := range []struct{ svc, port, want string }{
		{"api", "http", "127.0.0.1:32768"},
		{"api", "8080", "127.0.0.1:32768"},
		{"my-db", "5432", "127.0.0.1:40432"},
	} {
		e, err := FindEndpoint(eps, c.svc, c.port)
		if err != nil || e.Address() != c.want {
			t.Errorf("%s/%s: %v %v, want %s", c.svc, c.port, e.Address(), err, c.want)
		}
	}
	if _, err := FindEndpoint(eps, "api", "grpc"); err == nil || err.Error() != `service "api" publishes no port "grpc" (published: http, admin)` {
		t.Errorf("unknown port: %v", err)
	}
	if _, err := FindEndpoint(eps, "nope", "http"); err == nil {
		t.Error("unknown service: no error")
	}
}

func TestDialHost(t *testing.T) {
	for in, want := range map[string]string{"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1", "127.0.0.2": "127.0.0.2", "::1": "::1"} {
		if got := dialHost(in); got != want {
			t.Errorf("dialHost(%q) = %q, want %q", in, got, want)
		}
	}
	if got := (Endpoint{Host: "::1", HostPort: 80}).Address(); got != "[::1]:80" {
		t.Errorf("IPv6 address %q", got)
	}
}
