package session

import (
	"slices"
	"strings"
	"testing"
)

func TestEnvVars(t *testing.T) {
	vars, warnings := EnvVars("demo-abcde", Endpoints(demoEnv()))
	want := []string{
		"BERTH_API_ADMIN=127.0.0.1:32769", "BERTH_API_ADMIN_HOST=127.0.0.1", "BERTH_API_ADMIN_PORT=32769",
		"BERTH_API_HTTP=127.0.0.1:32768", "BERTH_API_HTTP_HOST=127.0.0.1", "BERTH_API_HTTP_PORT=32768",
		"BERTH_API_HTTP_R1=127.0.0.1:32770", "BERTH_API_HTTP_R1_HOST=127.0.0.1", "BERTH_API_HTTP_R1_PORT=32770",
		"BERTH_DNS_53_UDP=127.0.0.1:40053", "BERTH_DNS_53_UDP_HOST=127.0.0.1", "BERTH_DNS_53_UDP_PORT=40053",
		"BERTH_ENV=demo-abcde",
		"BERTH_MY_DB_5432=127.0.0.1:40432", "BERTH_MY_DB_5432_HOST=127.0.0.1", "BERTH_MY_DB_5432_PORT=40432",
	}
	if !slices.Equal(vars, want) {
		t.Fatalf("vars\n got %q\nwant %q", vars, want)
	}
	if len(warnings) != 0 {
		t.Fatalf("warnings %q", warnings)
	}
}

func TestEnvVarsClash(t *testing.T) {
	eps := []Endpoint{
		{Service: "a-b", Port: "c", Host: "127.0.0.1", HostPort: 1},
		{Service: "a", Port: "b-c", Host: "127.0.0.1", HostPort: 2},
		{Service: "x", Port: "http", Host: "127.0.0.1", HostPort: 3},
		// x/http's BERTH_X_HTTP_PORT is this one's BERTH_X_HTTP_PORT.
		{Service: "x", Port: "http-port", Host: "127.0.0.1", HostPort: 4},
		{Service: "ok", Port: "web", Host: "127.0.0.1", HostPort: 5},
	}
	vars, warnings := EnvVars("e", eps)
	want := []string{"BERTH_ENV=e", "BERTH_OK_WEB=127.0.0.1:5", "BERTH_OK_WEB_HOST=127.0.0.1", "BERTH_OK_WEB_PORT=5"}
	if !slices.Equal(vars, want) {
		t.Fatalf("vars\n got %q\nwant %q", vars, want)
	}
	if len(warnings) != 4 {
		t.Fatalf("want a warning for each of the 4 clashing endpoints, got %q", warnings)
	}
	for _, w := range warnings {
		if !strings.Contains(w, "clashes") {
			t.Errorf("warning %q", w)
		}
	}
}

func TestVarName(t *testing.T) {
	for _, c := range []struct {
		e    Endpoint
		want string
	}{
		{Endpoint{Service: "api", Port: "http"}, "BERTH_API_HTTP"},
		{Endpoint{Service: "my-db", Port: "5432"}, "BERTH_MY_DB_5432"},
		{Endpoint{Service: "dns", Port: "53/udp"}, "BERTH_DNS_53_UDP"},
		{Endpoint{Service: "web", Port: "http", Replica: 2}, "BERTH_WEB_HTTP_R2"},
	} {
		if got := VarName(c.e); got != c.want {
			t.Errorf("VarName(%+v) = %s, want %s", c.e, got, c.want)
		}
	}
}
