#!/usr/bin/env bash
# Regenerates deepcopy, OpenAPI definitions and the CRD from apis/v1alpha1.
# The generators come from hack/tools/go.mod, pinned, so every machine
# produces the same bytes; hack/verify-codegen.sh checks they are fresh.
set -euo pipefail
cd "$(dirname "$0")/.."

tool() { go tool -modfile=hack/tools/go.mod "$@"; }
header=hack/boilerplate.go.txt
pkg=berth.dev/berth/apis/v1alpha1

tool deepcopy-gen --go-header-file "$header" --output-file zz_generated.deepcopy.go ./apis/v1alpha1

tool openapi-gen --go-header-file "$header" \
  --output-dir apis/v1alpha1 --output-pkg "$pkg" \
  --output-file zz_generated.openapi.go \
  --output-model-name-file zz_generated.model_name.go \
  --readonly-pkg k8s.io/apimachinery/pkg/apis/meta/v1 \
  --readonly-pkg k8s.io/apimachinery/pkg/runtime \
  --readonly-pkg k8s.io/apimachinery/pkg/util/intstr \
  --readonly-pkg k8s.io/apimachinery/pkg/version \
  --report-filename hack/api-violations.list \
  ./apis/v1alpha1 \
  k8s.io/apimachinery/pkg/apis/meta/v1 \
  k8s.io/apimachinery/pkg/runtime \
  k8s.io/apimachinery/pkg/util/intstr \
  k8s.io/apimachinery/pkg/version

tool controller-gen crd:crdVersions=v1 paths=./apis/... output:crd:artifacts:config=config/crd

# Typed clientset, listers and informers for the controller and the tests
# (client-go style, like sample-controller's).
rm -rf client
tool client-gen --go-header-file "$header" \
  --input-base berth.dev/berth --input apis/v1alpha1 \
  --clientset-name versioned \
  --output-dir client/clientset --output-pkg berth.dev/berth/client/clientset
tool lister-gen --go-header-file "$header" \
  --output-dir client/listers --output-pkg berth.dev/berth/client/listers \
  ./apis/v1alpha1
tool informer-gen --go-header-file "$header" \
  --versioned-clientset-package berth.dev/berth/client/clientset/versioned \
  --listers-package berth.dev/berth/client/listers \
  --output-dir client/informers --output-pkg berth.dev/berth/client/informers \
  ./apis/v1alpha1
