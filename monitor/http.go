package monitor

import (
	"fmt"
	"net/http"
	"net/http/pprof"
)

// routes is the one HTTP listener: /metrics, health endpoints, profiles
// and the status pages.
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
	mux.Handle("/", m.pages) // the status pages: public at /, private at /t/{token}
	// Profiling, as Prometheus serves it: the listener is on loopback by
	// default, and a profile is how a slow monitor gets explained.
	mux.HandleFunc("GET /debug/pprof/", pprof.Index)
	mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	return mux
}
