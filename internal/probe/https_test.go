package probe

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/intstr"

	v1 "berth.dev/berth/apis/v1alpha1"
)

// tlsListener listens on loopback with httptest's self-signed certificate
// (for 127.0.0.1 and example.com).
func tlsListener(t *testing.T) net.Listener {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	srv.StartTLS()
	cfg := srv.TLS.Clone()
	srv.Close()
	l, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func httpsProbe(skipVerify bool) *v1.Probe {
	p := httpProbe("/healthz", intstr.FromInt32(80))
	p.HTTPGet.Scheme = v1.URISchemeHTTPS
	p.HTTPGet.InsecureSkipVerify = skipVerify
	return p
}

func TestHTTPSVerification(t *testing.T) {
	var sawTLS, sawPath string
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.TLS != nil {
			sawTLS = r.TLS.NegotiatedProtocol + "/" + tls.VersionName(r.TLS.Version)
		}
		sawPath = r.URL.Path
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	tg := publishedAt(t, srv.Listener.Addr().String())

	r := Run(context.Background(), httpsProbe(false), tg)
	if r.Success || !strings.Contains(r.Message, "certificate") || !strings.HasPrefix(r.Message, "HTTPS probe to ") {
		t.Errorf("self-signed certificate without insecureSkipVerify: %+v, want a failure naming the certificate", r)
	}
	r = Run(context.Background(), httpsProbe(true), tg)
	if !r.Success {
		t.Errorf("self-signed certificate with insecureSkipVerify: %+v, want success", r)
	}
	if sawPath != "/healthz" || !strings.HasPrefix(sawTLS, "http/1.1/TLS") {
		t.Errorf("server saw path %q over %q", sawPath, sawTLS)
	}

	// Verification, not refusal: the same certificate passes once its
	// issuer is trusted, for the address dialled (127.0.0.1).
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	rootCAs = pool
	defer func() { rootCAs = nil }()
	if r := Run(context.Background(), httpsProbe(false), tg); !r.Success {
		t.Errorf("trusted certificate, verified: %+v, want success", r)
	}

	// Plain HTTP to a TLS port fails with the server's 400, and HTTPS
	// to a plain port fails in the handshake.
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer plain.Close()
	if r := Run(context.Background(), httpsProbe(true), publishedAt(t, plain.Listener.Addr().String())); r.Success {
		t.Errorf("HTTPS to a plain HTTP server: %+v, want failure", r)
	}
	if r := Run(context.Background(), httpProbe("/", intstr.FromInt32(80)), tg); r.Success {
		t.Errorf("HTTP to an HTTPS server: %+v, want failure", r)
	}
}
