package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sync"
	"time"
)

// The monitor's log messages the benchmark times (monitor/monitor.go,
// monitor/cases.go): the first failure of a check, and a case opening and
// resolving.
const (
	msgFailing  = "probe failing"
	msgOpened   = "case opened"
	msgResolved = "case resolved"
)

// logWatch reads the monitor's JSON log (--log-format json) and keeps the
// times of the messages above by tenant. Errors are passed on to stderr.
type logWatch struct {
	mu     sync.Mutex
	events map[string][]logEvent // by tenant
	errors int
	done   chan struct{}
}

type logEvent struct {
	msg string
	at  time.Time // the log record's time: the monitor's clock, the same machine's
}

func watchLog(r io.Reader) *logWatch {
	w := &logWatch{events: map[string][]logEvent{}, done: make(chan struct{})}
	go w.read(r)
	return w
}

func (w *logWatch) read(r io.Reader) {
	defer close(w.done)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		var rec struct {
			Time   time.Time `json:"time"`
			Level  string    `json:"level"`
			Msg    string    `json:"msg"`
			Tenant string    `json:"tenant"`
		}
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			fmt.Fprintf(os.Stderr, "monitor: %s\n", sc.Bytes())
			continue
		}
		if rec.Level == "ERROR" {
			fmt.Fprintf(os.Stderr, "monitor: %s\n", sc.Bytes())
		}
		w.mu.Lock()
		if rec.Level == "ERROR" {
			w.errors++
		}
		switch rec.Msg {
		case msgFailing, msgOpened, msgResolved:
			w.events[rec.Tenant] = append(w.events[rec.Tenant], logEvent{msg: rec.Msg, at: rec.Time})
		}
		w.mu.Unlock()
	}
	// Keep the pipe drained until the monitor exits.
	_, _ = io.Copy(io.Discard, r)
}

// first is the time of tenant's first msg at or after since.
func (w *logWatch) first(tenant, msg string, since time.Time) (time.Time, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, e := range w.events[tenant] {
		if e.msg == msg && !e.at.Before(since) {
			return e.at, true
		}
	}
	return time.Time{}, false
}

func (w *logWatch) errorCount() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.errors
}
