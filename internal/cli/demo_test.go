package cli

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/forewarn/forewarn/demo"
	"github.com/forewarn/forewarn/metrics"
)

// runDemoCLI runs the command line and returns its exit code and output.
func runDemoCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := Main(args, &stdout, &stderr, metrics.BuildInfo{})
	return code, stdout.String(), stderr.String()
}

// newTestDemo serves a 3-tenant demo on an httptest server.
func newTestDemo(t *testing.T) (*demo.Server, string) {
	t.Helper()
	s, err := demo.New(demo.Options{Tenants: 3, Password: "pw", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	return s, ts.URL
}

func TestDemoCapacityFault(t *testing.T) {
	s, url := newTestDemo(t)
	code, out, errOut := runDemoCLI(t, "demo", "fault", "--addr", url, "acme", "capacity", "--users", "80")
	if code != ExitOK || out != "tenant acme: fault capacity set (80 users)\n" {
		t.Fatalf("fault capacity: %d %q %q", code, out, errOut)
	}
	if f := s.Faults()["acme"]; f != (demo.Fault{Mode: demo.ModeCapacity, Users: 80}) {
		t.Errorf("demo has %+v", f)
	}
	code, out, _ = runDemoCLI(t, "demo", "faults", "--addr", url)
	if code != ExitOK || !strings.Contains(out, `"acme": {`) || !strings.Contains(out, `"users": 80`) {
		t.Errorf("faults: %d %s", code, out)
	}
	code, out, _ = runDemoCLI(t, "demo", "load", "--addr", url, "acme")
	var st demo.LoadStats
	if code != ExitOK || json.Unmarshal([]byte(out), &st) != nil || st.Capacity != 80 || st.Tenant != "acme" {
		t.Errorf("load: %d %s", code, out)
	}
	if code, out, _ := runDemoCLI(t, "demo", "load", "--addr", url, "acme", "--reset"); code != ExitOK || out != "tenant acme: load counters reset\n" {
		t.Errorf("load --reset: %d %q", code, out)
	}
	if code, out, _ := runDemoCLI(t, "demo", "fault", "--addr", url, "acme", "capacity", "--users", "0"); code != ExitOK || !strings.Contains(out, "unlimited") {
		t.Errorf("fault capacity 0: %d %q", code, out)
	}

	for _, tt := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"acme", "capacity"}, ExitUsage, "forewarn: capacity needs --users"},
		{[]string{"acme", "slow", "--users", "5"}, ExitUsage, "forewarn: --users applies only to mode capacity, not slow"},
		{[]string{"acme", "capacity", "--users=-1"}, ExitRuntime, "users -1 out of range (0 for unlimited to 1000000)"},
		{[]string{"nobody", "capacity", "--users", "5"}, ExitRuntime, `404 Not Found: unknown tenant "nobody"`},
	} {
		code, _, errOut := runDemoCLI(t, append([]string{"demo", "fault", "--addr", url}, tt.args...)...)
		if code != tt.code || !strings.Contains(errOut, tt.want) {
			t.Errorf("fault %v: %d %q, want %d %q", tt.args, code, errOut, tt.code, tt.want)
		}
	}
}

func TestDemoAPIKeys(t *testing.T) {
	t.Setenv(demo.PasswordEnv, "shared")
	t.Setenv(demo.TenantPasswordEnv("acme"), "acme-own")
	tests := []struct {
		args     []string
		password string
		n        int
	}{
		{[]string{"globex", "-n", "3"}, "shared", 3},
		{[]string{"acme", "--count", "2"}, "acme-own", 2},
		{[]string{"initech"}, "shared", 10},
		{[]string{"tenant-00042", "-n", "1", "--password", "flag"}, "flag", 1},
	}
	for _, tt := range tests {
		code, out, errOut := runDemoCLI(t, append([]string{"demo", "api-keys"}, tt.args...)...)
		var want strings.Builder
		for n := 1; n <= tt.n; n++ {
			want.WriteString(demo.APIKey(tt.password, tt.args[0], n) + "\n")
		}
		if code != ExitOK || out != want.String() {
			t.Errorf("api-keys %v: %d %q %q, want %q", tt.args, code, out, errOut, want.String())
		}
	}
	for _, args := range [][]string{{"acme", "-n", "0"}, {"acme", "-n", "10001"}, {"nobody"}} {
		if code, _, errOut := runDemoCLI(t, append([]string{"demo", "api-keys"}, args...)...); code != ExitUsage || errOut == "" {
			t.Errorf("api-keys %v: %d %q, want a usage error", args, code, errOut)
		}
	}
}

// The keys printed sign a load test's users in to a demo sharing the password.
func TestDemoAPIKeysAccepted(t *testing.T) {
	t.Setenv(demo.PasswordEnv, "pw")
	t.Setenv(demo.TenantPasswordEnv("acme"), "") // make exports acme's own; this demo has none
	_, url := newTestDemo(t)
	_, out, _ := runDemoCLI(t, "demo", "api-keys", "acme", "-n", "2")
	for _, key := range strings.Fields(out) {
		req, err := http.NewRequest(http.MethodGet, url+"/t/acme/api/me", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("key %s: %d", key, resp.StatusCode)
		}
	}
}
