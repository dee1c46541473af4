# berth — see README.md. `make demo` and `make test` are the two commands a
# fresh clone needs; everything else is a step of those.

GO       ?= go
BIN      := bin
VERSION  ?= v0.1.0-dev+$(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
LDFLAGS  := -X berth.dev/berth/internal/version.Version=$(VERSION) -X k8s.io/component-base/version.gitVersion=$(VERSION)
E2E_FLAGS ?=

.PHONY: all build generate manifests verify-generate compose-table fmt vet lint test test-unit test-platform test-e2e fuzz images samples platform demo bench docker browser kube clean

all: build

## build: compile bin/manager and bin/berth
build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN)/manager ./cmd/manager
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN)/berth ./cmd/berth

## generate: deepcopy, OpenAPI definitions and the CRD from apis/v1alpha1
generate:
	hack/update-codegen.sh

## manifests: the CRD in config/crd (same generator run as generate)
manifests: generate

## verify-generate: fail when generated code or the CRD is stale
verify-generate:
	hack/verify-codegen.sh

## compose-table: write README.md's compose table from internal/compose/table.go
compose-table:
	$(GO) run ./hack/gen-compose-table

fmt:
	$(GO) fmt ./...

# The platform sample is a module of its own (config/samples/platform), so
# its Postgres and Redis clients stay out of berth's go.mod; vet it too.
PLATFORM := config/samples/platform

vet:
	$(GO) vet ./...
	cd $(PLATFORM) && $(GO) vet ./...

## lint: gofmt check, go vet, and the no-forced-removal rule
lint: vet
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); echo "gofmt needed"; exit 1)
	hack/check-no-force.sh

## docker: make sure a Docker Engine answers (starts or installs one)
docker:
	hack/ensure-docker.sh

## images: berth-testapp:dev FROM scratch, berth-postgres:dev and berth-redis:dev from Debian packages; no registry needed
images: docker
	hack/build-images.sh
	hack/build-platform.sh

## samples: compile the platform sample's programs into their build contexts
samples:
	hack/build-platform.sh

## test-unit: every package's own tests (pure logic, plus the Docker layer against the real engine)
test-unit:
	$(GO) test -count=1 -timeout 20m $$($(GO) list ./... | grep -v /test/e2e)

## test-platform: the platform sample's programs against berth-postgres:dev and berth-redis:dev (docker CLI, no berth)
test-platform: images
	cd $(PLATFORM) && $(GO) test -count=1 -timeout 10m ./...

## fuzz: each fuzz target of the spec decoder and validation for FUZZTIME
# (Go runs one -fuzz target per invocation). The corpus grows in GOCACHE;
# a crasher is written to testdata/fuzz/<target>/: keep it as a seed.
# Counts, not durations: with a -fuzztime duration, Go before 1.27 can
# report the coordinator's own deadline as a failure ("context deadline
# exceeded", no crasher; golang/go#75804), which a loaded machine hits.
FUZZTIME ?= 10000x
# Each compose input is a whole compose-go load (files, schema, merge), and
# a mutated port range can make compose-go expand thousands of ports: fewer.
COMPOSE_FUZZTIME ?= 500x
FUZZ_TARGETS := FuzzDecodeEnvironments FuzzValidateEnvironment
fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		echo "fuzz $$t for $(FUZZTIME)"; \
		$(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 200x ./apis/v1alpha1/; \
	done
	@echo "fuzz FuzzLoad (compose files) for $(COMPOSE_FUZZTIME)"
	$(GO) test -run '^$$' -fuzz '^FuzzLoad$$' -fuzztime $(COMPOSE_FUZZTIME) -fuzzminimizetime 200x ./internal/compose/

## test-e2e: Ginkgo suites against the real manager and the real Docker Engine
test-e2e: build images
	BERTH_BIN_DIR=$(CURDIR)/$(BIN) $(GO) test -count=1 -timeout 25m ./test/e2e/... $(E2E_FLAGS)

## browser: headless Chromium for the dashboard's browser test (installed from Debian when missing)
browser:
	hack/ensure-chromium.sh >/dev/null

## kube: build (cold, 10+ min) or reuse kube-apiserver and etcd for the "Kubernetes API" specs,
## which find them in the cache (or $$BERTH_KUBE_APISERVER) and skip without them
kube:
	hack/ensure-kube-apiserver.sh

## test: everything: lint, unit, fuzz and e2e
test: lint docker images browser test-unit test-platform fuzz test-e2e

## demo: build, start a manager, apply config/samples/demo.yaml and show it
demo: build images
	hack/demo.sh

## platform: build, start a manager allowed config/samples/platform, apply platform.yaml and wait for Ready
platform: build images
	hack/platform.sh

## bench: Docker-layer and convergence benchmarks (figures go in the closing note)
bench: build images
	hack/bench.sh

clean:
	rm -rf $(BIN) test/e2e/artifacts
