package statuspage

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/forewarn/forewarn/config"
	"github.com/forewarn/forewarn/store"
)

// Store is what the status page reads from forewarn's history store, plus
// the state blobs where it keeps incident publications. *store.Store has
// all of it.
type Store interface {
	SeriesRollups(ctx context.Context, p store.Period, sel store.Selector, from, to time.Time) ([]store.Rollup, error)
	AggregateRollups(ctx context.Context, p store.Period, sel store.Selector, from, to time.Time) ([]store.Rollup, error)
	OpenCases(ctx context.Context) ([]store.CaseRecord, error)
	RecentCases(ctx context.Context, limit int) ([]store.CaseRecord, error)
	TenantCases(ctx context.Context, tenant string, limit int) ([]store.CaseRecord, error)
	Case(ctx context.Context, id string) (store.CaseRecord, error)
	CapacityHistory(ctx context.Context, tenant, check string, from, to time.Time) ([]store.CapacityRun, error)
	LoadState(ctx context.Context, key string) ([]byte, error)
	SaveState(ctx context.Context, key string, value []byte) error
}

var _ Store = (*store.Store)(nil)

// Options configure a Server. Store and Tenants are required.
type Options struct {
	Store Store
	// Tenants returns the configured tenants; it is called at most once per
	// CacheTTL, so a reloaded config shows within one interval.
	Tenants func() []config.Tenant
	// Checks, optional, returns the configured checks: their kinds map them
	// to capabilities and their tenant lists give a private page the checks
	// that have no data yet. Without it, checks are known from their data.
	Checks func() []config.Check
	// Maintenance, optional, returns the maintenance windows (cases.maintenance).
	Maintenance func() []config.Maintenance

	// Secret derives each tenant's token (see TenantToken); at least 16
	// bytes. Empty: a random secret is made once and kept in the store
	// (state "statuspage/secret"), so tokens survive restarts. Changing it
	// rotates every token.
	Secret []byte
	// Tokens are configured tokens, tenant id → token, used instead of the
	// derived one: at least 22 characters of A–Z a–z 0–9 - _ (128 bits).
	Tokens map[string]string
	// Generations rotate one tenant's derived token: tenant id → a number,
	// 0 by default; raising it invalidates the tenant's old link.
	Generations map[string]int

	// Title heads every page ("Service status").
	Title string
	// BaseURL is where the page is served from outside, such as
	// https://status.example.com: feeds link to it. Empty: feeds link with
	// root-relative paths.
	BaseURL string
	// Components says how checks become the public page's components.
	Components Components
	// GenericTitle is what the public page calls every incident a support
	// lead has not published; empty: a title by the incident's kind, such
	// as "Service disruption for some customers".
	GenericTitle string

	// AdminToken is the bearer token of the admin API under /admin/; empty
	// disables it (its paths are then 404s).
	AdminToken string
	// AdminAllowRemote serves the admin API to any client address; by
	// default only to loopback ones.
	AdminAllowRemote bool

	// CacheTTL is how long a built page model and its renderings are served
	// before the next request triggers a rebuild (5 s).
	CacheTTL time.Duration
	// MaxCases is how many recent cases the public page reads for its
	// incident history and the bars' incident counts (500).
	MaxCases int
	// Clock returns the time; time.Now by default.
	Clock  func() time.Time
	Logger *slog.Logger
}

// Defaults.
const (
	DefaultTitle    = "Service status"
	DefaultCacheTTL = 5 * time.Second
	DefaultMaxCases = 500
)

const (
	// days is how many UTC days the bars show, today included.
	days = 90
	// buildTimeout bounds one model build. The first public build at
	// 10,000 tenants reads 90 days (about 10 s on SQLite); later ones read
	// today only.
	buildTimeout = 2 * time.Minute
	// privateBuilds bounds private page builds running at once, so a crowd
	// of customers opening their pages queues here, not in the store.
	privateBuilds = 4
	// tenantCases is how many of its latest cases a private page reads.
	tenantCases = 50
)

// Server serves the status pages. Its methods are safe for concurrent use.
type Server struct {
	o      Options
	log    *slog.Logger
	secret []byte
	tokens map[string]string // configured, validated
	assets *assets

	snapMu  sync.Mutex
	snapPtr atomic.Pointer[snapshot]

	public    lazy[*publicModel]
	histMu    sync.Mutex
	hist      history
	recentOff recentOffsets
	checkMu   sync.Mutex
	seen      map[string]string // check name → kind, from rollups

	tenantMu sync.Mutex
	tenants  map[string]*tenantEntry // by tenant id + token
	swept    atomic.Int64            // unix nanoseconds of the last sweep
	sem      chan struct{}

	pubs    publications
	adminMu sync.Mutex // serializes read-modify-write of publications

	wg sync.WaitGroup // background builds

	handlerOnce sync.Once
	handler     http.Handler
	sending     chan struct{} // see send
}

// New checks the options and makes a Server. It reads the store only when
// Secret is empty, to load or create the kept secret.
func New(o Options) (*Server, error) {
	if o.Store == nil {
		return nil, errors.New("statuspage: no store")
	}
	if o.Tenants == nil {
		return nil, errors.New("statuspage: no tenants function")
	}
	o = o.withDefaults()
	if err := o.Components.check(); err != nil {
		return nil, err
	}
	tokens, err := checkTokens(o.Tokens)
	if err != nil {
		return nil, err
	}
	secret := o.Secret
	switch {
	case len(secret) == 0:
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		secret, err = keptSecret(ctx, o.Store)
		cancel()
		if err != nil {
			return nil, fmt.Errorf("statuspage: secret: %w", err)
		}
	case len(secret) < 16:
		return nil, fmt.Errorf("statuspage: the secret has %d bytes; it needs at least 16 (32 random bytes are best)", len(secret))
	}
	a, err := loadAssets(o.Title)
	if err != nil {
		return nil, err
	}
	s := &Server{o: o, log: o.Logger, secret: secret, tokens: tokens, assets: a,
		seen: map[string]string{}, tenants: map[string]*tenantEntry{}, sem: make(chan struct{}, privateBuilds),
		sending: make(chan struct{}, max(1, runtime.GOMAXPROCS(0)-1))}
	s.pubs.ttl = 30 * time.Second
	return s, nil
}

func (o Options) withDefaults() Options {
	if o.Title = strings.TrimSpace(o.Title); o.Title == "" {
		o.Title = DefaultTitle
	}
	o.GenericTitle = strings.TrimSpace(o.GenericTitle)
	if o.CacheTTL <= 0 {
		o.CacheTTL = DefaultCacheTTL
	}
	if o.MaxCases <= 0 {
		o.MaxCases = DefaultMaxCases
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Checks == nil {
		o.Checks = func() []config.Check { return nil }
	}
	if o.Maintenance == nil {
		o.Maintenance = func() []config.Maintenance { return nil }
	}
	o.BaseURL = strings.TrimRight(o.BaseURL, "/")
	return o
}

func (s *Server) now() time.Time { return s.o.Clock().UTC() }

// Handler serves the pages, the API, feeds, badges, static assets and the
// admin API. Mount it at / of the listener; every path it does not know is
// its 404 page.
func (s *Server) Handler() http.Handler {
	s.handlerOnce.Do(func() { s.handler = s.routes() })
	return s.handler
}

// routes builds the handler once: registering a route is costly (the
// mux records where each was registered), far too costly per request.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.servePublic(kindHTML))
	mux.HandleFunc("GET /api/v1/status", s.servePublic(kindJSON))
	mux.HandleFunc("GET /feed.atom", s.servePublic(kindAtom))
	mux.HandleFunc("GET /badge/{file}", s.publicBadge)
	mux.HandleFunc("GET /badge/{tenant}/{file}", s.publicTenantBadge)
	mux.HandleFunc("GET /t/{token}", s.serveTenant(kindHTML))
	mux.HandleFunc("GET /t/{token}/feed.atom", s.serveTenant(kindAtom))
	mux.HandleFunc("GET /t/{token}/badge/{file}", s.tenantBadge)
	mux.HandleFunc("GET /api/v1/tenants/{token}/status", s.serveTenant(kindJSON))
	mux.HandleFunc("GET /api/v1/schema/{file}", s.serveSchema)
	mux.HandleFunc("GET /static/{file}", s.serveStatic)
	s.adminRoutes(mux)
	mux.HandleFunc("/", s.notFound)
	return securityHeaders(mux)
}

// Warm builds the public page in the background, so the first reader does
// not wait for 90 days of history to be read. Call it once at start.
func (s *Server) Warm() {
	getLazy(s, context.Background(), &s.public, s.o.CacheTTL, s.buildPublic, true)
}

// Close waits for the builds under way, so the store can be closed after.
func (s *Server) Close() { s.wg.Wait() }

// securityHeaders go on every response. The CSP allows the stylesheet and
// the local-time script from /static and nothing else: no inline script or
// style, no frames, no forms. no-referrer keeps a private page's token out
// of the Referer of any link followed from it.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; "+
			"base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		next.ServeHTTP(w, r)
	})
}
