#!/usr/bin/env bash
# make demo: start a manager (unless one already answers on the data dir),
# apply config/samples/demo.yaml, wait until it is Ready and show it.
# The manager keeps running afterwards so you can play with bin/berth;
# `hack/demo.sh down` deletes the demo and stops that manager.
set -euo pipefail
cd "$(dirname "$0")/.."

data_dir=${BERTH_DATA_DIR:-${XDG_DATA_HOME:-$HOME/.local/share}/berth}
api_listen=${BERTH_API_LISTEN:-127.0.0.1:6443}
dashboard_listen=${BERTH_DASHBOARD_LISTEN:-127.0.0.1:7878}
berth=(bin/berth --kubeconfig "$data_dir/kubeconfig")
pidfile="$data_dir/demo-manager.pid"
log="$data_dir/manager.log"

manager_answers() {
  [ -f "$data_dir/kubeconfig" ] && "${berth[@]}" get environments --request-timeout=3s >/dev/null 2>&1
}

if [ "${1:-}" = "down" ]; then
  if manager_answers; then
    "${berth[@]}" delete -f config/samples/demo.yaml --ignore-not-found
  fi
  if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    kill -TERM "$(cat "$pidfile")"
    echo "manager (pid $(cat "$pidfile")) stopped"
    rm -f "$pidfile"
  fi
  exit 0
fi

mkdir -p "$data_dir"
if manager_answers; then
  echo "using the manager already running on $data_dir"
else
  echo "starting bin/manager on $data_dir (log: $log)"
  setsid nohup bin/manager --data-dir "$data_dir" --api-listen "$api_listen" \
    --dashboard-listen "$dashboard_listen" >"$log" 2>&1 < /dev/null &
  echo $! > "$pidfile"
  for _ in $(seq 1 600); do
    if grep -q '^kubeconfig: ' "$log" 2>/dev/null; then break; fi
    if ! kill -0 "$(cat "$pidfile")" 2>/dev/null; then
      echo "manager exited:" >&2; tail -20 "$log" >&2; exit 1
    fi
    sleep 0.1
  done
  grep -E '^(api|kubeconfig|metrics): ' "$log" || true
fi
# The dashboard needs the token on every listener: print the sign-in URL
# (the manager's own line when it started here, else built from the token).
signin=$(grep -E '^dashboard: ' "$log" 2>/dev/null | tail -1 | sed 's/^dashboard: //' || true)
if [ -z "$signin" ] && [ -f "$data_dir/token" ]; then
  signin="http://$dashboard_listen/?token=$(cat "$data_dir/token")"
fi

set -x
"${berth[@]}" apply -f config/samples/demo.yaml
"${berth[@]}" wait --for=condition=Ready environment/demo --timeout=180s
"${berth[@]}" get environments -o wide
"${berth[@]}" describe environment demo
set +x
cat <<MSG

The demo is Ready. Open the dashboard (this sign-in URL sets a cookie, then
drops the token from the address):
  $signin

Try:
  bin/berth get env -w                  # watch it (berth uses $data_dir/kubeconfig by default)
  docker kill berth_demo_api            # berth brings it back
  bin/berth delete -f config/samples/demo.yaml
  hack/demo.sh down                     # delete the demo and stop this manager
MSG
