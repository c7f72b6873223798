package e2e

import (
	"context"
	"net/http/httptest"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/forewarn/forewarn/config"
	"github.com/forewarn/forewarn/demo"
	"github.com/forewarn/forewarn/probes"
)

// signInChecks is a 4-step form sign-in (login page and CSRF token, form
// post and session cookie, authenticated page, API call), as checks.yaml
// runs it, for acme.
func signInChecks(demoURL string) string {
	return demoTenants(demoURL, 0, "acme") + "checks:\n" + formSignIn + `        extract: {session: {cookie: session, secret: true}}
      - name: home
        request: {url: "{{ .Tenant.URL }}/home"}
        expect: {body_contains: Welcome}
      - name: me
        request: {url: "{{ .Tenant.URL }}/api/me"}
        expect: {json: [{path: user, equals: "{{ .Vars.username }}"}]}
`
}

// BenchmarkSignInAgainstDemo runs one 4-step sign-in per iteration against
// the demo over plain HTTP (no TLS handshakes) and reports the CPU time of
// the whole process per run — the prober's and the demo's together, so the
// prober's own share is lower.
func BenchmarkSignInAgainstDemo(b *testing.B) {
	// The sign-ins never sign out: the tenant's capacity model would turn
	// them away once its session slots fill, so it is lifted here.
	srv, err := demo.New(demo.Options{Tenants: 1, Password: os.Getenv(demo.PasswordEnv),
		Passwords: demo.PasswordsFromEnv(os.Environ(), 1), Capacities: map[string]int{"acme": 0}})
	if err != nil {
		b.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	cfg, err := config.Parse("bench.yaml", []byte(signInChecks(ts.URL)), ".", config.Options{})
	if err != nil {
		b.Fatal(err)
	}
	target := cfg.Targets[0]
	b.ReportAllocs()
	cpu0 := cpuTime()
	b.ResetTimer()
	for b.Loop() {
		if r := probes.Run(context.Background(), target); !r.Success {
			b.Fatalf("sign-in failed: %s", r.Message)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu-µs/run")
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
