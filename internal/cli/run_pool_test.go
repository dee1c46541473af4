package cli

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

func TestRunPoolArguments(t *testing.T) {
	o, err := parseRun(t, "--pool", "warm", "--", "true")
	if err != nil {
		t.Fatalf("--pool without -f refused: %v", err)
	}
	if o.pool != "warm" || len(o.files) != 0 {
		t.Fatalf("pool %q files %v", o.pool, o.files)
	}
	if _, err := parseRun(t, "--", "true"); err == nil {
		t.Fatal("neither -f nor --pool accepted")
	}
}

func TestRunLoadClaim(t *testing.T) {
	o := &runOptions{pool: "warm"}
	in, err := o.load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if ref := in.env.Spec.PoolRef; ref == nil || ref.Name != "warm" || ref.Standby != "" {
		t.Fatalf("poolRef %+v", in.env.Spec.PoolRef)
	}
	if len(in.env.Spec.Services) != 0 || in.base != "warm" || in.env.Name != "" {
		t.Fatalf("claim %+v base %q: want no services, named after the pool", in.env, in.base)
	}

	dir := t.TempDir()
	f := filepath.Join(dir, "stack.yaml")
	doc := "apiVersion: berth.dev/v1alpha1\nkind: Environment\nmetadata:\n  name: shop\nspec:\n  services:\n  - name: web\n    image: x\n"
	if err := os.WriteFile(f, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	o = &runOptions{pool: "warm", files: []string{f}}
	in, err = o.load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if in.env.Name != "shop" || in.base != "stack" || len(in.env.Spec.Services) != 0 || in.env.Spec.PoolRef.Name != "warm" {
		t.Fatalf("claim from a file: %+v base %q", in.env, in.base)
	}
	if o.pool != "warm" || len(o.files) != 1 {
		t.Fatalf("load changed the options: pool %q files %v", o.pool, o.files)
	}
}
