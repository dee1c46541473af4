package apiserver

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"k8s.io/apiserver/pkg/authentication/authenticator"
	"k8s.io/apiserver/pkg/authentication/user"
	certutil "k8s.io/client-go/util/cert"
)

// File names inside the data dir. All are written 0600: whoever can read
// them can drive the manager, and through it the Docker Engine.
const (
	tokenFile      = "token"
	certFile       = "apiserver.crt"
	keyFile        = "apiserver.key"
	kubeconfigFile = "kubeconfig"
)

// adminUser is who every request carrying the token is.
const adminUser = "berth-admin"

// credentials are the serving certificate and the bearer token. Both persist
// in the data dir so a restarted manager keeps working kubeconfigs.
type credentials struct {
	token    string
	certPath string
	keyPath  string
	certPEM  []byte
}

func loadOrCreateCredentials(dataDir string) (*credentials, error) {
	token, err := loadOrCreateToken(filepath.Join(dataDir, tokenFile))
	if err != nil {
		return nil, err
	}
	c := &credentials{
		token:    token,
		certPath: filepath.Join(dataDir, certFile),
		keyPath:  filepath.Join(dataDir, keyFile),
	}
	if err := c.ensureCertificate(); err != nil {
		return nil, err
	}
	return c, nil
}

// LoadOrCreateToken reads the bearer token kept in path, or makes a random
// one (32 bytes, hex) and writes it there 0600. The dashboard of a manager
// on a Kubernetes API keeps its own this way.
func LoadOrCreateToken(path string) (string, error) { return loadOrCreateToken(path) }

func loadOrCreateToken(path string) (string, error) {
	if b, err := os.ReadFile(path); err == nil {
		if t := strings.TrimSpace(string(b)); len(t) >= 32 {
			return t, nil
		}
	} else if !os.IsNotExist(err) {
		return "", fmt.Errorf("read token: %w", err)
	}
	buf := make([]byte, 32)
	if _, err := rand.Read(buf); err != nil {
		return "", fmt.Errorf("generate token: %w", err)
	}
	token := hex.EncodeToString(buf)
	if err := writeFileAtomic(path, []byte(token+"\n")); err != nil {
		return "", fmt.Errorf("write token: %w", err)
	}
	return token, nil
}

// ensureCertificate reuses the stored certificate while it has more than a
// week left, else makes a new self-signed one for localhost and 127.0.0.1.
func (c *credentials) ensureCertificate() error {
	if pair, err := tls.LoadX509KeyPair(c.certPath, c.keyPath); err == nil && pair.Leaf != nil &&
		time.Until(pair.Leaf.NotAfter) > 7*24*time.Hour {
		pem, err := os.ReadFile(c.certPath)
		if err != nil {
			return fmt.Errorf("read certificate: %w", err)
		}
		c.certPEM = pem
		return nil
	}
	certPEM, keyPEM, err := certutil.GenerateSelfSignedCertKey("localhost",
		[]net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("::1")}, []string{"localhost"})
	if err != nil {
		return fmt.Errorf("generate serving certificate: %w", err)
	}
	if err := writeFileAtomic(c.keyPath, keyPEM); err != nil {
		return fmt.Errorf("write key: %w", err)
	}
	if err := writeFileAtomic(c.certPath, certPEM); err != nil {
		return fmt.Errorf("write certificate: %w", err)
	}
	c.certPEM = certPEM
	return nil
}

// authenticateToken accepts exactly the manager's token. Comparing in
// constant time keeps the token from leaking through response timing.
func (c *credentials) authenticateToken(_ context.Context, token string) (*authenticator.Response, bool, error) {
	if subtle.ConstantTimeCompare([]byte(token), []byte(c.token)) != 1 {
		return nil, false, errors.New("invalid bearer token")
	}
	return &authenticator.Response{User: &user.DefaultInfo{
		Name:   adminUser,
		Groups: []string{user.SystemPrivilegedGroup, user.AllAuthenticated},
	}}, true, nil
}

// writeFileAtomic writes through a temp file and a rename so a reader
// (a CLI polling for the kubeconfig) never sees half a file.
func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
