#!/usr/bin/env bash
# Starts a second local Docker registry, on 127.0.0.1:5001, that demands
# htpasswd (basic) auth: the private-registry pull tests push to it and pull
# from it with the credentials from a Docker config. Like the open one of
# hack/ensure-registry.sh (which calls this script) it is Debian's
# docker-registry run as a plain background process on loopback.
#
# No TLS: docker-registry 2.8's htpasswd auth serves plain HTTP (it does not
# refuse to start without a certificate), and dockerd treats 127.0.0.0/8
# registries as insecure ones it may talk HTTP to, basic auth included.
#
# The credentials are test fixtures, not secrets (loopback only):
#   BERTH_AUTH_REGISTRY_USER     (default berth-test)
#   BERTH_AUTH_REGISTRY_PASSWORD (default berth-test-password)
# The bcrypt htpasswd line is made by hack/htpasswd (Go, golang.org/x/crypto),
# so no apache2-utils is needed.
#
# Idempotent: when http://127.0.0.1:5001/v2/ answers 200 to those
# credentials, it only prints
#   auth registry: 127.0.0.1:5001
# State lives in /var/tmp/berth-auth-registry (BERTH_AUTH_REGISTRY_DIR):
# config.yml, htpasswd, data/, registry.log, registry.pid. Stop it with
#   kill "$(cat /var/tmp/berth-auth-registry/registry.pid)"
set -euo pipefail
cd "$(dirname "$0")/.."

addr=127.0.0.1:5001
dir=${BERTH_AUTH_REGISTRY_DIR:-/var/tmp/berth-auth-registry}
user=${BERTH_AUTH_REGISTRY_USER:-berth-test}
password=${BERTH_AUTH_REGISTRY_PASSWORD:-berth-test-password}
timeout=${BERTH_REGISTRY_TIMEOUT:-30}
bin=/usr/bin/docker-registry

# status prints the HTTP status of /v2/ with the credentials (000: nothing
# answers). curl reads them from stdin so they stay off the command line.
status() {
  printf 'user = "%s:%s"\n' "$user" "$password" |
    curl -sS --max-time 2 -K - -o /dev/null -w '%{http_code}' "http://$addr/v2/" 2>/dev/null || true
}

code=$(status)
if [ "$code" = 200 ]; then
  echo "auth registry: $addr"
  exit 0
fi

if [ ! -x "$bin" ]; then
  echo "ensure-auth-registry: $bin is missing; hack/ensure-registry.sh installs it" >&2
  exit 1
fi

# A registry of ours that answers but refuses these credentials (the
# password was changed): restart it with a new htpasswd file. Anything else
# on the port is not ours: say so, do not fight it.
if [ "$code" != 000 ] && [ "$code" != "" ]; then
  pid=$(cat "$dir/registry.pid" 2>/dev/null || true)
  if [ -n "$pid" ] && [ "$(readlink "/proc/$pid/exe" 2>/dev/null)" = "$bin" ]; then
    kill "$pid"
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  else
    echo "ensure-auth-registry: $addr answers /v2/ with $code and is not the registry of $dir" >&2
    exit 1
  fi
elif (exec 3<>"/dev/tcp/${addr%:*}/${addr##*:}") 2>/dev/null; then
  echo "ensure-auth-registry: $addr is taken by something that does not answer /v2/" >&2
  exit 1
fi

mkdir -p "$dir/data"
printf '%s\n' "$password" | go run ./hack/htpasswd "$user" >"$dir/htpasswd.new"
mv "$dir/htpasswd.new" "$dir/htpasswd"
cat >"$dir/config.yml" <<CONF
# Written by berth's hack/ensure-auth-registry.sh: loopback only, htpasswd
# auth, deletes allowed so tests can clean up what they push.
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
auth:
  htpasswd:
    realm: berth-test-registry
    path: $dir/htpasswd
http:
  addr: $addr
  headers:
    X-Content-Type-Options: [nosniff]
CONF

# setsid + nohup: the registry must outlive this script and its session.
setsid nohup "$bin" serve "$dir/config.yml" >>"$dir/registry.log" 2>&1 </dev/null &
echo $! >"$dir/registry.pid"

started=$(date +%s)
until [ "$(status)" = 200 ]; do
  if ! kill -0 "$(cat "$dir/registry.pid")" 2>/dev/null; then
    echo "ensure-auth-registry: docker-registry exited; last lines of $dir/registry.log:" >&2
    tail -n 20 "$dir/registry.log" >&2
    exit 1
  fi
  if [ $(($(date +%s) - started)) -ge "$timeout" ]; then
    echo "ensure-auth-registry: $addr did not accept the test credentials within ${timeout}s; see $dir/registry.log" >&2
    exit 1
  fi
  sleep 0.2
done
echo "auth registry: $addr"
