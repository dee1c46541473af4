#!/usr/bin/env bash
# make platform: the platform sample in one command. Compiles the sample's
# programs into their build contexts (hack/build-platform.sh), starts a
# manager that may read config/samples/platform (build contexts and the
# conf/ host path) unless one already answers on the data dir, applies
# config/samples/platform/platform.yaml, waits until it is Ready and prints
# the frontend's address. `hack/platform.sh down` deletes it and stops that
# manager. A manager already running must have been started with
# --allow-host-path covering config/samples/platform.
set -euo pipefail
cd "$(dirname "$0")/.."

sample=$PWD/config/samples/platform
data_dir=${BERTH_DATA_DIR:-${XDG_DATA_HOME:-$HOME/.local/share}/berth}
api_listen=${BERTH_API_LISTEN:-127.0.0.1:6443}
dashboard_listen=${BERTH_DASHBOARD_LISTEN:-127.0.0.1:7878}
berth=(bin/berth --kubeconfig "$data_dir/kubeconfig")
pidfile="$data_dir/platform-manager.pid"
log="$data_dir/manager.log"

manager_answers() {
  [ -f "$data_dir/kubeconfig" ] && "${berth[@]}" get environments --request-timeout=3s >/dev/null 2>&1
}

if [ "${1:-}" = "down" ]; then
  if manager_answers; then
    "${berth[@]}" delete -f "$sample/platform.yaml" --ignore-not-found --timeout=5m
  fi
  if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    kill -TERM "$(cat "$pidfile")"
    echo "manager (pid $(cat "$pidfile")) stopped"
    rm -f "$pidfile"
  fi
  exit 0
fi

hack/build-platform.sh
mkdir -p "$data_dir"
if manager_answers; then
  echo "using the manager already running on $data_dir (it needs --allow-host-path $sample)"
else
  echo "starting bin/manager on $data_dir (log: $log)"
  setsid nohup bin/manager --data-dir "$data_dir" --api-listen "$api_listen" \
    --dashboard-listen "$dashboard_listen" --allow-host-path "$sample" >"$log" 2>&1 </dev/null &
  echo $! >"$pidfile"
  for _ in $(seq 1 600); do
    if grep -q '^kubeconfig: ' "$log" 2>/dev/null; then break; fi
    if ! kill -0 "$(cat "$pidfile")" 2>/dev/null; then
      echo "manager exited:" >&2
      tail -20 "$log" >&2
      exit 1
    fi
    sleep 0.1
  done
fi

start=$(date +%s)
set -x
"${berth[@]}" apply -f "$sample/platform.yaml"
"${berth[@]}" wait --for=condition=Ready environment/platform --timeout=600s
set +x
echo "apply → Ready in $(($(date +%s) - start))s"
"${berth[@]}" get environments platform -o wide
frontend=$(docker ps --filter label=berth.dev/environment=platform --filter label=berth.dev/service=frontend --format '{{.ID}}' | head -1)
addr=$(docker port "$frontend" 8080/tcp | head -1)
cat <<MSG

The platform is Ready: open http://$addr/ (sign in as alice / alice-test-only).
  curl http://$addr/api/items
  docker kill --signal KILL berth_platform_postgres   # berth brings it back
  hack/platform.sh down                               # delete it and stop this manager
MSG
