package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/slack-go/slack/slacktest"
)

// benchChannel is the one channel the fake knows: "#bench" as configured.
const (
	benchChannel   = "bench"
	benchChannelID = "C0BENCH001"
)

// fakeSlack is the part of Slack's Web API that forewarn's notifier calls
// on a first delivery, on slacktest's loopback server: chat.postMessage
// (arrival time kept, the tenant read from the message), chat.update (a
// root edited to "Resolved"), and empty answers for the history lookups
// it only makes after a failed attempt.
type fakeSlack struct {
	srv     *slacktest.Server
	tenants []*regexp.Regexp // "(id)" as the root's header and text show it
	ids     []string

	mu       sync.Mutex
	seq      int
	roots    []post
	replies  int
	resolved map[string]time.Time // root ts → when it was edited to resolved
	calls    map[string]int
}

// post is one root message as the fake received it.
type post struct {
	at     time.Time // when the request arrived, before it was read
	tenant string    // "" when no tenant of the run is named in it
	ts     string
	text   string
}

func newFakeSlack(tenantIDs []string) *fakeSlack {
	f := &fakeSlack{ids: tenantIDs, resolved: map[string]time.Time{}, calls: map[string]int{}}
	for _, id := range tenantIDs {
		f.tenants = append(f.tenants, regexp.MustCompile(`\(`+regexp.QuoteMeta(id)+`\)`))
	}
	f.srv = slacktest.NewTestServer(func(c slacktest.Customize) {
		c.Handle("/chat.postMessage", f.postMessage)
		c.Handle("/chat.update", f.update)
		c.Handle("/conversations.history", f.emptyHistory)
		c.Handle("/conversations.replies", f.emptyHistory)
		c.Handle("/conversations.list", f.list)
	})
	f.srv.Start()
	return f
}

// apiURL is the api_url for checks.yaml. slack-go joins method names onto
// it, so it must end in "/"; forewarn adds one when missing
// (notify/slack/slack.go), and slacktest's already has it.
func (f *fakeSlack) apiURL() string { return f.srv.GetAPIURL() }

func (f *fakeSlack) stop() { f.srv.Stop() }

// tenantOf finds the run's tenant a root names: "Name (id)" in its header
// and text. Ids are matched whole, in parentheses, so "acme" never matches
// "(acme-eu)".
func (f *fakeSlack) tenantOf(text, blocks string) string {
	for i, re := range f.tenants {
		if re.MatchString(text) || re.MatchString(blocks) {
			return f.ids[i]
		}
	}
	return ""
}

func (f *fakeSlack) postMessage(w http.ResponseWriter, r *http.Request) {
	at := time.Now()
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	text, blocks := r.FormValue("text"), r.FormValue("blocks")
	tenant := f.tenantOf(text, blocks)
	f.mu.Lock()
	f.calls["chat.postMessage"]++
	f.seq++
	ts := fmt.Sprintf("%d.%06d", at.Unix(), f.seq)
	if r.FormValue("thread_ts") == "" {
		f.roots = append(f.roots, post{at: at, tenant: tenant, ts: ts, text: text})
	} else {
		f.replies++
	}
	f.mu.Unlock()
	slackJSON(w, map[string]any{"ok": true, "channel": benchChannelID, "ts": ts,
		"message": map[string]any{"text": text, "ts": ts}})
}

func (f *fakeSlack) update(w http.ResponseWriter, r *http.Request) {
	at := time.Now()
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	ts := r.FormValue("ts")
	f.mu.Lock()
	f.calls["chat.update"]++
	if strings.Contains(r.FormValue("text"), "Resolved") {
		if _, seen := f.resolved[ts]; !seen {
			f.resolved[ts] = at
		}
	}
	f.mu.Unlock()
	slackJSON(w, map[string]any{"ok": true, "channel": r.FormValue("channel"), "ts": ts, "text": r.FormValue("text")})
}

func (f *fakeSlack) emptyHistory(w http.ResponseWriter, r *http.Request) {
	f.count(strings.TrimPrefix(r.URL.Path, "/"))
	slackJSON(w, map[string]any{"ok": true, "messages": []any{}, "has_more": false})
}

func (f *fakeSlack) list(w http.ResponseWriter, _ *http.Request) {
	f.count("conversations.list")
	slackJSON(w, map[string]any{"ok": true, "channels": []map[string]any{{"id": benchChannelID, "name": benchChannel}}})
}

func (f *fakeSlack) count(method string) {
	f.mu.Lock()
	f.calls[method]++
	f.mu.Unlock()
}

func slackJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// firstRoot is the first root message naming tenant at or after since.
func (f *fakeSlack) firstRoot(tenant string, since time.Time) (post, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, p := range f.roots {
		if p.tenant == tenant && !p.at.Before(since) {
			return p, true
		}
	}
	return post{}, false
}

// resolvedAt is when root ts was edited to say the case resolved.
func (f *fakeSlack) resolvedAt(ts string) (time.Time, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	t, ok := f.resolved[ts]
	return t, ok
}

// rootsOutside counts the roots since since for tenants not in want: a
// case opened where no outage was injected.
func (f *fakeSlack) rootsOutside(want []string, since time.Time) []post {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []post
	for _, p := range f.roots {
		if !p.at.Before(since) && !slices.Contains(want, p.tenant) {
			out = append(out, p)
		}
	}
	return out
}

// callSummary is "chat.postMessage 22, chat.update 10", sorted by method.
func (f *fakeSlack) callSummary() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var parts []string
	for m, n := range f.calls {
		parts = append(parts, fmt.Sprintf("%s %d", m, n))
	}
	sort.Strings(parts)
	return strings.Join(parts, ", ")
}
