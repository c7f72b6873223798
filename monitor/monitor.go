// Package monitor is the running forewarn: it loads checks.yaml, schedules
// the plan, hands every result to the exporter, serves the HTTP listener and
// reloads the configuration on SIGHUP or when the file changes.
package monitor

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/forewarn/forewarn/config"
	"github.com/forewarn/forewarn/metrics"
	"github.com/forewarn/forewarn/notify"
	"github.com/forewarn/forewarn/probes"
	"github.com/forewarn/forewarn/scheduler"
	"github.com/forewarn/forewarn/store"
)

// Options configure Run.
type Options struct {
	ConfigPath string
	// Listen overrides the config's `listen:` when set.
	Listen      string
	MaxInFlight int
	// WatchInterval is how often the config file is checked for changes;
	// 0 means DefaultWatchInterval, negative disables watching (SIGHUP
	// still reloads).
	WatchInterval time.Duration
	// Reload receives a value for each reload request (SIGHUP).
	Reload <-chan struct{}
	// Ready, if set, is called with the listener's address once the plan
	// runs and the listener accepts connections.
	Ready  func(addr string)
	Build  metrics.BuildInfo
	Logger *slog.Logger
}

// DefaultWatchInterval is how often the config file is checked for changes.
const DefaultWatchInterval = 5 * time.Second

// Monitor is one running forewarn.
type Monitor struct {
	o        Options
	log      *slog.Logger
	exporter *metrics.Exporter
	sched    *scheduler.Scheduler
	ready    atomic.Bool

	// budget bounds all load runs together, across reloads.
	budget     *probes.LoadBudget
	store      *store.Store
	cases      *caseLoop
	dispatcher *notify.Dispatcher
	pages      *statusPages

	mu     sync.Mutex
	cfg    *config.Config
	states map[string]bool // last success per target key, to log changes only
}

// Run loads the configuration and runs until ctx ends. It returns the
// configuration's errors when the first load fails, and nil after a clean
// shutdown.
func Run(ctx context.Context, o Options) error {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	// Hashed before loading: an edit made while forewarn starts is then seen
	// as a change and reloaded, never taken for the loaded version.
	loaded := fileHash(o.ConfigPath)
	cfg, err := config.Load(o.ConfigPath)
	if err != nil {
		return err
	}
	warn(o.Logger, cfg)
	m := &Monitor{o: o, log: o.Logger, exporter: metrics.New(o.Build), cfg: cfg, states: map[string]bool{}}
	m.setLoad(cfg)
	m.store, err = store.OpenWith(ctx, cfg.Store.DSN, store.Options{RawRetention: cfg.Store.RawRetention,
		OnWrite: m.exporter.StoreWrite, Logger: o.Logger})
	if err != nil {
		return fmt.Errorf("history store (store.dsn in %s): %w", o.ConfigPath, err)
	}
	defer m.closeStore()
	m.pages = &statusPages{m: m}
	if s, err := m.newStatusPage(cfg.StatusPage); err != nil {
		return fmt.Errorf("status_page: %w", err)
	} else {
		s.Warm()
		m.pages.cur.Store(s)
		sp := cfg.StatusPage
		m.pages.cfg.Store(&sp)
	}
	defer m.pages.close() // before the store closes
	if err := m.startDispatcher(cfg); err != nil {
		return err
	}
	defer m.stopDispatcher()
	m.cases, err = newCaseLoop(ctx, o.Logger, m.store, cfg, m.exporter, m.dispatcher.Notify)
	if err != nil {
		return fmt.Errorf("cases: %w", err)
	}
	m.cases.statusLink = m.pages.link
	caseCtx, stopCases := context.WithCancel(context.WithoutCancel(ctx))
	casesDone := make(chan struct{})
	go func() { defer close(casesDone); m.cases.run(caseCtx) }()
	defer func() { stopCases(); <-casesDone }() // after the scheduler stopped: no result is lost
	go m.watchStore(caseCtx)
	m.sched, err = scheduler.New(scheduler.Options{
		MaxInFlight: o.MaxInFlight, OnResult: m.onResult, Hooks: m.exporter, Logger: o.Logger, Probe: m.probe,
	})
	if err != nil {
		return err
	}
	if err := m.sched.Apply(cfg.Targets); err != nil {
		return err
	}
	m.exporter.SetPlan(cfg.Targets)
	m.exporter.ConfigReloaded(true, time.Now())

	listen := cmp.Or(o.Listen, cfg.Listen)
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return listenError(listen, o.ConfigPath, err)
	}
	srv := &http.Server{
		Handler:           m.routes(),
		ReadHeaderTimeout: 10 * time.Second,
		// Long enough for a 30 s CPU profile from /debug/pprof/profile.
		WriteTimeout: 2 * time.Minute,
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()

	m.sched.Start()
	m.ready.Store(true)
	m.log.Info("forewarn running", "config", o.ConfigPath, "tenants", len(cfg.Tenants),
		"checks", len(cfg.Checks), "targets", len(cfg.Targets), "listen", "http://"+ln.Addr().String())
	if o.Ready != nil {
		o.Ready(ln.Addr().String())
	}

	watchCtx, stopWatch := context.WithCancel(ctx)
	watched := make(chan struct{})
	go func() { defer close(watched); m.watch(watchCtx, loaded) }()
	select {
	case <-ctx.Done():
	case err = <-serveErr:
		err = fmt.Errorf("HTTP listener: %w", err)
	}
	stopWatch()
	<-watched // no reload may race with the scheduler's shutdown
	return errors.Join(err, m.shutdown(srv))
}

// shutdown stops probes first, then the listener. Each has its own short
// budget: a long pprof profile or a slow scraper must not hold up the exit.
func (m *Monitor) shutdown(srv *http.Server) error {
	m.ready.Store(false)
	m.log.Info("shutting down: canceling probes in flight")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	errSched := m.sched.Shutdown(ctx)

	ctx, cancel = context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		_ = srv.Close() // requests still going after the grace period are cut
	}
	m.log.Info("stopped")
	return errSched
}

// probe runs one target: load checks the way a schedule runs them
// (jitter, windows, the shared budget), reporting to the exporter as they
// go; every other kind as probes.Run does.
func (m *Monitor) probe(ctx context.Context, t probes.Target) probes.Result {
	if t.Kind != probes.KindLoad {
		return probes.Run(ctx, t)
	}
	o := m.exporter.LoadOptions(t)
	o.Budget = m.budget
	defer m.exporter.LoadEnded(t)
	res, skipped := probes.RunScheduledLoad(ctx, t, o)
	res.Skipped = skipped
	switch {
	case skipped != "":
		m.log.Info("load run skipped", "tenant", t.Tenant, "check", t.Check, "why", skipped)
	case res.Load != nil:
		m.log.Info("load run finished", "tenant", t.Tenant, "check", t.Check,
			"ramp", fmt.Sprintf("%d→%d users", t.Load.Ramp.Start, t.Load.Ramp.Max), "knee", res.Load.Knee.Users,
			"seats", res.Load.Seats, "required", res.Load.Required, "steps", len(res.Load.Steps), "stop", res.Load.Stop,
			"duration", res.Duration.Round(time.Second))
	}
	return res
}

// setLoad applies a config's process-wide load settings: the budget and
// the tenants' seats.
func (m *Monitor) setLoad(cfg *config.Config) {
	l := cfg.Load
	if m.budget == nil {
		m.budget = probes.NewLoadBudget(l.MaxUsers, l.MaxRate, l.MaxConcurrentRuns)
	} else {
		m.budget.SetLimits(l.MaxUsers, l.MaxRate, l.MaxConcurrentRuns)
	}
	seats := map[string]int{}
	for _, t := range cfg.Tenants {
		seats[t.ID] = t.Seats
	}
	m.exporter.SetSeats(seats)
}

// stopDispatcher lets a delivery under way finish, briefly: one cut short
// is sent again after a restart.
func (m *Monitor) stopDispatcher() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := m.dispatcher.Stop(ctx); err != nil {
		m.log.Warn("notifications: a delivery was cut short; it is sent again at the next start", "error", err)
	}
}

// closeStore writes every result still buffered, within a few seconds.
func (m *Monitor) closeStore() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := m.store.Close(ctx); err != nil {
		m.log.Error("history store: not every result was written", "error", err)
	}
}

// watchStore exports what the store's writer dropped, every few seconds.
func (m *Monitor) watchStore(ctx context.Context) {
	t := time.NewTicker(5 * time.Second)
	defer t.Stop()
	var dropped uint64
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if d := m.store.Stats().Dropped; d > dropped {
				m.exporter.StoreDropped(int(d - dropped))
				m.log.Warn("history store behind: results dropped", "dropped", d-dropped)
				dropped = d
			}
		}
	}
}

func listenError(addr, config string, err error) error {
	if errors.Is(err, syscall.EADDRINUSE) {
		return fmt.Errorf("listening on %s: %w (is another forewarn running? choose another address with --listen or listen: in %s)", addr, err, config)
	}
	return fmt.Errorf("listening on %s: %w (want host:port, e.g. 127.0.0.1:8080)", addr, err)
}

// onResult hands a result on. Transitions are logged; every result is
// logged at debug level only, since 10,000 tenants give hundreds a second.
func (m *Monitor) onResult(r probes.Result) {
	m.exporter.ObserveResult(r)
	m.store.Record(r)
	m.cases.observe(r)
	key := r.Tenant + "/" + r.Check
	m.mu.Lock()
	prev, known := m.states[key]
	m.states[key] = r.Success
	m.mu.Unlock()
	switch {
	case !r.Success && (!known || prev):
		m.log.Warn("probe failing", "tenant", r.Tenant, "check", r.Check, "reason", r.Reason, "error", r.Message)
	case r.Success && known && !prev:
		m.log.Info("probe recovered", "tenant", r.Tenant, "check", r.Check, "duration", r.Duration.Round(time.Microsecond))
	default:
		m.log.Debug("probe", "tenant", r.Tenant, "check", r.Check, "success", r.Success,
			"reason", r.Reason, "duration", r.Duration.Round(time.Microsecond))
	}
}

func warn(log *slog.Logger, cfg *config.Config) {
	for _, w := range cfg.Warnings {
		log.Warn("config: " + w)
	}
}
