// Command gen-compose-table writes README.md's compose table from
// internal/compose's Table, between its markers, so the two cannot drift
// (internal/compose's tests fail when they differ).
package main

import (
	"flag"
	"fmt"
	"os"

	"berth.dev/berth/internal/compose"
)

func main() {
	readme := flag.String("readme", "README.md", "the README to update")
	flag.Parse()
	data, err := os.ReadFile(*readme)
	if err != nil {
		fmt.Fprintln(os.Stderr, "gen-compose-table:", err)
		os.Exit(1)
	}
	out, err := compose.ReplaceSection(data)
	if err != nil {
		fmt.Fprintf(os.Stderr, "gen-compose-table: %s: %v\n", *readme, err)
		os.Exit(1)
	}
	if err := os.WriteFile(*readme, out, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "gen-compose-table:", err)
		os.Exit(1)
	}
}
