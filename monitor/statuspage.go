package monitor

import (
	"net/http"
	"sync/atomic"

	"github.com/forewarn/forewarn/config"
	"github.com/forewarn/forewarn/statuspage"
)

// statusPages serves the status pages at / on the listener. Their
// settings are fixed per Server, so a reload that changes status_page:
// builds a new one and swaps it in; tenants, checks and maintenance are
// read from the running config on every build.
type statusPages struct {
	m   *Monitor
	cur atomic.Pointer[statuspage.Server]
	cfg atomic.Pointer[config.StatusPage]
}

// NewStatusPage builds the status page server cfg describes over the
// monitor's store and running config.
func (m *Monitor) newStatusPage(sp config.StatusPage) (*statuspage.Server, error) {
	var secret []byte
	if sp.Secret != "" {
		secret = []byte(sp.Secret)
	}
	return statuspage.New(statuspage.Options{
		Store:       m.store,
		Tenants:     func() []config.Tenant { return m.config().Tenants },
		Checks:      func() []config.Check { return m.config().Checks },
		Maintenance: func() []config.Maintenance { return m.config().Cases.Maintenance },
		Secret:      secret, Tokens: sp.Tokens, Generations: sp.Generations,
		Title: sp.Title, BaseURL: sp.BaseURL,
		Components: statuspage.Components{Checks: sp.Components},
		AdminToken: sp.AdminToken, AdminAllowRemote: sp.AdminAllowRemote,
		CacheTTL: sp.CacheTTL, Logger: m.log,
	})
}

func (m *Monitor) config() *config.Config {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.cfg
}

func (p *statusPages) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.cur.Load().Handler().ServeHTTP(w, r)
}

// apply swaps in a server for a changed status_page: section.
func (p *statusPages) apply(sp config.StatusPage) {
	if old := p.cfg.Load(); old != nil && sameStatusPage(*old, sp) {
		return
	}
	s, err := p.m.newStatusPage(sp)
	if err != nil {
		p.m.log.Error("status_page: not applied; the previous settings stay", "error", err)
		return
	}
	s.Warm()
	prev := p.cur.Swap(s)
	p.cfg.Store(&sp)
	if prev != nil {
		go prev.Close()
	}
}

func sameStatusPage(a, b config.StatusPage) bool {
	return a.Title == b.Title && a.BaseURL == b.BaseURL && a.Secret == b.Secret && a.AdminToken == b.AdminToken &&
		a.AdminAllowRemote == b.AdminAllowRemote && a.CacheTTL == b.CacheTTL && mapsEqual(a.Components, b.Components) &&
		mapsEqual(a.Tokens, b.Tokens) && mapsEqual(a.Generations, b.Generations)
}

func mapsEqual[V comparable](a, b map[string]V) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// link is a tenant's private page, when status_page.base_url says where
// readers reach the pages.
func (p *statusPages) link(tenant string) string {
	sp := p.cfg.Load()
	if sp == nil || sp.BaseURL == "" {
		return ""
	}
	return sp.BaseURL + "/t/" + p.cur.Load().TenantToken(tenant)
}

// close waits for the server's builds in flight.
func (p *statusPages) close() {
	if s := p.cur.Load(); s != nil {
		s.Close()
	}
}
