package docker

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// testCA is a throwaway certificate authority for the TLS tests.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

func newTestCA(t *testing.T, name string) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &testCA{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// issue signs a leaf certificate for 127.0.0.1 (server) or a client, and
// returns its certificate and key in PEM.
func (ca *testCA) issue(t *testing.T, usage x509.ExtKeyUsage) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "berth-test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{usage},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
}

// tlsDaemon is a loopback HTTPS server that answers the two calls a
// Docker client makes first, like a daemon started with --tlsverify: it
// asks for a client certificate signed by its CA.
func tlsDaemon(t *testing.T, ca *testCA) (host string, pings *atomic.Int32) {
	t.Helper()
	n := &atomic.Int32{}
	mux := http.NewServeMux()
	mux.HandleFunc("/_ping", func(w http.ResponseWriter, _ *http.Request) {
		n.Add(1)
		w.Header().Set("Api-Version", "1.41")
		w.Header().Set("Ostype", "linux")
		_, _ = w.Write([]byte("OK"))
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/version") {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"Version":"20.10.24","ApiVersion":"1.41","MinAPIVersion":"1.12","Os":"linux","Arch":"amd64"}`))
			return
		}
		http.NotFound(w, r)
	})
	srv := httptest.NewUnstartedServer(mux)
	certPEM, keyPEM := ca.issue(t, x509.ExtKeyUsageServerAuth)
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	clients := x509.NewCertPool()
	clients.AddCert(ca.cert)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{pair}, ClientCAs: clients, ClientAuth: tls.RequireAndVerifyClientCert}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes are the point
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return "tcp://" + srv.Listener.Addr().String(), n
}

// writeCertDir writes ca.pem (the CA to trust) and a client certificate
// signed by signer into dir, the layout of DOCKER_CERT_PATH.
func writeCertDir(t *testing.T, dir string, trust, signer *testCA) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	cert, key := signer.issue(t, x509.ExtKeyUsageClientAuth)
	for name, data := range map[string][]byte{"ca.pem": trust.pem, "cert.pem": cert, "key.pem": key} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// pingFromEnv builds the client the manager builds, from the environment
// (DefaultConfig reads it), and pings host.
func pingFromEnv(t *testing.T, host string) (string, error) {
	t.Helper()
	t.Setenv("DOCKER_HOST", host)
	cfg := DefaultConfig()
	cfg.ManagerID = "berth-tls-test"
	cfg.RetryBackoff = []time.Duration{time.Millisecond}
	c, err := New(cfg)
	if err != nil {
		return "", err
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return c.Ping(ctx)
}

// clearDockerTLSEnv makes each case start from nothing set.
func clearDockerTLSEnv(t *testing.T) {
	for _, k := range []string{"DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH", "DOCKER_TLS", "DOCKER_CONFIG"} {
		t.Setenv(k, "")
	}
}

func TestTCPHostHonoursDockerTLSVerify(t *testing.T) {
	ca := newTestCA(t, "daemon CA")
	host, pings := tlsDaemon(t, ca)

	t.Run("DOCKER_CERT_PATH with the daemon's CA and a client certificate", func(t *testing.T) {
		clearDockerTLSEnv(t)
		dir := t.TempDir()
		writeCertDir(t, dir, ca, ca)
		t.Setenv("DOCKER_TLS_VERIFY", "1")
		t.Setenv("DOCKER_CERT_PATH", dir)
		before := pings.Load()
		v, err := pingFromEnv(t, host)
		if err != nil {
			t.Fatalf("ping over verified TLS: %v", err)
		}
		if v != "1.41" || pings.Load() == before {
			t.Fatalf("ping = %q (%d pings answered), want the daemon's 1.41", v, pings.Load()-before)
		}
	})

	t.Run("~/.docker when DOCKER_CERT_PATH is unset", func(t *testing.T) {
		clearDockerTLSEnv(t)
		home := t.TempDir()
		writeCertDir(t, filepath.Join(home, ".docker"), ca, ca)
		t.Setenv("HOME", home)
		t.Setenv("DOCKER_TLS_VERIFY", "1")
		if _, err := pingFromEnv(t, host); err != nil {
			t.Fatalf("ping with ~/.docker certs: %v", err)
		}
	})

	t.Run("a CA that did not sign the daemon's certificate is refused", func(t *testing.T) {
		clearDockerTLSEnv(t)
		other := newTestCA(t, "impostor CA")
		dir := t.TempDir()
		// The client certificate is one the daemon accepts: only the
		// daemon's identity is in question.
		writeCertDir(t, dir, other, ca)
		t.Setenv("DOCKER_TLS_VERIFY", "1")
		t.Setenv("DOCKER_CERT_PATH", dir)
		_, err := pingFromEnv(t, host)
		if err == nil || !strings.Contains(err.Error(), "certificate") {
			t.Fatalf("ping with the wrong CA = %v, want a certificate error", err)
		}
	})

	t.Run("without DOCKER_TLS_VERIFY a tcp host is plain HTTP, as with the docker CLI", func(t *testing.T) {
		clearDockerTLSEnv(t)
		dir := t.TempDir()
		writeCertDir(t, dir, ca, ca)
		t.Setenv("DOCKER_CERT_PATH", dir)
		if _, err := pingFromEnv(t, host); err == nil {
			t.Fatal("plain HTTP ping of a TLS daemon succeeded")
		}
	})

	t.Run("DOCKER_TLS without verification is refused up front", func(t *testing.T) {
		clearDockerTLSEnv(t)
		t.Setenv("DOCKER_TLS", "1")
		_, err := pingFromEnv(t, host)
		if err == nil || !strings.Contains(err.Error(), "DOCKER_TLS_VERIFY") {
			t.Fatalf("DOCKER_TLS alone = %v, want an error naming DOCKER_TLS_VERIFY", err)
		}
	})

	t.Run("DOCKER_TLS_VERIFY without ca.pem names the missing file", func(t *testing.T) {
		clearDockerTLSEnv(t)
		dir := t.TempDir()
		t.Setenv("DOCKER_TLS_VERIFY", "1")
		t.Setenv("DOCKER_CERT_PATH", dir)
		_, err := pingFromEnv(t, host)
		if err == nil || !strings.Contains(err.Error(), filepath.Join(dir, "ca.pem")) {
			t.Fatalf("missing ca.pem = %v, want an error naming it", err)
		}
	})

	t.Run("a unix socket ignores the TLS variables", func(t *testing.T) {
		clearDockerTLSEnv(t)
		t.Setenv("DOCKER_TLS_VERIFY", "1")
		t.Setenv("DOCKER_CERT_PATH", t.TempDir()) // no files: would fail for tcp
		cfg := Config{Host: "unix:///var/run/docker.sock", TLSVerify: true, CertPath: os.Getenv("DOCKER_CERT_PATH")}
		if use, _, _, _, err := cfg.tlsFiles(); use || err != nil {
			t.Fatalf("tlsFiles(unix) = %v, %v; want no TLS, no error", use, err)
		}
	})
}
