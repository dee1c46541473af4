#!/usr/bin/env bash
# Applies N small Environments (default 500) to a running manager, to
# measure the API server's memory and latency with a full store.
#   hack/load-envs.sh KUBECONFIG [N] [PREFIX]
# The Environments use berth-testapp:dev; with controllers running, each
# becomes a container, so use a small N there.
set -euo pipefail
cd "$(dirname "$0")/.."
kubeconfig=${1:?usage: hack/load-envs.sh KUBECONFIG [N] [PREFIX]}
n=${2:-500}
prefix=${3:-load}
for i in $(seq 1 "$n"); do
  cat <<DOC
---
apiVersion: berth.dev/v1alpha1
kind: Environment
metadata:
  name: ${prefix}-${i}
  labels: {berth.dev/load: "true"}
spec:
  services:
  - name: app
    image: berth-testapp:dev
    ports: [{name: http, containerPort: 8080}]
    readinessProbe: {httpGet: {path: /healthz, port: http}}
    resources: {limits: {memory: 32Mi}}
DOC
done | bin/berth --kubeconfig "$kubeconfig" apply -f - >/dev/null
echo "applied $n Environments"
