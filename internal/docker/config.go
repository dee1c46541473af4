package docker

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/pflag"

	"berth.dev/berth/internal/governor"
)

// DefaultHost is where the Docker Engine listens when DOCKER_HOST is unset.
const DefaultHost = "unix:///var/run/docker.sock"

// Config says how to reach the Docker Engine and how hard to drive it. The
// first four fields are the manager's flags (BindFlags); the rest are
// filled in by the program.
type Config struct {
	// Host is the daemon address, e.g. unix:///var/run/docker.sock.
	Host string
	// Profile selects the governor limits: desktop, ci or adaptive.
	Profile governor.Profile
	// MaxInFlight overrides the profile's concurrency limit (the hard cap
	// under adaptive); 0 keeps the profile's.
	MaxInFlight int
	// QPS overrides the profile's call-start rate; 0 keeps the profile's,
	// a negative value disables the token bucket.
	QPS float64
	// AddressPool, when set (a CIDR such as 10.213.0.0/16), is where
	// berth carves each Environment network's subnet. Empty: berth
	// chooses a free /16 itself (Client.AddressPool), never Docker's
	// default pools (about 31 networks).
	AddressPool string

	// TLS for a tcp:// daemon, read from the docker CLI's environment by
	// DefaultConfig (tlsFiles says how they combine). TLSVerify is
	// DOCKER_TLS_VERIFY set and non-empty; CertPath is DOCKER_CERT_PATH,
	// empty for the CLI's default ($DOCKER_CONFIG, else ~/.docker);
	// TLSNoVerify is DOCKER_TLS (TLS without verifying the daemon), which
	// berth refuses.
	TLSVerify   bool
	CertPath    string
	TLSNoVerify bool

	// ManagerID is this manager's identity (LoadOrCreateIdentity), the
	// value of the berth.dev/managed-by label on everything it creates and
	// the only objects it will stop or remove.
	ManagerID string
	// Logger receives the layer's logs; the zero value discards them.
	Logger logr.Logger
	// Registerer, when set, gets the berth_docker_* collectors.
	Registerer prometheus.Registerer
	// RetryBackoff overrides governor.DefaultRetryBackoff (tests use shorter waits).
	RetryBackoff []time.Duration
	// SubnetBits is the prefix length carved from AddressPool; 0 means 24.
	SubnetBits int
	// DockerConfigDir is the docker CLI config directory whose
	// config.json (and credential helpers) give the registry credentials
	// of pulls; empty is the CLI's default, $DOCKER_CONFIG else ~/.docker.
	DockerConfigDir string
	// CallTimeout bounds one attempt of a non-stream call; a timed-out
	// attempt counts as transient. 0 means 2 minutes.
	CallTimeout time.Duration
}

// DefaultConfig returns the flag defaults: DOCKER_HOST or the local socket,
// and the adaptive profile.
func DefaultConfig() Config {
	host := os.Getenv("DOCKER_HOST")
	if host == "" {
		host = DefaultHost
	}
	return Config{Host: host, Profile: governor.ProfileAdaptive,
		TLSVerify: os.Getenv("DOCKER_TLS_VERIFY") != "", CertPath: os.Getenv("DOCKER_CERT_PATH"),
		TLSNoVerify: os.Getenv("DOCKER_TLS") != ""}
}

// tlsFiles decides, as the docker CLI does, whether a daemon is reached
// over TLS and with which files: only tcp:// hosts, only when TLSVerify is
// set; ca.pem in the cert dir is the one CA the daemon's certificate must
// chain to, and cert.pem/key.pem, when present, are the client certificate
// (a daemon run with --tlsverify asks for one). Without TLSVerify a tcp://
// host is plain HTTP, as with the CLI, except that DOCKER_TLS alone (TLS
// without verification) is an error: berth does not hand its containers'
// specs to a daemon it cannot tell from an impostor.
func (c Config) tlsFiles() (use bool, ca, cert, key string, err error) {
	if !strings.HasPrefix(c.Host, "tcp://") {
		return false, "", "", "", nil
	}
	if !c.TLSVerify {
		if c.TLSNoVerify {
			return false, "", "", "", fmt.Errorf("docker host %s: DOCKER_TLS without DOCKER_TLS_VERIFY would not verify the daemon; set DOCKER_TLS_VERIFY=1 with ca.pem (and cert.pem, key.pem) in DOCKER_CERT_PATH", c.Host)
		}
		return false, "", "", "", nil
	}
	dir := c.CertPath
	if dir == "" {
		if dir = os.Getenv("DOCKER_CONFIG"); dir == "" {
			home, herr := os.UserHomeDir()
			if herr != nil {
				return false, "", "", "", fmt.Errorf("docker host %s: DOCKER_TLS_VERIFY is set, DOCKER_CERT_PATH is not and there is no home directory for ~/.docker: %w", c.Host, herr)
			}
			dir = filepath.Join(home, ".docker")
		}
	}
	ca = filepath.Join(dir, "ca.pem")
	if _, serr := os.Stat(ca); serr != nil {
		return false, "", "", "", fmt.Errorf("docker host %s: DOCKER_TLS_VERIFY needs the daemon's CA: %w", c.Host, serr)
	}
	cert, key = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if !certFileExists(cert) && !certFileExists(key) {
		cert, key = "", ""
	}
	return true, ca, cert, key, nil
}

func certFileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// BindFlags registers --docker-host, --docker-profile, --docker-max-inflight,
// --docker-qps and --docker-address-pool on fs, with c's current values as
// defaults.
func (c *Config) BindFlags(fs *pflag.FlagSet) {
	fs.StringVar(&c.Host, "docker-host", c.Host, "Docker Engine address (unix:// or tcp://); defaults to $DOCKER_HOST or "+DefaultHost+"; a tcp:// host uses TLS when $DOCKER_TLS_VERIFY is set, with ca.pem, cert.pem and key.pem from $DOCKER_CERT_PATH (default ~/.docker)")
	fs.Var((*profileValue)(&c.Profile), "docker-profile", "Docker call governor profile: desktop (3 in flight, >=0.5s between calls), ci (fixed, faster) or adaptive (AIMD up to --docker-max-inflight)")
	fs.IntVar(&c.MaxInFlight, "docker-max-inflight", c.MaxInFlight, fmt.Sprintf("cap on concurrent Docker calls (0 = the profile's; adaptive's hard cap defaults to %d)", governor.DefaultMaxInFlight))
	fs.Float64Var(&c.QPS, "docker-qps", c.QPS, "Docker call starts per second (0 = the profile's, negative = unlimited)")
	fs.StringVar(&c.AddressPool, "docker-address-pool", c.AddressPool, "CIDR from which each Environment network gets its own /24 (empty = the first /16 of 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16 that overlaps no Docker network or host route, printed at start)")
}

// Validate checks the fields a user can get wrong.
func (c Config) Validate() error {
	if c.Host == "" {
		return fmt.Errorf("docker host: must not be empty")
	}
	if !strings.Contains(c.Host, "://") {
		return fmt.Errorf("docker host %q: want a URL such as %s", c.Host, DefaultHost)
	}
	if _, _, _, _, err := c.tlsFiles(); err != nil {
		return err
	}
	if err := governor.CheckLimits(c.Profile, c.MaxInFlight, c.QPS); err != nil {
		return err
	}
	if _, err := parseSubnetPool(c.AddressPool, c.SubnetBits); err != nil {
		return err
	}
	if err := validateIdentity(c.ManagerID); err != nil {
		return fmt.Errorf("manager id: %w", err)
	}
	if c.CallTimeout < 0 {
		return fmt.Errorf("docker call timeout %s: must not be negative", c.CallTimeout)
	}
	return nil
}

// profileValue lets pflag reject an unknown profile at parse time.
type profileValue governor.Profile

func (p *profileValue) String() string { return string(*p) }
func (p *profileValue) Type() string   { return "profile" }
func (p *profileValue) Set(s string) error {
	for _, known := range governor.Profiles {
		if governor.Profile(s) == known {
			*p = profileValue(s)
			return nil
		}
	}
	return fmt.Errorf("unknown profile %q: want one of %v", s, governor.Profiles)
}
