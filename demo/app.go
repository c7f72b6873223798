package demo

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync/atomic"
	"time"
)

// Version is the application version the demo tenants report.
const Version = "2025.6.1-demo"

// tenantApp is one tenant's application: its description, its state and its
// handlers. Per-tenant features (sign-in, sessions, the capacity model) keep
// their state here and add routes to tenantRoutes and steps to the
// middleware chain. An idle tenant's state stays a few hundred bytes: the
// demo serves up to MaxTenants of them.
type tenantApp struct {
	Tenant
	base     string // "/t/{id}": the path prefix of its routes and cookies
	creds    credentials
	sessions sessionStore
	gate     gate // capacity slots, holding Tenant.Capacity unless a fault overrides it
	load     loadCounters
	fault    atomic.Pointer[activeFault]
	leaf     leafCache
}

// newTenantApp builds tenant t whose synthetic user and OAuth2 client sign
// in with password.
func newTenantApp(t Tenant, password string) *tenantApp {
	a := &tenantApp{Tenant: t, base: "/t/" + t.ID, creds: newCredentials(t.ID, password),
		leaf: leafCache{name: ServerName(t.ID)}}
	a.gate.limit.Store(int64(t.Capacity))
	return a
}

// tenantHandler serves one request for a tenant the server has already
// resolved from the path.
type tenantHandler func(a *tenantApp, w http.ResponseWriter, r *http.Request)

// middleware wraps every tenant route, outermost first.
type middleware func(tenantHandler) tenantHandler

var tenantMiddleware = []middleware{countLoad, applyFault}

// tenantRoutes are a tenant's endpoints relative to its base URL /t/{id}.
// The catch-all makes faults apply to every path, known or not. Requests
// with a session hold a capacity slot (gateSessions), but on the routes
// that handle slots themselves (ownGate): sign-in takes one for the new
// session, sign-out frees one and never waits.
var tenantRoutes = []struct {
	method, path string
	h            tenantHandler
	ownGate      bool
}{
	{"GET", "/health", (*tenantApp).health, false},
	{"GET", "/api/status", (*tenantApp).status, false},
	{"GET", "/api/items", (*tenantApp).items, false},
	// Sign-in, three ways (signin.go, oauth.go), and who is signed in.
	{"GET", "/login", (*tenantApp).loginPage, false},
	{"POST", "/login", signInEndpoint(false, (*tenantApp).submitLogin), true},
	{"GET", "/home", (*tenantApp).home, false},
	{"POST", "/logout", (*tenantApp).logout, true},
	{"POST", "/api/session", signInEndpoint(true, (*tenantApp).createSession), true},
	{"DELETE", "/api/session", (*tenantApp).deleteSession, true},
	{"POST", "/oauth/token", signInEndpoint(true, (*tenantApp).oauthToken), true},
	{"GET", "/api/me", (*tenantApp).me, false},
	{"", "/", (*tenantApp).notFound, false},
}

// routeTenants registers tenantRoutes under /t/{id} on mux, each wrapped in
// the middleware and resolving the tenant with one read of an immutable map.
func routeTenants(mux *http.ServeMux, tenants map[string]*tenantApp) {
	for _, rt := range tenantRoutes {
		h := rt.h
		if !rt.ownGate {
			h = gateSessions(h)
		}
		for i := len(tenantMiddleware) - 1; i >= 0; i-- {
			h = tenantMiddleware[i](h)
		}
		pattern := strings.TrimSpace(rt.method + " /t/{id}" + rt.path)
		mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			a := tenants[r.PathValue("id")]
			if a == nil {
				http.Error(w, "unknown tenant", http.StatusNotFound)
				return
			}
			h(a, w, r)
		})
	}
}

// degraded reports whether the tenant's fault makes it answer "degraded".
func (a *tenantApp) degraded() bool {
	f := a.fault.Load()
	return f != nil && f.spec.degraded
}

var (
	bodyOK       = []byte("ok\n")
	bodyDegraded = []byte("degraded\n")
)

func (a *tenantApp) health(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if a.degraded() {
		w.Write(bodyDegraded)
		return
	}
	w.Write(bodyOK)
}

type statusBody struct {
	Status  string `json:"status"`
	Tenant  string `json:"tenant"`
	Version string `json:"version"`
	Items   int    `json:"items"`
	Time    string `json:"time"`
}

func (a *tenantApp) status(w http.ResponseWriter, _ *http.Request) {
	b := statusBody{Status: "ok", Tenant: a.ID, Version: Version, Items: len(demoItems),
		Time: time.Now().UTC().Format(time.RFC3339)}
	if a.degraded() {
		b.Status = "down"
	}
	writeJSON(w, http.StatusOK, b)
}

type item struct {
	ID     int    `json:"id"`
	Name   string `json:"name"`
	Status string `json:"status"`
}

var demoItems = []item{
	{1, "Quarterly report", "open"},
	{2, "Renewal contract", "pending"},
	{3, "Onboarding checklist", "done"},
}

func (a *tenantApp) items(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, struct {
		Tenant string `json:"tenant"`
		Items  []item `json:"items"`
	}{a.ID, demoItems})
}

func (a *tenantApp) notFound(w http.ResponseWriter, r *http.Request) {
	http.NotFound(w, r)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}
