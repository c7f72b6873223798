package monitor

import (
	"bytes"
	"context"
	"crypto/sha256"
	"os"
	"time"

	"github.com/forewarn/forewarn/config"
	"github.com/forewarn/forewarn/probes"
)

// watch reloads the configuration on each reload request and whenever the
// file's content changes. Polling a hash every few seconds costs nothing at
// this size and, unlike inotify, survives editors that replace the file and
// Kubernetes ConfigMap symlink swaps.
//
// last is the hash of the file as it was loaded.
func (m *Monitor) watch(ctx context.Context, last []byte) {
	interval := m.o.WatchInterval
	if interval == 0 {
		interval = DefaultWatchInterval
	}
	var tick <-chan time.Time
	if interval > 0 {
		t := time.NewTicker(interval)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-m.o.Reload:
			m.reload("signal")
			last = fileHash(m.o.ConfigPath)
		case <-tick:
			if h := fileHash(m.o.ConfigPath); h != nil && !bytes.Equal(h, last) {
				last = h
				m.reload("file changed")
			}
		}
	}
}

// reload loads the file again. An invalid file keeps the running plan; the
// errors go to the log and forewarn_config_last_reload_successful drops to 0.
func (m *Monitor) reload(why string) {
	cfg, err := config.Load(m.o.ConfigPath)
	if err != nil {
		m.exporter.ConfigReloaded(false, time.Now())
		m.log.Error("reload failed; the previous plan keeps running", "why", why, "config", m.o.ConfigPath, "error", err.Error())
		return
	}
	warn(m.log, cfg)
	m.setLoad(cfg) // before the new targets run
	// Export the old and the new targets while jobs change, so the first
	// result of a new target, which can come before Apply returns, is kept.
	m.exporter.SetPlan(append(m.sched.Targets(), cfg.Targets...))
	err = m.sched.Apply(cfg.Targets)
	scheduled := m.sched.Targets()
	m.exporter.SetPlan(scheduled) // what runs now, even if Apply failed halfway
	m.pruneStates(scheduled)
	if err != nil {
		m.exporter.ConfigReloaded(false, time.Now())
		m.log.Error("reload failed while scheduling; some changes were not applied", "error", err)
		return
	}
	m.exporter.ConfigReloaded(true, time.Now())
	m.cases.apply(cfg)
	m.mu.Lock()
	old := m.cfg
	m.cfg = cfg
	m.mu.Unlock()
	m.warnNotifyChange(old, cfg)
	m.pages.apply(cfg.StatusPage)
	if cfg.Store.DSN != old.Store.DSN {
		m.log.Warn("store.dsn: changed in the config; restart forewarn to move the history", "using", old.Store.DSN)
	}
	if cfg.Listen != old.Listen && m.o.Listen == "" {
		m.log.Warn("listen: changed in the config; restart forewarn to move the listener", "listening", old.Listen, "configured", cfg.Listen)
	}
	m.log.Info("configuration reloaded", "why", why, "tenants", len(cfg.Tenants), "targets", len(cfg.Targets))
}

func fileHash(path string) []byte {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	h := sha256.Sum256(b)
	return h[:]
}

// pruneStates forgets the last state of targets no longer scheduled.
func (m *Monitor) pruneStates(scheduled []probes.Target) {
	keep := make(map[string]bool, len(scheduled))
	for _, t := range scheduled {
		keep[t.Key()] = true
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for k := range m.states {
		if !keep[k] {
			delete(m.states, k)
		}
	}
}
