# forewarn — build, run the demo, test, benchmark.
# `make help` lists the targets.

GO       ?= go
BIN      := bin/forewarn
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
REVISION ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
LDFLAGS  := -s -w -X main.version=$(VERSION) -X main.revision=$(REVISION)

# The demo's synthetic users sign in with this password; checks.yaml reads it
# as ${FOREWARN_DEMO_PASSWORD}. Set your own to keep it out of shell history.
export FOREWARN_DEMO_PASSWORD ?= forewarn-demo
# acme has credentials of its own, as a customer's usually are.
export FOREWARN_DEMO_PASSWORD_ACME ?= forewarn-demo-acme

.PHONY: help build run test vet fmt-check ci bench bench-go bench-fleet bench-fleet-login clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

build: ## build bin/forewarn
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) .

run: build ## start the demo SaaS and the monitor on checks.yaml; Ctrl-C stops both
	@scripts/run-demo.sh $(BIN)

test: vet fmt-check ## vet, gofmt and every test (race detector on)
	$(GO) test -race -count=1 ./...

vet: ## go vet
	$(GO) vet ./...

fmt-check: ## fail if gofmt would change a file
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi

# The tests need no system package yet; the browser, promtool and database
# tests to come install theirs here (apt-get), so CI skips nothing.
ci: ## what CI runs (.ci/run): install what the tests need, then make test
	$(MAKE) test

bench: bench-go bench-fleet bench-fleet-login ## micro-benchmarks, then the 10,000-tenant fleet benchmarks (~8 min)

bench-go: ## Go micro-benchmarks
	$(GO) test -run '^$$' -bench . -benchmem ./...

bench-fleet: build ## 10,000 tenants × 1 check every 60 s: lag, CPU, RSS, scrape (set BENCH_DURATION to shorten)
	$(GO) run ./bench/fleet -bin $(BIN) -tenants $${BENCH_TENANTS:-10000} -duration $${BENCH_DURATION:-3m}

bench-fleet-login: build ## 10,000 tenants × a 5-step sign-in every 60 s: CPU, RSS (set BENCH_DURATION to shorten)
	$(GO) run ./bench/fleet -bin $(BIN) -checks sign-in -tenants $${BENCH_TENANTS:-10000} -duration $${BENCH_DURATION:-3m}

clean: ## remove bin/
	rm -rf bin
