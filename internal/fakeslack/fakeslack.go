// Package fakeslack is the part of Slack's Web API forewarn uses, for tests:
// slacktest's loopback server with chat.postMessage (unique increasing ts,
// threads and message metadata kept), chat.update, conversations.history,
// conversations.replies and conversations.list, and switches for the ways
// Slack fails. Only tests import it.
package fakeslack

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slacktest"
)

// Mode is how the fake answers.
type Mode string

const (
	Healthy     Mode = ""
	RateLimited Mode = "429"    // 429 with Retry-After (SetRetryAfter) and error ratelimited
	ServerError Mode = "500"    // 500 with an HTML page
	HangUp      Mode = "hangup" // the connection is closed without an answer
	// DropAnswer makes chat.postMessage store its message, then hang up
	// instead of answering; other methods answer as usual.
	DropAnswer Mode = "drop"
)

// Msg is a message as the fake holds it.
type Msg struct {
	Channel  string // the channel's ID
	TS       string
	ThreadTS string           // "" for a root
	Text     string           // as posted or last updated
	Blocks   []map[string]any // as posted or last updated
	Metadata slack.SlackMetadata
	Updates  int // chat.update calls on it
}

// EventID is the event_id in the message's metadata.
func (m Msg) EventID() string { s, _ := m.Metadata.EventPayload["event_id"].(string); return s }

// CaseID is the case_id in the message's metadata.
func (m Msg) CaseID() string { s, _ := m.Metadata.EventPayload["case_id"].(string); return s }

// Server is a fake Slack. Its methods are safe to call while it serves.
type Server struct {
	t   testing.TB
	srv *slacktest.Server

	mu       sync.Mutex
	seq      int
	msgs     []*Msg
	calls    map[string]int    // every call, by method
	failed   map[string]int    // calls answered with a failure, by method
	tokens   map[string]bool   // tokens seen, in the form or as a bearer
	channels map[string]string // name without # → ID

	mode       Mode
	modeMethod string            // the one method mode applies to; "" all
	retryAfter int               // seconds, for RateLimited
	errCode    map[string]string // method → Slack error code to answer with
	onPost     func(Msg)         // after a post is stored, before it is answered

	// holdNext makes the next chat.postMessage store its message, send it
	// on posted, and keep its answer until hold is closed or the client
	// goes away.
	holdNext bool
	hold     chan struct{}
	posted   chan Msg
}

// New starts a fake Slack that knows channels (name without # → ID) and
// stops it when the test ends.
func New(t testing.TB, channels map[string]string) *Server {
	t.Helper()
	f := &Server{t: t, calls: map[string]int{}, failed: map[string]int{}, tokens: map[string]bool{},
		channels: maps.Clone(channels), errCode: map[string]string{}}
	f.srv = slacktest.NewTestServer(func(c slacktest.Customize) {
		c.Handle("/chat.postMessage", f.wrap("chat.postMessage", f.postMessage))
		c.Handle("/chat.update", f.wrap("chat.update", f.update))
		c.Handle("/conversations.history", f.wrap("conversations.history", f.history))
		c.Handle("/conversations.replies", f.wrap("conversations.replies", f.thread))
		c.Handle("/conversations.list", f.wrap("conversations.list", f.list))
	})
	f.srv.Start()
	t.Cleanup(func() {
		f.Release()
		f.srv.Stop()
	})
	return f
}

// URL is the API URL to give a Slack client.
func (f *Server) URL() string { return f.srv.GetAPIURL() }

// SetMode sets how every method answers.
func (f *Server) SetMode(mode Mode) { f.SetModeFor("", mode) }

// SetModeFor sets how method answers; the others answer as usual.
func (f *Server) SetModeFor(method string, mode Mode) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.mode, f.modeMethod = mode, method
}

// SetRetryAfter sets the Retry-After seconds RateLimited answers with.
func (f *Server) SetRetryAfter(seconds int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.retryAfter = seconds
}

// SetError makes method answer ok: false with the Slack error code; ""
// clears it.
func (f *Server) SetError(method, code string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.errCode[method] = code
}

// OnPost calls fn with each posted message once it is stored and before it
// is answered; nil stops that.
func (f *Server) OnPost(fn func(Msg)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.onPost = fn
}

// HoldNextPost makes the next chat.postMessage store its message and not
// answer until Release; the returned channel receives the message once
// stored.
func (f *Server) HoldNextPost() <-chan Msg {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.holdNext, f.hold, f.posted = true, make(chan struct{}), make(chan Msg, 1)
	return f.posted
}

// Release lets a held answer go.
func (f *Server) Release() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.hold != nil {
		close(f.hold)
		f.hold = nil
	}
}

// Calls counts the calls of method so far.
func (f *Server) Calls(method string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[method]
}

// Failures counts the calls answered with a failure so far.
func (f *Server) Failures() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, c := range f.failed {
		n += c
	}
	return n
}

// Tokens returns the tokens the calls carried.
func (f *Server) Tokens() map[string]bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return maps.Clone(f.tokens)
}

// Messages returns copies of the stored messages, oldest first.
func (f *Server) Messages() []Msg {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]Msg, len(f.msgs))
	for i, m := range f.msgs {
		out[i] = *m
	}
	return out
}

// Roots returns the messages that start a thread, oldest first.
func (f *Server) Roots() []Msg { return f.filter(func(m Msg) bool { return m.ThreadTS == "" }) }

// Replies returns the replies in the thread of root ts, in posting order.
func (f *Server) Replies(ts string) []Msg {
	return f.filter(func(m Msg) bool { return m.ThreadTS == ts })
}

func (f *Server) filter(keep func(Msg) bool) []Msg {
	var out []Msg
	for _, m := range f.Messages() {
		if keep(m) {
			out = append(out, m)
		}
	}
	return out
}

// Summary describes what the fake holds, for failure messages.
func (f *Server) Summary() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var b strings.Builder
	fmt.Fprintf(&b, "calls %v, failed %v; messages:", f.calls, f.failed)
	for _, m := range f.msgs {
		text := m.Text
		if r := []rune(text); len(r) > 120 {
			text = string(r[:120]) + "…"
		}
		fmt.Fprintf(&b, "\n  ts=%s thread=%s event=%s updates=%d %q", m.TS, m.ThreadTS, m.EventID(), m.Updates, text)
	}
	return b.String()
}

// modeOf is the mode method answers in; f.mu is held.
func (f *Server) modeOf(method string) Mode {
	if f.modeMethod != "" && f.modeMethod != method {
		return Healthy
	}
	return f.mode
}

func (f *Server) wrap(method string, h http.HandlerFunc) http.HandlerFunc {
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
		mode, after, code := f.modeOf(method), f.retryAfter, f.errCode[method]
		failing := code != "" || (mode != Healthy && mode != DropAnswer)
		if failing {
			f.failed[method]++
		}
		f.mu.Unlock()
		switch mode {
		case RateLimited:
			w.Header().Set("Retry-After", strconv.Itoa(after))
			w.WriteHeader(http.StatusTooManyRequests)
			_, _ = w.Write([]byte(`{"ok":false,"error":"ratelimited"}`))
			return
		case ServerError:
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = w.Write([]byte("<html>slack is having a bad day</html>"))
			return
		case HangUp:
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
	if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
		_ = conn.Close()
	}
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// channelID answers a channel name (with or without #) or ID with the ID,
// like Slack; f.mu is held.
func (f *Server) channelID(ch string) (string, bool) {
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

// blocks decodes a blocks form value; a bad one fails the test.
func (f *Server) blocks(method, v string) []map[string]any {
	if v == "" {
		return nil
	}
	var out []map[string]any
	if err := json.Unmarshal([]byte(v), &out); err != nil {
		f.t.Errorf("fake Slack: %s: blocks %q: %v", method, v, err)
	}
	return out
}

func (f *Server) postMessage(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	id, ok := f.channelID(r.FormValue("channel"))
	if !ok {
		f.mu.Unlock()
		writeJSON(w, map[string]any{"ok": false, "error": "channel_not_found"})
		return
	}
	f.seq++
	m := &Msg{Channel: id, TS: fmt.Sprintf("%d.%06d", time.Now().Unix(), f.seq), ThreadTS: r.FormValue("thread_ts"),
		Text: r.FormValue("text"), Blocks: f.blocks("chat.postMessage", r.FormValue("blocks"))}
	if md := r.FormValue("metadata"); md != "" {
		if err := json.Unmarshal([]byte(md), &m.Metadata); err != nil {
			f.t.Errorf("fake Slack: chat.postMessage: metadata %q: %v", md, err)
		}
	}
	f.msgs = append(f.msgs, m)
	stored := *m
	var hold chan struct{}
	if f.holdNext {
		f.holdNext, hold = false, f.hold
	}
	hook, posted, drop := f.onPost, f.posted, f.modeOf("chat.postMessage") == DropAnswer
	if drop {
		f.failed["chat.postMessage"]++
	}
	f.mu.Unlock()
	if hook != nil {
		hook(stored)
	}
	if hold != nil {
		posted <- stored
		select {
		case <-hold:
		case <-r.Context().Done(): // the sender went away, or was killed
			return
		}
	}
	if drop {
		hangUp(w)
		return
	}
	writeJSON(w, map[string]any{"ok": true, "channel": id, "ts": m.TS, "message": map[string]any{"text": m.Text, "ts": m.TS}})
}

func (f *Server) update(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, m := range f.msgs {
		if m.Channel == r.FormValue("channel") && m.TS == r.FormValue("ts") {
			m.Text, m.Blocks = r.FormValue("text"), f.blocks("chat.update", r.FormValue("blocks"))
			m.Updates++
			writeJSON(w, map[string]any{"ok": true, "channel": m.Channel, "ts": m.TS, "text": m.Text})
			return
		}
	}
	writeJSON(w, map[string]any{"ok": false, "error": "message_not_found"})
}

// history answers a channel's top-level messages newest first, like
// Slack, within oldest and latest, a page at a time.
func (f *Server) history(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	ch := r.FormValue("channel")
	if _, ok := f.channelID(ch); !ok || strings.HasPrefix(ch, "#") {
		writeJSON(w, map[string]any{"ok": false, "error": "channel_not_found"})
		return
	}
	var out []*Msg
	for _, m := range f.msgs {
		if m.Channel == ch && m.ThreadTS == "" && inWindow(m.TS, r) {
			out = append(out, m)
		}
	}
	sort.Slice(out, func(i, j int) bool { return tsLess(out[j].TS, out[i].TS) })
	page(w, r, out)
}

// thread answers the root ts and its replies within oldest and latest.
func (f *Server) thread(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	ch, ts := r.FormValue("channel"), r.FormValue("ts")
	var out []*Msg
	for _, m := range f.msgs {
		if m.Channel == ch && (m.TS == ts || (m.ThreadTS == ts && inWindow(m.TS, r))) {
			out = append(out, m)
		}
	}
	if len(out) == 0 {
		writeJSON(w, map[string]any{"ok": false, "error": "thread_not_found"})
		return
	}
	page(w, r, out)
}

// page answers msgs from the cursor (an index) on, limit at a time, with
// their metadata when asked for.
func page(w http.ResponseWriter, r *http.Request, msgs []*Msg) {
	start, _ := strconv.Atoi(r.FormValue("cursor"))
	limit, _ := strconv.Atoi(r.FormValue("limit"))
	if limit <= 0 {
		limit = 100
	}
	start = min(start, len(msgs))
	end := min(start+limit, len(msgs))
	withMeta := r.FormValue("include_all_metadata") == "1" || r.FormValue("include_all_metadata") == "true"
	out := []map[string]any{}
	for _, m := range msgs[start:end] {
		x := map[string]any{"type": "message", "ts": m.TS, "text": m.Text}
		if m.ThreadTS != "" {
			x["thread_ts"] = m.ThreadTS
		}
		if withMeta && m.Metadata.EventType != "" {
			x["metadata"] = m.Metadata
		}
		out = append(out, x)
	}
	res := map[string]any{"ok": true, "messages": out, "has_more": end < len(msgs)}
	if end < len(msgs) {
		res["response_metadata"] = map[string]any{"next_cursor": strconv.Itoa(end)}
	}
	writeJSON(w, res)
}

func (f *Server) list(w http.ResponseWriter, _ *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	chans := []map[string]any{}
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
