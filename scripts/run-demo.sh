#!/usr/bin/env bash
# Starts the demo SaaS and the monitor on checks.yaml together, prints where
# to look, and stops both on Ctrl-C. Used by `make run`.
set -euo pipefail
bin="${1:-bin/forewarn}"
tenants="${TENANTS:-20}"

"$bin" demo --tenants "$tenants" &
demo=$!
cleanup() {
	kill "$demo" 2>/dev/null || true
	wait "$demo" 2>/dev/null || true
}
trap cleanup EXIT

cat <<MSG

  forewarn is starting against the demo SaaS ($tenants tenants).

  demo tenants   http://127.0.0.1:8081/t/acme/health   (TLS: https://127.0.0.1:8443)
  metrics        http://127.0.0.1:8080/metrics
  health         http://127.0.0.1:8080/healthz  http://127.0.0.1:8080/readyz

  Break a tenant and watch probe_success{tenant="globex"} drop to 0:
    bin/forewarn demo fault globex down        (modes: down slow error wrong_body expired_tls expiring_tls)
    bin/forewarn demo clear globex

  First results arrive within one interval (30 s); Ctrl-C stops both.

MSG
"$bin" run --config checks.yaml
