package cli

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"k8s.io/cli-runtime/pkg/genericiooptions"
)

func newTestRoot() (*cobra.Command, *bytes.Buffer) {
	var out bytes.Buffer
	return NewRootCommand(genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &out}), &out
}

func TestRootRegistersExactlyBerthsVerbs(t *testing.T) {
	root, _ := newTestRoot()
	var got []string
	for _, c := range root.Commands() {
		got = append(got, c.Name())
	}
	slices.Sort(got)
	want := []string{"apply", "convert", "cp", "delete", "describe", "exec", "get", "install", "logs", "run", "version", "wait"}
	if !slices.Equal(got, want) {
		t.Errorf("subcommands = %v, want %v", got, want)
	}
}

func TestGlobalFlags(t *testing.T) {
	root, _ := newTestRoot()
	flags := root.PersistentFlags()
	for _, name := range []string{"kubeconfig", "request-timeout", "cache-dir", "v"} {
		if flags.Lookup(name) == nil {
			t.Errorf("global flag --%s is missing", name)
		}
	}
	// These would let berth be pointed at another cluster or identity than
	// the manager's kubeconfig names, or are meaningless for a
	// cluster-scoped kind.
	for _, name := range []string{"context", "cluster", "user", "server", "token", "namespace", "as", "insecure-skip-tls-verify"} {
		if flags.Lookup(name) != nil {
			t.Errorf("global flag --%s should not exist", name)
		}
	}
}

func TestDeleteWaitsWithATimeoutByDefault(t *testing.T) {
	root, _ := newTestRoot()
	del, _, err := root.Find([]string{"delete"})
	if err != nil {
		t.Fatal(err)
	}
	if f := del.Flags().Lookup("wait"); f == nil || f.DefValue != "true" {
		t.Errorf("delete --wait default = %v, want true", f)
	}
	if f := del.Flags().Lookup("timeout"); f == nil || f.DefValue != "5m0s" {
		t.Errorf("delete --timeout default = %v, want 5m0s", f)
	}
	for _, name := range []string{"force", "grace-period", "now", "cascade"} {
		if f := del.Flags().Lookup(name); f == nil || !f.Hidden {
			t.Errorf("delete --%s should exist (kubectl's code reads it) and be hidden", name)
		}
	}
}

func TestApplyValidatesStrictlyByDefault(t *testing.T) {
	root, _ := newTestRoot()
	apply, _, err := root.Find([]string{"apply"})
	if err != nil {
		t.Fatal(err)
	}
	if f := apply.Flags().Lookup("validate"); f == nil || f.DefValue != "strict" {
		t.Errorf("apply --validate default = %v, want strict", f)
	}
}

// TestHelpSaysBerth checks the help of berth's verbs: their texts are
// berth's own, so "kubectl" in them would be a leftover.
func TestHelpSaysBerth(t *testing.T) {
	for _, verb := range []string{"", "apply", "get", "describe", "delete", "wait", "logs", "version"} {
		root, out := newTestRoot()
		args := []string{"--help"}
		if verb != "" {
			args = []string{verb, "--help"}
		}
		root.SetArgs(args)
		if err := root.Execute(); err != nil {
			t.Fatalf("berth %s --help: %v", verb, err)
		}
		help := out.String()
		// Split off the flags section: flag usage strings are kubectl's.
		text, _, _ := strings.Cut(help, "Flags:")
		if strings.Contains(strings.ToLower(text), "kubectl") {
			t.Errorf("berth %s --help mentions kubectl:\n%s", verb, text)
		}
		if verb != "version" && !strings.Contains(text, "berth "+verb) {
			t.Errorf("berth %s --help has no berth example:\n%s", verb, text)
		}
	}
}
