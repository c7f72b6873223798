package statuspage

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// lazy holds a value built on demand and rebuilt once it is ttl old: one
// build at a time, and once there is a value, readers get it at once while
// a newer one is built (stale-while-revalidate). So a crowd costs one
// build per ttl and never waits for the store. Only the first reader after
// a quiet while (no reads for staleAfter, or ttl if longer) waits for the
// new value, up to freshWait from the build's start: after a quiet night
// it gets today's page, not last night's.
type lazy[T any] struct {
	mu       sync.Mutex
	val      T
	has      bool
	built    time.Time // when the last build ended, or failed
	started  time.Time // when the build under way started
	lastRead time.Time // when a reader last asked
	invalid  bool      // rebuild at the next read, whatever its age
	building chan struct{}
	err      error // of the last build
}

// invalidate makes the next read start a rebuild.
func (l *lazy[T]) invalidate() {
	l.mu.Lock()
	l.invalid = true
	l.mu.Unlock()
}

// getLazy returns l's value, starting a build when it is due. Without a
// value it waits for the build (or ctx), unless background is set. A
// failed build keeps the previous value and is retried after ttl; a value
// invalidated while a build runs is built again right after it.
func getLazy[T any](s *Server, ctx context.Context, l *lazy[T], ttl time.Duration,
	build func(context.Context) (T, error), background bool) (T, error) {
	var zero T
	now := s.now()
	l.mu.Lock()
	due := l.invalid || l.built.IsZero() || now.Sub(l.built) >= ttl || now.Before(l.built)
	if due && l.building == nil {
		l.start(s, build)
	}
	quiet := max(staleAfter, ttl)
	old := !background && l.has && l.building != nil && now.Sub(l.built) >= quiet &&
		(l.lastRead.IsZero() || now.Sub(l.lastRead) >= quiet)
	budget := freshWait - now.Sub(l.started) // never wait on a build long under way
	if !background {
		l.lastRead = now
	}
	if old && budget <= 0 {
		old = false
	}
	if l.has && !old || background {
		v := l.val
		l.mu.Unlock()
		return v, nil
	}
	wait, err := l.building, l.err
	l.mu.Unlock()
	if wait == nil && !old {
		return zero, err
	}
	if wait != nil {
		var timeout <-chan time.Time
		if old {
			t := time.NewTimer(budget)
			defer t.Stop()
			timeout = t.C
		}
		select {
		case <-wait:
		case <-timeout:
		case <-ctx.Done():
			if !old {
				return zero, ctx.Err()
			}
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.has {
		return l.val, nil
	}
	return zero, l.err
}

// staleAfter is how long without readers (and without a build) makes a
// value old: its next reader waits for the newer one, up to freshWait
// from that build's start.
const (
	staleAfter = 30 * time.Second
	freshWait  = 2 * time.Second
)

// start runs a build in the background; l.mu is held.
func (l *lazy[T]) start(s *Server, build func(context.Context) (T, error)) {
	l.invalid = false
	done := make(chan struct{})
	l.building, l.started = done, s.now()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		bctx, cancel := context.WithTimeout(context.Background(), buildTimeout)
		v, err := build(bctx)
		cancel()
		if err != nil {
			s.log.Warn("status page: build failed; the last page stays", "error", err)
		}
		l.mu.Lock()
		if err == nil {
			l.val, l.has = v, true
		}
		l.err, l.built, l.building = err, s.now(), nil
		if l.invalid && err == nil {
			l.start(s, build)
		}
		l.mu.Unlock()
		close(done)
	}()
}

// renders caches a model's renderings by key: each is made once, by the
// first reader that asks, and lives as long as its model.
type renders struct{ m sync.Map }

type renderOnce struct {
	once sync.Once
	resp *response
}

func (r *renders) get(key string, f func() *response) *response {
	v, _ := r.m.LoadOrStore(key, &renderOnce{})
	ro := v.(*renderOnce)
	ro.once.Do(func() { ro.resp = f() })
	return ro.resp
}

// response is a rendering ready to send: the body, gzipped ahead of time
// when that is worth it, and its ETag.
type response struct {
	status       int
	contentType  string
	cacheControl string
	body, gz     []byte
	etag         string
}

func newResponse(status int, contentType, cacheControl string, body []byte) *response {
	sum := sha256.Sum256(body)
	r := &response{status: status, contentType: contentType, cacheControl: cacheControl, body: body,
		etag: `"` + hex.EncodeToString(sum[:12]) + `"`}
	if len(body) > 1024 {
		var b bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&b, gzip.DefaultCompression)
		zw.Write(body)
		zw.Close()
		if b.Len() < len(body) {
			r.gz = b.Bytes()
		}
	}
	return r
}

// write sends r, gzipped when the client takes it, or 304 when the client
// has it already.
//
// written, if not nil, is called once the response is written up to
// sendChunk bytes of its body: what a socket's buffer takes at once, so
// that far the writing costs CPU only, and past it waits on the reader.
func (r *response) write(w http.ResponseWriter, req *http.Request, written func()) {
	defer func() {
		if written != nil {
			written()
		}
	}()
	h := w.Header()
	h.Set("Content-Type", r.contentType)
	h.Set("Cache-Control", r.cacheControl)
	if r.status == http.StatusOK {
		h.Set("ETag", r.etag)
		h.Set("Vary", "Accept-Encoding")
		if inm := req.Header.Get("If-None-Match"); inm != "" && etagMatch(inm, r.etag) {
			w.WriteHeader(http.StatusNotModified)
			return
		}
	}
	body := r.body
	if r.gz != nil && acceptsGzip(req.Header.Get("Accept-Encoding")) {
		h.Set("Content-Encoding", "gzip")
		body = r.gz
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(r.status)
	if req.Method == http.MethodHead {
		return
	}
	if written != nil && len(body) > sendChunk {
		w.Write(body[:sendChunk])
		written()
		written = nil
		body = body[sendChunk:]
	}
	w.Write(body)
}

// sendChunk is the part of a body written before a slow reader can make
// the write wait: a socket's default send buffer (Linux: 16 KiB).
const sendChunk = 16 << 10

func etagMatch(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == etag || t == "*" {
			return true
		}
	}
	return false
}

// acceptsGzip reads Accept-Encoding: gzip (or *) with a q above 0.
func acceptsGzip(header string) bool {
	for _, part := range strings.Split(header, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		name = strings.ToLower(strings.TrimSpace(name))
		if name != "gzip" && name != "*" {
			continue
		}
		q := 1.0
		for _, p := range strings.Split(params, ";") {
			if k, v, ok := strings.Cut(strings.TrimSpace(p), "="); ok && strings.EqualFold(k, "q") {
				if f, err := strconv.ParseFloat(v, 64); err == nil {
					q = f
				}
			}
		}
		return q > 0
	}
	return false
}
