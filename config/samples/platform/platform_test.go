package platform_test

// The platform sample's programs against the real Postgres and Redis images,
// run with the docker CLI alone (no berth): this proves the programs and
// their images whatever berth can express. The init SQL is the file
// platform.yaml names (init.sql), mounted here with a bind mount, and
// Postgres and Redis get platform.yaml's healthchecks; the config file is the
// sample's conf/ directory, as platform.yaml mounts it.

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"
)

const (
	postgresImage = "berth-postgres:dev"
	redisImage    = "berth-redis:dev"
	pgReadyLine   = "database system is ready to accept connections"
	pgFastLine    = "received fast shutdown request"
)

func docker(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "docker", args...)
	// Debian's engine comes without buildx; its CLI then refuses BuildKit.
	if exec.Command("docker", "buildx", "version").Run() != nil {
		cmd.Env = append(os.Environ(), "DOCKER_BUILDKIT=0")
	}
	out, err := cmd.CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

func mustDocker(t *testing.T, args ...string) string {
	t.Helper()
	out, err := docker(args...)
	if err != nil {
		t.Fatalf("docker %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// eventually retries f every 250ms until it returns nil or timeout passes.
func eventually(t *testing.T, timeout time.Duration, what string, f func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: still failing after %s: %v", what, timeout, err)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// initSQL is the file platform.yaml's spec.files init-sql names (and
// docker-compose.test.yml's configs init-sql): the test runs exactly what
// the sample ships.
func initSQL(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile("platform.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var env struct {
		Spec struct {
			Files []struct {
				Name string `json:"name"`
				Path string `json:"path"`
			} `json:"files"`
		} `json:"spec"`
	}
	if err := yaml.Unmarshal(data, &env); err != nil {
		t.Fatalf("platform.yaml: %v", err)
	}
	for _, f := range env.Spec.Files {
		if f.Name == "init-sql" && f.Path != "" {
			sql, err := os.ReadFile(f.Path)
			if err != nil {
				t.Fatalf("platform.yaml's init-sql: %v", err)
			}
			return string(sql)
		}
	}
	t.Fatal("platform.yaml has no spec.files init-sql with a path")
	return ""
}

// healthCmd is the healthcheck test of svc in platform.yaml ([CMD, prog,
// arg...]) as the docker CLI's --health-cmd takes it: the images have a
// shell, and no argument holds a space.
func healthCmd(t *testing.T, svc string) string {
	t.Helper()
	data, err := os.ReadFile("platform.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var env struct {
		Spec struct {
			Services []struct {
				Name        string `json:"name"`
				Healthcheck struct {
					Test []string `json:"test"`
				} `json:"healthcheck"`
			} `json:"services"`
		} `json:"spec"`
	}
	if err := yaml.Unmarshal(data, &env); err != nil {
		t.Fatalf("platform.yaml: %v", err)
	}
	for _, s := range env.Spec.Services {
		if test := s.Healthcheck.Test; s.Name == svc && len(test) > 1 && test[0] == "CMD" {
			return strings.Join(test[1:], " ")
		}
	}
	t.Fatalf("platform.yaml: service %s has no healthcheck test [CMD, ...]", svc)
	return ""
}

type stack struct {
	t      *testing.T
	prefix string
	net    string
}

func (s *stack) name(svc string) string { return s.prefix + "-" + svc }

// run starts svc on the private network under its service name.
func (s *stack) run(svc string, args ...string) {
	s.t.Helper()
	name := s.name(svc)
	all := append([]string{"run", "-d", "--name", name, "--network", s.net, "--network-alias", svc,
		"--label", "berth.dev/test=platform-sample"}, args...)
	mustDocker(s.t, all...)
	s.t.Cleanup(func() {
		// Graceful: stop, then a plain remove.
		_, _ = docker("stop", "--time", "10", name)
		_, _ = docker("rm", name)
	})
}

// url is the loopback address of svc's published port.
func (s *stack) url(svc, port string) string {
	s.t.Helper()
	out := mustDocker(s.t, "port", s.name(svc), port+"/tcp")
	addr := strings.Split(out, "\n")[0]
	return "http://" + addr
}

type answer struct {
	code int
	body []byte
}

func (a answer) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(a.body, v); err != nil {
		t.Fatalf("answer %d %q: %v", a.code, a.body, err)
	}
}

func call(method, url, token string, body any) (answer, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return answer{}, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		return answer{}, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, b}, err
}

func mustCall(t *testing.T, want int, method, url, token string, body any) answer {
	t.Helper()
	a, err := call(method, url, token, body)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	if a.code != want {
		t.Fatalf("%s %s: %d %s, want %d", method, url, a.code, a.body, want)
	}
	return a
}

func status(url string, want int) error {
	a, err := call(http.MethodGet, url, "", nil)
	if err != nil {
		return err
	}
	if a.code != want {
		return fmt.Errorf("%d %s", a.code, a.body)
	}
	return nil
}

func TestPlatformOnDocker(t *testing.T) {
	if out, err := docker("version", "--format", "{{.Server.Version}}"); err != nil {
		t.Fatalf("the Docker Engine does not answer (hack/ensure-docker.sh): %s", out)
	}
	root, err := filepath.Abs("../../..")
	if err != nil {
		t.Fatal(err)
	}
	for _, img := range []string{postgresImage, redisImage} {
		if _, err := docker("image", "inspect", img); err != nil {
			cmd := exec.Command(filepath.Join(root, "hack", "build-images.sh"))
			cmd.Dir = root
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("hack/build-images.sh (for %s): %v\n%s", img, err, out)
			}
			break
		}
	}
	if out, err := exec.Command(filepath.Join(root, "hack", "build-platform.sh")).CombinedOutput(); err != nil {
		t.Fatalf("hack/build-platform.sh: %v\n%s", err, out)
	}

	sfx := randHex(3)
	s := &stack{t: t, prefix: "platform-test-" + sfx, net: "platform-test-" + sfx}
	images := map[string]string{}
	for _, svc := range []string{"backend", "auth", "frontend"} {
		img := "berth-platform-" + svc + ":test-" + sfx
		mustDocker(t, "build", "--tag", img, svc)
		images[svc] = img
		t.Cleanup(func() { _, _ = docker("rmi", img) })
	}
	// An explicit subnet: Docker's default pools may be used up on a shared
	// daemon; another network may hold a random pick, so try a few.
	eventually(t, 30*time.Second, "network create", func() error {
		var b [1]byte
		_, _ = rand.Read(b[:])
		out, err := docker("network", "create", "--label", "berth.dev/test=platform-sample",
			"--subnet", fmt.Sprintf("10.197.%d.0/24", b[0]), s.net)
		if err != nil {
			return fmt.Errorf("%v: %s", err, out)
		}
		return nil
	})
	// Registered first, so it runs after every container's cleanup.
	t.Cleanup(func() { _, _ = docker("network", "rm", s.net) })

	initDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(initDir, "init.sql"), []byte(initSQL(t)), 0o644); err != nil {
		t.Fatal(err)
	}
	// Readable by the postgres user of the image.
	if err := os.Chmod(initDir, 0o755); err != nil {
		t.Fatal(err)
	}
	conf, err := filepath.Abs("conf")
	if err != nil {
		t.Fatal(err)
	}
	const dbURL = "postgres://platform:platform-test-only@postgres:5432/platform?sslmode=disable"

	// The seed's memory table, as platform.yaml sets it.
	s.run("postgres", "--memory", "512m", "--memory-reservation", "256m",
		"-e", "POSTGRES_USER=platform", "-e", "POSTGRES_PASSWORD=platform-test-only", "-e", "POSTGRES_DB=platform",
		"-v", initDir+":/docker-entrypoint-initdb.d:ro", "--tmpfs", "/var/lib/postgresql/data",
		"--health-cmd", healthCmd(t, "postgres"), "--health-interval", "1s", postgresImage)
	s.run("redis", "--memory", "256m", "--memory-reservation", "128m",
		"--health-cmd", healthCmd(t, "redis"), "--health-interval", "1s", redisImage,
		"redis-server", "--save", "", "--appendonly", "no")
	s.run("auth", "--memory", "1g", "--memory-reservation", "512m", "-p", "127.0.0.1::8081",
		"-e", "DATABASE_URL="+dbURL, "-e", "REDIS_URL=redis://redis:6379/0",
		"-v", conf+":/etc/platform:ro", images["auth"])
	s.run("backend", "--memory", "2g", "--memory-reservation", "1g", "-p", "127.0.0.1::8080",
		"-e", "DATABASE_URL="+dbURL, "-e", "REDIS_URL=redis://redis:6379/0", "-e", "AUTH_URL=http://auth:8081",
		"-v", conf+":/etc/platform:ro", images["backend"])
	s.run("frontend", "--memory", "512m", "--memory-reservation", "256m", "-p", "127.0.0.1::8080",
		"-e", "BACKEND_URL=http://backend:8080", images["frontend"])

	backend, auth, front := s.url("backend", "8080"), s.url("auth", "8081"), s.url("frontend", "8080")

	t.Run("healthz needs Postgres and Redis", func(t *testing.T) {
		// platform.yaml's healthcheck of Postgres (pg_isready over TCP)
		// passes only once the init SQL has run: the entrypoint's init
		// server listens on the socket alone.
		eventually(t, 3*time.Minute, "postgres healthy", func() error {
			h, err := docker("inspect", "--format", "{{.State.Health.Status}}", s.name("postgres"))
			if err != nil || h != "healthy" {
				return fmt.Errorf("health %q: %v", h, err)
			}
			return nil
		})
		if v := mustDocker(t, "exec", s.name("postgres"), "psql", "-U", "platform", "-d", "platform", "-tAc",
			"SELECT value FROM platform_meta WHERE key = 'schema'"); v != "1" {
			t.Errorf("postgres healthy before the init SQL's schema row: %q", v)
		}
		eventually(t, 3*time.Minute, "backend /healthz 200", func() error { return status(backend+"/healthz", 200) })
		eventually(t, time.Minute, "auth /healthz 200", func() error { return status(auth+"/healthz", 200) })
		// The images' HEALTHCHECK (the binary's -healthcheck) agrees, and
		// platform.yaml's redis-cli ping passes.
		for _, svc := range []string{"backend", "auth", "frontend", "redis"} {
			eventually(t, time.Minute, svc+" healthy", func() error {
				h, err := docker("inspect", "--format", "{{.State.Health.Status}}", s.name(svc))
				if err != nil || h != "healthy" {
					return fmt.Errorf("health %q: %v", h, err)
				}
				return nil
			})
		}
	})

	t.Run("frontend serves the page and the config file reaches the backend", func(t *testing.T) {
		page := mustCall(t, 200, http.MethodGet, front+"/", "", nil)
		if !strings.Contains(string(page.body), "berth platform sample") {
			t.Errorf("frontend /: %s", page.body)
		}
		var want struct {
			Message string `json:"message"`
		}
		b, err := os.ReadFile(filepath.Join(conf, "platform.json"))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, &want); err != nil || want.Message == "" {
			t.Fatalf("conf/platform.json: %v", err)
		}
		var info map[string]string
		mustCall(t, 200, http.MethodGet, front+"/api/info", "", nil).json(t, &info)
		if info["message"] != want.Message {
			t.Errorf("/api/info message %q, want the config file's %q", info["message"], want.Message)
		}
	})

	t.Run("token flow and API round trip through the frontend", func(t *testing.T) {
		mustCall(t, 401, http.MethodPost, front+"/api/auth/login", "", map[string]string{"username": "alice", "password": "wrong"})
		mustCall(t, 401, http.MethodPost, front+"/api/auth/login", "", map[string]string{"username": "mallory", "password": "x"})
		var login struct {
			Token string `json:"token"`
		}
		mustCall(t, 200, http.MethodPost, front+"/api/auth/login", "", map[string]string{"username": "alice", "password": "alice-test-only"}).json(t, &login)
		if len(login.Token) != 64 {
			t.Fatalf("token %q", login.Token)
		}
		var who map[string]string
		mustCall(t, 200, http.MethodGet, auth+"/validate", login.Token, nil).json(t, &who)
		if who["user"] != "alice" {
			t.Errorf("validate: %v", who)
		}
		mustCall(t, 401, http.MethodGet, auth+"/validate", "not-a-token", nil)

		mustCall(t, 401, http.MethodPost, front+"/api/items", "", map[string]string{"name": "no token"})
		mustCall(t, 401, http.MethodPost, front+"/api/items", "not-a-token", map[string]string{"name": "bad token"})
		name := "item-" + sfx
		var created struct {
			ID    int64  `json:"id"`
			Owner string `json:"owner"`
		}
		mustCall(t, 201, http.MethodPost, front+"/api/items", login.Token, map[string]string{"name": name}).json(t, &created)
		if created.ID == 0 || created.Owner != "alice" {
			t.Errorf("created %+v", created)
		}
		type list struct {
			Items []struct {
				ID    int64  `json:"id"`
				Name  string `json:"name"`
				Owner string `json:"owner"`
			} `json:"items"`
			Views int64 `json:"views"`
		}
		var first, second list
		mustCall(t, 200, http.MethodGet, front+"/api/items", "", nil).json(t, &first)
		mustCall(t, 200, http.MethodGet, front+"/api/items", "", nil).json(t, &second)
		got := map[string]string{}
		for _, it := range first.Items {
			got[it.Name] = it.Owner
		}
		if got[name] != "alice" || got["first item, from the init SQL"] != "init" {
			t.Errorf("items %+v: want the init SQL's and alice's %s", first.Items, name)
		}
		if second.Views != first.Views+1 {
			t.Errorf("views %d then %d: the Redis counter did not count", first.Views, second.Views)
		}

		mustCall(t, 204, http.MethodPost, auth+"/logout", login.Token, nil)
		mustCall(t, 401, http.MethodGet, auth+"/validate", login.Token, nil)
		mustCall(t, 401, http.MethodPost, front+"/api/items", login.Token, map[string]string{"name": "after logout"})
	})

	t.Run("healthz is 503 while Redis is stopped and 200 when it is back", func(t *testing.T) {
		mustDocker(t, "stop", s.name("redis"))
		eventually(t, time.Minute, "backend /healthz 503", func() error {
			a, err := call(http.MethodGet, backend+"/healthz", "", nil)
			if err != nil {
				return err
			}
			if a.code != 503 || !strings.Contains(string(a.body), "redis") {
				return fmt.Errorf("%d %s", a.code, a.body)
			}
			return nil
		})
		mustDocker(t, "start", s.name("redis"))
		eventually(t, time.Minute, "backend /healthz 200 again", func() error { return status(backend+"/healthz", 200) })
	})

	t.Run("every program exits 0 on docker stop", func(t *testing.T) {
		// A program that ignores SIGTERM is SIGKILLed after the grace
		// period (exit 137). The grace is 10s, not 1s: how fast a program
		// shuts down is a benchmark's business, and a loaded CI machine
		// once took 1.78s here (a dial retry in flight), failing the run.
		for _, svc := range []string{"frontend", "backend", "auth"} {
			mustDocker(t, "stop", "--time", "10", s.name(svc))
			if code := mustDocker(t, "inspect", "--format", "{{.State.ExitCode}}", s.name(svc)); code != "0" {
				logs, _ := docker("logs", s.name(svc))
				t.Errorf("%s exited %s on SIGTERM, want 0:\n%s", svc, code, logs)
			}
		}
		// Postgres by its STOPSIGNAL (SIGINT): the fast shutdown, after the
		// init's own temporary server stopped.
		mustDocker(t, "stop", "--time", "20", s.name("postgres"))
		if code := mustDocker(t, "inspect", "--format", "{{.State.ExitCode}}", s.name("postgres")); code != "0" {
			t.Errorf("postgres exited %s, want 0", code)
		}
		logs, _ := docker("logs", s.name("postgres"))
		if i := strings.LastIndex(logs, pgReadyLine); i < 0 || !strings.Contains(logs[i:], pgFastLine) {
			t.Errorf("postgres did not log %q after its last start:\n%s", pgFastLine, logs)
		}
	})
}
