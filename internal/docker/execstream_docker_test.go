package docker

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/client"

	"berth.dev/berth/internal/governor"
	"berth.dev/berth/internal/tarcopy"
)

// startTestapp runs one testapp container of a fresh environment and
// waits until it is ready.
func startTestapp(t *testing.T, ctx context.Context, c *Client, short string) string {
	t.Helper()
	env := envName(t, short)
	cleanupEnv(t, env)
	if _, err := c.EnsureNetwork(ctx, NetworkSpec{Environment: env, EnvironmentUID: "uid-" + env}); err != nil {
		t.Fatal(err)
	}
	created, err := c.CreateContainer(ctx, spec(env, "app", "--http-port", "0"))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.StartContainer(ctx, created.ID); err != nil {
		t.Fatal(err)
	}
	waitReady(t, ctx, c, created.ID)
	return created.ID
}

// TestExecStreamStreamsAndExitCodes: the exit code comes back as is,
// stdout and stderr stay apart, stdin reaches the command and its end
// closes the command's input, a terminal is a terminal.
func TestExecStreamStreamsAndExitCodes(t *testing.T) {
	needDocker(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	c := newTestClient(t, dockerHost, governor.ProfileCI)
	id := startTestapp(t, ctx, c, "exec")

	for _, want := range []int{0, 3, 125} {
		var out, errOut bytes.Buffer
		code, err := c.ExecStream(ctx, id, ExecStreamOptions{
			Cmd:    []string{"/testapp", "print", "--stdout", "to-out", "--stderr", "to-err", "--exit", strconv.Itoa(want)},
			Stdout: &out, Stderr: &errOut,
		})
		if err != nil {
			t.Fatalf("exit %d: %v", want, err)
		}
		if code != want || out.String() != "to-out" || errOut.String() != "to-err" {
			t.Errorf("exit %d: got code %d, stdout %q, stderr %q", want, code, out.String(), errOut.String())
		}
	}

	// Bigger than any pipe buffer: the copy must stream both ways.
	input := strings.Repeat("berth exec stdin line\n", 20000)
	var out bytes.Buffer
	code, err := c.ExecStream(ctx, id, ExecStreamOptions{Cmd: []string{"/testapp", "cat"}, Stdin: strings.NewReader(input), Stdout: &out})
	if err != nil || code != 0 {
		t.Fatalf("cat of stdin: code %d, %v", code, err)
	}
	if out.String() != input {
		t.Errorf("cat of stdin: got %d bytes back, want the %d sent", out.Len(), len(input))
	}

	out.Reset()
	code, err = c.ExecStream(ctx, id, ExecStreamOptions{Cmd: []string{"/testapp", "tty"}, Stdout: &out})
	if err != nil || code != 1 || !strings.Contains(out.String(), "not a tty") {
		t.Errorf("tty without TTY: code %d, %q, %v; want 1 and \"not a tty\"", code, out.String(), err)
	}
	out.Reset()
	sizes := make(chan TerminalSize, 1)
	sizes <- TerminalSize{Width: 91, Height: 27}
	code, err = c.ExecStream(ctx, id, ExecStreamOptions{Cmd: []string{"/testapp", "tty"}, TTY: true, Stdout: &out, Resize: sizes})
	if err != nil || code != 0 || strings.TrimSpace(out.String()) != "tty 91x27" {
		t.Errorf("tty with TTY: code %d, %q, %v; want 0 and \"tty 91x27\" (the first size, given before the start)", code, out.String(), err)
	}

	code, err = c.ExecStream(ctx, id, ExecStreamOptions{Cmd: []string{"/no-such-program"}})
	if err != nil || code == 0 {
		t.Errorf("missing program: code %d, %v; want a non-zero code from Docker", code, err)
	}
	if _, err := c.ExecStream(ctx, id, ExecStreamOptions{}); !IsInvalid(err) {
		t.Errorf("empty command: %v, want Invalid", err)
	}

	// A caller that leaves (its context ends) while the command runs on
	// silently gets its call back, and the session's stream is released.
	leave, stop := context.WithCancel(ctx)
	ended := make(chan error, 1)
	go func() {
		_, err := c.ExecStream(leave, id, ExecStreamOptions{Cmd: []string{"/testapp", "--http-port", "0"}, Stdout: io.Discard})
		ended <- err
	}()
	eventually(t, 30*time.Second, "the silent session holds a stream", func() bool { return c.Stats().OpenStreams == 1 })
	stop()
	if err := <-ended; !errors.Is(err, context.Canceled) {
		t.Errorf("left session: %v, want context.Canceled", err)
	}
	if st := c.Stats(); st.OpenStreams != 0 {
		t.Errorf("open streams after the sessions: %d, want 0", st.OpenStreams)
	}
}

// TestArchiveRoundTrip copies a tree into a container and back through
// Docker's archive API (the image has no tar), modes and links intact.
func TestArchiveRoundTrip(t *testing.T) {
	needDocker(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	c := newTestClient(t, dockerHost, governor.ProfileCI)
	id := startTestapp(t, ctx, c, "archive")

	src := filepath.Join(t.TempDir(), "tree")
	mustWrite(t, filepath.Join(src, "a.txt"), "alpha\n", 0o644)
	mustWrite(t, filepath.Join(src, "sub", "run.sh"), "#!/bin/false\n", 0o750)
	if err := os.Chmod(filepath.Join(src, "sub"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("a.txt", filepath.Join(src, "link")); err != nil {
		t.Fatal(err)
	}
	var archive bytes.Buffer
	if err := tarcopy.Pack(&archive, src, "tree"); err != nil {
		t.Fatal(err)
	}
	if err := c.ArchiveTo(ctx, id, "/", &archive); err != nil {
		t.Fatal(err)
	}
	st, err := c.StatPath(ctx, id, "/tree/sub/run.sh")
	if err != nil || st.Mode.Perm() != 0o750 || st.Size != int64(len("#!/bin/false\n")) {
		t.Errorf("stat of the copied file: %+v, %v; want mode 0750", st, err)
	}
	if _, err := c.StatPath(ctx, id, "/tree/nope"); !IsNotFound(err) {
		t.Errorf("stat of a missing path: %v, want NotFound", err)
	}

	rc, _, err := c.ArchiveFrom(ctx, id, "/tree")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	tr := tar.NewReader(rc)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(tr)
		got[strings.TrimSuffix(hdr.Name, "/")] = os.FileMode(hdr.Mode).Perm().String() + " " + hdr.Linkname + " " + string(body)
	}
	rc.Close()
	want := map[string]string{
		"tree":            "-rwxr-xr-x  ",
		"tree/a.txt":      "-rw-r--r--  alpha\n",
		"tree/sub":        "-rwx------  ",
		"tree/sub/run.sh": "-rwxr-x---  #!/bin/false\n",
		"tree/link":       "-rwxrwxrwx a.txt ",
	}
	for name, w := range want {
		if got[name] != w {
			t.Errorf("%s: got %q, want %q", name, got[name], w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("archive entries %v, want %d", got, len(want))
	}
	if _, _, err := c.ArchiveFrom(ctx, id, "/no/such/path"); !IsNotFound(err) {
		t.Errorf("archive of a missing path: %v, want NotFound", err)
	}
	if err := c.ArchiveTo(ctx, id, "/no/such/dir", strings.NewReader("")); !IsNotFound(err) {
		t.Errorf("extract into a missing directory: %v, want NotFound", err)
	}
	if st := c.Stats(); st.OpenStreams != 0 {
		t.Errorf("open streams after the copies: %d, want 0", st.OpenStreams)
	}
}

// TestExecAndArchiveRefuseDecoys: exec and both copy directions refuse a
// container without this manager's identity, and nothing reaches it.
func TestExecAndArchiveRefuseDecoys(t *testing.T) {
	needDocker(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c := newTestClient(t, dockerHost, governor.ProfileCI)
	var archive bytes.Buffer
	dir := filepath.Join(t.TempDir(), "planted")
	mustWrite(t, filepath.Join(dir, "x"), "x", 0o644)
	if err := tarcopy.Pack(&archive, dir, "planted"); err != nil {
		t.Fatal(err)
	}
	for what, id := range map[string]string{
		"unlabelled by ID": decoys.containers[0], "unlabelled by name": decoys.unlabelledContainer,
		"foreign by ID": decoys.containers[1], "foreign by name": decoys.foreignContainer,
	} {
		var out bytes.Buffer
		if code, err := c.ExecStream(ctx, id, ExecStreamOptions{Cmd: []string{"/testapp", "print", "--stdout", "ran"}, Stdout: &out}); !IsNotOwned(err) || out.Len() > 0 {
			t.Errorf("ExecStream in the %s decoy: code %d, %v, %q; want NotOwned and no output", what, code, err, out.String())
		}
		if rc, _, err := c.ArchiveFrom(ctx, id, "/testapp"); !IsNotOwned(err) {
			if rc != nil {
				rc.Close()
			}
			t.Errorf("ArchiveFrom the %s decoy: %v, want NotOwned", what, err)
		}
		if err := c.ArchiveTo(ctx, id, "/", bytes.NewReader(archive.Bytes())); !IsNotOwned(err) {
			t.Errorf("ArchiveTo the %s decoy: %v, want NotOwned", what, err)
		}
		if _, err := c.StatPath(ctx, id, "/"); !IsNotOwned(err) {
			t.Errorf("StatPath in the %s decoy: %v, want NotOwned", what, err)
		}
		if _, err := raw.ContainerStatPath(ctx, id, client.ContainerStatPathOptions{Path: "/planted"}); err == nil {
			t.Errorf("the %s decoy has /planted: the refused copy reached it", what)
		}
	}
}

func mustWrite(t *testing.T, p, content string, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
}
