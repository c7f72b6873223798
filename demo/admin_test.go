package demo

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

func adminRequest(t *testing.T, method, url, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestAdminAPI(t *testing.T) {
	_, ts := newTestServer(t, 3)
	fault := ts.URL + "/admin/tenants/acme/fault"
	tests := []struct {
		name, method, url, body string
		status                  int
		contains                string
	}{
		{"set", "PUT", fault, `{"mode":"slow","delay":"500ms"}`, 200, `"delay":"500ms"`},
		{"defaults", "PUT", fault, `{"mode":"error"}`, 200, `"status":503`},
		{"list", "GET", ts.URL + "/admin/faults", "", 200, `{"acme":{"mode":"error","status":503}}`},
		{"empty body", "PUT", fault, ``, 400, `missing fault: send JSON like {\"mode\":\"slow\",\"delay\":\"500ms\"}`},
		{"blank body", "PUT", fault, " \n", 400, "missing fault"},
		{"truncated", "PUT", fault, `{"mode":`, 400, "invalid fault JSON: unexpected EOF"},
		{"not JSON", "PUT", fault, `slow`, 400, "invalid fault JSON"},
		{"unknown field", "PUT", fault, `{"mode":"slow","dely":"1s"}`, 400, `unknown field \"dely\"`},
		{"bad delay", "PUT", fault, `{"mode":"slow","delay":"soon"}`, 400, "delay: time: invalid duration"},
		{"bad mode", "PUT", fault, `{"mode":"on fire"}`, 400, "unknown fault mode"},
		{"no mode", "PUT", fault, `{}`, 400, "unknown fault mode"},
		{"trailing data", "PUT", fault, `{"mode":"down"} {}`, 400, "data after the object"},
		{"bad status", "PUT", fault, `{"mode":"error","status":99}`, 400, "not an error status"},
		{"capacity", "PUT", fault, `{"mode":"capacity","users":80}`, 200, `{"mode":"capacity","users":80}`},
		{"capacity unlimited", "PUT", fault, `{"mode":"capacity","users":0}`, 200, `{"mode":"capacity","users":0}`},
		{"capacity without users", "PUT", fault, `{"mode":"capacity"}`, 400,
			`{"error":"mode \"capacity\" needs users: the concurrent users served (0 for unlimited to 1000000), e.g. {\"mode\":\"capacity\",\"users\":80}"}`},
		{"users too many", "PUT", fault, `{"mode":"capacity","users":1000001}`, 400, `{"error":"users 1000001 out of range (0 for unlimited to 1000000)"}`},
		{"users negative", "PUT", fault, `{"mode":"capacity","users":-1}`, 400, "users -1 out of range"},
		{"users not a number", "PUT", fault, `{"mode":"capacity","users":"80"}`, 400, "invalid fault JSON"},
		{"users with slow", "PUT", fault, `{"mode":"slow","users":80}`, 400, `{"error":"users applies only to mode \"capacity\", not \"slow\""}`},
		{"users 0 with down", "PUT", fault, `{"mode":"down","users":0}`, 400, `users applies only to mode`},
		{"delay with capacity", "PUT", fault, `{"mode":"capacity","users":5,"delay":"1s"}`, 400, "delay applies only to modes"},
		{"unknown tenant", "PUT", ts.URL + "/admin/tenants/nobody/fault", `{"mode":"down"}`, 404, "unknown tenant"},
		{"clear", "DELETE", fault, "", 204, ""},
		{"clear again", "DELETE", fault, "", 204, ""},
		{"cleared", "GET", ts.URL + "/admin/faults", "", 200, `{}`},
		{"wrong method", "POST", fault, `{"mode":"down"}`, 405, ""},
		{"load", "GET", ts.URL + "/admin/tenants/acme/load", "", 200, `"tenant":"acme","capacity":150,"queue":7,"requests":0,"rejected":0,"in_flight":0,"peak_in_flight":0,"peak_per_second":0,"slots":0,"peak_slots":0,"waiters":0,"peak_waiters":0}`},
		{"load reset", "DELETE", ts.URL + "/admin/tenants/acme/load", "", 204, ""},
		{"load unknown tenant", "GET", ts.URL + "/admin/tenants/nobody/load", "", 404, `{"error":"unknown tenant \"nobody\""}`},
		{"load reset unknown tenant", "DELETE", ts.URL + "/admin/tenants/nobody/load", "", 404, "unknown tenant"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body := adminRequest(t, tt.method, tt.url, tt.body)
			if code != tt.status || !strings.Contains(body, tt.contains) {
				t.Errorf("got %d %s, want %d containing %s", code, body, tt.status, tt.contains)
			}
			if code == 400 && json.Unmarshal([]byte(body), &errorBody{}) != nil {
				t.Errorf("400 body is not JSON: %s", body)
			}
		})
	}
}

func TestRemoteClient(t *testing.T) {
	s, ts := newTestServer(t, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	want := Fault{Mode: ModeSlow, Delay: 250 * time.Millisecond}
	if err := SetFaultRemote(ctx, ts.URL, "globex", want); err != nil {
		t.Fatal(err)
	}
	if got := s.Faults()["globex"]; got != want {
		t.Errorf("server has %+v, want %+v", got, want)
	}
	faults, err := FaultsRemote(ctx, ts.URL+"/")
	if err != nil || faults["globex"] != want {
		t.Errorf("FaultsRemote = %v, %v", faults, err)
	}
	err = SetFaultRemote(ctx, ts.URL, "globex", Fault{Mode: "melt"})
	if err == nil || !strings.Contains(err.Error(), `unknown fault mode "melt"`) {
		t.Errorf("bad fault: %v", err)
	}
	if err := ClearFaultRemote(ctx, ts.URL, "globex"); err != nil {
		t.Fatal(err)
	}
	if len(s.Faults()) != 0 {
		t.Errorf("faults left: %v", s.Faults())
	}
	if err := ClearFaultRemote(ctx, ts.URL, "nobody"); err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("unknown tenant: %v", err)
	}
}

// A DELETE racing a PUT must not crash the PUT, and each PUT answers with the
// fault it set, not whatever another request stored meanwhile.
func TestAdminConcurrentPutDelete(t *testing.T) {
	_, ts := newTestServer(t, 1)
	fault := ts.URL + "/admin/tenants/acme/fault"
	puts := map[string]string{
		`{"mode":"slow","delay":"500ms"}`: `{"mode":"slow","delay":"500ms"}`,
		`{"mode":"error"}`:                `{"mode":"error","status":503}`,
	}
	const rounds = 200
	var wg sync.WaitGroup
	for body, want := range puts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range rounds {
				code, got, err := tryAdminRequest(http.MethodPut, fault, body)
				if err != nil || code != http.StatusOK || strings.TrimSpace(got) != want {
					t.Errorf("PUT %s: %d %q %v, want 200 %s", body, code, got, err, want)
					return
				}
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for range rounds {
			if code, got, err := tryAdminRequest(http.MethodDelete, fault, ""); err != nil || code != http.StatusNoContent {
				t.Errorf("DELETE: %d %q %v", code, got, err)
				return
			}
		}
	}()
	wg.Wait()
}

// tryAdminRequest is adminRequest for goroutines other than the test's own.
func tryAdminRequest(method, url, body string) (int, string, error) {
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

// With no demo listening, every remote call fails at once and says why.
func TestRemoteClientDemoNotRunning(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	ln.Close()

	want := `cannot reach the demo at ` + base + ` (is "forewarn demo" running?): `
	calls := map[string]func() error{
		"SetFaultRemote":   func() error { return SetFaultRemote(context.Background(), base+"/", "acme", Fault{Mode: ModeDown}) },
		"ClearFaultRemote": func() error { return ClearFaultRemote(context.Background(), base, "acme") },
		"FaultsRemote": func() error {
			_, err := FaultsRemote(context.Background(), base)
			return err
		},
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			err := call()
			if err == nil || !strings.HasPrefix(err.Error(), want) || !errors.Is(err, syscall.ECONNREFUSED) {
				t.Errorf("got %v, want %q… wrapping ECONNREFUSED", err, want)
			}
		})
	}
}

func TestAdminClientHasTimeout(t *testing.T) {
	if adminClient == http.DefaultClient || adminClient.Timeout != 10*time.Second {
		t.Errorf("adminClient timeout %s, want its own client with 10s", adminClient.Timeout)
	}
}
