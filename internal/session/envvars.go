package session

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// EnvPrefix starts every variable berth exports to a command.
const EnvPrefix = "BERTH_"

// VarEnvironment names the variable holding the Environment's name.
const VarEnvironment = EnvPrefix + "ENV"

// VarName is the variable of an endpoint: BERTH_<SERVICE>_<PORT>, upper
// case, '-' and '/' turned into '_', and _R<N> appended for replica N ≥ 1.
// The port is its name, else its container port number (and UDP for an
// unnamed UDP port): BERTH_API_HTTP, BERTH_DB_5432, BERTH_DNS_53_UDP,
// BERTH_WEB_HTTP_R2.
func VarName(e Endpoint) string {
	name := EnvPrefix + envWord(e.Service) + "_" + envWord(e.Port)
	if e.Replica > 0 {
		name += "_R" + strconv.Itoa(int(e.Replica))
	}
	return name
}

func envWord(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z':
			return r - 'a' + 'A'
		case r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_':
			return r
		default:
			return '_'
		}
	}, s)
}

// EnvVars are the variables that tell a command where env's services
// are, as KEY=VALUE: BERTH_ENV=<name>, and for every endpoint
// VarName=host:port, VarName_HOST=host and VarName_PORT=port. Two
// endpoints whose names would give the same variable (service "a-b" port
// "c" and service "a" port "b-c") are both left out, and a warning says
// so: a variable that silently points at the wrong service is worse than
// none. The result is sorted.
func EnvVars(envName string, eps []Endpoint) (vars []string, warnings []string) {
	type entry struct {
		owner int
		value string
	}
	byKey := map[string]entry{}
	clash := map[int]string{}
	for i, e := range eps {
		base := VarName(e)
		for key, value := range map[string]string{
			base:           e.Address(),
			base + "_HOST": e.Host,
			base + "_PORT": strconv.Itoa(int(e.HostPort)),
		} {
			if prev, ok := byKey[key]; ok && prev.owner != i {
				clash[i] = key
				clash[prev.owner] = key
				continue
			}
			byKey[key] = entry{owner: i, value: value}
		}
	}
	vars = append(vars, VarEnvironment+"="+envName)
	for key, en := range byKey {
		if _, bad := clash[en.owner]; bad {
			continue
		}
		vars = append(vars, key+"="+en.value)
	}
	slices.Sort(vars)
	for i, e := range eps {
		if key, bad := clash[i]; bad {
			warnings = append(warnings, fmt.Sprintf("not exporting service %q port %q: its variable %s clashes with another endpoint's", e.Service, e.Port, key))
		}
	}
	return vars, warnings
}
