package cli

import (
	"slices"
	"strings"
	"testing"
)

func TestParseExecArgs(t *testing.T) {
	good := []struct {
		args     []string
		dash     int
		env, svc string
		cmd      []string
	}{
		{[]string{"demo", "db", "psql", "-c", "select 1"}, 2, "demo", "db", []string{"psql", "-c", "select 1"}},
		{[]string{"demo", "sh"}, 1, "demo", "", []string{"sh"}},
		{[]string{"demo", "db", "--", "x"}, 2, "demo", "db", []string{"--", "x"}},
	}
	for _, g := range good {
		env, svc, cmd, err := parseExecArgs(g.args, g.dash)
		if err != nil || env != g.env || svc != g.svc || !slices.Equal(cmd, g.cmd) {
			t.Errorf("%v at %d: %q %q %q %v", g.args, g.dash, env, svc, cmd, err)
		}
	}
	bad := []struct {
		args []string
		dash int
		msg  string
	}{
		{[]string{"demo", "db", "ls"}, -1, `after "--"`},
		{[]string{"ls"}, 0, "name the Environment"},
		{[]string{"demo", "db"}, 2, "no command"},
		{[]string{"a", "b", "c", "ls"}, 3, "too many arguments"},
		{[]string{"Demo", "ls"}, 1, "environment name"},
		{[]string{"demo", "db_1", "ls"}, 2, "service name"},
	}
	for _, b := range bad {
		if _, _, _, err := parseExecArgs(b.args, b.dash); err == nil || !strings.Contains(err.Error(), b.msg) {
			t.Errorf("%v at %d: %v, want an error with %q", b.args, b.dash, err, b.msg)
		}
	}
}

func TestParseCpArgs(t *testing.T) {
	from, to, err := parseCpArgs("demo/db:/var/lib/data", "./out")
	if err != nil || !from.Remote || from.Environment != "demo" || from.Service != "db" || from.Path != "/var/lib/data" || to.Remote || to.Path != "./out" {
		t.Errorf("remote to local: %+v %+v %v", from, to, err)
	}
	from, to, err = parseCpArgs("file", "demo:/etc/x")
	if err != nil || from.Remote || !to.Remote || to.Environment != "demo" || to.Service != "" || to.Path != "/etc/x" {
		t.Errorf("local to single-service remote: %+v %+v %v", from, to, err)
	}
	// A leading ./ or / is always local, colon or not.
	for _, local := range []string{"./a:b", "/tmp/a:b", "../x:y"} {
		if e, err := parseCpEnd(local); err != nil || e.Remote {
			t.Errorf("%q: %+v, %v; want local", local, e, err)
		}
	}
	bad := map[[2]string]string{
		{"demo/db:/a", "demo/web:/b"}: "both sides",
		{"a", "b"}:                    "neither side",
		{"demo/db:rel", "."}:          "must be absolute",
		{"demo/:/a", "."}:             "empty service",
		{"Bad_Env/db:/a", "."}:        "environment name",
		{"demo/DB:/a", "."}:           "service name",
		{"", "demo/db:/a"}:            "empty path",
	}
	for args, msg := range bad {
		if _, _, err := parseCpArgs(args[0], args[1]); err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("%q %q: %v, want an error with %q", args[0], args[1], err, msg)
		}
	}
}
