package images_test

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// These tests drive the real engine through the docker CLI (the images are
// the subject, not berth's client). Every object is named with this run's
// prefix and labelled berth.dev/test=images; cleanup stops and removes only
// those, never forced.

const (
	postgresImage = "berth-postgres:dev"
	redisImage    = "berth-redis:dev"
	testLabel     = "berth.dev/test=images"
)

var runID = func() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}()

func docker(args ...string) (string, error) {
	var out, errb bytes.Buffer
	cmd := exec.Command("docker", args...)
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("docker %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(errb.String()))
	}
	return out.String(), nil
}

func mustDocker(t *testing.T, args ...string) string {
	t.Helper()
	out, err := docker(args...)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(out)
}

// needImage fails (not skips) when the image is missing: `make test` builds
// it before the unit tests, and a silent skip would hide a broken build.
func needImage(t *testing.T, image string) {
	t.Helper()
	if _, err := exec.LookPath("docker"); err != nil {
		t.Skip("no docker CLI on PATH")
	}
	if _, err := docker("version", "--format", "{{.Server.Version}}"); err != nil {
		t.Skipf("no Docker Engine: %v", err)
	}
	if _, err := docker("image", "inspect", image); err != nil {
		t.Fatalf("%s is missing: run `make images` (hack/build-images.sh) first: %v", image, err)
	}
}

// testNetwork creates a network of this test's own, on Docker's default
// pools or, when other suites have used those up, on a /24 of 172.30/16.
func testNetwork(t *testing.T) string {
	t.Helper()
	name := "berth-imgtest-" + runID + "-" + strings.ToLower(strings.ReplaceAll(t.Name(), "/", "-"))
	_, err := docker("network", "create", "--label", testLabel, name)
	for i := 0; err != nil && i < 8; i++ {
		b := make([]byte, 1)
		_, _ = rand.Read(b)
		_, err = docker("network", "create", "--label", testLabel, "--subnet", fmt.Sprintf("172.30.%d.0/24", b[0]), name)
	}
	if err != nil {
		t.Fatalf("create network %s: %v", name, err)
	}
	t.Cleanup(func() {
		if _, err := docker("network", "rm", name); err != nil {
			t.Errorf("remove network: %v", err)
		}
	})
	return name
}

// run starts a detached container and registers its graceful cleanup
// (stop with its own signal, then remove with its anonymous volumes).
func run(t *testing.T, name string, args ...string) {
	t.Helper()
	t.Cleanup(func() {
		if _, err := docker("container", "inspect", name); err != nil {
			return
		}
		if _, err := docker("stop", name); err != nil {
			t.Errorf("stop %s: %v", name, err)
		}
		if _, err := docker("rm", "-v", name); err != nil {
			t.Errorf("remove %s: %v", name, err)
		}
	})
	mustDocker(t, append([]string{"run", "-d", "--name", name, "--label", testLabel}, args...)...)
}

// waitFor retries cmd (a docker exec) until it succeeds; the limit only
// bounds a broken image, it is not a performance assertion.
func waitFor(t *testing.T, name string, args ...string) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for {
		_, err := docker(append([]string{"exec", name}, args...)...)
		if err == nil {
			return
		}
		if st, _ := docker("inspect", "--format", "{{.State.Status}}", name); strings.TrimSpace(st) != "running" {
			logs, _ := docker("logs", name)
			t.Fatalf("%s is %s, not running: %v\nlogs:\n%s", name, strings.TrimSpace(st), err, logs)
		}
		if time.Now().After(deadline) {
			logs, _ := docker("logs", name)
			t.Fatalf("%s never answered %v: %v\nlogs:\n%s", name, args, err, logs)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

func logsOf(t *testing.T, name string) string {
	t.Helper()
	var out bytes.Buffer
	cmd := exec.Command("docker", "logs", name)
	cmd.Stdout, cmd.Stderr = &out, &out // postgres logs to stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("docker logs %s: %v", name, err)
	}
	return out.String()
}

// stopGracefully stops the container with its image's stop signal and
// checks it ended by itself (exit 0) rather than by Docker's SIGKILL (137).
func stopGracefully(t *testing.T, name string) {
	t.Helper()
	mustDocker(t, "stop", "--time", "30", name)
	if code := mustDocker(t, "inspect", "--format", "{{.State.ExitCode}}", name); code != "0" {
		t.Fatalf("%s exited %s after docker stop, want 0 (137 = killed after the grace period)\nlogs:\n%s", name, code, logsOf(t, name))
	}
}

func TestImageConfig(t *testing.T) {
	for _, c := range []struct{ image, format, want string }{
		{postgresImage, "{{.Config.StopSignal}}", "SIGINT"},
		{postgresImage, "{{range $p, $_ := .Config.ExposedPorts}}{{$p}} {{end}}", "5432/tcp "},
		{postgresImage, "{{range .Config.Env}}{{.}} {{end}}", "PGDATA=/var/lib/postgresql/data "},
		{postgresImage, "{{range $v, $_ := .Config.Volumes}}{{$v}} {{end}}", "/var/lib/postgresql/data "},
		{redisImage, "{{range $p, $_ := .Config.ExposedPorts}}{{$p}} {{end}}", "6379/tcp "},
		{redisImage, "{{.Config.WorkingDir}}", "/data"},
	} {
		needImage(t, c.image)
		got := mustDocker(t, "image", "inspect", "--format", c.format, c.image) + " "
		if !strings.Contains(got, c.want) {
			t.Errorf("%s %s = %q, want it to contain %q", c.image, c.format, got, c.want)
		}
	}
}

func TestPostgres(t *testing.T) {
	needImage(t, postgresImage)
	net := testNetwork(t)

	// The init dir is read by the postgres user inside the container.
	initDir := t.TempDir()
	if err := os.Chmod(initDir, 0o755); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"01-schema.sql": "CREATE TABLE greetings (word text);\nINSERT INTO greetings VALUES ('hello from init');\n",
		"02-note.sh":    "echo \"init-sh ran as $(id -un) for $POSTGRES_DB\"\n",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(initDir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	pg := "berth-imgtest-" + runID + "-pg"
	run(t, pg, "--network", net,
		"-e", "POSTGRES_PASSWORD=s3cret", "-e", "POSTGRES_USER=app", "-e", "POSTGRES_DB=appdb",
		"-v", initDir+":/docker-entrypoint-initdb.d:ro", postgresImage)
	// TCP, not the socket: during init only the socket-only server runs.
	waitFor(t, pg, "pg_isready", "-h", "127.0.0.1", "-U", "app", "-d", "appdb")

	psql := func(sql string) string {
		return mustDocker(t, "exec", pg, "psql", "-U", "app", "-d", "appdb", "-tAc", sql)
	}
	if got := psql("SELECT word FROM greetings"); got != "hello from init" {
		t.Errorf("init SQL's table holds %q, want %q", got, "hello from init")
	}
	if got := psql("SHOW data_directory"); got != "/var/lib/postgresql/data" {
		t.Errorf("data_directory = %q, want /var/lib/postgresql/data", got)
	}
	if logs := logsOf(t, pg); !strings.Contains(logs, "init-sh ran as postgres for appdb") {
		t.Errorf("the init .sh did not run as postgres with POSTGRES_DB set; logs:\n%s", logs)
	}

	// The server is PID 1 (exec'd, so the stop signal reaches it) and not root.
	if comm := mustDocker(t, "exec", pg, "cat", "/proc/1/comm"); comm != "postgres" {
		t.Errorf("PID 1 is %q, want postgres", comm)
	}
	uid := mustDocker(t, "exec", pg, "id", "-u", "postgres")
	if status := mustDocker(t, "exec", pg, "cat", "/proc/1/status"); !strings.Contains(status, "\nUid:\t"+uid+"\t") {
		t.Errorf("PID 1 does not run as postgres (uid %s):\n%s", uid, status)
	}

	// Remote clients reach 0.0.0.0:5432 by the container's name and need the password.
	remote := func(password string) (string, error) {
		return docker("run", "--rm", "--label", testLabel, "--network", net, "-e", "PGPASSWORD="+password,
			postgresImage, "psql", "-h", pg, "-U", "app", "-d", "appdb", "-tAc", "SELECT count(*) FROM greetings")
	}
	if out, err := remote("s3cret"); err != nil || strings.TrimSpace(out) != "1" {
		t.Errorf("remote psql with the password: %q, %v; want 1", out, err)
	}
	if out, err := remote("wrong"); err == nil || !strings.Contains(err.Error(), "password authentication failed") {
		t.Errorf("remote psql with a wrong password: %q, %v; want password authentication failed", out, err)
	}

	// Init scripts run on the first start only: a restart keeps the data and
	// does not run them again.
	stopGracefully(t, pg)
	mustDocker(t, "start", pg)
	waitFor(t, pg, "pg_isready", "-h", "127.0.0.1", "-U", "app", "-d", "appdb")
	if got := psql("SELECT count(*) FROM greetings"); got != "1" {
		t.Errorf("after a restart greetings has %s rows, want 1 (init ran again or data lost)", got)
	}
	if n := strings.Count(logsOf(t, pg), "running /docker-entrypoint-initdb.d/01-schema.sql"); n != 1 {
		t.Errorf("01-schema.sql ran %d times over two starts, want 1", n)
	}

	// The stop signal reached the server itself: its own fast-shutdown lines
	// follow the last "ready" line (the init's temporary server logs them too).
	stopGracefully(t, pg)
	logs := logsOf(t, pg)
	i := strings.LastIndex(logs, "ready to accept connections")
	if i < 0 {
		t.Fatalf("the server never logged it was ready; logs:\n%s", logs)
	}
	last := logs[i:]
	for _, line := range []string{"received fast shutdown request", "database system is shut down"} {
		if !strings.Contains(last, line) {
			t.Errorf("no %q after the server's last start; logs:\n%s", line, logs)
		}
	}
}

func TestPostgresNeedsPassword(t *testing.T) {
	needImage(t, postgresImage)
	name := "berth-imgtest-" + runID + "-pgnopw"
	run(t, name, "--network", "none", postgresImage)
	code := mustDocker(t, "wait", name)
	if logs := logsOf(t, name); code == "0" || !strings.Contains(logs, "POSTGRES_PASSWORD is not set") {
		t.Errorf("without POSTGRES_PASSWORD: exit %s, logs:\n%s\nwant a non-zero exit naming POSTGRES_PASSWORD", code, logs)
	}
}

func TestRedis(t *testing.T) {
	needImage(t, redisImage)
	net := testNetwork(t)
	rd := "berth-imgtest-" + runID + "-redis"
	run(t, rd, "--network", net, redisImage)
	waitFor(t, rd, "redis-cli", "ping")

	// From another container: listening on every interface, protected mode off.
	out, err := docker("run", "--rm", "--label", testLabel, "--network", net, redisImage, "redis-cli", "-h", rd, "ping")
	if err != nil || strings.TrimSpace(out) != "PONG" {
		t.Errorf("remote redis-cli ping: %q, %v; want PONG", out, err)
	}
	if user := mustDocker(t, "exec", rd, "sh", "-c", "id -un $(awk '/^Uid:/{print $2}' /proc/1/status)"); user != "redis" {
		t.Errorf("redis-server runs as %q, want redis", user)
	}
	stopGracefully(t, rd)
	if logs := logsOf(t, rd); !strings.Contains(logs, "ready to exit, bye bye") {
		t.Errorf("redis did not shut down by itself; logs:\n%s", logs)
	}
}
