package plan

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
)

// hashVersion is mixed into every hash: bumping it after a change of what is
// hashed recreates every container once, on purpose.
const hashVersion = 1

// hashLen is the number of hex digits kept: 64 bits is plenty to tell two
// configs of one service apart, and short enough to read in events.
const hashLen = 16

// SpecHash is a stable hash of what the container is: image, command, env,
// ports, resources, mounts, network, names, and the last restart request. A
// container whose spec-hash label differs from the desired config's is
// recreated; everything else is kept with its ID.
//
// Left out on purpose:
//   - Labels: berth's own are bookkeeping (identity, owner, the hash
//     itself). A new Environment UID is handled by removing containers of
//     the old incarnation outright, not through the hash.
//   - Port names: a rename changes status, not the container.
//   - StopTimeout: berth passes the current grace period on every stop, so
//     changing it must not restart a database.
//   - The readiness probe, dependsOn, restartPolicy and imagePullPolicy are
//     not part of ContainerConfig at all: berth acts on them, the container
//     does not see them.
//
// Env, ports and mounts are sorted, so the order they are written in does
// not matter; command and args keep their order, which does.
func SpecHash(cfg ContainerConfig) string {
	type port struct {
		ContainerPort int32
		Protocol      string
		HostIP        string
		HostPort      int32
	}
	view := struct {
		Version      int
		Name         string
		Image        string
		Entrypoint   []string
		Cmd          []string
		Env          []string
		Ports        []port
		Resources    Resources
		Mounts       []Mount
		Network      string
		NetworkAlias string
		Hostname     string
		// Omitted when empty (the image's own signal), so only a spec
		// that sets stopSignal moves the hash; a container from before
		// the field existed (created with SIGTERM) is recreated once.
		StopSignal string `json:",omitempty"`
		// Omitted when empty, so containers that never had a restart
		// request keep the hash they were created with.
		RestartedAt string `json:",omitempty"`
		// Omitted when every setting is unset, and each setting is
		// omitted when unset, so containers from before a setting
		// existed keep their hash; only a service that sets one is
		// recreated. Unlike berth's labels, the user's labels are
		// part of what the container is (Docker cannot change them).
		Settings *Settings `json:",omitempty"`
		// Omitted when the service mounts no file or secret; each
		// one is its target, mode, owner and a SHA-256 of its
		// content (never the content), so changing a file recreates
		// only the services that mount it.
		Files []fileHash `json:",omitempty"`
		// Omitted unless the Environment or the service lists networks,
		// so an Environment of one network keeps its hashes.
		Networks []NetworkAttachment `json:",omitempty"`
		// Omitted when the spec has no healthcheck: the image's own
		// HEALTHCHECK is part of the image, which the hash has already.
		Healthcheck *Healthcheck `json:",omitempty"`
	}{
		Version:      hashVersion,
		Name:         cfg.Name,
		Image:        cfg.Image,
		Entrypoint:   cloneOrNil(cfg.Entrypoint),
		Cmd:          cloneOrNil(cfg.Cmd),
		Env:          sortedEnv(cfg.Env),
		Resources:    cfg.Resources,
		Mounts:       slices.Clone(cfg.Mounts),
		Network:      cfg.Network,
		NetworkAlias: cfg.NetworkAlias,
		Hostname:     cfg.Hostname,
		StopSignal:   cfg.StopSignal,
		RestartedAt:  cfg.RestartedAt,
		Settings:     settingsForHash(cfg.Settings),
		Files:        filesForHash(cfg.Files),
		Networks:     networksForHash(cfg.Networks),
		Healthcheck:  cfg.Healthcheck,
	}
	ports := slices.Clone(cfg.Ports)
	slices.SortStableFunc(ports, comparePorts)
	for _, p := range ports {
		view.Ports = append(view.Ports, port{p.ContainerPort, strings.ToLower(string(p.Protocol)), p.HostIP, p.HostPort})
	}
	slices.SortStableFunc(view.Mounts, func(a, b Mount) int { return strings.Compare(a.Target, b.Target) })
	if len(view.Mounts) == 0 {
		view.Mounts = nil
	}

	// Struct fields marshal in declaration order and maps (the settings'
	// labels and sysctls) in key order, so the bytes are the same on every
	// run.
	data, err := json.Marshal(view)
	if err != nil {
		// Only plain strings and integers are marshalled; this cannot fail,
		// and an empty hash would still force a (harmless) recreate.
		return ""
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])[:hashLen]
}

// sortedEnv sorts KEY=VALUE entries by key, keeping one entry per key order
// stable, in case a caller built the config by hand.
func sortedEnv(env []string) []string {
	if len(env) == 0 {
		return nil
	}
	out := slices.Clone(env)
	slices.SortStableFunc(out, func(a, b string) int {
		ka, _, _ := strings.Cut(a, "=")
		kb, _, _ := strings.Cut(b, "=")
		return strings.Compare(ka, kb)
	})
	return out
}

// settingsForHash is s in a canonical form, or nil when nothing is set.
func settingsForHash(s Settings) *Settings {
	s.CapAdd = capabilities(s.CapAdd)
	s.CapDrop = capabilities(s.CapDrop)
	s.Ulimits = slices.Clone(s.Ulimits)
	slices.SortStableFunc(s.Ulimits, func(a, b Ulimit) int { return strings.Compare(a.Name, b.Name) })
	if len(s.Ulimits) == 0 {
		s.Ulimits = nil
	}
	if len(s.ExtraHosts) == 0 {
		s.ExtraHosts = nil
	}
	if len(s.Labels) == 0 {
		s.Labels = nil
	}
	if len(s.Sysctls) == 0 {
		s.Sysctls = nil
	}
	if reflect.ValueOf(s).IsZero() {
		return nil
	}
	return &s
}

// networksForHash is the attachments sorted by network, aliases sorted, so
// a reordered spec does not recreate the container; nil when there are
// none.
func networksForHash(ns []NetworkAttachment) []NetworkAttachment {
	if len(ns) == 0 {
		return nil
	}
	out := make([]NetworkAttachment, len(ns))
	for i, a := range ns {
		out[i] = NetworkAttachment{Network: a.Network, Aliases: slices.Clone(a.Aliases)}
		slices.Sort(out[i].Aliases)
		if len(out[i].Aliases) == 0 {
			out[i].Aliases = nil
		}
	}
	slices.SortFunc(out, func(a, b NetworkAttachment) int { return strings.Compare(a.Network, b.Network) })
	return out
}
