package cli

import (
	"bufio"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/forewarn/forewarn/demo"
)

type demoCmd struct {
	Serve   demoServeCmd   `cmd:"" default:"withargs" help:"Serve the demo tenants (the default)."`
	Fault   demoFaultCmd   `cmd:"" help:"Inject a fault into one tenant of a running demo."`
	Clear   demoClearCmd   `cmd:"" help:"Clear a tenant's fault in a running demo."`
	Faults  demoFaultsCmd  `cmd:"" help:"List the faults active in a running demo."`
	Load    demoLoadCmd    `cmd:"" help:"Print one tenant's load counters in a running demo: requests, rejections, peaks, capacity."`
	APIKeys demoAPIKeysCmd `cmd:"" name:"api-keys" help:"Print API keys of one tenant, one a line: ready credentials for a load test's users."`
	Checks  demoChecksCmd  `cmd:"" help:"Print a checks.yaml probing the demo's tenants."`
	Hooks   demoHooksCmd   `cmd:"" help:"List the case webhooks a running demo received (it plays the vendor's ticketing system)."`
}

type demoServeCmd struct {
	Tenants    int            `help:"Number of tenants (1 to 10000)." default:"20"`
	Listen     string         `help:"HTTP listener: tenants at /t/{id}/, fault admin API at /admin/." default:"127.0.0.1:8081"`
	TLSListen  string         `help:"TLS listener; certificates by SNI {id}.demo.forewarn.test, signed by demo/ca.pem." default:"127.0.0.1:8443"`
	Password   string         `help:"Password of every tenant's synthetic user (synthetic@{id}.example) and its OAuth2 client secret (forewarn-{id}); FOREWARN_DEMO_PASSWORD_{ID} gives one tenant its own, e.g. FOREWARN_DEMO_PASSWORD_ACME." env:"FOREWARN_DEMO_PASSWORD"`
	Capacity   map[string]int `help:"Override tenants' capacities, the concurrent users each serves before requests queue and fail (0: unlimited), e.g. --capacity acme=50;globex=0. Default: acme 150 of its 500 seats, most tenants 1.2–1.5 times their seats." placeholder:"ID=USERS"`
	HookSecret string         `name:"hook-secret" help:"Secret (whsec_…) verifying the case webhooks received at POST /hooks/forewarn; default: the public demo secret." env:"FOREWARN_DEMO_WEBHOOK_SECRET"`
}

func (c demoServeCmd) Run(e *env) error {
	if c.Tenants < 1 || c.Tenants > demo.MaxTenants {
		return usage(e, "--tenants %d: want 1 to %d", c.Tenants, demo.MaxTenants)
	}
	srv, err := demo.New(demo.Options{
		Tenants: c.Tenants, Listen: c.Listen, TLSListen: c.TLSListen, Logger: e.log,
		Password: c.Password, Passwords: demo.PasswordsFromEnv(os.Environ(), c.Tenants),
		Capacities: c.Capacity, HookSecret: c.HookSecret,
	})
	if err != nil {
		return err
	}
	if err := srv.Start(); err != nil {
		return err
	}
	ctx, stop := signalContext()
	defer stop()
	<-ctx.Done()
	shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(shut)
}

type demoAdmin struct {
	Addr string `help:"The running demo's HTTP address." default:"http://127.0.0.1:8081"`
}

func (a demoAdmin) base() string {
	if !strings.Contains(a.Addr, "://") {
		return "http://" + a.Addr
	}
	return a.Addr
}

type demoFaultCmd struct {
	demoAdmin
	Tenant string        `arg:"" help:"Tenant id."`
	Mode   string        `arg:"" help:"down, slow, error, wrong_body, expired_tls, expiring_tls, wrong_credentials, token_error, session_expiry, slow_signin or capacity." enum:"down,slow,error,wrong_body,expired_tls,expiring_tls,wrong_credentials,token_error,session_expiry,slow_signin,capacity"`
	Delay  time.Duration `help:"With slow or slow_signin: how long each response waits (default 5s)."`
	Status int           `help:"With error: the status to answer (default 503)."`
	Users  *int          `help:"With capacity (required): the concurrent users the tenant serves while the fault lasts, 0 (unlimited) to 1000000."`
}

func (c demoFaultCmd) Run(e *env) error {
	f := demo.Fault{Mode: demo.Mode(c.Mode), Delay: c.Delay, Status: c.Status}
	switch {
	case c.Users == nil && f.Mode == demo.ModeCapacity:
		return usage(e, "capacity needs --users: the concurrent users served (0 for unlimited)")
	case c.Users != nil && f.Mode != demo.ModeCapacity:
		return usage(e, "--users applies only to mode capacity, not %s", c.Mode)
	case c.Users != nil:
		f.Users = *c.Users
	}
	if err := demo.SetFaultRemote(context.Background(), c.base(), c.Tenant, f); err != nil {
		return err
	}
	if f.Mode == demo.ModeCapacity {
		fmt.Fprintf(e.stdout, "tenant %s: fault capacity set (%s)\n", c.Tenant, demoUsersText(f.Users))
		return nil
	}
	fmt.Fprintf(e.stdout, "tenant %s: fault %s set\n", c.Tenant, c.Mode)
	return nil
}

func demoUsersText(n int) string {
	if n == 0 {
		return "unlimited users"
	}
	return fmt.Sprintf("%d users", n)
}

type demoClearCmd struct {
	demoAdmin
	Tenant string `arg:"" help:"Tenant id."`
}

func (c demoClearCmd) Run(e *env) error {
	if err := demo.ClearFaultRemote(context.Background(), c.base(), c.Tenant); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "tenant %s: fault cleared\n", c.Tenant)
	return nil
}

type demoFaultsCmd struct{ demoAdmin }

func (c demoFaultsCmd) Run(e *env) error {
	faults, err := demo.FaultsRemote(context.Background(), c.base())
	if err != nil {
		return err
	}
	enc := json.NewEncoder(e.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(faults)
}

type demoLoadCmd struct {
	demoAdmin
	Tenant string `arg:"" help:"Tenant id."`
	Reset  bool   `help:"Zero the counters instead of printing them."`
}

func (c demoLoadCmd) Run(e *env) error {
	ctx := context.Background()
	if c.Reset {
		if err := demo.ResetLoadRemote(ctx, c.base(), c.Tenant); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "tenant %s: load counters reset\n", c.Tenant)
		return nil
	}
	st, err := demo.LoadRemote(ctx, c.base(), c.Tenant)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(e.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(st)
}

type demoAPIKeysCmd struct {
	Tenant   string `arg:"" help:"Tenant id."`
	Count    int    `short:"n" help:"How many keys, numbered from 1 (at most 10000)." default:"10"`
	Password string `help:"The demo's password, as given to forewarn demo; FOREWARN_DEMO_PASSWORD_{ID} takes precedence, as it does there." env:"FOREWARN_DEMO_PASSWORD"`
}

// Run prints keys the running demo accepts when it shares the password:
// keys derive from it, so nothing is asked of the demo.
func (c demoAPIKeysCmd) Run(e *env) error {
	if c.Count < 1 || c.Count > demo.MaxAPIKeys {
		return usage(e, "-n %d: want 1 to %d", c.Count, demo.MaxAPIKeys)
	}
	if !slices.ContainsFunc(demo.Tenants(demo.MaxTenants), func(t demo.Tenant) bool { return t.ID == c.Tenant }) {
		return usage(e, "unknown tenant %q", c.Tenant)
	}
	password := cmp.Or(os.Getenv(demo.TenantPasswordEnv(c.Tenant)), c.Password, demo.DefaultPassword)
	w := bufio.NewWriter(e.stdout)
	for n := 1; n <= c.Count; n++ {
		fmt.Fprintln(w, demo.APIKey(password, c.Tenant, n))
	}
	return w.Flush()
}

type demoChecksCmd struct {
	Tenants  int           `help:"Number of tenants." default:"20"`
	Checks   []string      `help:"Checks to write: health, api, tls, sign-in, api-token, oauth (the last three need FOREWARN_DEMO_PASSWORD where the file is used)." default:"health,api,tls"`
	Interval time.Duration `help:"Default check interval." default:"30s"`
	URL      string        `help:"The demo's HTTP base URL." default:"http://127.0.0.1:8081"`
	TLSURL   string        `name:"tls-url" help:"The demo's TLS base URL." default:"https://127.0.0.1:8443"`
	CAFile   string        `name:"ca-file" help:"The demo CA path written into the tls check (relative to the written file's folder). Default: demo/ca.pem of this checkout, absolute." type:"path"`
}

func (c demoChecksCmd) Run(e *env) error {
	if c.Tenants < 1 || c.Tenants > demo.MaxTenants {
		return usage(e, "--tenants %d: want 1 to %d", c.Tenants, demo.MaxTenants)
	}
	for _, name := range c.Checks {
		known := []string{demo.CheckHealth, demo.CheckAPI, demo.CheckTLS, demo.CheckSignIn, demo.CheckAPIToken, demo.CheckOAuth}
		if !slices.Contains(known, name) {
			return usage(e, "--checks: unknown check %q (want %s)", name, strings.Join(known, ", "))
		}
	}
	ca := c.CAFile
	if ca == "" {
		abs, err := filepath.Abs(filepath.Join("demo", "ca.pem"))
		if err != nil {
			return err
		}
		ca = abs
	}
	return demo.WriteChecks(e.stdout, demo.Tenants(c.Tenants), c.URL, c.TLSURL,
		demo.ChecksOnly(c.Checks...), demo.ChecksInterval(c.Interval), demo.ChecksCAFile(ca))
}

type demoHooksCmd struct {
	demoAdmin
}

func (c demoHooksCmd) Run(e *env) error {
	hooks, err := demo.HooksRemote(context.Background(), c.base())
	if err != nil {
		fmt.Fprintln(e.stderr, "forewarn:", err)
		return failure{ExitRuntime}
	}
	if len(hooks) == 0 {
		fmt.Fprintln(e.stdout, "no webhook received")
		return nil
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "RECEIVED (UTC)\tTYPE\tTENANT\tCASE\tKIND\tSEVERITY\tCHECK\tWEBHOOK-ID")
	for _, h := range hooks {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", h.Received.Format("15:04:05"), h.Type, h.Tenant, h.Case,
			h.Kind, h.Severity, h.Check, h.ID)
	}
	return tw.Flush()
}
