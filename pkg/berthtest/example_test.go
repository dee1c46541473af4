package berthtest_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"berth.dev/berth/apis/v1alpha1"
	"berth.dev/berth/pkg/berthtest"
)

// A test starts its Environment with Start and uses it; the test's
// cleanup tears it down. (Compiled, not run: an example has no *testing.T.)
func ExampleStart() {
	_ = func(t *testing.T) {
		env := berthtest.Start(t, berthtest.File("testdata/env.yaml"))
		resp, err := http.Get("http://" + env.Endpoint("api", "http") + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
}

// Outside a test (in TestMain, to share one Environment between a
// package's tests, or in a program), New starts it and Close tears it
// down.
func ExampleNew() {
	env, err := berthtest.New(context.Background(), berthtest.File("testdata/env.yaml"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer env.Close()
	resp, err := http.Get("http://" + env.Endpoint("api", "http") + "/healthz")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Printf("%s %s", resp.Status, body)
	// Output: 200 OK ok
}

// An Environment from the API's Go types (a testapp service without
// ports), and a command run in it: its output and its exit code.
func ExampleEnv_Exec() {
	env, err := berthtest.New(context.Background(), berthtest.Spec(&v1alpha1.EnvironmentSpec{
		Services: []v1alpha1.Service{{Name: "app", Image: "berth-testapp:dev", ImagePullPolicy: v1alpha1.PullNever}},
	}))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer env.Close()
	res, err := env.Exec(context.Background(), "app", "/testapp", "print", "--stdout", "hello", "--exit", "3")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("stdout %q, exit code %d\n", res.Stdout, res.ExitCode)
	// Output: stdout "hello", exit code 3
}

// Files go in and out of a container as docker cp copies them.
func ExampleEnv_CopyTo() {
	ctx := context.Background()
	env, err := berthtest.New(ctx, berthtest.Compose("testdata/compose.yml"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer env.Close()
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	_ = os.WriteFile(filepath.Join(dir, "greeting.txt"), []byte("hi from the host"), 0o644)
	if err := env.CopyTo(ctx, "api", filepath.Join(dir, "greeting.txt"), "/greeting.txt"); err != nil {
		fmt.Println(err)
		return
	}
	res, _ := env.Exec(ctx, "api", "/testapp", "cat", "/greeting.txt")
	fmt.Println(res.Stdout)
	if err := env.CopyFrom(ctx, "api", "/greeting.txt", filepath.Join(dir, "back.txt")); err != nil {
		fmt.Println(err)
		return
	}
	back, _ := os.ReadFile(filepath.Join(dir, "back.txt"))
	fmt.Println(string(back))
	// Output:
	// hi from the host
	// hi from the host
}

// Logs reads what a service wrote so far.
func ExampleEnv_Logs() {
	env, err := berthtest.New(context.Background(), berthtest.File("testdata/env.yaml"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer env.Close()
	logs, err := env.Logs("api")
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, line := range strings.Split(logs, "\n") {
		if strings.HasPrefix(line, "testapp: log n=") {
			fmt.Println(strings.Fields(line)[2])
		}
	}
	// Output: n=1
}
