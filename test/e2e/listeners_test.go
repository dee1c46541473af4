package e2e

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// listenSocket is one listening socket of a process, from /proc.
type listenSocket struct {
	inode string
	addr  string // host:port for TCP, the bound path for unix ("@..." = abstract)
}

// socketInodes is the set of socket inodes among pid's open fds: the
// kernel's per-namespace tables list every process's sockets, the fds say
// which ones are the manager's.
func socketInodes(pid int) map[string]bool {
	GinkgoHelper()
	dir := fmt.Sprintf("/proc/%d/fd", pid)
	entries, err := os.ReadDir(dir)
	Expect(err).NotTo(HaveOccurred())
	inodes := map[string]bool{}
	for _, e := range entries {
		target, err := os.Readlink(filepath.Join(dir, e.Name()))
		if err != nil {
			continue // closed since ReadDir
		}
		if inode, ok := strings.CutPrefix(target, "socket:["); ok {
			inodes[strings.TrimSuffix(inode, "]")] = true
		}
	}
	return inodes
}

// tcpListeners lists the TCP sockets in LISTEN state that pid holds, from
// /proc/PID/net/tcp and tcp6 matched against its fds.
func tcpListeners(pid int) []listenSocket {
	GinkgoHelper()
	mine := socketInodes(pid)
	var out []listenSocket
	for _, table := range []string{"tcp", "tcp6"} {
		f, err := os.Open(fmt.Sprintf("/proc/%d/net/%s", pid, table))
		Expect(err).NotTo(HaveOccurred())
		scanner := bufio.NewScanner(f)
		scanner.Scan() // header
		for scanner.Scan() {
			// sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode ...
			fields := strings.Fields(scanner.Text())
			if len(fields) < 10 || fields[3] != "0A" || !mine[fields[9]] {
				continue
			}
			out = append(out, listenSocket{inode: fields[9], addr: procTCPAddr(fields[1])})
		}
		Expect(scanner.Err()).NotTo(HaveOccurred())
		f.Close()
	}
	return out
}

// procTCPAddr turns /proc/net/tcp's "0100007F:1F90" (the address as
// host-order 32-bit words in hex) into a dialable host:port; a wildcard
// address is dialled on loopback.
func procTCPAddr(s string) string {
	GinkgoHelper()
	hexIP, hexPort, ok := strings.Cut(s, ":")
	Expect(ok).To(BeTrue(), s)
	raw, err := hex.DecodeString(hexIP)
	Expect(err).NotTo(HaveOccurred(), s)
	ip := make(net.IP, len(raw))
	for i := 0; i < len(raw); i += 4 {
		ip[i], ip[i+1], ip[i+2], ip[i+3] = raw[i+3], raw[i+2], raw[i+1], raw[i]
	}
	port, err := strconv.ParseUint(hexPort, 16, 16)
	Expect(err).NotTo(HaveOccurred(), s)
	if ip.IsUnspecified() {
		if ip.To4() != nil {
			ip = net.IPv4(127, 0, 0, 1)
		} else {
			ip = net.IPv6loopback
		}
	}
	return net.JoinHostPort(ip.String(), strconv.Itoa(int(port)))
}

// unixListeners lists the unix sockets pid listens on, with their bound
// paths (abstract ones start with "@"; unbound ones have none).
func unixListeners(pid int) []listenSocket {
	GinkgoHelper()
	mine := socketInodes(pid)
	f, err := os.Open(fmt.Sprintf("/proc/%d/net/unix", pid))
	Expect(err).NotTo(HaveOccurred())
	defer f.Close()
	scanner := bufio.NewScanner(f)
	scanner.Scan() // header
	var out []listenSocket
	for scanner.Scan() {
		// Num RefCount Protocol Flags Type St Inode [Path]
		fields := strings.Fields(scanner.Text())
		if len(fields) < 7 || !mine[fields[6]] {
			continue
		}
		flags, err := strconv.ParseUint(fields[3], 16, 32)
		Expect(err).NotTo(HaveOccurred())
		const acceptCon = 0x10000 // __SO_ACCEPTCON: a listening socket
		if flags&acceptCon == 0 {
			continue
		}
		s := listenSocket{inode: fields[6]}
		if len(fields) > 7 {
			s.addr = fields[7]
		}
		out = append(out, s)
	}
	Expect(scanner.Err()).NotTo(HaveOccurred())
	return out
}

// stateProbe is a request that reads or writes berth's state on one of the
// servers the manager runs: the etcd peer API (members, raft), berth's API
// and the dashboard.
type stateProbe struct {
	method, path, body string
}

var stateProbes = []stateProbe{
	// etcd's peer handler: membership, version, raft (a write when the
	// body is a raft message; a plain listener must refuse it all the same).
	{"GET", "/members", ""},
	{"GET", "/version", ""},
	{"GET", "/raft/probing", ""},
	{"GET", "/raft/stream/message/1", ""},
	{"POST", "/raft", "x"},
	{"POST", "/members/promote/1", ""},
	// berth's API.
	{"GET", "/apis/berth.dev/v1alpha1/environments", ""},
	{"POST", "/apis/berth.dev/v1alpha1/environments", `{"apiVersion":"berth.dev/v1alpha1","kind":"Environment","metadata":{"name":"intruder"},"spec":{"services":[{"name":"x","image":"berth-testapp:dev"}]}}`},
	// The dashboard's pages, event streams and metrics.
	{"GET", "/", ""},
	{"GET", "/engine", ""},
	{"GET", "/events/overview", ""},
	{"GET", "/metrics", ""},
}

// noProxy clients: the probes must reach the socket itself, whatever
// HTTP(S)_PROXY says.
var (
	plainClient = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{Proxy: nil}}
	// TLS without a client certificate; the server's identity does not
	// matter here, only whether it serves a stranger.
	tlsNoCertClient = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		Proxy:           nil,
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // probing, not trusting
	}}
)

// tryProbe sends p to addr over plain HTTP or TLS (no client certificate,
// no token) and returns the status, or 0 and the error when the socket
// refused at the connection or TLS level.
func tryProbe(addr string, useTLS bool, p stateProbe) (int, string, error) {
	scheme, c := "http", plainClient
	if useTLS {
		scheme, c = "https", tlsNoCertClient
	}
	var body io.Reader
	if p.body != "" {
		body = strings.NewReader(p.body)
	}
	req, err := http.NewRequest(p.method, scheme+"://"+addr+p.path, body)
	if err != nil {
		return 0, "", err
	}
	if p.body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	return resp.StatusCode, string(b), nil
}

// expectRefusesStrangers asserts that no state probe gets a 2xx from addr,
// over plain HTTP or over TLS without a client certificate. A 3xx (a
// sign-in redirect), a 4xx, a 5xx or a failed handshake are refusals.
func expectRefusesStrangers(addr, what string) {
	GinkgoHelper()
	for _, useTLS := range []bool{false, true} {
		for _, p := range stateProbes {
			code, body, err := tryProbe(addr, useTLS, p)
			fmt.Fprintf(GinkgoWriter, "%s %s tls=%v %s %s -> %d %v %.80q\n", what, addr, useTLS, p.method, p.path, code, err, body)
			Expect(code < 200 || code > 299).To(BeTrue(),
				"%s (%s, tls=%v) answers %s %s without credentials with %d: %s", what, addr, useTLS, p.method, p.path, code, body)
		}
	}
}

var _ = Describe("Listeners", Ordered, ContinueOnFailure, func() {
	var (
		m       *managerProcess
		dataDir string
	)

	BeforeAll(func() {
		// A data dir that already exists with a loose mode, as a user's
		// mkdir or an older berth left it.
		dataDir = GinkgoT().TempDir()
		Expect(os.Chmod(dataDir, 0o755)).To(Succeed())
		Expect(os.Mkdir(filepath.Join(dataDir, "etcd"), 0o755)).To(Succeed())
		m = startManager(dataDir)
	})

	It("tightens an existing data dir to 0700 and keeps every file in it private", func() {
		for _, d := range []string{dataDir, filepath.Join(dataDir, "etcd")} {
			st, err := os.Stat(d)
			Expect(err).NotTo(HaveOccurred())
			Expect(st.Mode().Perm()).To(Equal(os.FileMode(0o700)), d)
		}
		Expect(filepath.Walk(dataDir, func(path string, info os.FileInfo, err error) error {
			if err != nil {
				return err
			}
			if info.Mode().IsRegular() {
				Expect(info.Mode().Perm()&0o077).To(BeZero(), "%s is %v", path, info.Mode().Perm())
			}
			return nil
		})).To(Succeed())
	})

	It("listens on unix sockets only inside the data dir, the etcd peer included", func() {
		socks := unixListeners(m.cmd.Process.Pid)
		Expect(socks).NotTo(BeEmpty())
		var paths []string
		for _, s := range socks {
			// An unbound or abstract socket would be reachable by any
			// local user, whatever the data dir's mode.
			Expect(s.addr).To(HavePrefix(dataDir+string(filepath.Separator)), "unix listener %+v outside the data dir", s)
			paths = append(paths, s.addr)
		}
		Expect(paths).To(ContainElement(filepath.Join(dataDir, "etcd", "peer.sock")))
	})

	It("serves the manager's own clients on api.sock in the data dir, and only with the token", func() {
		sock := filepath.Join(dataDir, "api.sock")
		var paths []string
		for _, s := range unixListeners(m.cmd.Process.Pid) {
			paths = append(paths, s.addr)
		}
		Expect(paths).To(ContainElement(sock))
		client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
			DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
				var d net.Dialer
				return d.DialContext(ctx, "unix", sock)
			},
		}}
		tokenBytes, err := os.ReadFile(filepath.Join(dataDir, "token"))
		Expect(err).NotTo(HaveOccurred())
		for token, want := range map[string]int{"": http.StatusUnauthorized, "wrong-token": http.StatusUnauthorized,
			strings.TrimSpace(string(tokenBytes)): http.StatusOK} {
			Expect(statusWithToken(client, "http://berth/apis/berth.dev/v1alpha1/environments", token)).To(Equal(want), "token %q", token)
		}
	})

	It("refuses an unauthenticated state read or write on every TCP socket but the dashboard's", func() {
		listeners := tcpListeners(m.cmd.Process.Pid)
		fmt.Fprintf(GinkgoWriter, "manager pid %d TCP listeners: %+v\n", m.cmd.Process.Pid, listeners)
		apiAddr := strings.TrimPrefix(m.apiHost, "https://")
		var addrs []string
		for _, l := range listeners {
			addrs = append(addrs, l.addr)
		}
		// The listing works: the two listeners the manager prints are in it.
		Expect(addrs).To(ContainElements(apiAddr, m.httpAddr))

		for _, l := range listeners {
			switch l.addr {
			case m.httpAddr:
				continue // the next spec, until the dashboard branch lands
			case apiAddr:
				// The probe reaches a server that serves state: with the
				// token it answers, without it 401.
				tokenBytes, err := os.ReadFile(filepath.Join(dataDir, "token"))
				Expect(err).NotTo(HaveOccurred())
				req, err := http.NewRequest("GET", m.apiHost+"/apis/berth.dev/v1alpha1/environments", nil)
				Expect(err).NotTo(HaveOccurred())
				req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(tokenBytes)))
				resp, err := tlsNoCertClient.Do(req)
				Expect(err).NotTo(HaveOccurred())
				resp.Body.Close()
				Expect(resp.StatusCode).To(Equal(http.StatusOK))
				code, _, err := tryProbe(apiAddr, true, stateProbe{"GET", "/apis/berth.dev/v1alpha1/environments", ""})
				Expect(err).NotTo(HaveOccurred())
				Expect(code).To(Equal(http.StatusUnauthorized))
				expectRefusesStrangers(l.addr, "API")
			default:
				// Anything else (etcd's peer listener on main) has no
				// business answering anyone.
				expectRefusesStrangers(l.addr, "unexpected TCP listener")
			}
		}
	})

	// PENDING THE DASHBOARD BRANCH (issue 8 point 4): today's dashboard
	// serves loopback clients without the token, so this spec fails until
	// that branch is merged; it is the proof for the dashboard's listener.
	It("refuses an unauthenticated state read on the dashboard's TCP socket [dashboard-auth]", func() {
		conn, err := net.DialTimeout("tcp", m.httpAddr, 10*time.Second)
		Expect(err).NotTo(HaveOccurred(), "the dashboard listener accepts connections at all")
		conn.Close()
		expectRefusesStrangers(m.httpAddr, "dashboard")
		code, _, err := tryProbe(m.httpAddr, false, stateProbe{"GET", "/metrics", ""})
		Expect(err).NotTo(HaveOccurred())
		Expect(code).To(BeElementOf(http.StatusUnauthorized, http.StatusForbidden), "GET /metrics without the token")
	})
})

// statusWithToken is the status code of a GET of url with token as the
// bearer token ("" sends none).
func statusWithToken(client *http.Client, url, token string) int {
	GinkgoHelper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	Expect(err).NotTo(HaveOccurred())
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := client.Do(req)
	Expect(err).NotTo(HaveOccurred())
	resp.Body.Close()
	return resp.StatusCode
}
