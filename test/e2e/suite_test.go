package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// binDir holds bin/manager and bin/berth; BeforeSuite builds them when the
// Makefile has not (so `go test ./test/e2e/...` works on its own).
var binDir string

func TestE2E(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "berth e2e")
}

var _ = BeforeSuite(func() {
	root, err := filepath.Abs("../..")
	Expect(err).NotTo(HaveOccurred())
	binDir = os.Getenv("BERTH_BIN_DIR")
	if binDir == "" {
		binDir = filepath.Join(root, "bin")
	}
	for _, name := range []string{"manager", "berth"} {
		if _, err := os.Stat(filepath.Join(binDir, name)); err == nil && os.Getenv("BERTH_BIN_DIR") != "" {
			continue
		}
		// Always rebuild from source when the Makefile did not hand us a
		// bin dir: a stale binary would test old code. The build cache
		// makes this a no-op when nothing changed.
		cmd := exec.Command("go", "build", "-o", filepath.Join(binDir, name), "./cmd/"+name)
		cmd.Dir = root
		out, err := cmd.CombinedOutput()
		Expect(err).NotTo(HaveOccurred(), "build %s: %s", name, out)
	}
})
