package demo

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
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
		{"not JSON", "PUT", fault, `slow`, 400, "invalid fault JSON"},
		{"unknown field", "PUT", fault, `{"mode":"slow","dely":"1s"}`, 400, `unknown field \"dely\"`},
		{"bad delay", "PUT", fault, `{"mode":"slow","delay":"soon"}`, 400, "delay: time: invalid duration"},
		{"bad mode", "PUT", fault, `{"mode":"on fire"}`, 400, "unknown fault mode"},
		{"no mode", "PUT", fault, `{}`, 400, "unknown fault mode"},
		{"trailing data", "PUT", fault, `{"mode":"down"} {}`, 400, "data after the object"},
		{"bad status", "PUT", fault, `{"mode":"error","status":99}`, 400, "not an error status"},
		{"unknown tenant", "PUT", ts.URL + "/admin/tenants/nobody/fault", `{"mode":"down"}`, 404, "unknown tenant"},
		{"clear", "DELETE", fault, "", 204, ""},
		{"clear again", "DELETE", fault, "", 204, ""},
		{"cleared", "GET", ts.URL + "/admin/faults", "", 200, `{}`},
		{"wrong method", "POST", fault, `{"mode":"down"}`, 405, ""},
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
