package monitor

import (
	"fmt"
	"net/http"
	"net/http/pprof"
)

// routes is the one HTTP listener: /metrics, health endpoints and, later,
// the status page.
func (m *Monitor) routes() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.exporter.Handler())
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if !m.ready.Load() {
			http.Error(w, "not ready: starting or shutting down", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ready")
	})
	mux.HandleFunc("GET /{$}", m.index)
	// Profiling, as Prometheus serves it: the listener is on loopback by
	// default, and a profile is how a slow monitor gets explained.
	mux.HandleFunc("GET /debug/pprof/", pprof.Index)
	mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	return mux
}

func (m *Monitor) index(w http.ResponseWriter, r *http.Request) {
	m.mu.Lock()
	cfg := m.cfg
	m.mu.Unlock()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprintf(w, "forewarn — %d tenants, %d targets from %s\n\n", len(cfg.Tenants), len(cfg.Targets), m.o.ConfigPath)
	fmt.Fprintln(w, "/metrics   Prometheus metrics (probe_success{tenant,check,kind} …)")
	fmt.Fprintln(w, "/healthz   liveness")
	fmt.Fprintln(w, "/readyz    readiness: the plan is scheduled")
}
