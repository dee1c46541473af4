package kubetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"berth.dev/berth/internal/crds"
)

// Options configure Start.
type Options struct {
	// Dir holds etcd's data, the certificates, the token file, the logs and
	// the kubeconfig. Stop removes it. Required (t.TempDir() in tests).
	Dir string
	// APIServer and Etcd are the binaries; "" is what Binaries finds.
	APIServer, Etcd string
	// SkipCRDs leaves berth's CRDs out (Install them yourself).
	SkipCRDs bool
	// Users are more identities, each with a token of its own and no
	// group: no permission until a test binds it a role (for RBAC specs).
	// Cluster.KubeconfigFor gives each one's kubeconfig.
	Users []string
}

// Cluster is a running etcd + kube-apiserver.
type Cluster struct {
	// Dir is the cluster's data dir (removed by Stop).
	Dir string
	// Kubeconfig is the path of a kubeconfig with the admin token.
	Kubeconfig string
	// Host is the API's https://127.0.0.1:PORT.
	Host  string
	Token string
	// Started is how long Start took, CRDs included.
	Started time.Duration

	config *rest.Config
	ca     []byte
	users  map[string]string // name -> token
	etcd   *process
	api    *process
}

// Start runs etcd and kube-apiserver on free loopback ports and returns
// once the API is ready (and the CRDs Established, unless SkipCRDs). On
// error everything started is stopped again; the processes' logs
// (<Dir>/etcd.log, <Dir>/kube-apiserver.log) are quoted in the error.
func Start(ctx context.Context, o Options) (*Cluster, error) {
	begin := time.Now()
	if o.Dir == "" {
		return nil, errors.New("kubetest: Options.Dir is required")
	}
	if o.APIServer == "" || o.Etcd == "" {
		api, etcd, err := Binaries()
		if err != nil {
			return nil, err
		}
		if o.APIServer == "" {
			o.APIServer = api
		}
		if o.Etcd == "" {
			o.Etcd = etcd
		}
	}
	dir, err := filepath.Abs(o.Dir)
	if err != nil {
		return nil, fmt.Errorf("kubetest dir: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("kubetest dir: %w", err)
	}
	c := &Cluster{Dir: dir, users: map[string]string{}}
	ok := false
	defer func() {
		if !ok {
			c.stopProcesses()
		}
	}()
	if err := c.start(ctx, o); err != nil {
		return nil, err
	}
	if !o.SkipCRDs {
		if _, err := crds.Install(ctx, c.config); err != nil {
			return nil, fmt.Errorf("install CRDs: %w", err)
		}
	}
	c.Started = time.Since(begin)
	ok = true
	return c, nil
}

func (c *Cluster) start(ctx context.Context, o Options) error {
	p, err := writePKI(filepath.Join(c.Dir, "pki"))
	if err != nil {
		return err
	}
	if c.Token, err = randomToken(); err != nil {
		return err
	}
	lines := c.Token + `,admin,admin-uid,"system:masters"` + "\n"
	for _, u := range o.Users {
		token, err := randomToken()
		if err != nil {
			return err
		}
		c.users[u] = token
		lines += fmt.Sprintf("%s,%s,%s-uid\n", token, u, u)
	}
	tokens := filepath.Join(c.Dir, "tokens.csv")
	if err := os.WriteFile(tokens, []byte(lines), 0o600); err != nil {
		return fmt.Errorf("token file: %w", err)
	}
	ports, err := freePorts(3)
	if err != nil {
		return err
	}
	clientURL := "http://127.0.0.1:" + strconv.Itoa(ports[0])
	peerURL := "http://127.0.0.1:" + strconv.Itoa(ports[1])
	c.etcd, err = startProcess(o.Etcd, filepath.Join(c.Dir, "etcd.log"),
		"--name", "default",
		"--data-dir", filepath.Join(c.Dir, "etcd"),
		"--listen-client-urls", clientURL, "--advertise-client-urls", clientURL,
		"--listen-peer-urls", peerURL, "--initial-advertise-peer-urls", peerURL,
		"--initial-cluster", "default="+peerURL,
	)
	if err != nil {
		return err
	}
	if err := waitHTTP(ctx, c.etcd, http.DefaultClient, clientURL+"/health", nil); err != nil {
		return fmt.Errorf("etcd: %w", err)
	}

	c.Host = "https://127.0.0.1:" + strconv.Itoa(ports[2])
	c.api, err = startProcess(o.APIServer, filepath.Join(c.Dir, "kube-apiserver.log"),
		"--etcd-servers", clientURL,
		"--bind-address", "127.0.0.1", "--advertise-address", "127.0.0.1",
		"--secure-port", strconv.Itoa(ports[2]),
		// A loopback advertise address is refused by the endpoint
		// reconciler; nothing here needs the kubernetes Service's endpoints.
		"--endpoint-reconciler-type", "none",
		"--tls-cert-file", p.certFile, "--tls-private-key-file", p.keyFile,
		"--client-ca-file", filepath.Join(c.Dir, "pki", "ca.crt"),
		"--token-auth-file", tokens,
		"--anonymous-auth=false",
		"--authorization-mode", "RBAC",
		"--service-account-issuer", "https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file", p.saPublic,
		"--service-account-signing-key-file", p.saPrivate,
		"--service-cluster-ip-range", "10.96.0.0/24",
		"--profiling=false",
	)
	if err != nil {
		return err
	}
	c.config = &rest.Config{
		Host:            c.Host,
		BearerToken:     c.Token,
		TLSClientConfig: rest.TLSClientConfig{CAData: p.caPEM},
		QPS:             50,
		Burst:           100,
	}
	httpClient, err := rest.HTTPClientFor(c.config)
	if err != nil {
		return fmt.Errorf("API client: %w", err)
	}
	if err := waitHTTP(ctx, c.api, httpClient, c.Host+"/readyz", map[string]string{"Authorization": "Bearer " + c.Token}); err != nil {
		return fmt.Errorf("kube-apiserver: %w", err)
	}
	c.ca = p.caPEM
	c.Kubeconfig = filepath.Join(c.Dir, "kubeconfig")
	return writeKubeconfig(c.Kubeconfig, c.Host, p.caPEM, c.Token)
}

// KubeconfigFor writes (once) and returns the kubeconfig of one of
// Options.Users.
func (c *Cluster) KubeconfigFor(user string) (string, error) {
	token, ok := c.users[user]
	if !ok {
		return "", fmt.Errorf("kubetest: no user %q (Options.Users)", user)
	}
	path := filepath.Join(c.Dir, "kubeconfig-"+user)
	if _, err := os.Stat(path); err == nil {
		return path, nil
	}
	return path, writeKubeconfig(path, c.Host, c.ca, token)
}

// RESTConfig is a client configuration with the admin token.
func (c *Cluster) RESTConfig() *rest.Config { return rest.CopyConfig(c.config) }

// Stop kills kube-apiserver, then etcd (SIGTERM to each process group, then
// SIGKILL after 10 s), and removes Dir.
func (c *Cluster) Stop() error {
	c.stopProcesses()
	if err := os.RemoveAll(c.Dir); err != nil {
		return fmt.Errorf("remove %s: %w", c.Dir, err)
	}
	return nil
}

func (c *Cluster) stopProcesses() {
	if c.api != nil {
		c.api.stop()
	}
	if c.etcd != nil {
		c.etcd.stop()
	}
}

func writeKubeconfig(path, host string, ca []byte, token string) error {
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["kubetest"] = &clientcmdapi.Cluster{Server: host, CertificateAuthorityData: ca}
	cfg.AuthInfos["admin"] = &clientcmdapi.AuthInfo{Token: token}
	cfg.Contexts["kubetest"] = &clientcmdapi.Context{Cluster: "kubetest", AuthInfo: "admin"}
	cfg.CurrentContext = "kubetest"
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		return fmt.Errorf("write kubeconfig: %w", err)
	}
	return os.Chmod(path, 0o600)
}

func randomToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generate token: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// freePorts asks the kernel for n free loopback ports. They are released
// before the processes bind them; on this loopback-only test machine the
// window is too short to matter, and a clash fails Start with the log.
func freePorts(n int) ([]int, error) {
	var lns []net.Listener
	defer func() {
		for _, ln := range lns {
			_ = ln.Close()
		}
	}()
	var ports []int
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("free port: %w", err)
		}
		lns = append(lns, ln)
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// process is a child in its own process group, so that Stop reaches
// whatever it started too.
type process struct {
	cmd  *exec.Cmd
	log  string
	done chan struct{}
	err  error
}

func startProcess(bin, logPath string, args ...string) (*process, error) {
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("log file: %w", err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// Own process group for the kill; Pdeathsig so a crashed test does
	// not leave an API server behind.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		_ = logFile.Close()
		return nil, fmt.Errorf("start %s: %w", filepath.Base(bin), err)
	}
	p := &process{cmd: cmd, log: logPath, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		_ = logFile.Close()
		close(p.done)
	}()
	return p, nil
}

func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

func (p *process) stop() {
	if p.exited() {
		return
	}
	pgid := p.cmd.Process.Pid
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		<-p.done
	}
}

// tail is the end of the process's log, for error messages.
func (p *process) tail() string {
	b, err := os.ReadFile(p.log)
	if err != nil {
		return ""
	}
	const max = 4000
	if len(b) > max {
		b = b[len(b)-max:]
	}
	return strings.TrimSpace(string(b))
}

// waitHTTP polls url until it answers 200, the process exits, or ctx ends
// (at most two minutes: a loaded two-core machine is slow, not stuck).
func waitHTTP(ctx context.Context, p *process, client *http.Client, url string, header map[string]string) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	var last string
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		for k, v := range header {
			req.Header.Set(k, v)
		}
		resp, err := client.Do(req)
		if err == nil {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = fmt.Sprintf("%s: %d %s", url, resp.StatusCode, strings.TrimSpace(string(body)))
		} else {
			last = err.Error()
		}
		select {
		case <-p.done:
			return fmt.Errorf("exited (%v) before %s answered; log:\n%s", p.err, url, p.tail())
		case <-ctx.Done():
			return fmt.Errorf("not ready (%s): %w; log:\n%s", last, ctx.Err(), p.tail())
		case <-time.After(100 * time.Millisecond):
		}
	}
}
