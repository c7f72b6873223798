package monitor

import (
	"fmt"
	"log/slog"
	"slices"

	"github.com/forewarn/forewarn/config"
	"github.com/forewarn/forewarn/notify"
	"github.com/forewarn/forewarn/notify/slack"
	"github.com/forewarn/forewarn/notify/webhook"
	"github.com/forewarn/forewarn/store"
)

// Notifiers builds the notifiers cfg configures, in the order
// Notify.NotifierNames lists them. Slack keeps its threads in st.
func Notifiers(cfg *config.Config, st *store.Store, log *slog.Logger) ([]notify.Notifier, error) {
	var out []notify.Notifier
	if s := cfg.Notify.Slack; s != nil {
		n, err := slack.New(slack.Options{Token: s.Token, APIURL: s.APIURL, DefaultChannel: s.Channel, State: st, Logger: log})
		if err != nil {
			return nil, fmt.Errorf("notify.slack: %s", cfg.Redact(err.Error()))
		}
		out = append(out, n)
	}
	for _, w := range cfg.Notify.Webhooks {
		n, err := webhook.New(webhook.Options{Name: w.Name, URL: w.URL, Secrets: w.Secrets})
		if err != nil {
			return nil, fmt.Errorf("notify.webhooks %s: %s", w.Name, cfg.Redact(err.Error()))
		}
		out = append(out, n)
	}
	return out, nil
}

// startDispatcher delivers the outbox to the configured notifiers.
func (m *Monitor) startDispatcher(cfg *config.Config) error {
	ns, err := Notifiers(cfg, m.store, m.log)
	if err != nil {
		return err
	}
	d, err := notify.NewDispatcher(m.store, ns, notify.DispatcherOptions{Metrics: m.exporter, Logger: m.log})
	if err != nil {
		return err
	}
	m.dispatcher = d
	d.Start()
	return nil
}

// warnNotifyChange tells that notifiers changed in a reload take a
// restart: the running ones keep delivering.
func (m *Monitor) warnNotifyChange(old, cfg *config.Config) {
	if !slices.Equal(old.Notify.NotifierNames(), cfg.Notify.NotifierNames()) {
		m.log.Warn("notify: notifiers changed in the config; restart forewarn to use them (cases keep being queued for them)",
			"running", old.Notify.NotifierNames(), "configured", cfg.Notify.NotifierNames())
	}
}
