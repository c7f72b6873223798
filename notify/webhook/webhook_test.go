package webhook_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/forewarn/forewarn/cases"
	"github.com/forewarn/forewarn/notify"
	"github.com/forewarn/forewarn/notify/webhook"
)

// Secrets in the Standard Webhooks format: whsec_ and base64 of 32 bytes.
var (
	oldSecret = "whsec_" + base64.StdEncoding.EncodeToString([]byte("old-secret-32-bytes-long-0123456"))
	newSecret = "whsec_" + base64.StdEncoding.EncodeToString([]byte("new-secret-32-bytes-long-0123456"))
)

var t0 = time.Date(2026, 11, 23, 10, 15, 0, 0, time.UTC)

func sampleEvent() notify.Event {
	return notify.Event{
		Version: notify.SchemaVersion,
		ID:      "acme-20261123T101500Z:1",
		Type:    "case.opened",
		Time:    t0,
		Check:   "health",
		Tenant:  notify.TenantContext{ID: "acme", Name: "Acme Corp", Plan: "enterprise", Seats: 500},
		Case: cases.Case{ID: "acme-20261123T101500Z", Seq: 1, Tenant: cases.Tenant{ID: "acme", Name: "Acme Corp"},
			Status: cases.StatusOpen, Kind: cases.KindOutage, Severity: cases.SeverityMajor, OpenedAt: t0,
			Causes: []cases.Cause{{Check: "health", Probe: "http", Kind: cases.KindOutage, Reason: "status",
				FirstMessage: "503", Message: "503", Since: t0, LastSeen: t0, Failures: 3, Active: true}}},
	}
}

// request is what the test server saw.
type request struct {
	header http.Header
	body   []byte
}

// server answers each request with answer and records it.
func server(t *testing.T, answer http.HandlerFunc) (*httptest.Server, func() []request) {
	t.Helper()
	var (
		mu  sync.Mutex
		got []request
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, request{r.Header.Clone(), body})
		mu.Unlock()
		if answer != nil {
			answer(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv, func() []request {
		mu.Lock()
		defer mu.Unlock()
		return append([]request(nil), got...)
	}
}

func newNotifier(t *testing.T, o webhook.Options) *webhook.Notifier {
	t.Helper()
	if o.Name == "" {
		o.Name = "ops"
	}
	if o.Secrets == nil {
		o.Secrets = []string{newSecret}
	}
	n, err := webhook.New(o)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestDeliverSendsSignedEvent(t *testing.T) {
	srv, requests := server(t, nil)
	n := newNotifier(t, webhook.Options{URL: srv.URL + "/hooks/forewarn", Secrets: []string{oldSecret, newSecret},
		Headers: map[string]string{"authorization": "Bearer gateway-token"}, Now: func() time.Time { return t0 }})
	if n.Name() != "webhook:ops" {
		t.Errorf("Name() = %q", n.Name())
	}
	e := sampleEvent()
	e.Version = "" // filled in
	if err := n.Deliver(context.Background(), e); err != nil {
		t.Fatal(err)
	}
	got := requests()
	if len(got) != 1 {
		t.Fatalf("%d requests, want 1", len(got))
	}
	h := got[0].header
	want := map[string]string{
		"Content-Type":      "application/json",
		"Webhook-Id":        e.ID,
		"Webhook-Timestamp": strconv.FormatInt(t0.Unix(), 10),
		"Authorization":     "Bearer gateway-token",
		"User-Agent":        "forewarn-webhook/1",
	}
	for k, v := range want {
		if h.Get(k) != v {
			t.Errorf("header %s = %q, want %q", k, h.Get(k), v)
		}
	}
	sigs := strings.Split(h.Get("Webhook-Signature"), " ")
	if len(sigs) != 2 || !strings.HasPrefix(sigs[0], "v1,") || !strings.HasPrefix(sigs[1], "v1,") || sigs[0] == sigs[1] {
		t.Errorf("webhook-signature = %q, want two v1 signatures", h.Get("Webhook-Signature"))
	}
	var back notify.Event
	if err := json.Unmarshal(got[0].body, &back); err != nil {
		t.Fatal(err)
	}
	if back.Version != notify.SchemaVersion || back.ID != e.ID || back.Case.Causes[0].Check != "health" {
		t.Errorf("body = %s", got[0].body)
	}
}

func TestDeliverOutcomes(t *testing.T) {
	retryDate := time.Now().Add(90 * time.Second).UTC().Format(http.TimeFormat)
	tests := []struct {
		status     int
		retryAfter string
		reason     string // "": delivered
		permanent  bool
		disable    bool
		wantRetry  time.Duration // at least; exact unless an HTTP date
	}{
		{status: 200},
		{status: 202},
		{status: 204},
		{status: 301, reason: "client_error", permanent: true},
		{status: 400, reason: "client_error", permanent: true},
		{status: 401, reason: "client_error", permanent: true},
		{status: 404, reason: "client_error", permanent: true},
		{status: 413, reason: "client_error", permanent: true},
		{status: 410, reason: "gone", permanent: true, disable: true},
		{status: 408, reason: "timeout"},
		{status: 429, reason: "rate_limited"},
		{status: 429, retryAfter: "7", reason: "rate_limited", wantRetry: 7 * time.Second},
		{status: 429, retryAfter: retryDate, reason: "rate_limited", wantRetry: 80 * time.Second},
		{status: 429, retryAfter: "86400", reason: "rate_limited", wantRetry: time.Hour}, // capped
		{status: 429, retryAfter: "soon", reason: "rate_limited"},
		{status: 500, reason: "server_error"},
		{status: 502, reason: "server_error"},
		{status: 503, retryAfter: "30", reason: "server_error", wantRetry: 30 * time.Second},
		{status: 504, reason: "server_error"},
	}
	for _, tt := range tests {
		t.Run(strconv.Itoa(tt.status)+"/"+tt.retryAfter, func(t *testing.T) {
			srv, requests := server(t, func(w http.ResponseWriter, r *http.Request) {
				if tt.retryAfter != "" {
					w.Header().Set("Retry-After", tt.retryAfter)
				}
				if tt.status == 301 {
					w.Header().Set("Location", "/elsewhere")
				}
				w.WriteHeader(tt.status)
				_, _ = io.WriteString(w, `{"error":"nope"}`)
			})
			n := newNotifier(t, webhook.Options{URL: srv.URL})
			err := n.Deliver(context.Background(), sampleEvent())
			if len(requests()) != 1 {
				t.Errorf("%d requests, want 1 (redirects are not followed)", len(requests()))
			}
			if tt.reason == "" {
				if err != nil {
					t.Fatalf("Deliver = %v, want delivered", err)
				}
				return
			}
			var ne *notify.Error
			if !errors.As(err, &ne) {
				t.Fatalf("Deliver = %v, want a *notify.Error", err)
			}
			if ne.Reason != tt.reason || ne.Permanent != tt.permanent || ne.Disable != tt.disable {
				t.Errorf("Deliver = %+v, want reason %s permanent %v disable %v", ne, tt.reason, tt.permanent, tt.disable)
			}
			if tt.retryAfter != "" && tt.retryAfter != retryDate && ne.RetryAfter != tt.wantRetry {
				t.Errorf("RetryAfter = %v, want %v", ne.RetryAfter, tt.wantRetry)
			}
			if tt.retryAfter == retryDate && (ne.RetryAfter < tt.wantRetry || ne.RetryAfter > 90*time.Second) {
				t.Errorf("RetryAfter = %v, want about 90s", ne.RetryAfter)
			}
			if !strings.Contains(err.Error(), strconv.Itoa(tt.status)) || !strings.Contains(err.Error(), `{"error":"nope"}`) {
				t.Errorf("error %q should give the status and the answer", err)
			}
		})
	}
}

func TestDeliverTimeout(t *testing.T) {
	release := make(chan struct{})
	srv, _ := server(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	defer close(release)
	n := newNotifier(t, webhook.Options{URL: srv.URL, Timeout: 50 * time.Millisecond})
	start := time.Now()
	err := n.Deliver(context.Background(), sampleEvent())
	if ne := notify.AsError(err); ne.Reason != "timeout" || ne.Permanent {
		t.Errorf("Deliver = %+v, want a retryable timeout", ne)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("Deliver took %v with a 50ms timeout", took)
	}
}

func TestDeliverConnectErrorHidesURL(t *testing.T) {
	// A port nothing listens on: take one and close it.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	n := newNotifier(t, webhook.Options{URL: "http://user:url-password@" + addr + "/hook?token=query-token"})
	err = n.Deliver(context.Background(), sampleEvent())
	ne := notify.AsError(err)
	if ne.Reason != "connect" || ne.Permanent {
		t.Errorf("Deliver = %+v, want a retryable connect error", ne)
	}
	for _, secret := range []string{"query-token", "url-password"} {
		if strings.Contains(err.Error(), secret) {
			t.Errorf("error %q shows %s", err, secret)
		}
	}
}

func TestErrorAnswerIsBoundedAndRedacted(t *testing.T) {
	// A receiver that echoes the request back in its error, at length.
	srv, _ := server(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		_, _ = io.WriteString(w, "bad request from "+r.Header.Get("Authorization")+" key "+strings.TrimPrefix(newSecret, "whsec_")+"\n\x1b[31m")
		_, _ = io.WriteString(w, strings.Repeat("x", 1<<20))
	})
	n := newNotifier(t, webhook.Options{URL: srv.URL, Headers: map[string]string{"Authorization": "Bearer gateway-token"}})
	err := n.Deliver(context.Background(), sampleEvent())
	msg := err.Error()
	if len(msg) > 1200 {
		t.Errorf("error is %d bytes, want the answer cut to about 1 KB", len(msg))
	}
	for _, secret := range []string{"gateway-token", strings.TrimPrefix(newSecret, "whsec_")} {
		if strings.Contains(msg, secret) {
			t.Errorf("error shows a secret: %q", msg)
		}
	}
	if strings.ContainsAny(msg, "\n\x1b") || !strings.Contains(msg, "bad request from") {
		t.Errorf("error = %q, want the answer's start on one printable line", msg)
	}
}

func TestDeliverRefusesEventWithoutUsableID(t *testing.T) {
	n := newNotifier(t, webhook.Options{URL: "http://127.0.0.1:1/"})
	for _, id := range []string{"", "a\nb"} {
		e := sampleEvent()
		e.ID = id
		if ne := notify.AsError(n.Deliver(context.Background(), e)); ne.Reason != "invalid" || !ne.Permanent {
			t.Errorf("Deliver(id %q) = %+v, want a permanent invalid", id, ne)
		}
	}
}

func TestNewValidates(t *testing.T) {
	short := "whsec_" + base64.StdEncoding.EncodeToString([]byte("too-short"))
	tests := []struct {
		name string
		o    webhook.Options
		want string
	}{
		{"no name", webhook.Options{URL: "https://x.example", Secrets: []string{newSecret}}, `name ""`},
		{"bad name", webhook.Options{Name: "my hook", URL: "https://x.example", Secrets: []string{newSecret}}, `name "my hook"`},
		{"ftp", webhook.Options{Name: "a", URL: "ftp://x.example", Secrets: []string{newSecret}}, "url: want an absolute http or https URL"},
		{"relative", webhook.Options{Name: "a", URL: "/hooks", Secrets: []string{newSecret}}, "url: want an absolute"},
		{"no secret", webhook.Options{Name: "a", URL: "https://x.example"}, "no secret"},
		{"no prefix", webhook.Options{Name: "a", URL: "https://x.example", Secrets: []string{newSecret, strings.TrimPrefix(oldSecret, "whsec_")}},
			"secret 2: does not start with whsec_"},
		{"bad base64", webhook.Options{Name: "a", URL: "https://x.example", Secrets: []string{"whsec_not*base64!"}},
			"secret 1: what follows whsec_ is not standard base64"},
		{"short", webhook.Options{Name: "a", URL: "https://x.example", Secrets: []string{short}}, "secret 1: 9 bytes, want at least 24"},
		{"reserved header", webhook.Options{Name: "a", URL: "https://x.example", Secrets: []string{newSecret},
			Headers: map[string]string{"webhook-id": "x"}}, "header Webhook-Id: set by forewarn itself"},
		{"bad header", webhook.Options{Name: "a", URL: "https://x.example", Secrets: []string{newSecret},
			Headers: map[string]string{"X Bad": "x"}}, `header "X Bad": not a valid header name`},
		{"bad header value", webhook.Options{Name: "a", URL: "https://x.example", Secrets: []string{newSecret},
			Headers: map[string]string{"X-Token": "a\nb"}}, `header X-Token: not a valid header value`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := webhook.New(tt.o)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("New = %v, want an error with %q", err, tt.want)
			}
			for _, s := range tt.o.Secrets {
				if strings.Contains(err.Error(), strings.TrimPrefix(s, "whsec_")) {
					t.Errorf("error %q shows a secret", err)
				}
			}
		})
	}
}

func TestNewSecret(t *testing.T) {
	s, err := webhook.NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := webhook.New(webhook.Options{Name: "a", URL: "https://x.example", Secrets: []string{s}}); err != nil {
		t.Errorf("New with NewSecret()'s %q: %v", s, err)
	}
}

func TestCheckSecret(t *testing.T) {
	if err := webhook.CheckSecret(newSecret); err != nil {
		t.Errorf("CheckSecret(good) = %v", err)
	}
	err := webhook.CheckSecret("whsec_c2VjcmV0")
	if err == nil || err.Error() != "6 bytes, want at least 24 random bytes" {
		t.Errorf("CheckSecret(short) = %v", err)
	}
}
