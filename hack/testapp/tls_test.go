package main

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
)

func TestParseFlagsHTTPSPort(t *testing.T) {
	c, err := parseFlags([]string{"--https-port", "8443"}, io.Discard)
	if err != nil || c.httpsPort != 8443 {
		t.Fatalf("got %+v, %v; want httpsPort 8443", c, err)
	}
	if c, _ := parseFlags(nil, io.Discard); c.httpsPort != 0 {
		t.Errorf("default httpsPort %d, want 0 (off)", c.httpsPort)
	}
	for _, args := range [][]string{{"--https-port", "8080"}, {"--https-port", "70000"}, {"--https-port", "9000", "--tcp-port", "9000"}} {
		if _, err := parseFlags(args, io.Discard); err == nil || !strings.Contains(err.Error(), "https-port") {
			t.Errorf("parseFlags(%q) = %v, want an error naming --https-port", args, err)
		}
	}
}

// TestHTTPSServesSelfSigned checks the one property the probe tests rely
// on: the endpoints answer over TLS with a certificate that names the host
// and its addresses but that no root vouches for.
func TestHTTPSServesSelfSigned(t *testing.T) {
	cfg, err := parseFlags([]string{"--https-port", "1"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	r := start(t, cfg, false, func(a *app) { a.httpsAddr = "127.0.0.1:0" })
	addr := r.a.httpsLn.Addr().String()

	_, err = http.Get("https://" + addr + "/healthz")
	var unknown x509.UnknownAuthorityError
	if !errors.As(err, &unknown) {
		t.Fatalf("default client: %v, want an unknown authority error", err)
	}

	var leaf *x509.Certificate
	cl := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{
		InsecureSkipVerify: true, //nolint:gosec // the certificate is inspected below
		VerifyConnection: func(cs tls.ConnectionState) error {
			leaf = cs.PeerCertificates[0]
			return nil
		},
	}}}
	resp, err := cl.Get("https://" + addr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET /healthz over TLS: %d", resp.StatusCode)
	}
	if err := leaf.VerifyHostname(r.a.host); err != nil {
		t.Errorf("certificate does not name the hostname: %v", err)
	}
	if err := leaf.VerifyHostname("127.0.0.1"); err != nil {
		t.Errorf("certificate does not name 127.0.0.1: %v", err)
	}
	if !strings.Contains(r.out.String(), "https=127.0.0.1:") {
		t.Errorf("ready line without https=: %s", r.out)
	}
}
