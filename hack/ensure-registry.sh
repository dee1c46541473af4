#!/usr/bin/env bash
# Starts a local Docker registry on 127.0.0.1:5000 for pull-policy tests:
# machines here reach no public registry, so "pull" must mean this one.
# It is Debian's docker-registry binary run as a plain background process
# (installed with apt-get when missing), not a container, since no registry
# image can be pulled. Docker trusts 127.0.0.0/8 registries without TLS.
#
# It then runs hack/ensure-auth-registry.sh for the second registry, with
# htpasswd auth, on 127.0.0.1:5001.
#
# Idempotent: when http://127.0.0.1:5000/v2/ answers, it only prints
#   registry: 127.0.0.1:5000
# State lives in /var/tmp/berth-registry (BERTH_REGISTRY_DIR): config.yml,
# data/, registry.log, registry.pid. Stop it with
#   kill "$(cat /var/tmp/berth-registry/registry.pid)"
set -euo pipefail

addr=127.0.0.1:5000
dir=${BERTH_REGISTRY_DIR:-/var/tmp/berth-registry}
timeout=${BERTH_REGISTRY_TIMEOUT:-30}
bin=/usr/bin/docker-registry

answers() { curl -fsS --max-time 2 -o /dev/null "http://$addr/v2/" 2>/dev/null; }

# The registry with htpasswd auth (127.0.0.1:5001) comes along with this one.
auth_registry="$(dirname "$0")/ensure-auth-registry.sh"

if answers; then
  echo "registry: $addr"
  exec "$auth_registry"
fi

if [ ! -x "$bin" ]; then
  echo "ensure-registry: installing Debian's docker-registry"
  export DEBIAN_FRONTEND=noninteractive
  # The package would start its own service on every interface (:5000)
  # from its postinst; a policy-rc.d that denies docker-registry keeps it
  # from starting, unless the machine already has a policy of its own.
  policy=/usr/sbin/policy-rc.d
  own_policy=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\n[ "$1" = docker-registry ] && exit 101\nexit 0\n' >"$policy"
    chmod 0755 "$policy"
    own_policy=1
  fi
  status=0
  { apt-get update -qq && apt-get install -y -qq docker-registry >/dev/null; } || status=$?
  [ "$own_policy" = 1 ] && rm -f "$policy"
  if [ "$status" != 0 ]; then
    echo "ensure-registry: apt-get install docker-registry failed" >&2
    exit 1
  fi
  # Nor should the package's service take :5000 at the next boot.
  if [ -d /run/systemd/system ]; then
    systemctl disable docker-registry.service >/dev/null 2>&1 || true
  else
    update-rc.d docker-registry disable >/dev/null 2>&1 || true
  fi
fi

mkdir -p "$dir/data"
cat >"$dir/config.yml" <<EOF
# Written by berth's hack/ensure-registry.sh: loopback only, no auth,
# deletes allowed so tests can clean up what they push.
version: 0.1
log:
  level: info
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $dir/data
  delete:
    enabled: true
http:
  addr: $addr
  headers:
    X-Content-Type-Options: [nosniff]
EOF

# Something else on the port that is not a registry: say so, do not fight it.
if (exec 3<>"/dev/tcp/${addr%:*}/${addr##*:}") 2>/dev/null; then
  echo "ensure-registry: $addr is taken by something that does not answer /v2/" >&2
  exit 1
fi

# setsid + nohup: the registry must outlive this script and its session.
setsid nohup "$bin" serve "$dir/config.yml" >>"$dir/registry.log" 2>&1 </dev/null &
echo $! >"$dir/registry.pid"

started=$(date +%s)
until answers; do
  if ! kill -0 "$(cat "$dir/registry.pid")" 2>/dev/null; then
    echo "ensure-registry: docker-registry exited; last lines of $dir/registry.log:" >&2
    tail -n 20 "$dir/registry.log" >&2
    exit 1
  fi
  if [ $(($(date +%s) - started)) -ge "$timeout" ]; then
    echo "ensure-registry: $addr did not answer within ${timeout}s; see $dir/registry.log" >&2
    exit 1
  fi
  sleep 0.2
done
echo "registry: $addr"
exec "$auth_registry"
