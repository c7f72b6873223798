package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack/slacktest"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/forewarn/forewarn/notify"
	"github.com/forewarn/forewarn/notify/webhook"
)

// The fakes' answer modes.
const (
	modeHealthy = ""
	mode500     = "500"    // every call answers 500 with an HTML page
	modeHangUp  = "hangup" // every connection is closed without an answer
)

// fakeSlack is the part of Slack's Web API forewarn uses, on slacktest's
// loopback server: chat.postMessage (unique increasing ts, threads and
// message metadata kept), chat.update, conversations.history,
// conversations.replies and conversations.list; and a mode for outages.
type fakeSlack struct {
	t   *testing.T
	srv *slacktest.Server

	mu       sync.Mutex
	seq      int
	msgs     []*slackMsg
	calls    map[string]int // every call, by method
	failed   map[string]int // calls answered with a failure, by method
	tokens   map[string]bool
	channels map[string]string // name without # → ID
	mode     string
	// holdNext makes the next chat.postMessage store its message, tell
	// posted, and keep its answer until hold is closed or the client goes
	// away.
	holdNext bool
	hold     chan struct{}
	posted   chan slackMsg
}

type slackMsg struct {
	Channel  string // the channel's ID
	TS       string
	ThreadTS string // "" for a root
	Text     string
	Blocks   string // as posted: JSON
	EventID  string // from the metadata forewarn sets
	CaseID   string
	Updates  int // chat.update calls on it
}

func newFakeSlack(t *testing.T) *fakeSlack {
	t.Helper()
	f := &fakeSlack{t: t, calls: map[string]int{}, failed: map[string]int{}, tokens: map[string]bool{},
		channels: map[string]string{"support": "C0SUPPORT1", "general": "C0GENERAL1"}}
	f.srv = slacktest.NewTestServer(func(c slacktest.Customize) {
		c.Handle("/chat.postMessage", f.wrap("chat.postMessage", f.postMessage))
		c.Handle("/chat.update", f.wrap("chat.update", f.update))
		c.Handle("/conversations.history", f.wrap("conversations.history", f.history))
		c.Handle("/conversations.replies", f.wrap("conversations.replies", f.thread))
		c.Handle("/conversations.list", f.wrap("conversations.list", f.list))
	})
	f.srv.Start()
	t.Cleanup(func() {
		f.release()
		f.srv.Stop()
	})
	return f
}

func (f *fakeSlack) url() string { return f.srv.GetAPIURL() }

func (f *fakeSlack) setMode(mode string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.mode = mode
}

// holdNextPost makes the next chat.postMessage store its message and not
// answer; the returned channel receives the message once stored.
func (f *fakeSlack) holdNextPost() <-chan slackMsg {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.holdNext, f.hold, f.posted = true, make(chan struct{}), make(chan slackMsg, 1)
	return f.posted
}

// release lets a held answer go.
func (f *fakeSlack) release() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.hold != nil {
		close(f.hold)
		f.hold = nil
	}
}

func (f *fakeSlack) failures() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, c := range f.failed {
		n += c
	}
	return n
}

// messages returns copies of the stored messages, oldest first.
func (f *fakeSlack) messages() []slackMsg {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]slackMsg, len(f.msgs))
	for i, m := range f.msgs {
		out[i] = *m
	}
	return out
}

func (f *fakeSlack) roots() []slackMsg {
	var out []slackMsg
	for _, m := range f.messages() {
		if m.ThreadTS == "" {
			out = append(out, m)
		}
	}
	return out
}

// replies returns the replies in the thread of root ts, in posting order.
func (f *fakeSlack) replies(ts string) []slackMsg {
	var out []slackMsg
	for _, m := range f.messages() {
		if m.ThreadTS == ts {
			out = append(out, m)
		}
	}
	return out
}

// summary describes what the fake holds, for failure messages.
func (f *fakeSlack) summary() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var b strings.Builder
	fmt.Fprintf(&b, "calls %v, failed %v; messages:", f.calls, f.failed)
	for _, m := range f.msgs {
		fmt.Fprintf(&b, "\n  ts=%s thread=%s event=%s updates=%d %q", m.TS, m.ThreadTS, m.EventID, m.Updates, clipText(m.Text, 120))
	}
	return b.String()
}

func (f *fakeSlack) wrap(method string, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		f.mu.Lock()
		f.calls[method]++
		if tok := r.FormValue("token"); tok != "" {
			f.tokens[tok] = true
		}
		if auth := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "); auth != "" {
			f.tokens[auth] = true
		}
		mode := f.mode
		if mode != modeHealthy {
			f.failed[method]++
		}
		f.mu.Unlock()
		switch mode {
		case mode500:
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = w.Write([]byte("<html>slack is having a bad day</html>"))
			return
		case modeHangUp:
			closeConn(w)
			return
		}
		h(w, r)
	}
}

func closeConn(w http.ResponseWriter) {
	if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
		_ = conn.Close()
	}
}

func slackJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// channelID answers a channel name (with or without #) or ID with the ID.
func (f *fakeSlack) channelID(ch string) (string, bool) {
	if id, ok := f.channels[strings.TrimPrefix(ch, "#")]; ok {
		return id, true
	}
	for _, id := range f.channels {
		if id == ch {
			return id, true
		}
	}
	return "", false
}

func (f *fakeSlack) postMessage(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	id, ok := f.channelID(r.FormValue("channel"))
	if !ok {
		f.mu.Unlock()
		slackJSON(w, map[string]any{"ok": false, "error": "channel_not_found"})
		return
	}
	f.seq++
	m := &slackMsg{Channel: id, TS: fmt.Sprintf("%d.%06d", time.Now().Unix(), f.seq), ThreadTS: r.FormValue("thread_ts"),
		Text: r.FormValue("text"), Blocks: r.FormValue("blocks")}
	if md := r.FormValue("metadata"); md != "" {
		var meta struct {
			EventType    string         `json:"event_type"`
			EventPayload map[string]any `json:"event_payload"`
		}
		if err := json.Unmarshal([]byte(md), &meta); err != nil {
			f.t.Errorf("fake Slack: chat.postMessage metadata %q: %v", md, err)
		}
		m.EventID, _ = meta.EventPayload["event_id"].(string)
		m.CaseID, _ = meta.EventPayload["case_id"].(string)
	}
	f.msgs = append(f.msgs, m)
	var hold chan struct{}
	if f.holdNext {
		f.holdNext, hold = false, f.hold
	}
	posted := f.posted
	f.mu.Unlock()
	if hold != nil {
		posted <- *m
		select {
		case <-hold:
		case <-r.Context().Done(): // the sender was killed
			return
		}
	}
	slackJSON(w, map[string]any{"ok": true, "channel": id, "ts": m.TS, "message": map[string]any{"text": m.Text, "ts": m.TS}})
}

func (f *fakeSlack) update(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, m := range f.msgs {
		if m.Channel == r.FormValue("channel") && m.TS == r.FormValue("ts") {
			m.Text, m.Blocks = r.FormValue("text"), r.FormValue("blocks")
			m.Updates++
			slackJSON(w, map[string]any{"ok": true, "channel": m.Channel, "ts": m.TS, "text": m.Text})
			return
		}
	}
	slackJSON(w, map[string]any{"ok": false, "error": "message_not_found"})
}

// history answers a channel's top-level messages newest first, like
// Slack, within oldest and latest, a page at a time.
func (f *fakeSlack) history(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	ch := r.FormValue("channel")
	if _, ok := f.channelID(ch); !ok || strings.HasPrefix(ch, "#") {
		slackJSON(w, map[string]any{"ok": false, "error": "channel_not_found"})
		return
	}
	var out []*slackMsg
	for _, m := range f.msgs {
		if m.Channel == ch && m.ThreadTS == "" && inWindow(m.TS, r) {
			out = append(out, m)
		}
	}
	sort.Slice(out, func(i, j int) bool { return tsLess(out[j].TS, out[i].TS) })
	slackPage(w, r, out)
}

func (f *fakeSlack) thread(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	ch, ts := r.FormValue("channel"), r.FormValue("ts")
	var out []*slackMsg
	for _, m := range f.msgs {
		if m.Channel == ch && (m.TS == ts || (m.ThreadTS == ts && inWindow(m.TS, r))) {
			out = append(out, m)
		}
	}
	if len(out) == 0 {
		slackJSON(w, map[string]any{"ok": false, "error": "thread_not_found"})
		return
	}
	slackPage(w, r, out)
}

func slackPage(w http.ResponseWriter, r *http.Request, msgs []*slackMsg) {
	start, _ := strconv.Atoi(r.FormValue("cursor"))
	limit, _ := strconv.Atoi(r.FormValue("limit"))
	if limit <= 0 {
		limit = 100
	}
	start = min(start, len(msgs))
	end := min(start+limit, len(msgs))
	withMeta := r.FormValue("include_all_metadata") == "1" || r.FormValue("include_all_metadata") == "true"
	page := []map[string]any{}
	for _, m := range msgs[start:end] {
		x := map[string]any{"type": "message", "ts": m.TS, "text": m.Text}
		if m.ThreadTS != "" {
			x["thread_ts"] = m.ThreadTS
		}
		if withMeta && m.EventID != "" {
			x["metadata"] = map[string]any{"event_type": "forewarn_case_event",
				"event_payload": map[string]any{"event_id": m.EventID, "case_id": m.CaseID}}
		}
		page = append(page, x)
	}
	res := map[string]any{"ok": true, "messages": page, "has_more": end < len(msgs)}
	if end < len(msgs) {
		res["response_metadata"] = map[string]any{"next_cursor": strconv.Itoa(end)}
	}
	slackJSON(w, res)
}

func (f *fakeSlack) list(w http.ResponseWriter, _ *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	chans := []map[string]any{}
	for name, id := range f.channels {
		chans = append(chans, map[string]any{"id": id, "name": name})
	}
	slackJSON(w, map[string]any{"ok": true, "channels": chans})
}

func inWindow(ts string, r *http.Request) bool {
	if o := r.FormValue("oldest"); o != "" && tsLess(ts, o) {
		return false
	}
	if l := r.FormValue("latest"); l != "" && tsLess(l, ts) {
		return false
	}
	return true
}

func tsLess(a, b string) bool {
	x, _ := strconv.ParseFloat(a, 64)
	y, _ := strconv.ParseFloat(b, 64)
	return x < y
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

func clipText(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}
