package slack

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	slackgo "github.com/slack-go/slack"
	"github.com/slack-go/slack/slacktest"

	"github.com/forewarn/forewarn/store"
)

// fakeSlack is a Slack Web API good enough for the notifier: slacktest's
// server with our own chat.postMessage (unique increasing ts, metadata and
// threads kept), chat.update, conversations.history, conversations.replies
// and conversations.list, and switches for failures.
type fakeSlack struct {
	t   *testing.T
	srv *slacktest.Server

	mu       sync.Mutex
	seq      int
	msgs     []*fakeMsg
	calls    map[string]int
	channels map[string]string // name (without #) → ID
	tokens   map[string]bool   // tokens seen

	// Failure switches, all methods unless failMethod is set.
	mode       string // "", "429", "500", "down", "drop" (take the post, lose the answer)
	retryAfter int
	failMethod string
	errCode    map[string]string // method → Slack error code
	onPost     func(m *fakeMsg)  // after a post is stored, before it is answered
}

type fakeMsg struct {
	Channel  string
	TS       string
	ThreadTS string
	Text     string
	Blocks   []map[string]any
	Metadata slackgo.SlackMetadata
	Updates  int
}

const fakeToken = "xoxb-test-secret-token-1234"

func newFakeSlack(t *testing.T) *fakeSlack {
	t.Helper()
	f := &fakeSlack{t: t, calls: map[string]int{}, tokens: map[string]bool{}, errCode: map[string]string{},
		channels: map[string]string{"saas-support": "C0DEFAULT1", "support-acme": "C0ACME0001"}}
	f.srv = slacktest.NewTestServer(func(c slacktest.Customize) {
		c.Handle("/chat.postMessage", f.wrap("chat.postMessage", f.postMessage))
		c.Handle("/chat.update", f.wrap("chat.update", f.update))
		c.Handle("/conversations.history", f.wrap("conversations.history", f.history))
		c.Handle("/conversations.replies", f.wrap("conversations.replies", f.thread))
		c.Handle("/conversations.list", f.wrap("conversations.list", f.list))
	})
	f.srv.Start()
	t.Cleanup(f.srv.Stop)
	return f
}

func (f *fakeSlack) url() string { return f.srv.GetAPIURL() }

func (f *fakeSlack) set(fn func(f *fakeSlack)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f)
}

func (f *fakeSlack) count(method string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[method]
}

// messages returns copies of the stored messages, oldest first.
func (f *fakeSlack) messages() []fakeMsg {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]fakeMsg, len(f.msgs))
	for i, m := range f.msgs {
		out[i] = *m
	}
	return out
}

func (f *fakeSlack) roots() []fakeMsg {
	var out []fakeMsg
	for _, m := range f.messages() {
		if m.ThreadTS == "" {
			out = append(out, m)
		}
	}
	return out
}

func (f *fakeSlack) replies(ts string) []fakeMsg {
	var out []fakeMsg
	for _, m := range f.messages() {
		if m.ThreadTS == ts {
			out = append(out, m)
		}
	}
	return out
}

func (f *fakeSlack) wrap(method string, h func(w http.ResponseWriter, r *http.Request)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		f.mu.Lock()
		f.calls[method]++
		f.tokens[r.FormValue("token")] = true
		mode, after, code := f.mode, f.retryAfter, f.errCode[method]
		if f.failMethod != "" && f.failMethod != method {
			mode = ""
		}
		f.mu.Unlock()
		switch mode {
		case "429":
			w.Header().Set("Retry-After", strconv.Itoa(after))
			w.WriteHeader(http.StatusTooManyRequests)
			_, _ = w.Write([]byte(`{"ok":false,"error":"ratelimited"}`))
			return
		case "500":
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = w.Write([]byte("<html>oops</html>"))
			return
		case "down":
			hangUp(w)
			return
		}
		if code != "" {
			writeJSON(w, map[string]any{"ok": false, "error": code})
			return
		}
		h(w, r)
	}
}

func hangUp(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err == nil {
		_ = conn.Close()
	}
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// channelID answers a name or an ID with the ID, like Slack.
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
		writeJSON(w, map[string]any{"ok": false, "error": "channel_not_found"})
		return
	}
	f.seq++
	now := time.Now()
	m := &fakeMsg{Channel: id, TS: fmt.Sprintf("%d.%06d", now.Unix(), f.seq), ThreadTS: r.FormValue("thread_ts"), Text: r.FormValue("text")}
	if b := r.FormValue("blocks"); b != "" {
		if err := json.Unmarshal([]byte(b), &m.Blocks); err != nil {
			f.t.Errorf("chat.postMessage: blocks: %v", err)
		}
	}
	if md := r.FormValue("metadata"); md != "" {
		if err := json.Unmarshal([]byte(md), &m.Metadata); err != nil {
			f.t.Errorf("chat.postMessage: metadata: %v", err)
		}
	}
	f.msgs = append(f.msgs, m)
	hook, mode := f.onPost, f.mode
	f.mu.Unlock()
	if hook != nil {
		hook(m)
	}
	if mode == "drop" {
		hangUp(w)
		return
	}
	writeJSON(w, map[string]any{"ok": true, "channel": id, "ts": m.TS, "message": map[string]any{"text": m.Text, "ts": m.TS}})
}

func (f *fakeSlack) update(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, m := range f.msgs {
		if m.Channel == r.FormValue("channel") && m.TS == r.FormValue("ts") {
			m.Text, m.Blocks = r.FormValue("text"), nil
			if b := r.FormValue("blocks"); b != "" {
				if err := json.Unmarshal([]byte(b), &m.Blocks); err != nil {
					f.t.Errorf("chat.update: blocks: %v", err)
				}
			}
			m.Updates++
			writeJSON(w, map[string]any{"ok": true, "channel": m.Channel, "ts": m.TS, "text": m.Text})
			return
		}
	}
	writeJSON(w, map[string]any{"ok": false, "error": "message_not_found"})
}

// history answers top-level messages newest first, like Slack, within
// oldest and latest, a page at a time.
func (f *fakeSlack) history(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	ch := r.FormValue("channel")
	if _, ok := f.channelID(ch); !ok || strings.HasPrefix(ch, "#") {
		writeJSON(w, map[string]any{"ok": false, "error": "channel_not_found"})
		return
	}
	var out []*fakeMsg
	for _, m := range f.msgs {
		if m.Channel == ch && m.ThreadTS == "" && inWindow(m.TS, r) {
			out = append(out, m)
		}
	}
	sort.Slice(out, func(i, j int) bool { return tsLess(out[j].TS, out[i].TS) })
	f.page(w, r, out)
}

func (f *fakeSlack) thread(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	ch, ts := r.FormValue("channel"), r.FormValue("ts")
	var out []*fakeMsg
	for _, m := range f.msgs {
		if m.Channel == ch && (m.TS == ts || m.ThreadTS == ts) && (m.TS == ts || inWindow(m.TS, r)) {
			out = append(out, m)
		}
	}
	if len(out) == 0 {
		writeJSON(w, map[string]any{"ok": false, "error": "thread_not_found"})
		return
	}
	f.page(w, r, out)
}

func (f *fakeSlack) page(w http.ResponseWriter, r *http.Request, msgs []*fakeMsg) {
	start, _ := strconv.Atoi(r.FormValue("cursor"))
	limit, _ := strconv.Atoi(r.FormValue("limit"))
	if limit <= 0 {
		limit = 100
	}
	end := min(start+limit, len(msgs))
	withMeta := r.FormValue("include_all_metadata") == "1"
	var page []map[string]any
	for _, m := range msgs[start:end] {
		x := map[string]any{"type": "message", "ts": m.TS, "text": m.Text}
		if m.ThreadTS != "" {
			x["thread_ts"] = m.ThreadTS
		}
		if withMeta && m.Metadata.EventType != "" {
			x["metadata"] = m.Metadata
		}
		page = append(page, x)
	}
	res := map[string]any{"ok": true, "messages": page, "has_more": end < len(msgs)}
	if end < len(msgs) {
		res["response_metadata"] = map[string]any{"next_cursor": strconv.Itoa(end)}
	}
	writeJSON(w, res)
}

func (f *fakeSlack) list(w http.ResponseWriter, _ *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var chans []map[string]any
	for name, id := range f.channels {
		chans = append(chans, map[string]any{"id": id, "name": name})
	}
	writeJSON(w, map[string]any{"ok": true, "channels": chans})
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

// memState is an in-memory StateStore that answers store.ErrNotFound.
type memState struct {
	mu    sync.Mutex
	data  map[string][]byte
	saves int
}

func newMemState() *memState { return &memState{data: map[string][]byte{}} }

func (s *memState) SaveState(_ context.Context, key string, value []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.data[key] = append([]byte(nil), value...)
	s.saves++
	return nil
}

func (s *memState) LoadState(_ context.Context, key string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.data[key]
	if !ok {
		return nil, store.ErrNotFound
	}
	return append([]byte(nil), v...), nil
}

func (s *memState) DeleteState(_ context.Context, key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.data, key)
	return nil
}

// killableState drops every write once killed: a process killed with -9
// after Slack took its post writes nothing more.
type killableState struct {
	StateStore
	mu     sync.Mutex
	killed bool
}

func (s *killableState) kill() {
	s.mu.Lock()
	s.killed = true
	s.mu.Unlock()
}

func (s *killableState) SaveState(ctx context.Context, key string, value []byte) error {
	s.mu.Lock()
	killed := s.killed
	s.mu.Unlock()
	if killed {
		return nil
	}
	return s.StateStore.SaveState(ctx, key, value)
}

func newTimeoutClient(d time.Duration) *http.Client { return &http.Client{Timeout: d} }
