package slack

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/forewarn/forewarn/cases"
	"github.com/forewarn/forewarn/internal/fakeslack"
	"github.com/forewarn/forewarn/notify"
)

var t0 = time.Date(2026, 11, 23, 10, 15, 0, 0, time.UTC)

// syncBuffer collects the log of a test, to prove the token is never in it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newNotifier(t *testing.T, f *fakeslack.Server, state StateStore) *Notifier {
	t.Helper()
	logs := &syncBuffer{}
	n, err := New(Options{Token: fakeToken, APIURL: f.URL(), DefaultChannel: "#saas-support", State: state,
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if strings.Contains(logs.String(), fakeToken) {
			t.Errorf("the token is in the log:\n%s", logs.String())
		}
	})
	return n
}

func acmeCase() cases.Case {
	return cases.Case{
		ID: "acme-20261123T101500Z", Seq: 1,
		Tenant: cases.Tenant{ID: "acme", Name: "Acme Corp", Plan: "enterprise", Seats: 500},
		Status: cases.StatusOpen, Kind: cases.KindOutage, Severity: cases.SeverityCritical,
		Causes: []cases.Cause{{
			Check: "sign-in", Probe: "login", Kind: cases.KindOutage, Reason: "status",
			FirstMessage: "POST /api/session: status 503, want 200 (password=[redacted])",
			Message:      "POST /api/session: status 503, want 200 (password=[redacted])",
			Since:        t0.Add(-90 * time.Second), LastSeen: t0, Failures: 3, Active: true,
		}},
		OpenedAt: t0,
	}
}

func event(c cases.Case, typ, check string) notify.Event {
	return notify.Event{
		Version: notify.SchemaVersion, ID: fmt.Sprintf("%s:%d", c.ID, c.Seq), Type: notify.TypePrefix + typ,
		Time: t0.Add(time.Duration(c.Seq) * time.Minute), Check: check,
		Tenant: notify.TenantContext{ID: "acme", Name: "Acme Corp", Plan: "enterprise", Region: "eu-west", Seats: 500,
			SlackChannel: "#support-acme"},
		Case:  c,
		Links: notify.Links{Grafana: "https://grafana.example/d/forewarn?var-tenant=acme&from=now-6h", StatusPage: "https://status.example/t/acme"},
	}
}

// step copies c with the next sequence number and applies change.
func step(c cases.Case, change func(c *cases.Case)) cases.Case {
	c.Causes = slices.Clone(c.Causes)
	c.Seq++
	change(&c)
	return c
}

// story is one case's life: opened, cause_added, updated,
// severity_changed, cause_resolved, resolved.
func story() []notify.Event {
	c1 := acmeCase()
	c2 := step(c1, func(c *cases.Case) {
		c.Causes = append(c.Causes, cases.Cause{Check: "health", Probe: "http", Kind: cases.KindDegraded, Reason: "slow",
			FirstMessage: "GET /health took 2.4s, limit 2s", Since: t0.Add(time.Minute), Failures: 3, Active: true})
	})
	c3 := step(c2, func(c *cases.Case) {
		c.Causes[0].Failures, c.Causes[0].Reason, c.Causes[0].Message = 10, "timeout", "POST /api/session: timeout after 10s"
	})
	c4 := step(c3, func(c *cases.Case) { c.Severity = cases.SeverityMajor; c.Kind = cases.KindDegraded })
	c5 := step(c4, func(c *cases.Case) {
		c.Causes[0].Active, c.Causes[0].ResolvedAt = false, t0.Add(40*time.Minute)
	})
	c6 := step(c5, func(c *cases.Case) {
		c.Causes[1].Active, c.Causes[1].ResolvedAt = false, t0.Add(70*time.Minute)
		c.Status, c.ResolvedAt, c.Duration = cases.StatusResolved, t0.Add(72*time.Minute), 72*time.Minute
	})
	return []notify.Event{
		event(c1, "opened", "sign-in"), event(c2, "cause_added", "health"), event(c3, "updated", "sign-in"),
		event(c4, "severity_changed", "sign-in"), event(c5, "cause_resolved", "sign-in"), event(c6, "resolved", ""),
	}
}

// texts is every text a message shows: its fallback and all its blocks'.
func texts(m fakeslack.Msg) string {
	var b strings.Builder
	b.WriteString(m.Text)
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, y := range x {
				if s, ok := y.(string); ok && k == "text" {
					b.WriteString("\n" + s)
				}
				walk(y)
			}
		case []any:
			for _, y := range x {
				walk(y)
			}
		}
	}
	for _, bl := range m.Blocks {
		walk(bl)
	}
	return b.String()
}

func deliver(t *testing.T, n *Notifier, e notify.Event) {
	t.Helper()
	if err := n.Deliver(context.Background(), e); err != nil {
		t.Fatalf("Deliver %s: %v", e.Type, err)
	}
}

func mustContain(t *testing.T, s string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(s, w) {
			t.Errorf("missing %q in:\n%s", w, s)
		}
	}
}

func TestOpenedPostsOneRoot(t *testing.T) {
	f := newFakeSlack(t)
	state := newMemState()
	n := newNotifier(t, f, state)
	e := story()[0]
	deliver(t, n, e)

	roots := f.Roots()
	if len(roots) != 1 {
		t.Fatalf("%d roots, want 1", len(roots))
	}
	r := roots[0]
	if r.Channel != "C0ACME0001" {
		t.Errorf("posted to %s, want the tenant's channel", r.Channel)
	}
	if r.Blocks[0]["type"] != "header" {
		t.Errorf("first block %v, want the header", r.Blocks[0]["type"])
	}
	mustContain(t, texts(r),
		"🔴 Outage — Acme Corp (acme)", "*Plan*\nenterprise", "*Seats*\n500", "*Severity*\ncritical", "*Region*\neu-west",
		"<!date^1795428900^{date_short_pretty} {time}|2026-11-23 10:15 UTC>",
		"*sign-in* · login · outage · `status`", "Failing since", "3 failures",
		"```POST /api/session: status 503, want 200 (password=[redacted])```",
		"<https://grafana.example/d/forewarn?var-tenant=acme&amp;from=now-6h|📈 Grafana dashboard>",
		"<https://status.example/t/acme|📄 Status page>", "acme-20261123T101500Z")
	mustContain(t, r.Text, "🔴 Outage — Acme Corp (acme): sign-in failing since 2026-11-23 10:15 UTC")
	if got := r.Metadata.EventPayload["event_id"]; r.Metadata.EventType != "forewarn_case_event" || got != e.ID {
		t.Errorf("metadata %+v, want the event's id", r.Metadata)
	}
	if _, err := state.LoadState(context.Background(), "slack/thread/"+e.Case.ID); err != nil {
		t.Errorf("no thread state: %v", err)
	}
	if f.Calls("conversations.history") != 0 {
		t.Errorf("looked up history on a first attempt")
	}
	if !f.Tokens()[fakeToken] {
		t.Errorf("the token was not sent")
	}
}

func TestEventsThreadUnderTheRoot(t *testing.T) {
	f := newFakeSlack(t)
	n := newNotifier(t, f, newMemState())
	events := story()
	for _, e := range events[:4] {
		deliver(t, n, e)
	}
	roots := f.Roots()
	if len(roots) != 1 {
		t.Fatalf("%d roots, want 1", len(roots))
	}
	root := roots[0]
	replies := f.Replies(root.TS)
	if len(replies) != 3 {
		t.Fatalf("%d replies, want 3", len(replies))
	}
	mustContain(t, replies[0].Text, "➕ *health* · http · degraded · `slow` joined the case", "```GET /health took 2.4s, limit 2s```")
	mustContain(t, replies[1].Text, "🔄 *sign-in*", "`timeout`", "10 failures", "Latest error:\n```POST /api/session: timeout after 10s```")
	mustContain(t, replies[2].Text, "⬇️ Severity critical → *major* · outage → *degraded*")
	for i, r := range replies {
		if r.Channel != root.Channel || r.Metadata.EventPayload["event_id"] != events[i+1].ID {
			t.Errorf("reply %d: channel %s metadata %v", i, r.Channel, r.Metadata.EventPayload)
		}
	}
	// cause_added and severity_changed edited the root; updated did not.
	root = f.Roots()[0]
	if root.Updates != 2 {
		t.Errorf("root edited %d times, want 2", root.Updates)
	}
	mustContain(t, texts(root), "🟠 Degraded — Acme Corp (acme)", "*health*")

	deliver(t, n, events[4])
	deliver(t, n, events[5])
	root = f.Roots()[0]
	mustContain(t, texts(root), "✅ Resolved: Degraded — Acme Corp (acme)", "*✅ Resolved after 1h 12m*", "*Duration*\n1h 12m",
		"recovered after 42m")
	mustContain(t, root.Text, "✅ Resolved after 1h 12m — Degraded — Acme Corp (acme)")
	replies = f.Replies(root.TS)
	if len(replies) != 5 {
		t.Fatalf("%d replies, want 5", len(replies))
	}
	mustContain(t, replies[3].Text, "✅ *sign-in* recovered after 42m", "Still failing: *health*")
	mustContain(t, replies[4].Text, "✅ *Resolved after 1h 12m.*")
	if len(f.Roots()) != 1 {
		t.Errorf("resolution posted a new root")
	}
}

func TestReopenedEditsTheRootBackToOpen(t *testing.T) {
	f := newFakeSlack(t)
	n := newNotifier(t, f, newMemState())
	events := story()
	for _, e := range events {
		deliver(t, n, e)
	}
	last := events[len(events)-1].Case
	reopened := step(last, func(c *cases.Case) {
		c.Status, c.Reopens, c.ReopenedAt = cases.StatusOpen, 1, t0.Add(80*time.Minute)
		c.ResolvedAt, c.Duration, c.Kind, c.Severity = time.Time{}, 0, cases.KindOutage, cases.SeverityCritical
		c.Causes[0].Active, c.Causes[0].ResolvedAt, c.Causes[0].Since = true, time.Time{}, t0.Add(77*time.Minute)
	})
	deliver(t, n, event(reopened, "reopened", "sign-in"))
	root := f.Roots()[0]
	mustContain(t, texts(root), "🔴 Outage — Acme Corp (acme)", "*Reopened*\n")
	if strings.Contains(texts(root), "Resolved after") {
		t.Errorf("reopened root still says resolved:\n%s", texts(root))
	}
	replies := f.Replies(root.TS)
	mustContain(t, replies[len(replies)-1].Text, "🔁 *Case reopened* (1×). *sign-in*")
}

func TestRepeatAfterDeliveryPostsNothing(t *testing.T) {
	f := newFakeSlack(t)
	state := newMemState()
	events := story()
	n := newNotifier(t, f, state)
	deliver(t, n, events[0])
	deliver(t, n, events[1])
	// The outbox lost the "delivered" marks: both come again, to a new
	// process.
	n2 := newNotifier(t, f, state)
	deliver(t, n2, events[0])
	deliver(t, n2, events[1])
	if got := len(f.Messages()); got != 2 {
		t.Errorf("%d messages, want 2", got)
	}
	if f.Calls("conversations.history")+f.Calls("conversations.replies") != 0 {
		t.Errorf("looked up history for events the state says are delivered")
	}
}

// A kill -9 after Slack took the root and before anything else was saved:
// the restarted notifier finds the root by its metadata.
func TestCrashAfterRootPostIsNotPostedAgain(t *testing.T) {
	f := newFakeSlack(t)
	mem := newMemState()
	ks := &killableState{StateStore: mem}
	f.OnPost(func(fakeslack.Msg) { ks.kill() })
	events := story()
	_ = newNotifier(t, f, ks).Deliver(context.Background(), events[0]) // the process dies here

	f.OnPost(nil)
	n2 := newNotifier(t, f, mem)
	deliver(t, n2, events[0])
	deliver(t, n2, events[1])
	roots := f.Roots()
	if len(roots) != 1 {
		t.Fatalf("%d roots, want exactly 1", len(roots))
	}
	if got := f.Replies(roots[0].TS); len(got) != 1 {
		t.Errorf("%d replies under the adopted root, want 1", len(got))
	}
	if f.Calls("conversations.history") == 0 {
		t.Errorf("the root was not looked up")
	}
	// The channel was named, and its ID was lost with the process.
	if f.Calls("conversations.list") != 1 {
		t.Errorf("conversations.list called %d times, want 1", f.Calls("conversations.list"))
	}
}

func TestCrashAfterReplyPostIsNotPostedAgain(t *testing.T) {
	f := newFakeSlack(t)
	mem := newMemState()
	ks := &killableState{StateStore: mem}
	events := story()
	n := newNotifier(t, f, ks)
	deliver(t, n, events[0])
	f.OnPost(func(fakeslack.Msg) { ks.kill() })
	_ = n.Deliver(context.Background(), events[1])

	f.OnPost(nil)
	n2 := newNotifier(t, f, mem)
	deliver(t, n2, events[1])
	deliver(t, n2, events[2])
	root := f.Roots()[0]
	replies := f.Replies(root.TS)
	if len(replies) != 2 {
		t.Fatalf("%d replies, want 2 (one per event)", len(replies))
	}
	if replies[0].Metadata.EventPayload["event_id"] != events[1].ID || replies[1].Metadata.EventPayload["event_id"] != events[2].ID {
		t.Errorf("replies out of order or wrong: %v, %v", replies[0].Metadata.EventPayload, replies[1].Metadata.EventPayload)
	}
	if f.Calls("conversations.replies") != 1 {
		t.Errorf("conversations.replies called %d times, want 1", f.Calls("conversations.replies"))
	}
}

// Slack took the post but its answer was lost: the retry finds it.
func TestLostAnswerIsNotPostedAgain(t *testing.T) {
	f := newFakeSlack(t)
	n := newNotifier(t, f, newMemState())
	events := story()
	f.SetModeFor("chat.postMessage", fakeslack.DropAnswer)
	err := n.Deliver(context.Background(), events[0])
	if ne := notify.AsError(err); err == nil || ne.Permanent || ne.Reason != "connect" {
		t.Fatalf("lost answer: %v (%+v), want a retryable connect error", err, ne)
	}
	f.SetMode(fakeslack.Healthy)
	deliver(t, n, events[0])
	deliver(t, n, events[1])
	if len(f.Roots()) != 1 || len(f.Messages()) != 2 {
		t.Errorf("%d roots, %d messages; want 1 and 2", len(f.Roots()), len(f.Messages()))
	}
}

func TestRateLimited(t *testing.T) {
	f := newFakeSlack(t)
	n := newNotifier(t, f, newMemState())
	f.SetRetryAfter(7)
	f.SetMode(fakeslack.RateLimited)
	err := n.Deliver(context.Background(), story()[0])
	var ne *notify.Error
	if !errors.As(err, &ne) || ne.Reason != "rate_limited" || ne.RetryAfter != 7*time.Second || ne.Permanent {
		t.Fatalf("429: %v (%+v), want rate_limited after 7s", err, ne)
	}
	calls := f.Calls("chat.postMessage")
	// Until Retry-After has passed, Slack is not asked again.
	err = n.Deliver(context.Background(), story()[0])
	if !errors.As(err, &ne) || ne.Reason != "rate_limited" || ne.RetryAfter <= 0 || ne.RetryAfter > 7*time.Second {
		t.Fatalf("within Retry-After: %v, want rate_limited", err)
	}
	if f.Calls("chat.postMessage") != calls {
		t.Errorf("called Slack within its Retry-After")
	}
	f.SetMode(fakeslack.Healthy)
	n.now = func() time.Time { return time.Now().Add(8 * time.Second) }
	deliver(t, n, story()[0])
	if len(f.Roots()) != 1 {
		t.Errorf("%d roots after the limit passed, want 1", len(f.Roots()))
	}
}

// Slack down, then back: everything is delivered after, in order, once.
func TestSlackDownThenBack(t *testing.T) {
	f := newFakeSlack(t)
	n := newNotifier(t, f, newMemState())
	events := story()
	for _, tc := range []struct {
		mode   fakeslack.Mode
		reason string
	}{{fakeslack.HangUp, "connect"}, {fakeslack.ServerError, "server_error"}} {
		f.SetMode(tc.mode)
		err := n.Deliver(context.Background(), events[0])
		var ne *notify.Error
		if !errors.As(err, &ne) || ne.Permanent || ne.Reason != tc.reason {
			t.Errorf("%s: %v (%+v), want retryable %s", tc.mode, err, ne, tc.reason)
		}
	}
	// The dispatcher retries the same event, then the rest in order.
	f.SetMode(fakeslack.Healthy)
	for _, e := range events {
		deliver(t, n, e)
	}
	roots := f.Roots()
	if len(roots) != 1 {
		t.Fatalf("%d roots, want 1", len(roots))
	}
	replies := f.Replies(roots[0].TS)
	if len(replies) != len(events)-1 {
		t.Fatalf("%d replies, want %d", len(replies), len(events)-1)
	}
	for i, r := range replies {
		if r.Metadata.EventPayload["event_id"] != events[i+1].ID {
			t.Errorf("reply %d is %v, want %s", i, r.Metadata.EventPayload["event_id"], events[i+1].ID)
		}
	}
}

func TestPermanentErrors(t *testing.T) {
	for _, tc := range []struct{ code, hint string }{
		{"channel_not_found", "invite the bot"},
		{"not_in_channel", "invite it"},
		{"invalid_auth", "xoxb-"},
		{"account_inactive", "token"},
		{"token_revoked", "revoked"},
		{"missing_scope", "channels:history"},
		{"invalid_blocks", "rejected"},
	} {
		t.Run(tc.code, func(t *testing.T) {
			f := newFakeSlack(t)
			n := newNotifier(t, f, newMemState())
			f.SetError("chat.postMessage", tc.code)
			err := n.Deliver(context.Background(), story()[0])
			var ne *notify.Error
			if !errors.As(err, &ne) || !ne.Permanent {
				t.Fatalf("%v (%+v), want a permanent error", err, ne)
			}
			mustContain(t, err.Error(), tc.code, tc.hint)
			if strings.Contains(err.Error(), fakeToken) {
				t.Errorf("the token is in the error: %v", err)
			}
		})
	}
}

func TestHostileTextIsEscaped(t *testing.T) {
	f := newFakeSlack(t)
	n := newNotifier(t, f, newMemState())
	c := acmeCase()
	c.Tenant.Name = "<!channel> & <@U024BE7LH>"
	c.Causes[0].Check = "<!here|here>"
	c.Causes[0].Reason = "<#C123>"
	c.Causes[0].FirstMessage = "<https://evil.example|click me> ``` *bold* <!everyone>"
	e := event(c, "opened", c.Causes[0].Check)
	e.Tenant.Name = c.Tenant.Name
	e.Tenant.Plan = "<!subteam^S123>"
	e.Links.Grafana = "javascript:alert(1)"
	deliver(t, n, e)
	all := texts(f.Roots()[0])
	for _, bad := range []string{"<!channel>", "<@U024BE7LH>", "<!here", "<#C123>", "<https://evil", "<!everyone>", "<!subteam", "javascript:"} {
		if strings.Contains(all, bad) {
			t.Errorf("unescaped %q in:\n%s", bad, all)
		}
	}
	mustContain(t, all, "&lt;!channel&gt; &amp; &lt;@U024BE7LH&gt; (acme)", "*&lt;!here|here&gt;*", "&lt;!everyone&gt;")
	// The error cannot close its code block early.
	if strings.Count(all, "```") != 2 {
		t.Errorf("code fences broken:\n%s", all)
	}
}

func TestCapacityCaseRendersTheCurve(t *testing.T) {
	f := newFakeSlack(t)
	n := newNotifier(t, f, newMemState())
	c := acmeCase()
	c.Kind, c.Severity = cases.KindCapacity, cases.SeverityMajor
	c.Causes = []cases.Cause{{Check: "capacity", Probe: "load", Kind: cases.KindCapacity, Reason: "capacity",
		FirstMessage: "knee 250 users, 400 required", Since: t0, Failures: 1, Active: true,
		Capacity: &cases.Capacity{Seats: 500, Required: 400, Knee: 250, BreakAt: 300, MeasuredAt: t0,
			Curve: []cases.CurvePoint{
				{Users: 10, Rate: 41.2, ErrorRatio: 0, P95: 120 * time.Millisecond, Passed: true},
				{Users: 250, Rate: 512, ErrorRatio: 0.004, P95: 790 * time.Millisecond, Passed: true},
				{Users: 300, Rate: 498.3, ErrorRatio: 0.079, P95: 2100 * time.Millisecond, Passed: false},
			}}}}
	deliver(t, n, event(c, "opened", "capacity"))
	all := texts(f.Roots()[0])
	mustContain(t, all, "🟠 Capacity below seats — Acme Corp (acme)",
		"Knee *250* users · seats *500* · required *400* · headroom *-38 %*", "First confirmed break at 300 users",
		" users     req/s   err %      p95  step",
		"    10      41.2     0.0    120ms  pass",
		"   250     512.0     0.4    790ms  pass",
		"   300     498.3     7.9     2.1s  FAIL")
}

func TestTestEvent(t *testing.T) {
	f := newFakeSlack(t)
	state := newMemState()
	n := newNotifier(t, f, state)
	deliver(t, n, notify.Event{Version: notify.SchemaVersion, ID: "test-1", Type: notify.TypeTest, Time: t0, Test: true,
		Tenant: notify.TenantContext{ID: "acme", Name: "Acme Corp", SlackChannel: "#support-acme"}})
	msgs := f.Messages()
	if len(msgs) != 1 || msgs[0].Channel != "C0DEFAULT1" || msgs[0].Text != "forewarn test notification" {
		t.Fatalf("messages %+v, want one test notification in the default channel", msgs)
	}
	mustContain(t, texts(msgs[0]), "Acme Corp (acme)", "#support-acme")
	if state.saves != 0 {
		t.Errorf("a test notification saved state")
	}
}

// A reply whose root is unknown starts a new thread that later events
// follow.
func TestReplyWithoutRootStartsANewThread(t *testing.T) {
	f := newFakeSlack(t)
	n := newNotifier(t, f, newMemState())
	events := story()
	deliver(t, n, events[1])
	deliver(t, n, events[2])
	roots := f.Roots()
	if len(roots) != 1 {
		t.Fatalf("%d roots, want 1", len(roots))
	}
	mustContain(t, texts(roots[0]), "*Latest:* ➕ *health*", "starts a new one", "🔴 Outage — Acme Corp (acme)")
	if got := f.Replies(roots[0].TS); len(got) != 1 {
		t.Errorf("%d replies, want 1", len(got))
	}
}

// Without the history scope the notifier cannot rule out a duplicate, and
// says so: it posts again rather than never.
func TestUnreadableHistoryFallsBackToAtLeastOnce(t *testing.T) {
	f := newFakeSlack(t)
	mem := newMemState()
	ks := &killableState{StateStore: mem}
	f.SetError("conversations.history", "missing_scope")
	f.OnPost(func(fakeslack.Msg) { ks.kill() })
	e := story()[0]
	e.Tenant.SlackChannel = "C0ACME0001" // an ID: no name to resolve
	_ = newNotifier(t, f, ks).Deliver(context.Background(), e)
	f.OnPost(nil)
	deliver(t, newNotifier(t, f, mem), e)
	if got := len(f.Roots()); got != 2 {
		t.Errorf("%d roots, want 2 (at least once)", got)
	}
}

// A lookup that fails for a reason worth retrying posts nothing.
func TestLookupFailureDoesNotPost(t *testing.T) {
	f := newFakeSlack(t)
	mem := newMemState()
	ks := &killableState{StateStore: mem}
	f.OnPost(func(fakeslack.Msg) { ks.kill() })
	e := story()[0]
	_ = newNotifier(t, f, ks).Deliver(context.Background(), e)
	f.OnPost(nil)
	f.SetModeFor("conversations.list", fakeslack.ServerError)
	n2 := newNotifier(t, f, mem)
	if err := n2.Deliver(context.Background(), e); err == nil || notify.AsError(err).Permanent {
		t.Fatalf("lookup failed: %v, want a retryable error", err)
	}
	f.SetMode(fakeslack.Healthy)
	deliver(t, n2, e)
	if got := len(f.Roots()); got != 1 {
		t.Errorf("%d roots, want 1", got)
	}
}

func TestNewValidates(t *testing.T) {
	ok := Options{Token: "xoxb-1", DefaultChannel: "#x", State: newMemState()}
	for name, o := range map[string]Options{
		"token":   {DefaultChannel: "#x", State: newMemState()},
		"channel": {Token: "xoxb-1", State: newMemState()},
		"state":   {Token: "xoxb-1", DefaultChannel: "#x"},
	} {
		if _, err := New(o); err == nil {
			t.Errorf("%s missing: no error", name)
		}
	}
	n, err := New(ok)
	if err != nil || n.Name() != "slack" {
		t.Fatalf("New: %v", err)
	}
}

// Cases are delivered concurrently; each keeps its own thread.
func TestConcurrentCases(t *testing.T) {
	f := newFakeSlack(t)
	n := newNotifier(t, f, newMemState())
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for _, e := range story()[:3] {
				e.Case.ID = fmt.Sprintf("tenant%d-20261123T101500Z", i)
				e.ID = fmt.Sprintf("%s:%d", e.Case.ID, e.Case.Seq)
				if err := n.Deliver(context.Background(), e); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	roots := f.Roots()
	if len(roots) != 8 {
		t.Fatalf("%d roots, want 8", len(roots))
	}
	for _, r := range roots {
		if got := len(f.Replies(r.TS)); got != 2 {
			t.Errorf("root %s has %d replies, want 2", r.TS, got)
		}
	}
}
