package apiserver

import (
	"net/url"
	"slices"
	"strings"
	"testing"
)

// TestExecOptionsFromQuery decodes what client-go's executor and berth's
// client send, through the scheme as the connect handler does.
func TestExecOptionsFromQuery(t *testing.T) {
	q := url.Values{"service": {"db"}, "replica": {"2"}, "command": {"psql", "-c", "select 1"},
		"stdin": {"true"}, "stdout": {"true"}, "stderr": {"false"}, "tty": {"true"}, "pretty": {"1"}}
	var o EnvironmentExecOptions
	if err := Scheme.Convert(&q, &o, nil); err != nil {
		t.Fatal(err)
	}
	if o.Service != "db" || o.Replica == nil || *o.Replica != 2 || !slices.Equal(o.Command, []string{"psql", "-c", "select 1"}) ||
		!o.Stdin || !o.Stdout || o.Stderr || !o.TTY {
		t.Errorf("decoded %+v", o)
	}
	if errs := validateExecOptions(&o); len(errs) > 0 {
		t.Errorf("valid options refused: %v", errs)
	}
	if err := Scheme.Convert(&url.Values{"replica": {"one"}}, &EnvironmentExecOptions{}, nil); err == nil || !strings.Contains(err.Error(), "replica") {
		t.Errorf("replica=one: %v, want an error naming replica", err)
	}
	var a EnvironmentArchiveOptions
	if err := Scheme.Convert(&url.Values{"service": {"web"}, "path": {"/srv"}}, &a, nil); err != nil || a.Service != "web" || a.Path != "/srv" || a.Replica != nil {
		t.Errorf("archive options %+v, %v", a, err)
	}
}

// TestValidateExecAndArchiveOptions: every refusal names its field.
func TestValidateExecAndArchiveOptions(t *testing.T) {
	neg := int32(-1)
	exec := map[string]EnvironmentExecOptions{
		"command":    {Stdout: true},
		"command[0]": {Command: []string{"", "x"}, Stdout: true},
		"command[1]": {Command: []string{"ls", "a\x00b"}, Stdout: true},
		"stdout":     {Command: []string{"ls"}},
		"stderr":     {Command: []string{"ls"}, Stdout: true, Stderr: true, TTY: true},
		"replica":    {Command: []string{"ls"}, Stdout: true, Replica: &neg},
	}
	exec["command "] = EnvironmentExecOptions{Command: make([]string, MaxExecArgs+1), Stdout: true}
	exec["command  "] = EnvironmentExecOptions{Command: []string{"ls", strings.Repeat("a", MaxExecArgBytes)}, Stdout: true}
	for field, o := range exec {
		errs := validateExecOptions(&o)
		if len(errs) == 0 {
			t.Errorf("%s: accepted %+v", field, o)
			continue
		}
		if got := errs[0].Field; got != strings.TrimSpace(field) {
			t.Errorf("%s: first error on %q: %v", field, got, errs)
		}
	}
	archive := map[string]EnvironmentArchiveOptions{
		"empty":    {},
		"relative": {Path: "etc/x"},
		"nul":      {Path: "/a\x00"},
		"long":     {Path: "/" + strings.Repeat("a", MaxPathBytes)},
	}
	for what, o := range archive {
		errs := validateArchiveOptions(&o)
		if len(errs) == 0 || errs[0].Field != "path" {
			t.Errorf("%s path: %v, want an error on path", what, errs)
		}
	}
	if errs := validateArchiveOptions(&EnvironmentArchiveOptions{Path: "/srv", Replica: &neg}); len(errs) != 1 || errs[0].Field != "replica" {
		t.Errorf("negative replica: %v", errs)
	}
	if errs := validateArchiveOptions(&EnvironmentArchiveOptions{Path: "/srv/www"}); len(errs) > 0 {
		t.Errorf("good path refused: %v", errs)
	}
}
