#!/usr/bin/env bash
# Fails when the committed generated code or CRD differs from a fresh run.
set -euo pipefail
cd "$(dirname "$0")/.."
hack/update-codegen.sh
if ! git diff --exit-code -- apis/ config/crd/ hack/api-violations.list; then
  echo "generated files are stale: run 'make generate' and commit the result" >&2
  exit 1
fi
untracked=$(git ls-files --others --exclude-standard -- apis/ config/crd/)
if [ -n "$untracked" ]; then
  echo "generated files not committed: $untracked" >&2
  exit 1
fi
