package demo

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestHTTPFaults(t *testing.T) {
	tests := []struct {
		fault Fault
		path  string
		check func(t *testing.T, resp *http.Response, body string, err error, took time.Duration)
	}{
		{Fault{Mode: ModeDown}, "/health", func(t *testing.T, _ *http.Response, _ string, err error, _ time.Duration) {
			if err == nil {
				t.Error("down: got a response")
			}
		}},
		{Fault{Mode: ModeSlow, Delay: 150 * time.Millisecond}, "/health", func(t *testing.T, resp *http.Response, _ string, err error, took time.Duration) {
			if err != nil || resp.StatusCode != 200 || took < 150*time.Millisecond {
				t.Errorf("slow: err %v, took %s", err, took)
			}
		}},
		{Fault{Mode: ModeError}, "/api/status", func(t *testing.T, resp *http.Response, _ string, err error, _ time.Duration) {
			if err != nil || resp.StatusCode != 503 {
				t.Errorf("error: %v %v", resp, err)
			}
		}},
		{Fault{Mode: ModeError, Status: 502}, "/health", func(t *testing.T, resp *http.Response, _ string, err error, _ time.Duration) {
			if err != nil || resp.StatusCode != 502 {
				t.Errorf("error 502: %v %v", resp, err)
			}
		}},
		{Fault{Mode: ModeWrongBody}, "/health", func(t *testing.T, resp *http.Response, body string, err error, _ time.Duration) {
			if err != nil || resp.StatusCode != 200 || body != "degraded\n" {
				t.Errorf("wrong_body health: %q %v", body, err)
			}
		}},
		{Fault{Mode: ModeWrongBody}, "/api/status", func(t *testing.T, resp *http.Response, body string, err error, _ time.Duration) {
			var st statusBody
			if err != nil || json.Unmarshal([]byte(body), &st) != nil || st.Status != "down" {
				t.Errorf("wrong_body status: %q %v", body, err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(string(tt.fault.Mode)+tt.path, func(t *testing.T) {
			s, ts := newTestServer(t, 3)
			if _, err := s.SetFault("acme", tt.fault); err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			resp, err := ts.Client().Get(ts.URL + "/t/acme" + tt.path)
			took := time.Since(start)
			var body string
			if err == nil {
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				body = string(b)
			}
			tt.check(t, resp, body, err, took)

			// Other tenants are unaffected, and clearing restores acme.
			if code, _ := get(t, ts.Client(), ts.URL+"/t/globex/health"); code != 200 {
				t.Errorf("globex: %d", code)
			}
			if err := s.ClearFault("acme"); err != nil {
				t.Fatal(err)
			}
			if code, body := get(t, ts.Client(), ts.URL+"/t/acme/health"); code != 200 || body != "ok\n" {
				t.Errorf("after clear: %d %q", code, body)
			}
		})
	}
}

func TestSetFaultValidation(t *testing.T) {
	s, _ := newTestServer(t, 3)
	tests := []struct {
		id    string
		fault Fault
		want  string
	}{
		{"nobody", Fault{Mode: ModeDown}, "unknown tenant"},
		{"acme", Fault{Mode: "broken"}, `unknown fault mode "broken"`},
		{"acme", Fault{Mode: ModeSlow, Delay: -time.Second}, "out of range"},
		{"acme", Fault{Mode: ModeSlow, Delay: time.Hour}, "out of range"},
		{"acme", Fault{Mode: ModeDown, Delay: time.Second}, "delay applies only to mode"},
		{"acme", Fault{Mode: ModeSlow, Status: 500}, "status applies only to mode"},
		{"acme", Fault{Mode: ModeError, Status: 200}, "not an error status"},
		{"acme", Fault{Mode: ModeCapacity, Users: -1}, "users -1 out of range (0 for unlimited to 1000000)"},
		{"acme", Fault{Mode: ModeCapacity, Users: MaxCapacity + 1}, "out of range"},
		{"acme", Fault{Mode: ModeSlow, Users: 5}, `users applies only to mode "capacity", not "slow"`},
		{"acme", Fault{Mode: ModeCapacity, Users: 5, Status: 503}, "status applies only to mode"},
	}
	for _, tt := range tests {
		_, err := s.SetFault(tt.id, tt.fault)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("SetFault(%s, %+v) = %v, want %q", tt.id, tt.fault, err, tt.want)
		}
	}
	if err := s.ClearFault("nobody"); !errors.Is(err, ErrUnknownTenant) {
		t.Errorf("ClearFault(nobody) = %v", err)
	}
	if len(s.Faults()) != 0 {
		t.Errorf("invalid faults were stored: %v", s.Faults())
	}
}

func TestFaultDefaultsAndJSON(t *testing.T) {
	s, _ := newTestServer(t, 3)
	want := map[string]Fault{
		"acme":   {Mode: ModeSlow, Delay: DefaultSlowDelay},
		"globex": {Mode: ModeError, Status: DefaultErrorStatus},
	}
	for id, f := range map[string]Fault{"acme": {Mode: ModeSlow}, "globex": {Mode: ModeError}} {
		if set, err := s.SetFault(id, f); err != nil || set != want[id] {
			t.Errorf("SetFault(%s, %+v) = %+v, %v, want %+v", id, f, set, err, want[id])
		}
	}
	got := s.Faults()
	if len(got) != 2 || got["acme"] != want["acme"] || got["globex"] != want["globex"] {
		t.Errorf("Faults() = %v, want %v", got, want)
	}
	b, _ := json.Marshal(Fault{Mode: ModeSlow, Delay: 500 * time.Millisecond})
	if string(b) != `{"mode":"slow","delay":"500ms"}` {
		t.Errorf("JSON = %s", b)
	}
	var f Fault
	if err := json.Unmarshal(b, &f); err != nil || f.Delay != 500*time.Millisecond {
		t.Errorf("round trip: %+v, %v", f, err)
	}
	// Capacity's users is written even when 0 (unlimited), and read back.
	for _, users := range []int{0, 80} {
		b, _ := json.Marshal(Fault{Mode: ModeCapacity, Users: users})
		var f Fault
		if err := json.Unmarshal(b, &f); err != nil || f != (Fault{Mode: ModeCapacity, Users: users}) ||
			!strings.Contains(string(b), `"users":`) {
			t.Errorf("capacity %d: %s → %+v, %v", users, b, f, err)
		}
	}
}
