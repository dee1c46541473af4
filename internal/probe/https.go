package probe

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"

	v1 "berth.dev/berth/apis/v1alpha1"
)

// httpTarget is what an HTTP probe asks for beyond the address.
type httpTarget struct {
	path               string
	https              bool
	insecureSkipVerify bool
}

func httpTargetOf(h *v1.HTTPGetAction) httpTarget {
	return httpTarget{path: h.Path, https: h.Scheme == v1.URISchemeHTTPS, insecureSkipVerify: h.InsecureSkipVerify}
}

func (h httpTarget) scheme() string {
	if h.https {
		return "https"
	}
	return "http"
}

// rootCAs verifies HTTPS probes; nil is the system's roots. Tests trust
// their own server's certificate through it.
var rootCAs *x509.CertPool

// handshake runs TLS over conn. The certificate is verified against the
// system roots for the address dialled (an IP, unless the address is a
// name) unless insecureSkipVerify says otherwise: unlike the kubelet,
// which never verifies (it reaches pods by IP, which certificates rarely
// name), berth verifies by default, since a probe that accepts any
// certificate proves nothing about TLS being set up right. The handshake
// runs under the probe's deadline on conn; Go's TLS bounds what a
// handshake reads (64 KiB per message), so a hostile server gets no more
// memory than the header cap allows after it.
func handshake(ctx context.Context, conn net.Conn, addr string, insecureSkipVerify bool) (*tls.Conn, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr
	}
	tc := tls.Client(conn, &tls.Config{
		ServerName:         host,
		RootCAs:            rootCAs,
		InsecureSkipVerify: insecureSkipVerify, //nolint:gosec // the spec's explicit choice, off by default
		MinVersion:         tls.VersionTLS12,
		// HTTP/1.1 only: the probe writes one request by hand.
		NextProtos: []string{"http/1.1"},
	})
	if err := tc.HandshakeContext(ctx); err != nil {
		return nil, err
	}
	return tc, nil
}
