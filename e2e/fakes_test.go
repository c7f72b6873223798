package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/forewarn/forewarn/internal/fakeslack"
	"github.com/forewarn/forewarn/notify"
	"github.com/forewarn/forewarn/notify/webhook"
)

// The webhook receiver's answer modes.
const (
	modeHealthy = ""
	mode500     = "500"    // every request is answered 500
	modeHangUp  = "hangup" // every connection is closed without an answer
)

// newFakeSlack is a fake Slack with the channels the tests' config names.
func newFakeSlack(t *testing.T) *fakeslack.Server {
	t.Helper()
	return fakeslack.New(t, map[string]string{"support": "C0SUPPORT1", "general": "C0GENERAL1"})
}

// fakeWebhook is a receiver of forewarn's webhooks that verifies every
// request's Standard Webhooks signature with the reference library and
// keeps every request, answered or refused.
type fakeWebhook struct {
	t      *testing.T
	srv    *httptest.Server
	secret string
	verify *standardwebhooks.Webhook

	mu   sync.Mutex
	mode string
	got  []received
}

// received is one request the receiver got.
type received struct {
	ID        string // the webhook-id header
	Event     notify.Event
	Status    int   // what the receiver answered
	VerifyErr error // the signature check
}

func (h received) ok() bool { return h.Status/100 == 2 }

func newFakeWebhook(t *testing.T) *fakeWebhook {
	t.Helper()
	secret, err := webhook.NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeWebhook{t: t, secret: secret, verify: wh}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeWebhook) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	h := received{ID: r.Header.Get("webhook-id"), VerifyErr: f.verify.Verify(body, r.Header)}
	if err := json.Unmarshal(body, &h.Event); err != nil {
		f.t.Errorf("fake webhook: body is not an event: %v\n%s", err, body)
	}
	f.mu.Lock()
	mode := f.mode
	switch {
	case mode == modeHangUp:
		h.Status = 0
	case mode == mode500:
		h.Status = http.StatusInternalServerError
	case h.VerifyErr != nil:
		h.Status = http.StatusUnauthorized
	default:
		h.Status = http.StatusNoContent
	}
	f.got = append(f.got, h)
	f.mu.Unlock()
	switch h.Status {
	case 0:
		closeConn(w)
	case http.StatusNoContent:
		w.WriteHeader(h.Status)
	default:
		http.Error(w, http.StatusText(h.Status), h.Status)
	}
}

func (f *fakeWebhook) url() string { return f.srv.URL + "/hooks/forewarn" }

func (f *fakeWebhook) setMode(mode string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.mode = mode
}

// all returns every request so far, in arrival order.
func (f *fakeWebhook) all() []received {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]received(nil), f.got...)
}

// delivered returns the requests answered 2xx, in arrival order.
func (f *fakeWebhook) delivered() []received {
	var out []received
	for _, h := range f.all() {
		if h.ok() {
			out = append(out, h)
		}
	}
	return out
}

func (f *fakeWebhook) summary() string {
	var b strings.Builder
	for _, h := range f.all() {
		fmt.Fprintf(&b, "\n  %d id=%s type=%s tenant=%s case=%s seq=%d verify=%v", h.Status, h.ID, h.Event.Type,
			h.Event.Tenant.ID, h.Event.Case.ID, h.Event.Case.Seq, h.VerifyErr)
	}
	if b.Len() == 0 {
		return " none"
	}
	return b.String()
}

func closeConn(w http.ResponseWriter) {
	if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
		_ = conn.Close()
	}
}
