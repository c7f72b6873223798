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

.PHONY: help build run test vet fmt-check ci postgres prometheus chromium rules-test dashboards bench bench-cases bench-store bench-statuspage bench-go bench-fleet bench-fleet-login bench-load clean

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

# CI installs what the tests need from Debian (postgresql, prometheus,
# chromium), so with CI=true nothing skips: a test missing its tool fails
# instead. The browser tests write their screenshots to bin/test-artifacts/.
# The store's test suite runs against SQLite always, and against this
# Postgres when FOREWARN_TEST_POSTGRES names it (make ci does).
PG_TEST_DSN ?= postgres://forewarn:forewarn@127.0.0.1:5432/forewarn_test?sslmode=disable

ci: postgres prometheus chromium ## what CI runs (.ci/run): install what the tests need, then make test with nothing skipped
	CI=true FOREWARN_TEST_POSTGRES='$(PG_TEST_DSN)' $(MAKE) test

postgres: ## install (Debian's postgresql, needs root) and start PostgreSQL on 127.0.0.1 for the store tests
	@pg_lsclusters -h 2>/dev/null | grep -q . || { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql; }
	@v=$${PG_VERSION:-$$(pg_lsclusters -h | awk 'NR==1{print $$1}')}; \
	pg_ctlcluster $$v main status >/dev/null 2>&1 || pg_ctlcluster $$v main start
	@su postgres -c "psql -tAc \"SELECT 1 FROM pg_roles WHERE rolname = 'forewarn'\"" | grep -q 1 || \
	su postgres -c "psql -v ON_ERROR_STOP=1 -c \"CREATE ROLE forewarn LOGIN PASSWORD 'forewarn'\""
	@su postgres -c "psql -tAc \"SELECT 1 FROM pg_database WHERE datname = 'forewarn_test'\"" | grep -q 1 || \
	su postgres -c "createdb -O forewarn forewarn_test"
	@echo "postgres ready: FOREWARN_TEST_POSTGRES='$(PG_TEST_DSN)'"

bench: bench-go bench-fleet bench-fleet-login bench-load ## micro-benchmarks, the 10,000-tenant fleet benchmarks, then the load generator vs vegeta (~12 min)

bench-go: ## Go micro-benchmarks
	$(GO) test -run '^$$' -bench . -benchmem ./...

bench-fleet: build ## 10,000 tenants × 1 check every 60 s: lag, CPU, RSS, scrape (set BENCH_DURATION to shorten)
	$(GO) run ./bench/fleet -bin $(BIN) -tenants $${BENCH_TENANTS:-10000} -duration $${BENCH_DURATION:-3m}

bench-fleet-login: build ## 10,000 tenants × a 5-step sign-in every 60 s: CPU, RSS (set BENCH_DURATION to shorten)
	$(GO) run ./bench/fleet -bin $(BIN) -checks sign-in -tenants $${BENCH_TENANTS:-10000} -duration $${BENCH_DURATION:-3m}

# vegeta is built from the Go module proxy by the driver, into a temporary
# directory outside the module: it never becomes a dependency of forewarn.
bench-load: build ## forewarn's load generator vs vegeta on the demo: req per CPU-s, latency at 20 ms, RSS per 1,000 users (~4 min)
	$(GO) run ./bench/loadgen -bin $(BIN) -rounds $${BENCH_LOAD_ROUNDS:-3} -duration $${BENCH_LOAD_DURATION:-20s} -concurrency $${BENCH_LOAD_CONCURRENCY:-50}

prometheus: ## install Debian's prometheus (Prometheus and promtool, for the alert rule tests; needs root) if promtool is missing
	@command -v promtool >/dev/null 2>&1 || { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends prometheus; }

chromium: ## install Debian's chromium (headless, for the status page browser tests; needs root) if it is missing
	@command -v chromium >/dev/null 2>&1 || { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium; }

rules-test: prometheus ## promtool check rules and the promtool unit tests of alertrules/
	promtool check rules alertrules/*.yml
	promtool test rules alertrules/tests/*.yml

dashboards: ## regenerate dashboards/*.json from the Go code in dashboards/
	$(GO) run ./dashboards/cmd/gen -out dashboards

bench-cases: build ## outage → Slack root message: 10 tenants down at once, 10 s interval, threshold 3, 2 rounds (~2.5 min)
	$(GO) run ./bench/outage -bin $(BIN) -inject $${BENCH_CASES_INJECT:-10} -rounds $${BENCH_CASES_ROUNDS:-2}

bench-statuspage: build ## the status pages under wrk (200 connections, 20 s each: / then a private page) next to 10,000 tenants' probes: page p50/p99, scheduler lag, CPU, RSS (~3 min; the first run fills a cached store, ~3 min more)
	$(GO) run ./bench/statuspage -bin $(BIN) -tenants $${BENCH_TENANTS:-10000} -duration $${BENCH_STATUSPAGE_DURATION:-20s} $${BENCH_STATUSPAGE_DB:+-db "$$BENCH_STATUSPAGE_DB"}

bench-store: ## the history store on SQLite: sustained results/s (60 s) and disk per tenant-check-year (~3.5 min)
	$(GO) run ./bench/store -duration $${BENCH_STORE_DURATION:-60s}

clean: ## remove bin/
	rm -rf bin
