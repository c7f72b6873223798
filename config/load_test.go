package config

import (
	"strings"
	"testing"
	"time"

	"github.com/forewarn/forewarn/probes"
)

const loadConfig = `
load: {max_users: 800, max_rate: 400}
tenants:
  - {id: acme, url: "http://acme.example", seats: 500}
  - {id: tiny, url: "http://tiny.example", seats: 10}
checks:
  - name: sign-in
    kind: login
    steps:
      - {name: page, request: {url: "{{ .Tenant.URL }}/login"}, extract: {csrf: {form_input: csrf_token}}}
      - {name: submit, request: {method: POST, url: "{{ .Tenant.URL }}/login", form: {csrf: "{{ .Extracted.csrf }}"}}}
      - {name: logout, always_run: true, request: {method: POST, url: "{{ .Tenant.URL }}/logout"}}
  - name: capacity
    kind: load
    schedule: "0 3 * * *"
    timeout: 5s
    scenario: {login: sign-in}
    actions:
      - {name: items, request: {url: "{{ .Tenant.URL }}/api/items"}, expect: {status: [200]}}
      - {name: me, request: {url: "{{ .Tenant.URL }}/api/me", headers: {X-CSRF: "{{ .Extracted.csrf }}"}}}
    think_time: 500ms
    think_jitter: 100ms
    ramp: {start: 10%, step: 10%, max: 120%, step_duration: 20s, warm_up: 5s}
    slo: {p95: 800ms, error_ratio: 2%}
    limits: {max_users: 700, max_rate: 300, max_duration: 15m}
    required: 80%
    windows: [{cron: "0 1 * * *", duration: 4h}]
    jitter: 10m
`

func TestLoadCheckExpands(t *testing.T) {
	cfg, err := Parse("checks.yaml", []byte(loadConfig), ".", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Load != (LoadLimits{MaxUsers: 800, MaxRate: 400, MaxConcurrentRuns: 1, MaxDuration: 30 * time.Minute}) {
		t.Errorf("load limits %+v", cfg.Load)
	}
	var acme, tiny *probes.LoadSpec
	for _, tg := range cfg.Targets {
		if tg.Check != "capacity" {
			continue
		}
		if tg.Kind != probes.KindLoad || tg.Schedule != "0 3 * * *" || tg.Timeout != 5*time.Second {
			t.Errorf("%s: kind %s schedule %q timeout %s", tg.Key(), tg.Kind, tg.Schedule, tg.Timeout)
		}
		switch tg.Tenant {
		case "acme":
			acme = tg.Load
		case "tiny":
			tiny = tg.Load
		}
	}
	if acme == nil || tiny == nil {
		t.Fatal("no load targets")
	}
	want := probes.Ramp{Start: 50, Step: 50, Max: 600, StepDuration: 20 * time.Second, WarmUp: 5 * time.Second}
	if acme.Ramp != want || acme.Required != 400 || acme.Seats != 500 {
		t.Errorf("acme ramp %+v required %d seats %d", acme.Ramp, acme.Required, acme.Seats)
	}
	if tiny.Ramp.Start != 1 || tiny.Ramp.Step != 1 || tiny.Ramp.Max != 12 || tiny.Required != 8 {
		t.Errorf("tiny ramp %+v required %d", tiny.Ramp, tiny.Required)
	}
	sc := acme.Scenario
	if sc.LoginCheck != "sign-in" || len(sc.SignIn) != 2 || len(sc.SignOut) != 1 || sc.SignOut[0].Name != "logout" {
		t.Errorf("scenario %+v", sc)
	}
	if len(acme.Actions) != 2 || acme.Actions[1].Request.Headers[0].Name != "X-CSRF" {
		t.Errorf("actions %+v", acme.Actions)
	}
	if acme.SLO != (probes.SLO{P95: 800 * time.Millisecond, ErrorRatio: 0.02}) ||
		acme.Limits != (probes.LoadLimits{MaxUsers: 700, MaxRate: 300, MaxDuration: 15 * time.Minute}) {
		t.Errorf("slo %+v limits %+v", acme.SLO, acme.Limits)
	}
	if !acme.Exclusive || acme.Model != probes.LoadClosed || acme.ThinkTime != 500*time.Millisecond ||
		acme.Jitter != 10*time.Minute || len(acme.Windows) != 1 || acme.Windows[0].Duration != 4*time.Hour {
		t.Errorf("spec %+v", acme)
	}
}

func TestLoadTokenPool(t *testing.T) {
	files := map[string]string{"tokens/acme.txt": "# acme's synthetic users\ntok-1\n\ntok-2\n"}
	cfg, err := Parse("checks.yaml", []byte(`
tenants: [{id: acme, url: "http://acme.example", seats: 20}]
checks:
  - name: capacity
    kind: load
    interval: 1d
    scenario: {tokens_file: "tokens/{{ .Tenant.ID }}.txt"}
    actions:
      - {name: me, request: {url: "{{ .Tenant.URL }}/api/me", headers: {Authorization: "Bearer {{ .Extracted.token }}"}}}
`), ".", Options{ReadFile: func(p string) ([]byte, error) {
		if s, ok := files[p]; ok {
			return []byte(s), nil
		}
		t.Fatalf("read %s", p)
		return nil, nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	tg := cfg.Targets[0]
	if got := strings.Join(tg.Load.Scenario.Tokens, ","); got != "tok-1,tok-2" {
		t.Errorf("tokens %q", got)
	}
	if got := strings.Join(tg.Secrets, ","); !strings.Contains(got, "tok-1") {
		t.Errorf("the tokens are not secrets: %q", got)
	}
	if tg.Load.Ramp.Start != 2 || tg.Load.Ramp.Max != 24 || tg.Load.Required != 20 {
		t.Errorf("default ramp %+v, required %d", tg.Load.Ramp, tg.Load.Required)
	}
}

func TestAlertingSections(t *testing.T) {
	env := map[string]string{"SLACK_TOKEN": "xoxb-secret-token", "HOOK_SECRET": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}
	cfg, err := Parse("/etc/forewarn/checks.yaml", []byte(`
store: {dsn: "sqlite:data/forewarn.db"}
cases: {failure_threshold: 2, maintenance: [{tenant: acme, start: "2026-11-24T02:00:00Z", end: "2026-11-24T04:00:00Z", reason: upgrade}]}
notify:
  slack: {token: "${SLACK_TOKEN}", channel: "#support", api_url: "http://127.0.0.1:9999/api/"}
  webhooks: [{name: tickets, url: "http://127.0.0.1:9000/hook", secrets: ["${HOOK_SECRET}"]}]
  links: {grafana: "http://127.0.0.1:3000/d/forewarn-tenant?var-tenant={{ .Tenant.ID }}"}
tenants: [{id: acme, url: "http://acme.example", seats: 20}]
checks: [{name: health, kind: http, request: {url: "{{ .Tenant.URL }}/health"}}]
`), "/etc/forewarn", Options{LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Store.DSN != "sqlite:/etc/forewarn/data/forewarn.db" || cfg.Store.RawRetention != 48*time.Hour {
		t.Errorf("store %+v", cfg.Store)
	}
	if cfg.Cases.FailureThreshold != 2 || cfg.Cases.SuccessThreshold != 2 || len(cfg.Cases.Maintenance) != 1 {
		t.Errorf("cases %+v", cfg.Cases)
	}
	if s := cfg.Notify.Slack; s == nil || s.Token != "xoxb-secret-token" || s.Channel != "#support" {
		t.Errorf("slack %+v", s)
	}
	if names := strings.Join(cfg.Notify.NotifierNames(), ","); names != "slack,webhook:tickets" {
		t.Errorf("notifiers %s", names)
	}
	if g, _ := cfg.Notify.Links(cfg.Tenants[0]); g != "http://127.0.0.1:3000/d/forewarn-tenant?var-tenant=acme" {
		t.Errorf("grafana link %q", g)
	}
	if got := cfg.Redact("token xoxb-secret-token and whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"); strings.Contains(got, "secret-token") || strings.Contains(got, "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw") {
		t.Errorf("notifier secrets not redacted: %q", got)
	}
}
