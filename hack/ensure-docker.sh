#!/usr/bin/env bash
# Makes sure a Docker Engine answers, so `make test` and CI work on a fresh
# machine: berth's e2e tests need a real engine, never a mock.
#
#   1. `docker info` works: done, silently.
#   2. A dockerd is already running (still starting up): only wait for it.
#   3. Otherwise install Debian's docker.io when dockerd or docker is missing,
#      and start dockerd: through systemd when systemd is PID 1, else as a
#      plain background `dockerd` logging to /var/log/dockerd.log, which is
#      how the machines of this project run it. dockerd reads its settings
#      (storage driver, cgroup driver, log options) from
#      /etc/docker/daemon.json, which this script leaves alone.
#   4. Wait until `docker info` works (BERTH_DOCKER_TIMEOUT, default 60s).
#
# A running dockerd is never stopped or restarted.
set -euo pipefail

timeout=${BERTH_DOCKER_TIMEOUT:-60}
log=${BERTH_DOCKERD_LOG:-/var/log/dockerd.log}

docker_ok() { command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; }

if docker_ok; then
  exit 0
fi

# A remote or non-default daemon is not ours to start.
case "${DOCKER_HOST:-unix:///var/run/docker.sock}" in
  unix:///var/run/docker.sock | unix:///run/docker.sock) ;;
  *)
    echo "ensure-docker: DOCKER_HOST=$DOCKER_HOST does not answer; not starting a local daemon for it" >&2
    exit 1
    ;;
esac

sudo=""
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    sudo="sudo -n"
  else
    echo "ensure-docker: Docker does not answer and this is not root (and no sudo): cannot start it" >&2
    exit 1
  fi
fi

if ! command -v dockerd >/dev/null 2>&1 || ! command -v docker >/dev/null 2>&1; then
  echo "ensure-docker: installing Debian's docker.io"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq docker.io >/dev/null
fi

started=$(date +%s)
if pgrep -x dockerd >/dev/null 2>&1; then
  echo "ensure-docker: dockerd is running but not answering yet; waiting"
elif [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
  echo "ensure-docker: starting docker.service"
  $sudo systemctl start docker.service
else
  echo "ensure-docker: starting dockerd (log: $log)"
  # setsid + nohup: the daemon must outlive this script and its session.
  $sudo sh -c "setsid nohup dockerd >>'$log' 2>&1 </dev/null &"
fi

while ! docker_ok; do
  if [ $(($(date +%s) - started)) -ge "$timeout" ]; then
    echo "ensure-docker: Docker did not answer within ${timeout}s; last lines of $log:" >&2
    tail -n 20 "$log" >&2 2>/dev/null || true
    docker info 2>&1 | tail -n 3 >&2 || true
    exit 1
  fi
  sleep 0.5
done
echo "ensure-docker: Docker $(docker version --format '{{.Server.Version}}') ready after $(($(date +%s) - started))s"
