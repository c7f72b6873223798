package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// The admin API, on the HTTP listener:
//
//	PUT    /admin/tenants/{id}/fault   body: a Fault as JSON → 200 and the fault with defaults
//	DELETE /admin/tenants/{id}/fault   → 204
//	GET    /admin/faults               → 200 {"acme":{"mode":"slow","delay":"500ms"}, …}
//	GET    /admin/tenants/{id}/load    → 200 LoadStats as JSON
//	DELETE /admin/tenants/{id}/load    → 204, the load counters zeroed
//
// Errors are {"error":"…"}: 400 for a bad fault, 404 for an unknown tenant.
func (s *Server) routeAdmin(mux *http.ServeMux) {
	mux.HandleFunc("PUT /admin/tenants/{id}/fault", s.putFault)
	mux.HandleFunc("DELETE /admin/tenants/{id}/fault", s.deleteFault)
	mux.HandleFunc("GET /admin/faults", s.listFaults)
	mux.HandleFunc("GET /admin/tenants/{id}/load", s.getLoad)
	mux.HandleFunc("DELETE /admin/tenants/{id}/load", s.deleteLoad)
	mux.HandleFunc("POST /hooks/forewarn", s.receiveHook)
	mux.HandleFunc("GET /admin/hooks", s.listHooks)
}

const maxAdminBody = 64 << 10

func (s *Server) putFault(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if s.tenants[id] == nil {
		writeError(w, http.StatusNotFound, fmt.Errorf("%w %q", ErrUnknownTenant, id))
		return
	}
	var f Fault
	var perr *faultParamError
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxAdminBody))
	if err := dec.Decode(&f); errors.Is(err, io.EOF) {
		writeError(w, http.StatusBadRequest, errors.New(`missing fault: send JSON like {"mode":"slow","delay":"500ms"}`))
		return
	} else if errors.As(err, &perr) {
		writeError(w, http.StatusBadRequest, perr)
		return
	} else if err != nil {
		writeError(w, http.StatusBadRequest, fmt.Errorf("invalid fault JSON: %w", err))
		return
	}
	if dec.More() {
		writeError(w, http.StatusBadRequest, errors.New("invalid fault JSON: data after the object"))
		return
	}
	// Answer with what SetFault stored, not a reload: a concurrent DELETE or
	// PUT may already have replaced it.
	f, err := s.SetFault(id, f)
	if err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	writeJSON(w, http.StatusOK, f)
}

func (s *Server) deleteFault(w http.ResponseWriter, r *http.Request) {
	if err := s.ClearFault(r.PathValue("id")); err != nil {
		writeError(w, http.StatusNotFound, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) listFaults(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, s.Faults())
}

func (s *Server) getLoad(w http.ResponseWriter, r *http.Request) {
	st, err := s.Load(r.PathValue("id"))
	if err != nil {
		writeError(w, http.StatusNotFound, err)
		return
	}
	writeJSON(w, http.StatusOK, st)
}

func (s *Server) deleteLoad(w http.ResponseWriter, r *http.Request) {
	if err := s.ResetLoad(r.PathValue("id")); err != nil {
		writeError(w, http.StatusNotFound, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

type errorBody struct {
	Error string `json:"error"`
}

func writeError(w http.ResponseWriter, code int, err error) {
	writeJSON(w, code, errorBody{err.Error()})
}

// adminClient serves the *Remote functions. Its timeout bounds every call,
// so "forewarn demo fault" cannot hang on a demo that accepts but never answers.
var adminClient = &http.Client{Timeout: 10 * time.Second}

// SetFaultRemote sets a fault on tenant id of a running demo whose HTTP base
// is adminBaseURL (Server.URL, e.g. "http://127.0.0.1:8081").
func SetFaultRemote(ctx context.Context, adminBaseURL, id string, f Fault) error {
	body, err := json.Marshal(f)
	if err != nil {
		return err
	}
	return adminCall(ctx, http.MethodPut, adminBaseURL, faultPath(id), body, nil)
}

// ClearFaultRemote clears tenant id's fault on a running demo.
func ClearFaultRemote(ctx context.Context, adminBaseURL, id string) error {
	return adminCall(ctx, http.MethodDelete, adminBaseURL, faultPath(id), nil, nil)
}

// FaultsRemote lists the active faults of a running demo by tenant id.
func FaultsRemote(ctx context.Context, adminBaseURL string) (map[string]Fault, error) {
	var out map[string]Fault
	err := adminCall(ctx, http.MethodGet, adminBaseURL, "/admin/faults", nil, &out)
	return out, err
}

// LoadRemote returns tenant id's load counters from a running demo.
func LoadRemote(ctx context.Context, adminBaseURL, id string) (LoadStats, error) {
	var st LoadStats
	err := adminCall(ctx, http.MethodGet, adminBaseURL, loadPath(id), nil, &st)
	return st, err
}

// ResetLoadRemote zeroes tenant id's load counters on a running demo.
func ResetLoadRemote(ctx context.Context, adminBaseURL, id string) error {
	return adminCall(ctx, http.MethodDelete, adminBaseURL, loadPath(id), nil, nil)
}

func faultPath(id string) string {
	return "/admin/tenants/" + url.PathEscape(id) + "/fault"
}

func loadPath(id string) string {
	return "/admin/tenants/" + url.PathEscape(id) + "/load"
}

// adminCall sends one admin request to base+path and decodes a 2xx JSON
// answer into out (when not nil); any other status becomes an error carrying
// the server's message.
func adminCall(ctx context.Context, method, base, path string, body []byte, out any) error {
	base = strings.TrimRight(base, "/")
	u := base + path
	req, err := http.NewRequestWithContext(ctx, method, u, bytes.NewReader(body))
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := adminClient.Do(req)
	if err != nil {
		// A failed dial almost always means the demo is not running (or runs
		// elsewhere): say so rather than print a bare "connection refused".
		var dial *net.OpError
		if errors.As(err, &dial) && dial.Op == "dial" {
			return fmt.Errorf("cannot reach the demo at %s (is \"forewarn demo\" running?): %w", base, dial)
		}
		return fmt.Errorf("demo admin: %w", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxAdminBody))
	if err != nil {
		return fmt.Errorf("demo admin: %s %s: %w", method, u, err)
	}
	if resp.StatusCode/100 != 2 {
		var e errorBody
		if json.Unmarshal(data, &e) != nil || e.Error == "" {
			e.Error = strings.TrimSpace(string(data))
		}
		return fmt.Errorf("demo admin: %s %s: %s: %s", method, u, resp.Status, e.Error)
	}
	if out != nil {
		return json.Unmarshal(data, out)
	}
	return nil
}
