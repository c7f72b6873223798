package slack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	slackgo "github.com/slack-go/slack"

	"github.com/forewarn/forewarn/cases"
	"github.com/forewarn/forewarn/internal/fakeslack"
	"github.com/forewarn/forewarn/notify"
	"github.com/forewarn/forewarn/store"
)

func TestEscFit(t *testing.T) {
	for _, tc := range []struct {
		in    string
		limit int
		want  string
	}{
		{"a<b", 10, "a&lt;b"},
		{"abcdef", 4, "abc…"},
		{"ab<cd", 6, "ab…"}, // "&lt;" does not fit whole: it is left out, not cut
		{"ab<cd", 7, "ab&lt;…"},
		{"héllo wörld", 6, "héllo…"},
	} {
		if got := escFit(tc.in, tc.limit); got != tc.want {
			t.Errorf("escFit(%q, %d) = %q, want %q", tc.in, tc.limit, got, tc.want)
		}
	}
}

func TestHumanDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		45 * time.Second:                "45s",
		25 * time.Minute:                "25m",
		72 * time.Minute:                "1h 12m",
		2 * time.Hour:                   "2h",
		50*time.Hour + 10*time.Minute:   "2d 2h",
		48 * time.Hour:                  "2d",
		-time.Second:                    "0s",
		59*time.Minute + 40*time.Second: "1h",
	} {
		if got := humanDuration(d); got != want {
			t.Errorf("humanDuration(%s) = %q, want %q", d, got, want)
		}
	}
}

// Everything rendered stays within Slack's limits however long the
// tenant's name, its errors or its curve.
func TestRootStaysWithinSlackLimits(t *testing.T) {
	c := acmeCase()
	c.Tenant.Name = strings.Repeat("Very <Long> & Corp ", 30)
	long := strings.Repeat("error <x> & more ", 1000)
	c.Causes[0].FirstMessage = long
	for i := range 15 {
		c.Causes = append(c.Causes, cases.Cause{Check: fmt.Sprintf("check-%d", i), Kind: cases.KindOutage, Active: true,
			Since: t0, FirstMessage: long})
	}
	var curve []cases.CurvePoint
	for i := range 100 {
		curve = append(curve, cases.CurvePoint{Users: 10 * (i + 1), Rate: float64(i), P95: time.Duration(i) * time.Millisecond, Passed: i < 50})
	}
	capacity := cases.Cause{Check: "capacity", Kind: cases.KindCapacity, Active: true,
		Capacity: &cases.Capacity{Seats: 500, Required: 400, Knee: 250, Curve: curve}}
	c.Causes = append([]cases.Cause{c.Causes[0], capacity}, c.Causes[1:]...)
	e := event(c, "opened", "sign-in")
	e.Tenant.Name = c.Tenant.Name
	msg := rootMessage(e, replyText(event(c, "cause_added", "check-3"), thread{}))
	if len(msg.blocks) > 50 {
		t.Errorf("%d blocks, Slack takes 50", len(msg.blocks))
	}
	b, err := json.Marshal(msg.blocks)
	if err != nil {
		t.Fatal(err)
	}
	var blocks []map[string]any
	if err := json.Unmarshal(b, &blocks); err != nil {
		t.Fatal(err)
	}
	for _, bl := range blocks {
		limit := maxSection
		if bl["type"] == "header" {
			limit = maxHeader
		}
		if tx, ok := bl["text"].(map[string]any); ok {
			if n := utf8.RuneCountInString(tx["text"].(string)); n > limit {
				t.Errorf("%s block of %d characters, limit %d", bl["type"], n, limit)
			}
		}
	}
	header := blocks[0]["text"].(map[string]any)["text"].(string)
	if !strings.HasPrefix(header, "🔴 Outage — Very &lt;Long&gt; &amp; Corp") || !strings.HasSuffix(header, "…") {
		t.Errorf("header %q", header)
	}
	if n := utf8.RuneCountInString(msg.text); n > maxText {
		t.Errorf("text of %d characters", n)
	}
	if s := string(b); !strings.Contains(s, "…and 7 more causes.") || !strings.Contains(s, "steps left out") {
		t.Errorf("no overflow notes in %s", s[:min(len(s), 300)])
	}
	for _, blk := range msg.blocks {
		if sb, ok := blk.(*slackgo.SectionBlock); ok && sb.Text != nil {
			if err := sb.Text.Validate(); err != nil {
				t.Errorf("section text invalid: %v", err)
			}
		}
	}
}

func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		name      string
		err       error
		reason    string
		permanent bool
		after     time.Duration
	}{
		{"429", &slackgo.RateLimitedError{RetryAfter: 3 * time.Second}, "rate_limited", false, 3 * time.Second},
		{"429 no header", slackgo.StatusCodeError{Code: 429, Status: "429 Too Many Requests"}, "rate_limited", false, defaultRetryAfter},
		{"503", slackgo.StatusCodeError{Code: 503, Status: "503"}, "server_error", false, 0},
		{"404", slackgo.StatusCodeError{Code: 404, Status: "404"}, "client_error", true, 0},
		{"internal_error", slackgo.SlackErrorResponse{Err: "internal_error"}, "server_error", false, 0},
		{"unknown code", slackgo.SlackErrorResponse{Err: "something_new"}, "client_error", true, 0},
		{"deadline", context.DeadlineExceeded, "timeout", false, 0},
		{"refused", &net.OpError{Op: "dial", Err: errors.New("connection refused")}, "connect", false, 0},
		{"eof", io.EOF, "connect", false, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := classify(tc.err, "chat.postMessage", "#x")
			if got.Reason != tc.reason || got.Permanent != tc.permanent || got.RetryAfter != tc.after {
				t.Errorf("classify = %+v, want %s permanent=%v after %s", got, tc.reason, tc.permanent, tc.after)
			}
		})
	}
}

func TestTokenIsScrubbedFromErrors(t *testing.T) {
	n := &Notifier{token: fakeToken, now: time.Now}
	err := n.fail(fmt.Errorf("proxy said: bad token %s", fakeToken), "chat.postMessage", "#x")
	if strings.Contains(err.Error(), fakeToken) {
		t.Errorf("token in %v", err)
	}
}

func TestTimeoutIsRetryable(t *testing.T) {
	f := newFakeSlack(t)
	f.OnPost(func(fakeslack.Msg) { time.Sleep(300 * time.Millisecond) })
	n, err := New(Options{Token: fakeToken, APIURL: f.URL(), DefaultChannel: "#saas-support", State: newMemState(),
		HTTPClient: newTimeoutClient(50 * time.Millisecond)})
	if err != nil {
		t.Fatal(err)
	}
	err = n.Deliver(context.Background(), story()[0])
	if ne := notify.AsError(err); ne.Reason != "timeout" || ne.Permanent {
		t.Errorf("%v (%+v), want a retryable timeout", err, ne)
	}
}

// The notifier works on the real store: SQLite, with store.ErrNotFound for
// a case it has not seen.
func TestWithTheStore(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "forewarn.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close(ctx) })
	f := newFakeSlack(t)
	ks := &killableState{StateStore: st}
	f.OnPost(func(fakeslack.Msg) { ks.kill() })
	events := story()
	_ = newNotifier(t, f, ks).Deliver(ctx, events[0])
	f.OnPost(nil)
	n := newNotifier(t, f, st)
	for _, e := range events {
		deliver(t, n, e)
	}
	if len(f.Roots()) != 1 || len(f.Messages()) != len(events) {
		t.Errorf("%d roots and %d messages, want 1 and %d", len(f.Roots()), len(f.Messages()), len(events))
	}
	if err := n.Forget(ctx, events[0].Case.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := st.LoadState(ctx, threadKey(events[0].Case.ID)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("thread state after Forget: %v", err)
	}
}
