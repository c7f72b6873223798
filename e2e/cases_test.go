package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/forewarn/forewarn/demo"
	"github.com/forewarn/forewarn/internal/fakeslack"
)

// fastCases opens a case after two failures in a row and resolves a cause
// after two successes, with no minimum duration: with checks every second a
// case opens and resolves within seconds.
const fastCases = "cases: {failure_threshold: 2, success_threshold: 2, min_duration: 0s}\n"

const slackToken = "xoxb-test"

// caseChecks writes a checks.yaml probing the demo's first tenants with
// the health and api checks every second (two checks per tenant: a second
// one failing joins the first's case), then sections (cases:, notify:).
// The store is the default SQLite file next to it.
func caseChecks(t *testing.T, tenants int, demoURL, tlsURL string, sections ...string) string {
	t.Helper()
	cfg := writeChecks(t, tenants, demoURL, tlsURL, demo.CheckHealth, demo.CheckAPI)
	appendConfig(t, cfg, sections...)
	return cfg
}

func appendConfig(t *testing.T, cfg string, sections ...string) {
	t.Helper()
	f, err := os.OpenFile(cfg, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, s := range sections {
		if _, err := f.WriteString(s); err != nil {
			t.Fatal(err)
		}
	}
}

// notifyTo is the notify: section for a fake Slack (nil: none) and a fake
// webhook receiver.
func notifyTo(slack *fakeslack.Server, hooks *fakeWebhook) string {
	var b strings.Builder
	b.WriteString("notify:\n")
	if slack != nil {
		fmt.Fprintf(&b, "  slack: {token: %q, channel: \"#support\", api_url: %q}\n", slackToken, slack.URL())
	}
	fmt.Fprintf(&b, "  webhooks:\n    - {name: tickets, url: %q, secrets: [%q]}\n", hooks.url(), hooks.secret)
	return b.String()
}

// startMonitor runs `forewarn run` on cfg and returns it with its base URL.
func startMonitor(t *testing.T, cfg string) (*proc, string) {
	t.Helper()
	p := startProc(t, "run", "--config", cfg, "--listen", "127.0.0.1:0")
	return p, p.waitLog(t, "forewarn running", 20*time.Second)["listen"].(string)
}

// killMonitor ends the monitor as kill -9 would: nothing is flushed, no deferred
// function runs.
func killMonitor(t *testing.T, p *proc) {
	t.Helper()
	if err := p.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = p.cmd.Wait() // "signal: killed"; sets ProcessState, so the cleanup leaves it alone
}

// allUp holds once every one of want series of probe_success is 1.
func allUp(t *testing.T, mon string, want int) func() (bool, string) {
	return func() (bool, string) {
		s := successes(t, mon)
		for _, v := range s {
			if v != "1" {
				return false, fmt.Sprint(s)
			}
		}
		return len(s) == want, fmt.Sprint(s)
	}
}

// caseJSON is a case as `forewarn cases --json` prints it, as far as the
// tests read it.
type caseJSON struct {
	ID     string `json:"id"`
	Status string `json:"status"`
	Kind   string `json:"kind"`
	Tenant struct {
		ID string `json:"id"`
	} `json:"tenant"`
	Causes []struct {
		Check  string `json:"check"`
		Active bool   `json:"active"`
	} `json:"causes"`
	Notifications []struct {
		Notifier string `json:"notifier"`
		Seq      int    `json:"seq"`
		State    string `json:"state"`
		Attempts int    `json:"attempts"`
	} `json:"notifications"`
}

func (c caseJSON) String() string {
	var ns []string
	for _, n := range c.Notifications {
		ns = append(ns, fmt.Sprintf("%s#%d %s×%d", n.Notifier, n.Seq, n.State, n.Attempts))
	}
	return fmt.Sprintf("{%s %s %s %s [%s]}", c.ID, c.Tenant.ID, c.Status, c.Kind, strings.Join(ns, " "))
}

// listCases runs `forewarn cases --json -c cfg`, while the monitor runs
// on the same SQLite file.
func listCases(t *testing.T, cfg string) []caseJSON {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, "cases", "--json", "-c", cfg)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("forewarn cases --json: %v\n%s\n%s", err, out, stderr.String())
	}
	var cs []caseJSON
	if err := json.Unmarshal(out, &cs); err != nil {
		t.Fatalf("forewarn cases --json: %v\n%s", err, out)
	}
	return cs
}

// allDelivered holds once every notification of every case is delivered.
func allDelivered(cs []caseJSON) bool {
	for _, c := range cs {
		if len(c.Notifications) == 0 {
			return false
		}
		for _, n := range c.Notifications {
			if n.State != "delivered" {
				return false
			}
		}
	}
	return true
}

// seqOf is the sequence number at the end of an event id ("acme-…Z:3").
func seqOf(id string) int {
	n, err := strconv.Atoi(id[strings.LastIndex(id, ":")+1:])
	if err != nil {
		return -1
	}
	return n
}

// checkSigned: every request the receiver got carries a valid Standard
// Webhooks signature and its webhook-id is the event's id.
func checkSigned(t *testing.T, hooks *fakeWebhook) {
	t.Helper()
	for _, h := range hooks.all() {
		if h.VerifyErr != nil {
			t.Errorf("webhook %s (%s): signature does not verify: %v", h.ID, h.Event.Type, h.VerifyErr)
		}
		if h.ID == "" || h.ID != h.Event.ID {
			t.Errorf("webhook-id %q, event id %q: want the same", h.ID, h.Event.ID)
		}
		if h.Event.Version != "1" {
			t.Errorf("webhook %s: version %q, want 1", h.ID, h.Event.Version)
		}
	}
}

// checkHookOrder: the delivered events of caseID came in order, a repeat
// (at-least-once) only ever of the event just delivered; opened first and
// resolved last. It returns the events' types, first delivery each.
func checkHookOrder(t *testing.T, hooks *fakeWebhook, caseID string) []string {
	t.Helper()
	var types []string
	last := 0
	for _, h := range hooks.delivered() {
		if h.Event.Case.ID != caseID {
			t.Errorf("webhook %s: case %q, want %q:%s", h.ID, h.Event.Case.ID, caseID, hooks.summary())
			continue
		}
		seq := seqOf(h.ID)
		switch {
		case seq == last: // a repeat
		case seq == last+1:
			types = append(types, h.Event.Type)
			last = seq
		default:
			t.Errorf("webhook: event %s delivered after seq %d: out of order or a gap:%s", h.ID, last, hooks.summary())
		}
		if h.Event.Case.Seq != seq {
			t.Errorf("webhook %s: case.seq %d, want %d", h.ID, h.Event.Case.Seq, seq)
		}
	}
	if len(types) < 2 || types[0] != "case.opened" || types[len(types)-1] != "case.resolved" {
		t.Errorf("webhook events %v: want case.opened first and case.resolved last", types)
	}
	return types
}

// slackThread checks that Slack holds exactly one thread, caseID's, with
// its root posted for the opened event and its replies in order, one per
// later event; it returns the root and the replies.
func slackThread(t *testing.T, slack *fakeslack.Server, caseID string) (fakeslack.Msg, []fakeslack.Msg) {
	t.Helper()
	roots := slack.Roots()
	if len(roots) != 1 {
		t.Fatalf("%d Slack root messages, want 1 (one thread per case): %s", len(roots), slack.Summary())
	}
	root := roots[0]
	if root.CaseID() != caseID || root.EventID() != caseID+":1" {
		t.Errorf("root message for case %q event %q, want case %q event %s:1", root.CaseID(), root.EventID(), caseID, caseID)
	}
	if root.Channel != "C0SUPPORT1" {
		t.Errorf("root posted to %s, want #support (C0SUPPORT1)", root.Channel)
	}
	replies := slack.Replies(root.TS)
	if n := len(slack.Messages()); n != 1+len(replies) {
		t.Errorf("%d Slack messages, %d of them replies in the case's thread: every update must be a reply: %s",
			n, len(replies), slack.Summary())
	}
	seen := map[string]bool{}
	last := 1
	for _, m := range replies {
		if m.CaseID() != caseID || seen[m.EventID()] || seqOf(m.EventID()) <= last {
			t.Errorf("reply for event %q after seq %d: want each later event of %s once, in order: %s",
				m.EventID(), last, caseID, slack.Summary())
		}
		seen[m.EventID()] = true
		last = max(last, seqOf(m.EventID()))
	}
	tokens := fmt.Sprint(slack.Tokens())
	if tokens != "map["+slackToken+":true]" {
		t.Errorf("tokens seen by Slack: %s, want only %s", tokens, slackToken)
	}
	return root, replies
}

func hookTypes(hs []received) map[string]int {
	out := map[string]int{}
	for _, h := range hs {
		out[h.Event.Type]++
	}
	return out
}

// TestOutageOpensOneCaseInSlackAndWebhook: one tenant goes down (both its
// checks fail) → one case: one Slack thread in #support and one signed
// case.opened webhook; the second check joins it as a reply; when the
// tenant recovers, a resolved reply, the root edited to say so and a
// case.resolved webhook. The other tenants get nothing.
func TestOutageOpensOneCaseInSlackAndWebhook(t *testing.T) {
	t.Parallel()
	_, demoURL, tlsURL := startDemo(t, 3)
	slack, hooks := newFakeSlack(t), newFakeWebhook(t)
	cfg := caseChecks(t, 3, demoURL, tlsURL, fastCases, notifyTo(slack, hooks))
	_, mon := startMonitor(t, cfg)
	eventually(t, 30*time.Second, "every tenant up", allUp(t, mon, 3*2))

	fault(t, demoURL, "acme", demo.Fault{Mode: demo.ModeDown})
	var caseID string
	eventually(t, 45*time.Second, "case.opened and case.cause_added delivered to the webhook", func() (bool, string) {
		n := hookTypes(hooks.delivered())
		if ds := hooks.delivered(); len(ds) > 0 {
			caseID = ds[0].Event.Case.ID
		}
		return n["case.opened"] >= 1 && n["case.cause_added"] >= 1, hooks.summary()
	})
	eventually(t, 45*time.Second, "the cause_added reply in acme's Slack thread", func() (bool, string) {
		for _, m := range slack.Messages() {
			if m.ThreadTS != "" && strings.Contains(m.Text, "joined the case") {
				return true, ""
			}
		}
		return false, slack.Summary()
	})
	if !strings.HasPrefix(caseID, "acme-") {
		t.Fatalf("case %q: want one of acme's", caseID)
	}
	_, body := get(t, mon+"/metrics")
	if v := metricValue(body, `forewarn_case_open{kind="outage",severity="critical",tenant="acme"}`); v != "1" {
		t.Errorf("forewarn_case_open for acme's open case = %q, want 1:\n%s", v, grepLines(body, "forewarn_case"))
	}

	clearFault(t, demoURL, "acme")
	eventually(t, 45*time.Second, "case.resolved delivered to the webhook", func() (bool, string) {
		return hookTypes(hooks.delivered())["case.resolved"] >= 1, hooks.summary()
	})
	eventually(t, 45*time.Second, "resolved reply in the thread and the root edited", func() (bool, string) {
		roots := slack.Roots()
		if len(roots) != 1 || !strings.Contains(roots[0].Text, "Resolved after") {
			return false, slack.Summary()
		}
		for _, m := range slack.Replies(roots[0].TS) {
			if strings.Contains(m.Text, "Resolved after") {
				return true, ""
			}
		}
		return false, slack.Summary()
	})
	var cs []caseJSON
	eventually(t, 30*time.Second, "forewarn cases: every notification delivered", func() (bool, string) {
		cs = listCases(t, cfg)
		return allDelivered(cs), fmt.Sprint(cs)
	})

	// Slack: one thread, every change a reply, the root edited by chat.update.
	root, replies := slackThread(t, slack, caseID)
	if root.Updates == 0 || !strings.Contains(root.Text, "Resolved after") || !strings.Contains(root.Text, "Acme Corp (acme)") {
		t.Errorf("root after resolution: %d updates, text %q; want it edited to say resolved, with the duration and the tenant",
			root.Updates, root.Text)
	}
	// Webhook: signed, one case.opened, one case.resolved, in order, acme only.
	checkSigned(t, hooks)
	types := checkHookOrder(t, hooks, caseID)
	n := hookTypes(hooks.delivered())
	if n["case.opened"] != 1 || n["case.resolved"] != 1 {
		t.Errorf("webhook deliveries by type %v: want exactly one case.opened and one case.resolved", n)
	}
	for _, h := range hooks.all() {
		if h.Event.Tenant.ID != "acme" || h.Event.Tenant.Name != "Acme Corp" || h.Event.Case.Tenant.ID != "acme" {
			t.Errorf("webhook %s about tenant %+v: only acme is down", h.ID, h.Event.Tenant)
		}
	}
	if len(replies) != len(types)-1 {
		t.Errorf("%d replies in the thread for %d events after the opening %v", len(replies), len(types)-1, types)
	}
	// The store: one case, acme's, resolved; the other tenants none.
	if len(cs) != 1 || cs[0].ID != caseID || cs[0].Tenant.ID != "acme" || cs[0].Status != "resolved" || cs[0].Kind != "outage" {
		t.Errorf("forewarn cases --json: %v; want only %s, acme's outage, resolved", cs, caseID)
	}
	// Metrics: one outage opened, none open now.
	_, body = get(t, mon+"/metrics")
	if v := metricValue(body, `forewarn_cases_opened_total{kind="outage"}`); v != "1" {
		t.Errorf(`forewarn_cases_opened_total{kind="outage"} = %q, want 1`, v)
	}
	if open := grepLines(body, "forewarn_case_open{"); open != "" {
		t.Errorf("forewarn_case_open after the case resolved:\n%s", open)
	}
}

// TestCrashBetweenCaseChangeAndDelivery: the case change is saved with its
// notifications, Slack and the webhook answer 500, forewarn is killed
// (kill -9) and started again with the same store once they are healthy:
// the case is delivered then, once to Slack and under the same webhook-id
// every time, and it is not opened a second time.
func TestCrashBetweenCaseChangeAndDelivery(t *testing.T) {
	t.Parallel()
	_, demoURL, tlsURL := startDemo(t, 2)
	slack, hooks := newFakeSlack(t), newFakeWebhook(t)
	slack.SetMode(fakeslack.ServerError)
	hooks.setMode(mode500)
	cfg := caseChecks(t, 2, demoURL, tlsURL, fastCases, notifyTo(slack, hooks))
	p, mon := startMonitor(t, cfg)
	eventually(t, 30*time.Second, "every tenant up", allUp(t, mon, 2*2))

	fault(t, demoURL, "acme", demo.Fault{Mode: demo.ModeDown})
	caseID, _ := p.waitLog(t, "case opened", 45*time.Second)["case"].(string)
	eventually(t, 30*time.Second, "a failed attempt at Slack and at the webhook", func() (bool, string) {
		return slack.Failures() > 0 && len(hooks.all()) > 0, slack.Summary() + hooks.summary()
	})
	killMonitor(t, p)
	if len(slack.Messages()) != 0 || len(hooks.delivered()) != 0 {
		t.Fatalf("delivered while Slack and the webhook failed: %s%s", slack.Summary(), hooks.summary())
	}

	slack.SetMode(fakeslack.Healthy)
	hooks.setMode(modeHealthy)
	p2, mon2 := startMonitor(t, cfg)
	if l := p2.waitLog(t, "case state restored", time.Second); l["open_cases"] != float64(1) {
		t.Errorf("after the restart: %v, want the open case restored", l)
	}
	eventually(t, 60*time.Second, "case.opened delivered to Slack and the webhook after the restart", func() (bool, string) {
		return len(slack.Roots()) >= 1 && hookTypes(hooks.delivered())["case.opened"] >= 1, slack.Summary() + hooks.summary()
	})
	clearFault(t, demoURL, "acme")
	eventually(t, 60*time.Second, "case.resolved delivered to Slack and the webhook", func() (bool, string) {
		roots := slack.Roots()
		return len(roots) >= 1 && strings.Contains(roots[0].Text, "Resolved after") &&
			hookTypes(hooks.delivered())["case.resolved"] >= 1, slack.Summary() + hooks.summary()
	})
	var cs []caseJSON
	eventually(t, 30*time.Second, "forewarn cases: every notification delivered", func() (bool, string) {
		cs = listCases(t, cfg)
		return allDelivered(cs), fmt.Sprint(cs)
	})

	slackThread(t, slack, caseID)
	checkSigned(t, hooks)
	checkHookOrder(t, hooks, caseID)
	var before, after int
	for _, h := range hooks.all() {
		if h.Event.Type != "case.opened" {
			continue
		}
		if h.ID != caseID+":1" {
			t.Errorf("case.opened sent with webhook-id %q, want %s:1 every time", h.ID, caseID)
		}
		if h.ok() {
			after++
		} else {
			before++
		}
	}
	if before == 0 || after == 0 {
		t.Errorf("case.opened: %d failed attempts before the crash, %d deliveries after; want both:%s", before, after, hooks.summary())
	}
	if len(cs) != 1 || cs[0].ID != caseID || cs[0].Status != "resolved" {
		t.Errorf("forewarn cases --json: %v; want one case, %s, resolved", cs, caseID)
	}
	_, body := get(t, mon2+"/metrics")
	if v := metricValue(body, "forewarn_cases_opened_total"); v != "" {
		t.Errorf("the restarted forewarn opened a case: forewarn_cases_opened_total %s", v)
	}
}

// TestCrashAfterSlackPostBeforeItIsRecorded: Slack takes the root message
// but forewarn is killed before the answer arrives. After the restart the
// notifier finds its message by its metadata and adopts it: still one
// thread, and the case's later events are replies in it.
func TestCrashAfterSlackPostBeforeItIsRecorded(t *testing.T) {
	t.Parallel()
	_, demoURL, tlsURL := startDemo(t, 2)
	slack, hooks := newFakeSlack(t), newFakeWebhook(t)
	cfg := caseChecks(t, 2, demoURL, tlsURL, fastCases, notifyTo(slack, hooks))
	p, mon := startMonitor(t, cfg)
	eventually(t, 30*time.Second, "every tenant up", allUp(t, mon, 2*2))

	posted := slack.HoldNextPost()
	fault(t, demoURL, "acme", demo.Fault{Mode: demo.ModeDown})
	var held fakeslack.Msg
	select {
	case held = <-posted:
	case <-time.After(45 * time.Second):
		t.Fatalf("no root message posted: %s", slack.Summary())
	}
	killMonitor(t, p)
	slack.Release()

	p2, _ := startMonitor(t, cfg)
	p2.waitLog(t, "adopted a root message posted before a crash or an error", 60*time.Second)
	clearFault(t, demoURL, "acme")
	eventually(t, 60*time.Second, "the resolved reply in the thread", func() (bool, string) {
		roots := slack.Roots()
		if len(roots) != 1 {
			return false, slack.Summary()
		}
		for _, m := range slack.Replies(roots[0].TS) {
			if strings.Contains(m.Text, "Resolved after") {
				return true, ""
			}
		}
		return false, slack.Summary()
	})
	root, _ := slackThread(t, slack, held.CaseID())
	if root.TS != held.TS || !strings.Contains(root.Text, "Resolved after") {
		t.Errorf("root %s %q, want the message posted before the crash (%s), edited to say resolved", root.TS, root.Text, held.TS)
	}
	checkSigned(t, hooks)
}

// TestSlackDownThenBack: Slack hangs up and the webhook answers 500 while a
// case opens, gains a cause and resolves; once both are back, everything is
// delivered, in order. notify's unit tests cover the backoff's 5-minute cap
// with a fake clock; this runs a short outage on a real clock.
func TestSlackDownThenBack(t *testing.T) {
	t.Parallel()
	slackDownThenBack(t, 20*time.Second, 4*time.Minute)
}

// TestSlackDownFiveMinutesThenBack is the issue's "Slack down for 5
// minutes": retries back off to their 5-minute cap, so it takes up to about
// 11 minutes.
func TestSlackDownFiveMinutesThenBack(t *testing.T) {
	if os.Getenv("FOREWARN_E2E_LONG") != "1" {
		t.Skip("a 5-minute outage, up to 11 minutes in all: run with FOREWARN_E2E_LONG=1 " +
			"go test ./e2e -run TestSlackDownFiveMinutesThenBack -timeout 20m")
	}
	t.Parallel()
	slackDownThenBack(t, 5*time.Minute, 6*time.Minute)
}

// slackDownThenBack runs the outage, then waits within for every delivery.
// The first notification of the case has been retried all along: its last
// failed attempt waits a random time up to its backoff ceiling, 2ⁿ⁻¹ s
// after the nth attempt, capped at 5 minutes. After a 20 s outage that
// wait is about 15 s at the median for the slower of Slack and the
// webhook, 60 s at the 99th percentile, and rarely up to the cap.
func slackDownThenBack(t *testing.T, outage, within time.Duration) {
	_, demoURL, tlsURL := startDemo(t, 2)
	slack, hooks := newFakeSlack(t), newFakeWebhook(t)
	slack.SetMode(fakeslack.HangUp)
	hooks.setMode(mode500)
	cfg := caseChecks(t, 2, demoURL, tlsURL, fastCases, notifyTo(slack, hooks))
	p, mon := startMonitor(t, cfg)
	eventually(t, 30*time.Second, "every tenant up", allUp(t, mon, 2*2))

	began := time.Now()
	fault(t, demoURL, "acme", demo.Fault{Mode: demo.ModeDown})
	caseID, _ := p.waitLog(t, "case opened", 45*time.Second)["case"].(string)
	p.waitLog(t, "case cause_added", 45*time.Second)
	clearFault(t, demoURL, "acme")
	p.waitLog(t, "case resolved", 45*time.Second)
	time.Sleep(time.Until(began.Add(outage)))

	if len(slack.Messages()) != 0 || len(hooks.delivered()) != 0 || slack.Failures() == 0 || len(hooks.all()) == 0 {
		t.Fatalf("during the outage: want attempts, all failed:\nSlack %s\nwebhook:%s", slack.Summary(), hooks.summary())
	}
	cs := listCases(t, cfg)
	if len(cs) != 1 || cs[0].Status != "resolved" || allDelivered(cs) {
		t.Fatalf("forewarn cases --json during the outage: %v; want the resolved case, its notifications waiting", cs)
	}
	waiting := len(cs[0].Notifications)

	slack.SetMode(fakeslack.Healthy)
	hooks.setMode(modeHealthy)
	back := time.Now()
	eventually(t, within, "case.resolved delivered to Slack and the webhook after the outage", func() (bool, string) {
		roots := slack.Roots()
		return len(roots) == 1 && strings.Contains(roots[0].Text, "Resolved after") &&
			hookTypes(hooks.delivered())["case.resolved"] >= 1, slack.Summary() + hooks.summary()
	})
	eventually(t, 30*time.Second, "forewarn cases: every notification delivered", func() (bool, string) {
		cs = listCases(t, cfg)
		return allDelivered(cs), fmt.Sprint(cs)
	})
	t.Logf("outage %s, %d notifications delivered %s after Slack and the webhook came back",
		outage, waiting, time.Since(back).Round(100*time.Millisecond))

	root, replies := slackThread(t, slack, caseID)
	if !strings.Contains(root.Text, "Resolved after") || len(replies) == 0 ||
		!strings.Contains(replies[len(replies)-1].Text, "Resolved after") {
		t.Errorf("Slack after the outage: want the root edited to resolved and the resolved reply last: %s", slack.Summary())
	}
	checkSigned(t, hooks)
	types := checkHookOrder(t, hooks, caseID)
	if len(types) < 3 || len(replies) != len(types)-1 {
		t.Errorf("webhook events %v, %d Slack replies: want opened, cause_added, …, resolved at both", types, len(replies))
	}
}

// flapper answers its requests by a pattern that repeats: F fails (500),
// O answers 200 ok.
type flapper struct {
	pattern string
	mu      sync.Mutex
	n       int
	fails   int
}

func (f *flapper) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	f.mu.Lock()
	c := f.pattern[f.n%len(f.pattern)]
	f.n++
	if c == 'F' {
		f.fails++
	}
	f.mu.Unlock()
	if c == 'F' {
		http.Error(w, "flapping", http.StatusInternalServerError)
		return
	}
	_, _ = w.Write([]byte("ok"))
}

func (f *flapper) requests() (n, fails int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.n, f.fails
}

// startFlapping runs forewarn on one tenant whose health answers by
// pattern, with cases (default thresholds when "") and a webhook.
func startFlapping(t *testing.T, pattern, cases string) (*flapper, *fakeWebhook, string, string) {
	t.Helper()
	flap := &flapper{pattern: pattern}
	srv := httptest.NewServer(flap)
	t.Cleanup(srv.Close)
	hooks := newFakeWebhook(t)
	cfg := writeConfig(t, fmt.Sprintf(`defaults: {interval: 1s, timeout: 1s}
tenants:
  - {id: flappy, name: Flappy Inc, url: %q, plan: business}
checks:
  - name: health
    kind: http
    request: {url: "{{ .Tenant.URL }}/health"}
    expect: {status: [200]}
%s%s`, srv.URL, cases, notifyTo(nil, hooks)))
	_, mon := startMonitor(t, cfg)
	return flap, hooks, cfg, mon
}

// TestFlappingTenantOpensAtMostOneCase: a check failing every other run
// never reaches the default threshold of 3 failures in a row: no case. One
// failing twice in a row between single successes, with thresholds of 2,
// opens one case, which a single success never resolves: one case however
// long it flaps.
func TestFlappingTenantOpensAtMostOneCase(t *testing.T) {
	t.Parallel()
	t.Run("fail-ok/default-thresholds", func(t *testing.T) {
		t.Parallel()
		flap, hooks, cfg, mon := startFlapping(t, "FO", "")
		eventually(t, 60*time.Second, "12 runs", func() (bool, string) {
			n, fails := flap.requests()
			return n >= 12, fmt.Sprintf("%d runs, %d failed", n, fails)
		})
		if cs := listCases(t, cfg); len(cs) != 0 {
			// Only a run failing for another reason (a 1 s timeout on an
			// overloaded machine) can make three failures in a row.
			_, body := get(t, mon+"/metrics")
			t.Errorf("forewarn cases --json: %v; want no case; failures:\n%s", cs, grepLines(body, `probe_failures_total{check="health"`))
		}
		if got := hooks.all(); len(got) != 0 {
			t.Errorf("webhooks sent:%s", hooks.summary())
		}
		_, body := get(t, mon+"/metrics")
		if v := metricValue(body, `probe_failures_total{check="health",kind="http",reason="status",tenant="flappy"}`); v == "" || v == "0" {
			t.Errorf("flappy's failures not counted: %q\n%s", v, grepLines(body, "probe_failures_total"))
		}
		if v := metricValue(body, "forewarn_cases_opened_total"); v != "" {
			t.Errorf("forewarn_cases_opened_total %s, want none", v)
		}
	})
	t.Run("fail-fail-ok/thresholds-2", func(t *testing.T) {
		t.Parallel()
		flap, hooks, cfg, mon := startFlapping(t, "FFO", fastCases)
		eventually(t, 60*time.Second, "15 runs", func() (bool, string) {
			n, fails := flap.requests()
			return n >= 15, fmt.Sprintf("%d runs, %d failed", n, fails)
		})
		eventually(t, 30*time.Second, "the case's notification delivered", func() (bool, string) {
			return len(hooks.delivered()) >= 1, hooks.summary()
		})
		cs := listCases(t, cfg)
		if len(cs) != 1 || cs[0].Tenant.ID != "flappy" || cs[0].Status != "open" {
			t.Errorf("forewarn cases --json: %v; want one case, open", cs)
		}
		checkSigned(t, hooks)
		if n := hookTypes(hooks.all()); len(n) != 1 || n["case.opened"] != 1 {
			t.Errorf("webhook events by type %v, want one case.opened only:%s", n, hooks.summary())
		}
		_, body := get(t, mon+"/metrics")
		if v := metricValue(body, `forewarn_cases_opened_total{kind="outage"}`); v != "1" {
			t.Errorf(`forewarn_cases_opened_total{kind="outage"} = %q, want 1`, v)
		}
	})
}
