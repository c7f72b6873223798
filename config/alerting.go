package config

import (
	"io"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/forewarn/forewarn/notify/webhook"
	"github.com/prometheus/common/model"
	"gopkg.in/yaml.v3"
)

// Store is where history, cases and the notification outbox are kept.
type Store struct {
	// DSN is "sqlite:PATH" (a relative PATH is next to checks.yaml) or a
	// postgres:// URL. Default: sqlite:forewarn.db.
	DSN          string
	RawRetention time.Duration // raw results; default 48h
}

// Cases tunes when a tenant's failures become a support case.
type Cases struct {
	FailureThreshold int           // consecutive failures that open a case; default 3
	SuccessThreshold int           // consecutive successes that resolve a cause; default 2
	MinDuration      time.Duration // a case stays open at least this long; default 5m
	ReopenWindow     time.Duration // a case failing again within this is reopened; default 1h
	CapacityFraction float64       // a knee below seats × this opens a capacity case; default 1.0
	CertWarning      time.Duration // a certificate expiring within this opens a case; default 14d
	Maintenance      []Maintenance
}

// Maintenance is a time when no case opens, for one tenant (or all when
// Tenant is empty) and one check (or all).
type Maintenance struct {
	Tenant, Check string
	Start, End    time.Time
	Reason        string
	tenantAt      loc
}

// Notify is where cases are sent.
type Notify struct {
	Slack    *Slack
	Webhooks []Webhook
	// Links, templates over the tenant ({{ .Tenant.ID }}), put into every
	// case: the tenant's Grafana dashboard and status page.
	GrafanaURL, StatusPageURL string
	grafana, statusPage       *tmpl
}

// Slack posts one thread per case.
type Slack struct {
	Token   string // a bot token (xoxb-…): a secret
	Channel string // the default channel; a tenant's slack_channel wins
	APIURL  string // default Slack's; set for a local fake server
}

// Webhook posts signed case events to a URL.
type Webhook struct {
	Name    string
	URL     string
	Secrets []string // whsec_…, several while rotating: secrets
}

var (
	storeKeys       = []string{"dsn", "raw_retention"}
	casesKeys       = []string{"failure_threshold", "success_threshold", "min_duration", "reopen_window", "capacity_fraction", "cert_warning", "maintenance"}
	maintenanceKeys = []string{"tenant", "check", "start", "end", "reason"}
	notifyKeys      = []string{"slack", "webhooks", "links"}
	slackKeys       = []string{"token", "channel", "api_url"}
	webhookKeys     = []string{"name", "url", "secrets"}
	linkKeys        = []string{"grafana", "status_page"}
)

func (d *decoder) decodeStore(n *yaml.Node, baseDir string) Store {
	s := Store{DSN: "sqlite:" + filepath.Join(baseDir, "forewarn.db"), RawRetention: 48 * time.Hour}
	m := d.fields(n, "store", "store", storeKeys)
	if v := d.scalar(m["dsn"], "store.dsn", "a DSN"); v != nil {
		switch dsn := v.Value; {
		case strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://"):
			s.DSN = dsn
		case strings.HasPrefix(dsn, "sqlite:"):
			p := strings.TrimPrefix(dsn, "sqlite:")
			if p == "" {
				d.errorf(v, "store.dsn", "sqlite: needs a path, e.g. sqlite:forewarn.db")
				break
			}
			if !filepath.IsAbs(p) && !strings.HasPrefix(p, "//") {
				p = filepath.Join(baseDir, p)
			}
			s.DSN = "sqlite:" + p
		default:
			d.errorf(v, "store.dsn", "unknown DSN %q: want sqlite:PATH or postgres://user:password@host/db", redactDSN(dsn))
		}
	}
	if v, ok := d.duration(m["raw_retention"], "store.raw_retention"); ok {
		if v < time.Hour {
			d.errorf(m["raw_retention"], "store.raw_retention", "must be at least 1h, got %s", model.Duration(v))
		} else {
			s.RawRetention = v
		}
	}
	return s
}

// redactDSN hides a password in a DSN shown in an error.
func redactDSN(dsn string) string {
	if u, err := url.Parse(dsn); err == nil && u.User != nil {
		return u.Redacted()
	}
	return dsn
}

func (d *decoder) decodeCases(n *yaml.Node) Cases {
	c := Cases{FailureThreshold: 3, SuccessThreshold: 2, MinDuration: 5 * time.Minute, ReopenWindow: time.Hour,
		CapacityFraction: 1, CertWarning: 14 * 24 * time.Hour}
	m := d.fields(n, "cases", "cases", casesKeys)
	c.FailureThreshold = d.integer(m["failure_threshold"], "cases.failure_threshold", c.FailureThreshold, 1)
	c.SuccessThreshold = d.integer(m["success_threshold"], "cases.success_threshold", c.SuccessThreshold, 1)
	for key, p := range map[string]*time.Duration{"min_duration": &c.MinDuration, "reopen_window": &c.ReopenWindow, "cert_warning": &c.CertWarning} {
		if v, ok := d.duration(m[key], "cases."+key); ok {
			if v < 0 {
				d.errorf(m[key], "cases."+key, "must not be negative")
			} else {
				*p = v
			}
		}
	}
	if v := value(m["capacity_fraction"]); v != nil {
		f := d.number(v, "cases.capacity_fraction")
		if f <= 0 || f > 10 {
			d.errorf(v, "cases.capacity_fraction", "must be above 0 (1.0: a knee below the seats opens a case)")
		} else {
			c.CapacityFraction = f
		}
	}
	if value(m["maintenance"]) != nil {
		items, _ := d.nonEmptyList(m["maintenance"], "cases.maintenance", "window")
		for i, item := range items {
			f := index("cases.maintenance", i)
			mm := d.fields(item, f, "maintenance window", maintenanceKeys)
			if mm == nil || !d.required(item, mm, f, "start", "end") {
				continue
			}
			w := Maintenance{Tenant: d.str(mm["tenant"], join(f, "tenant")), Check: d.str(mm["check"], join(f, "check")),
				Reason: d.str(mm["reason"], join(f, "reason")), tenantAt: at(value(mm["tenant"]), join(f, "tenant"))}
			var ok1, ok2 bool
			w.Start, ok1 = d.timestamp(mm["start"], join(f, "start"))
			w.End, ok2 = d.timestamp(mm["end"], join(f, "end"))
			if ok1 && ok2 && !w.End.After(w.Start) {
				d.errorf(mm["end"], join(f, "end"), "end %s is not after start %s", w.End.Format(time.RFC3339), w.Start.Format(time.RFC3339))
				continue
			}
			if ok1 && ok2 {
				c.Maintenance = append(c.Maintenance, w)
			}
		}
	}
	return c
}

func (d *decoder) timestamp(n *yaml.Node, field string) (time.Time, bool) {
	v := d.scalar(n, field, "a time")
	if v == nil {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339, v.Value)
	if err != nil {
		d.errorf(v, field, "invalid time %q: want RFC 3339, like 2026-11-24T02:00:00Z", v.Value)
		return time.Time{}, false
	}
	return t.UTC(), true
}

// decodeNotify reads the notifiers; their secrets are resolved like vars'
// and redacted everywhere.
func (d *decoder) decodeNotify(n *yaml.Node, src secretSource) (Notify, []string) {
	var nt Notify
	var secrets []string
	m := d.fields(n, "notify", "notify", notifyKeys)
	secret := func(n *yaml.Node, field string) string {
		v, s, _ := d.varValue(n, field, src)
		secrets = append(secrets, s...)
		return v
	}
	if sn := value(m["slack"]); sn != nil {
		sm := d.fields(sn, "notify.slack", "slack", slackKeys)
		if sm != nil && d.required(sn, sm, "notify.slack", "token", "channel") {
			s := &Slack{Token: secret(sm["token"], "notify.slack.token"), Channel: d.str(sm["channel"], "notify.slack.channel")}
			if v := value(sm["api_url"]); v != nil {
				s.APIURL = d.httpURL(v, "notify.slack.api_url")
			}
			nt.Slack = s
		}
	}
	if value(m["webhooks"]) != nil {
		items, _ := d.nonEmptyList(m["webhooks"], "notify.webhooks", "webhook")
		names := uniqueNames{what: "webhook name"}
		for i, item := range items {
			f := index("notify.webhooks", i)
			wm := d.fields(item, f, "webhook", webhookKeys)
			if wm == nil || !d.required(item, wm, f, "name", "url", "secrets") {
				continue
			}
			w := Webhook{Name: d.slug(wm["name"], join(f, "name")), URL: d.httpURL(wm["url"], join(f, "url"))}
			names.first(d, w.Name, at(value(wm["name"]), join(f, "name")))
			sl := value(wm["secrets"])
			if sl.Kind != yaml.SequenceNode {
				sl = &yaml.Node{Kind: yaml.SequenceNode, Content: []*yaml.Node{sl}}
			}
			for j, sv := range sl.Content {
				sf := index(join(f, "secrets"), j)
				s := secret(sv, sf)
				if s != "" {
					if err := webhook.CheckSecret(s); err != nil {
						d.errorf(sv, sf, "%v; forewarn notify new-secret makes one", err)
					}
				}
				w.Secrets = append(w.Secrets, s)
			}
			nt.Webhooks = append(nt.Webhooks, w)
		}
	}
	lm := d.fields(m["links"], "notify.links", "links", linkKeys)
	nt.grafana = d.template(lm["grafana"], "notify.links.grafana")
	nt.statusPage = d.template(lm["status_page"], "notify.links.status_page")
	if nt.grafana != nil {
		nt.GrafanaURL = nt.grafana.text
	}
	if nt.statusPage != nil {
		nt.StatusPageURL = nt.statusPage.text
	}
	return nt, secrets
}

// checkMaintenance reports a window naming a tenant the file does not
// have: it would silently never apply.
func (d *decoder) checkMaintenance(c Cases, tenants []*tenantDef) {
	for _, w := range c.Maintenance {
		if w.Tenant == "" || slices.ContainsFunc(tenants, func(t *tenantDef) bool { return t.ID == w.Tenant }) {
			continue
		}
		d.add(w.tenantAt, "no tenant %q: a maintenance window names a tenant id, or none for all tenants", w.Tenant)
	}
}

// checkLinks runs the link templates for every tenant, so a bad field
// (.Tenant.Nmae) is a load error, not a missing link in a case.
func (d *decoder) checkLinks(n Notify, tenants []*tenantDef) {
	for _, t := range []*tmpl{n.grafana, n.statusPage} {
		if t == nil || t.t == nil || t.bad {
			continue
		}
		for _, tn := range tenants {
			if err := t.t.Execute(io.Discard, tmplData{Tenant: tn.Tenant}); err != nil {
				d.add(t.at, "invalid template: %s", templateMsg(err, t.at.field))
				t.bad = true
				break
			}
		}
	}
}

// httpURL reads an absolute http(s) URL.
func (d *decoder) httpURL(n *yaml.Node, field string) string {
	v := d.scalar(n, field, "a URL")
	if v == nil {
		return ""
	}
	u, err := url.Parse(v.Value)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		d.errorf(v, field, "invalid URL %q: want http:// or https:// and a host", v.Value)
		return ""
	}
	return v.Value
}

// NotifierNames lists the configured notifiers as the outbox names them.
func (n Notify) NotifierNames() []string {
	var out []string
	if n.Slack != nil {
		out = append(out, "slack")
	}
	for _, w := range n.Webhooks {
		out = append(out, "webhook:"+w.Name)
	}
	return slices.Clip(out)
}

// Links are the tenant's Grafana dashboard and status page links, the
// notify.links templates expanded for it; empty when not configured.
func (n Notify) Links(t Tenant) (grafana, statusPage string) {
	return execLink(n.grafana, t), execLink(n.statusPage, t)
}

func execLink(t *tmpl, tenant Tenant) string {
	switch {
	case t == nil || t.bad:
		return ""
	case t.t == nil:
		return t.text
	}
	var b strings.Builder
	if err := t.t.Execute(&b, tmplData{Tenant: tenant}); err != nil {
		return ""
	}
	return b.String()
}

// StatusPage configures the status pages forewarn run serves on its
// listener: a public one at / and a private one per tenant at /t/{token}.
type StatusPage struct {
	Title   string
	BaseURL string // where readers reach the pages; links in cases and feeds
	// Secret derives each tenant's private token; empty: one is generated
	// and kept in the store. A secret.
	Secret string
	// AdminToken enables the incident admin API (bearer); empty: disabled.
	// A secret.
	AdminToken       string
	AdminAllowRemote bool
	CacheTTL         time.Duration
	// Components maps check names to capabilities ("-" hides a check).
	Components map[string]string
	// Tokens are tenants' configured private tokens (secrets), by id;
	// Generations rotate derived ones.
	Tokens      map[string]string
	Generations map[string]int
}

var statusPageKeys = []string{"title", "base_url", "secret", "admin_token", "admin_allow_remote", "cache_ttl",
	"components", "tokens", "generations"}

func (d *decoder) decodeStatusPage(n *yaml.Node, src secretSource) (StatusPage, []string) {
	sp := StatusPage{Title: "Service status", CacheTTL: 5 * time.Second}
	var secrets []string
	m := d.fields(n, "status_page", "status_page", statusPageKeys)
	secret := func(n *yaml.Node, field string) string {
		v, s, _ := d.varValue(n, field, src)
		secrets = append(secrets, s...)
		return v
	}
	if v := d.str(m["title"], "status_page.title"); v != "" {
		sp.Title = v
	}
	if value(m["base_url"]) != nil {
		sp.BaseURL = strings.TrimRight(d.httpURL(m["base_url"], "status_page.base_url"), "/")
	}
	sp.Secret = secret(m["secret"], "status_page.secret")
	if sp.Secret != "" {
		secrets = append(secrets, sp.Secret)
		if len(sp.Secret) < 16 {
			d.errorf(m["secret"], "status_page.secret", "too short: at least 16 characters (it derives every tenant's private link)")
		}
	}
	sp.AdminToken = secret(m["admin_token"], "status_page.admin_token")
	if sp.AdminToken != "" {
		secrets = append(secrets, sp.AdminToken)
	}
	sp.AdminAllowRemote = d.boolean(m["admin_allow_remote"], "status_page.admin_allow_remote", false)
	if v, ok := d.duration(m["cache_ttl"], "status_page.cache_ttl"); ok {
		if v < time.Second || v > 5*time.Minute {
			d.errorf(m["cache_ttl"], "status_page.cache_ttl", "want 1s to 5m, got %s", model.Duration(v))
		} else {
			sp.CacheTTL = v
		}
	}
	for _, p := range d.pairs(m["components"], "status_page.components") {
		if sp.Components == nil {
			sp.Components = map[string]string{}
		}
		sp.Components[p.key] = d.str(p.v, join("status_page.components", p.key))
	}
	for _, p := range d.pairs(m["tokens"], "status_page.tokens") {
		if sp.Tokens == nil {
			sp.Tokens = map[string]string{}
		}
		sp.Tokens[p.key] = secret(p.v, join("status_page.tokens", p.key))
	}
	for _, p := range d.pairs(m["generations"], "status_page.generations") {
		if sp.Generations == nil {
			sp.Generations = map[string]int{}
		}
		sp.Generations[p.key] = d.integer(p.v, join("status_page.generations", p.key), 0, 0)
	}
	return sp, secrets
}
