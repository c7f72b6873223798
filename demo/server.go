package demo

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Default listen addresses.
const (
	DefaultTenants   = 20
	DefaultListen    = "127.0.0.1:8081"
	DefaultTLSListen = "127.0.0.1:8443"
)

// Options configure a Server. Zero values take the defaults.
type Options struct {
	Tenants   int    // number of tenants, 1 to MaxTenants (default 20)
	Listen    string // HTTP address: tenants and the admin API (default 127.0.0.1:8081)
	TLSListen string // HTTPS address: tenants by SNI (default 127.0.0.1:8443)
	// Password is every tenant's synthetic-user password and OAuth2 client
	// secret (forewarn demo reads it from PasswordEnv). Empty means
	// DefaultPassword, which is public: New logs a warning.
	Password string
	// Passwords gives some tenants a password of their own, by tenant id,
	// as a vendor holds one customer's credentials apart (forewarn demo
	// reads them from PasswordEnv + "_" + the id in capitals, dashes as
	// underscores: FOREWARN_DEMO_PASSWORD_ACME).
	Passwords map[string]string
	// Capacities override tenants' capacities (Tenant.Capacity), by tenant
	// id: the concurrent users each serves, 0 for unlimited.
	Capacities map[string]int
	// HookSecret verifies the case webhooks the demo receives at
	// POST /hooks/forewarn (default DefaultHookSecret; forewarn demo reads
	// HookSecretEnv).
	HookSecret string
	Logger     *slog.Logger
}

// Server is the simulated SaaS. Create it with New, then either Start it or
// mount Handler (and TLSConfig) on servers of your own.
type Server struct {
	opts    Options
	log     *slog.Logger
	list    []Tenant
	order   []*tenantApp          // in list order
	tenants map[string]*tenantApp // immutable after New: lock-free lookups
	noSNI   leafCache
	handler http.Handler

	// ctx is every request's base context; Shutdown cancels it so that slow
	// faults stop waiting.
	ctx    context.Context
	cancel context.CancelFunc

	hooks *hookInbox // case webhooks received

	// faultMu keeps a tenant's stored fault and its gate's capacity in
	// step when SetFault and ClearFault race.
	faultMu sync.Mutex

	mu               sync.Mutex
	httpLn, tlsLn    net.Listener
	httpSrv, tlsSrv  *http.Server
	started, stopped bool
}

// New builds a Server with o.Tenants tenants (Tenants(n)). It does not listen.
func New(o Options) (*Server, error) {
	if o.Tenants == 0 {
		o.Tenants = DefaultTenants
	}
	if o.Tenants < 1 || o.Tenants > MaxTenants {
		return nil, fmt.Errorf("demo: %d tenants: want 1 to %d", o.Tenants, MaxTenants)
	}
	if o.Listen == "" {
		o.Listen = DefaultListen
	}
	if o.TLSListen == "" {
		o.TLSListen = DefaultTLSListen
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Password == "" {
		o.Password = DefaultPassword
		o.Logger.Warn("demo sign-in uses the public default password; set "+PasswordEnv+" to choose one",
			"default", DefaultPassword)
	}
	s := &Server{
		opts:    o,
		log:     o.Logger,
		list:    Tenants(o.Tenants),
		tenants: make(map[string]*tenantApp, o.Tenants),
		noSNI:   leafCache{name: "demo.forewarn.test"},
	}
	if err := applyCapacities(s.list, o.Capacities); err != nil {
		return nil, err
	}
	hooks, err := newHookInbox(o.HookSecret)
	if err != nil {
		return nil, err
	}
	s.hooks = hooks
	s.order = make([]*tenantApp, len(s.list))
	for i, t := range s.list {
		s.order[i] = newTenantApp(t, cmp.Or(o.Passwords[t.ID], o.Password))
		s.tenants[t.ID] = s.order[i]
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())

	mux := http.NewServeMux()
	routeTenants(mux, s.tenants)
	s.routeAdmin(mux)
	s.handler = mux
	return s, nil
}

// applyCapacities sets the capacities of Options.Capacities on tenants.
func applyCapacities(tenants []Tenant, capacities map[string]int) error {
	left := len(capacities)
	for i := range tenants {
		if c, ok := capacities[tenants[i].ID]; ok {
			if c < 0 || c > MaxCapacity {
				return fmt.Errorf("demo: capacity of %s: %d: want 0 (unlimited) to %d", tenants[i].ID, c, MaxCapacity)
			}
			tenants[i].Capacity = c
			left--
		}
	}
	if left > 0 {
		for id := range capacities {
			if !slices.ContainsFunc(tenants, func(t Tenant) bool { return t.ID == id }) {
				return fmt.Errorf("demo: capacity of %q: %w", id, ErrUnknownTenant)
			}
		}
	}
	return nil
}

// Handler serves tenants under /t/{id}/ and the admin API under /admin/; for
// httptest, with TLSConfig for an HTTPS one.
func (s *Server) Handler() http.Handler { return s.handler }

// Tenants returns the served tenants, in order.
func (s *Server) Tenants() []Tenant { return append([]Tenant(nil), s.list...) }

// Start binds both listeners and serves them in the background. It returns
// once both are bound, so URL and TLSURL are then usable (port 0 picks one).
func (s *Server) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started || s.stopped {
		return errors.New("demo: Start after Start or Shutdown")
	}
	httpLn, err := listen(s.opts.Listen, "--listen")
	if err != nil {
		return err
	}
	tlsLn, err := listen(s.opts.TLSListen, "--tls-listen")
	if err != nil {
		httpLn.Close()
		return err
	}
	s.started = true
	s.httpLn, s.tlsLn = httpLn, tlsLn
	s.httpSrv, s.tlsSrv = s.newHTTPServer(), s.newHTTPServer()
	go s.serve(s.httpSrv, httpLn)
	go s.serve(s.tlsSrv, tls.NewListener(tlsLn, s.TLSConfig()))
	s.log.Info("demo SaaS listening", "http", s.URL(), "https", s.TLSURL(), "tenants", len(s.list))
	for _, ln := range []net.Listener{httpLn, tlsLn} {
		if ip := ln.Addr().(*net.TCPAddr).IP; !ip.IsLoopback() {
			s.log.Warn("demo listens beyond loopback; its CA key is public", "addr", ln.Addr().String())
		}
	}
	return nil
}

// listen binds addr. A taken port, the usual failure, gets an error that
// names the way out: flag is the "forewarn demo" option setting addr.
func listen(addr, flag string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if errors.Is(err, syscall.EADDRINUSE) {
		return nil, fmt.Errorf("demo: listen %s: %w (is another demo running? choose another with %s)",
			addr, syscall.EADDRINUSE, flag)
	}
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	return ln, nil
}

func (s *Server) newHTTPServer() *http.Server {
	return &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		BaseContext:       func(net.Listener) context.Context { return s.ctx },
		// Failed handshakes are expected (expired_tls): keep them at debug.
		ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
}

func (s *Server) serve(srv *http.Server, ln net.Listener) {
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		s.log.Error("demo server stopped", "addr", ln.Addr().String(), "err", err)
	}
}

// URL is the HTTP base, e.g. "http://127.0.0.1:8081": tenants are at
// URL()+"/t/{id}" and the admin API at URL()+"/admin/". Valid after Start.
func (s *Server) URL() string { return baseURL("http", s.httpLn) }

// TLSURL is the HTTPS base, e.g. "https://127.0.0.1:8443". Valid after Start.
func (s *Server) TLSURL() string { return baseURL("https", s.tlsLn) }

func baseURL(scheme string, ln net.Listener) string {
	if ln == nil {
		return ""
	}
	return scheme + "://" + ln.Addr().String()
}

// Shutdown stops both listeners, ends pending slow faults and waits for
// in-flight requests until ctx is done.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cancel()
	if !s.started || s.stopped {
		s.stopped = true
		return nil
	}
	s.stopped = true
	return errors.Join(s.httpSrv.Shutdown(ctx), s.tlsSrv.Shutdown(ctx))
}

// TenantPasswordEnv is the environment variable holding tenant id's own
// password: FOREWARN_DEMO_PASSWORD_ACME for acme, _DUNDER_MIFFLIN for
// dunder-mifflin.
func TenantPasswordEnv(id string) string {
	return PasswordEnv + "_" + strings.ToUpper(strings.ReplaceAll(id, "-", "_"))
}

// PasswordsFromEnv collects the per-tenant passwords set in environ (as
// os.Environ gives it) for the tenants of the first n.
func PasswordsFromEnv(environ []string, n int) map[string]string {
	byVar := map[string]string{}
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok && v != "" && strings.HasPrefix(k, PasswordEnv+"_") {
			byVar[k] = v
		}
	}
	out := map[string]string{}
	if len(byVar) == 0 {
		return out
	}
	for _, t := range Tenants(n) {
		if v, ok := byVar[TenantPasswordEnv(t.ID)]; ok {
			out[t.ID] = v
		}
	}
	return out
}
