// Package monitor is the running forewarn: it loads checks.yaml, schedules
// the plan, hands every result to the exporter, serves the HTTP listener and
// reloads the configuration on SIGHUP or when the file changes.
package monitor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/forewarn/forewarn/config"
	"github.com/forewarn/forewarn/metrics"
	"github.com/forewarn/forewarn/probes"
	"github.com/forewarn/forewarn/scheduler"
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
	cfg, err := config.Load(o.ConfigPath)
	if err != nil {
		return err
	}
	warn(o.Logger, cfg)
	m := &Monitor{o: o, log: o.Logger, exporter: metrics.New(o.Build), cfg: cfg, states: map[string]bool{}}
	m.sched, err = scheduler.New(scheduler.Options{
		MaxInFlight: o.MaxInFlight, OnResult: m.onResult, Hooks: m.exporter, Logger: o.Logger,
	})
	if err != nil {
		return err
	}
	m.exporter.SetPlan(cfg.Targets)
	if err := m.sched.Apply(cfg.Targets); err != nil {
		return err
	}
	m.exporter.ConfigReloaded(true, time.Now())

	listen := cmp(o.Listen, cfg.Listen)
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return fmt.Errorf("listening on %s: %w (another forewarn running? choose another with --listen or listen: in %s)", listen, err, o.ConfigPath)
	}
	srv := &http.Server{Handler: m.routes(), ReadHeaderTimeout: 10 * time.Second}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()

	m.sched.Start()
	m.ready.Store(true)
	m.log.Info("forewarn running", "config", o.ConfigPath, "tenants", len(cfg.Tenants),
		"checks", len(cfg.Checks), "targets", len(cfg.Targets), "listen", "http://"+ln.Addr().String())
	if o.Ready != nil {
		o.Ready(ln.Addr().String())
	}

	go m.watch(ctx)
	select {
	case <-ctx.Done():
	case err = <-serveErr:
		err = fmt.Errorf("HTTP listener: %w", err)
	}
	return errors.Join(err, m.shutdown(srv))
}

func (m *Monitor) shutdown(srv *http.Server) error {
	m.ready.Store(false)
	m.log.Info("shutting down: canceling probes in flight")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	errSched := m.sched.Shutdown(ctx)
	errSrv := srv.Shutdown(ctx)
	if errors.Is(errSrv, http.ErrServerClosed) {
		errSrv = nil
	}
	return errors.Join(errSched, errSrv)
}

// onResult hands a result on. Transitions are logged; every result is
// logged at debug level only, since 10,000 tenants give hundreds a second.
func (m *Monitor) onResult(r probes.Result) {
	m.exporter.ObserveResult(r)
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

func cmp(override, fallback string) string {
	if override != "" {
		return override
	}
	return fallback
}
