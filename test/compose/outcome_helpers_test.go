package compose

import (
	"slices"
	"testing"
)

// TestParseRefusals pins how a refusal's text is split: the heading keeps
// no path, bullets and indentation go, list paths keep their brackets.
func TestParseRefusals(t *testing.T) {
	msg := "<corpus>/x/docker-compose.yml: 2 compose attribute(s) not supported\n" +
		"  services.web.network_mode: not supported: an Environment never shares the host's network\n" +
		"  * services.web.ports[].mode: not supported: because\n"
	got := parseRefusals(msg)
	want := []refusal{
		{reason: "<corpus>/x/docker-compose.yml: 2 compose attribute(s) not supported"},
		{path: "services.web.network_mode", reason: "not supported: an Environment never shares the host's network"},
		{path: "services.web.ports[].mode", reason: "not supported: because"},
	}
	if !slices.Equal(got, want) {
		t.Errorf("parseRefusals:\n got %q\nwant %q", got, want)
	}
}

// TestRefusalField pins how the report groups a path across projects.
func TestRefusalField(t *testing.T) {
	for path, want := range map[string]string{
		"services.homeassistant.network_mode":        "services.*.network_mode",
		"services.app.depends_on.db.restart":         "services.*.depends_on.*.restart",
		"services.orders.networks.data.ipv4_address": "services.*.networks.*.ipv4_address",
		"services.rails.tmpfs[1]":                    "services.*.tmpfs[]",
		"networks.backnet.internal":                  "networks.*.internal",
		"volumes.ncdata.external":                    "volumes.*.external",
		"services.api.deploy.resources.limits.pids":  "services.*.deploy.resources.limits.pids",
		"name": "name",
	} {
		if got := (refusal{path: path}).field(); got != want {
			t.Errorf("field(%s) = %s, want %s", path, got, want)
		}
	}
}
