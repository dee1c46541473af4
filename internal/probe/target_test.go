package probe

import (
	"reflect"
	"testing"

	"k8s.io/apimachinery/pkg/util/intstr"

	v1 "berth.dev/berth/apis/v1alpha1"
)

func TestResolvePort(t *testing.T) {
	tg := Target{Ports: []v1.ServicePort{{Name: "web", ContainerPort: 8080}, {Name: "sql", ContainerPort: 5432}, {Name: "bad", ContainerPort: 70000}}}
	cases := []struct {
		port    intstr.IntOrString
		want    int
		wantErr string
	}{
		{intstr.FromInt32(9000), 9000, ""},
		{intstr.FromString("sql"), 5432, ""},
		{intstr.FromString("web"), 8080, ""},
		{intstr.FromString("nope"), 0, `port "nope" is not one of the service's ports`},
		{intstr.FromInt32(0), 0, "port 0 is out of range"},
		{intstr.FromInt32(65536), 0, "port 65536 is out of range"},
		{intstr.FromString("bad"), 0, `port "bad": container port 70000 is out of range`},
	}
	for _, c := range cases {
		got, err := tg.ResolvePort(c.port)
		if c.wantErr != "" {
			if err == nil || err.Error() != c.wantErr {
				t.Errorf("ResolvePort(%v) error = %v, want %q", c.port.String(), err, c.wantErr)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("ResolvePort(%v) = %d, %v; want %d", c.port.String(), got, err, c.want)
		}
	}
}

func TestAddresses(t *testing.T) {
	tg := Target{
		IP: "172.18.0.3",
		Published: []PublishedPort{
			{ContainerPort: 8080, Protocol: "tcp", HostIP: "::", HostPort: 32001},
			{ContainerPort: 8080, Protocol: "tcp", HostIP: "0.0.0.0", HostPort: 32001},
			{ContainerPort: 8080, Protocol: "udp", HostIP: "127.0.0.1", HostPort: 32002},
			{ContainerPort: 8080, HostIP: "127.0.0.1", HostPort: 32001},
			{ContainerPort: 5432, Protocol: "tcp", HostIP: "127.0.0.1", HostPort: 32003},
			{ContainerPort: 8080, Protocol: "tcp", HostIP: "127.0.0.1", HostPort: 0},
		},
	}
	want := []string{"172.18.0.3:8080", "127.0.0.1:32001", "[::1]:32001"}
	if got := tg.Addresses(8080); !reflect.DeepEqual(got, want) {
		t.Errorf("Addresses(8080) = %v, want %v", got, want)
	}
	if got := (Target{}).Addresses(8080); len(got) != 0 {
		t.Errorf("no IP, nothing published: Addresses = %v, want none", got)
	}
	if got, want := (Target{Published: tg.Published}).Addresses(5432), []string{"127.0.0.1:32003"}; !reflect.DeepEqual(got, want) {
		t.Errorf("published only: Addresses(5432) = %v, want %v", got, want)
	}
}

func TestPreferFirst(t *testing.T) {
	addrs := []string{"a", "b", "c"}
	if got, want := preferFirst(addrs, "c"), []string{"c", "a", "b"}; !reflect.DeepEqual(got, want) {
		t.Errorf("preferFirst(c) = %v, want %v", got, want)
	}
	if got := preferFirst(addrs, "x"); !reflect.DeepEqual(got, addrs) {
		t.Errorf("preferFirst(unknown) = %v, want unchanged", got)
	}
	if !reflect.DeepEqual(addrs, []string{"a", "b", "c"}) {
		t.Errorf("preferFirst changed its input: %v", addrs)
	}
}

func TestFirstLine(t *testing.T) {
	long := ""
	for range 200 {
		long += "é"
	}
	cases := map[string]string{
		"":                      "",
		"\n\n  hello \nworld\n": "hello",
		"testapp check: failed": "testapp check: failed",
	}
	for in, want := range cases {
		if got := firstLine(in); got != want {
			t.Errorf("firstLine(%q) = %q, want %q", in, got, want)
		}
	}
	got := firstLine(long)
	if len(got) > maxMessage+3 || got[len(got)-3:] != "..." {
		t.Errorf("firstLine(long) = %d bytes %q, want at most %d bytes ending in ...", len(got), got, maxMessage+3)
	}
	for i, r := range got {
		if r == 0xFFFD {
			t.Fatalf("firstLine cut a rune at byte %d", i)
		}
	}
}
