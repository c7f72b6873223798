#!/usr/bin/env bash
# Starts the demo SaaS and the monitor on checks.yaml together, prints where
# to look, and stops both on Ctrl-C. Used by `make run`.
set -euo pipefail
bin="${1:-bin/forewarn}"

"$bin" demo &
demo=$!
cleanup() {
	kill "$demo" 2>/dev/null || true
	wait "$demo" 2>/dev/null || true
}
trap cleanup EXIT

# Wait until the demo listens; stop if it could not start (a port taken).
for _ in $(seq 50); do
	kill -0 "$demo" 2>/dev/null || { echo "make run: the demo did not start (see its error above)" >&2; exit 1; }
	(exec 3<>/dev/tcp/127.0.0.1/8081) 2>/dev/null && break
	sleep 0.1
done

cat <<MSG

  forewarn is starting against the demo SaaS (20 tenants, checks.yaml).

  demo tenants   http://127.0.0.1:8081/t/acme/health   (TLS: https://127.0.0.1:8443)
  metrics        http://127.0.0.1:8080/metrics
  health         http://127.0.0.1:8080/healthz  http://127.0.0.1:8080/readyz

  Break a tenant and watch probe_success{tenant="globex"} drop to 0:
    bin/forewarn demo fault globex down        (or: slow, error, wrong_body, expired_tls, wrong_credentials, session_expiry …)
    bin/forewarn demo clear globex

  Three failures in a row open a support case (history in forewarn.db):
    bin/forewarn cases

  How many users does acme really serve (500 seats)? About 2 minutes:
    bin/forewarn capacity acme

  First results arrive within one interval (30 s); Ctrl-C stops both.

MSG
"$bin" run --config checks.yaml
