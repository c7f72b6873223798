package demo

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"time"
)

// newTestServer returns a demo with n tenants behind an httptest server.
func newTestServer(t testing.TB, n int) (*Server, *httptest.Server) {
	t.Helper()
	s, err := New(Options{Tenants: n, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	return s, ts
}

// startServer starts a demo on loopback ports picked by the kernel.
func startServer(t *testing.T, n int) *Server {
	t.Helper()
	s, err := New(Options{Tenants: n, Listen: "127.0.0.1:0", TLSListen: "127.0.0.1:0",
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Error(err)
		}
	})
	return s
}

func get(t *testing.T, c *http.Client, url string) (int, string) {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body)
}

func TestRouting(t *testing.T) {
	_, ts := newTestServer(t, 25)
	tests := []struct {
		path     string
		status   int
		contains string
	}{
		{"/t/acme/health", 200, "ok"},
		{"/t/tenant-00025/health", 200, "ok"},
		{"/t/globex/api/status", 200, `"status":"ok","tenant":"globex","version":"` + Version + `","items":3`},
		{"/t/initech/api/items", 200, `"Quarterly report"`},
		{"/t/nobody/health", 404, "unknown tenant"},
		{"/t/tenant-00026/health", 404, "unknown tenant"},
		{"/t/acme/nothing", 404, "not found"},
		{"/", 404, "not found"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			code, body := get(t, ts.Client(), ts.URL+tt.path)
			if code != tt.status || !strings.Contains(body, tt.contains) {
				t.Errorf("got %d %q, want %d containing %q", code, body, tt.status, tt.contains)
			}
		})
	}
}

func TestNewOptions(t *testing.T) {
	for _, n := range []int{-1, MaxTenants + 1} {
		if _, err := New(Options{Tenants: n}); err == nil {
			t.Errorf("New(Tenants: %d): no error", n)
		}
	}
	s, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := len(s.Tenants()); got != DefaultTenants {
		t.Errorf("default tenants = %d, want %d", got, DefaultTenants)
	}
	if s.URL() != "" {
		t.Errorf("URL before Start = %q, want empty", s.URL())
	}
}

func TestStartServesBothListeners(t *testing.T) {
	s := startServer(t, 3)
	if !strings.HasPrefix(s.URL(), "http://127.0.0.1:") || !strings.HasPrefix(s.TLSURL(), "https://127.0.0.1:") {
		t.Fatalf("URL %q, TLSURL %q", s.URL(), s.TLSURL())
	}
	if code, _ := get(t, http.DefaultClient, s.URL()+"/t/acme/health"); code != 200 {
		t.Errorf("HTTP health: %d", code)
	}
	if code, _ := get(t, tlsClient(t, "acme"), s.TLSURL()+"/t/acme/health"); code != 200 {
		t.Errorf("HTTPS health: %d", code)
	}
	if err := s.Start(); err == nil {
		t.Error("second Start: no error")
	}
}

// A taken port fails Start with an error naming the flag that moves it.
func TestStartPortInUse(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	addr := taken.Addr().String()
	tests := []struct {
		name, listen, tlsListen, flag string
	}{
		{"http", addr, "127.0.0.1:0", "--listen"},
		{"tls", "127.0.0.1:0", addr, "--tls-listen"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := New(Options{Tenants: 1, Listen: tt.listen, TLSListen: tt.tlsListen,
				Logger: slog.New(slog.DiscardHandler)})
			if err != nil {
				t.Fatal(err)
			}
			want := "demo: listen " + addr + ": address already in use (is another demo running? choose another with " + tt.flag + ")"
			err = s.Start()
			if err == nil {
				s.Shutdown(context.Background())
			}
			if err == nil || err.Error() != want || !errors.Is(err, syscall.EADDRINUSE) {
				t.Errorf("Start() = %v, want %q", err, want)
			}
		})
	}
}

// A slow fault must not hold up Shutdown.
func TestShutdownEndsSlowRequests(t *testing.T) {
	s := startServer(t, 1)
	if _, err := s.SetFault("acme", Fault{Mode: ModeSlow, Delay: time.Minute}); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		resp, err := http.Get(s.URL() + "/t/acme/health")
		if err == nil {
			resp.Body.Close()
		}
		done <- err
	}()
	time.Sleep(100 * time.Millisecond) // let the request reach the handler
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	start := time.Now()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("Shutdown took %s", d)
	}
	if err := <-done; err == nil {
		t.Error("slow request got a response after Shutdown")
	}
}

// discardWriter is a ResponseWriter that costs nothing, so the benchmark
// measures the demo alone.
type discardWriter struct{ h http.Header }

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *discardWriter) WriteHeader(int)             {}

func BenchmarkHealth(b *testing.B) {
	s, err := New(Options{Tenants: MaxTenants, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	h := s.Handler()
	req := httptest.NewRequest(http.MethodGet, "/t/tenant-05000/health", nil)
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		h.ServeHTTP(w, req)
	}
}
