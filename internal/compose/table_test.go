package compose

import (
	"bytes"
	"os"
	"slices"
	"testing"

	"github.com/compose-spec/compose-go/v2/schema"
	"github.com/compose-spec/compose-go/v2/tree"
)

// TestTableCoversTheSpecification fails when compose-go knows an
// attribute the table has no row for (at runtime such an attribute is
// refused with unlistedReason): decide what berth does with it.
func TestTableCoversTheSpecification(t *testing.T) {
	for _, p := range schema.AttributePaths() {
		if _, ok := RowFor(string(p)); !ok {
			t.Errorf("compose attribute %s has no row in Table", p)
		}
	}
}

// TestTableRowsAreAttributes catches a misspelt row, which would cover
// nothing.
func TestTableRowsAreAttributes(t *testing.T) {
	known := schema.AttributePaths()
	seen := map[string]bool{}
	for _, r := range Table {
		if r.Path != extensionRow && !slices.Contains(known, tree.Path(r.Path)) {
			t.Errorf("row %s is not an attribute of the Compose Specification", r.Path)
		}
		if seen[r.Path] {
			t.Errorf("row %s is listed twice", r.Path)
		}
		seen[r.Path] = true
		if r.Kind == Mapped && r.Field == "" {
			t.Errorf("mapped row %s names no Environment field", r.Path)
		}
		if r.Kind != Mapped && r.Note == "" {
			t.Errorf("%s row %s gives no reason", r.Kind, r.Path)
		}
	}
}

func TestRowForIsFailClosed(t *testing.T) {
	for _, p := range []string{"services.web.some_future_attribute", "services.web.deploy.some_future_attribute", "volumes.data.future"} {
		if r, ok := RowFor(p); ok {
			t.Errorf("RowFor(%s) = %+v, want no row", p, r)
		}
	}
	for p, want := range map[string]string{
		"services.web.environment.FOO":       "services.*.environment",
		"services.web.ports.[].mode":         "services.*.ports.[].mode",
		"services.web.build.args.X":          "services.*.build.args",
		"services.web.network_mode":          "services.*.network_mode",
		"services.web.ulimits.nofile.soft":   "services.*.ulimits",
		"services.web.networks.back.aliases": "services.*.networks.*.aliases",
	} {
		if r, ok := RowFor(p); !ok || r.Path != want {
			t.Errorf("RowFor(%s) = %s, want %s", p, r.Path, want)
		}
	}
}

// TestReadmeTableIsGenerated fails when README.md's compose table is not
// what Table renders: run `make compose-table`.
func TestReadmeTableIsGenerated(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	want, err := ReplaceSection(readme)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(readme, want) {
		t.Error("README.md's compose table differs from internal/compose's Table; run `make compose-table`")
	}
}
