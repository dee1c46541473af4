package v1alpha1

// Network is one Docker network of an Environment (spec.networks), like a
// compose top-level network: services on it reach each other by name,
// services not on it cannot.
type Network struct {
	// Name is the network's name in the spec, a DNS-1123 label.
	// DefaultNetworkName is the Environment's default network, the one
	// every service joins when spec.networks is omitted (Docker name
	// berth_<env>); any other name is a network of its own
	// (berth_<env>__<name>).
	Name string `json:"name"`
}

// ServiceNetwork is one network a service joins (service.networks), like
// a compose service's networks entry.
type ServiceNetwork struct {
	// Name is one of spec.networks (or DefaultNetworkName when
	// spec.networks is omitted).
	Name string `json:"name"`
	// Aliases are extra DNS names of the service on this network; the
	// service name always is one.
	// +optional
	// +listType=set
	Aliases []string `json:"aliases,omitempty"`
}

// DefaultNetworkName names, in spec.networks and service.networks, the
// Environment's default network: the only one when spec.networks is
// omitted, Docker name berth_<env> either way, so listing it keeps the
// network an Environment had before it listed networks.
const DefaultNetworkName = "default"

// MaxNetworks bounds spec.networks; Docker carves a subnet for each.
const MaxNetworks = 16

// MaxAliasesPerNetwork bounds a service's aliases on one network.
const MaxAliasesPerNetwork = 32
