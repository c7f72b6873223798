// Package cli is forewarn's command line: the grammar and one small function
// per command, each handing over to the package that does the work.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"syscall"

	"github.com/alecthomas/kong"

	"github.com/forewarn/forewarn/metrics"
	"github.com/forewarn/forewarn/probes"
	"github.com/forewarn/forewarn/scheduler"
)

// Exit codes.
const (
	ExitOK      = 0
	ExitFailed  = 1 // a probe failed, or the configuration is invalid
	ExitUsage   = 2 // the command line is wrong
	ExitRuntime = 3 // forewarn itself could not do its job
)

// env is what every command gets: where to write and who it is.
type env struct {
	stdout, stderr io.Writer
	build          metrics.BuildInfo
	log            *slog.Logger
}

type grammar struct {
	LogLevel  string `help:"Log level: debug, info, warn, error." default:"info" enum:"debug,info,warn,error"`
	LogFormat string `help:"Log format: text or json." default:"text" enum:"text,json"`

	Run        runCmd        `cmd:"" help:"Probe every tenant on schedule and serve /metrics, /healthz and /readyz."`
	Check      checkCmd      `cmd:"" help:"Validate checks.yaml and print the plan: tenants × checks and their next runs."`
	Probe      probeCmd      `cmd:"" help:"Run one check against one tenant now and print the result; exits 1 if it fails."`
	Capacity   capacityCmd   `cmd:"" help:"Ramp virtual users against one tenant until it breaks its SLO; print the capacity curve and chart it; exits 1 if the knee is below what the check requires."`
	Cases      casesCmd      `cmd:"" help:"List open and recent support cases from the history store, with where their notifications stand."`
	Notify     notifyCmd     `cmd:"" help:"Test the configured notifiers (Slack, webhooks); make a webhook secret."`
	StatusPage statusPageCmd `cmd:"" name:"status-page" help:"The status pages forewarn run serves at / and /t/{token}: print the private links."`
	Demo       demoCmd       `cmd:"" help:"Serve a simulated SaaS with many tenants on 127.0.0.1, for trying forewarn out."`
	Version    versionCmd    `cmd:"" help:"Print the version."`
}

// failure is an error whose message was already printed in full and that
// maps to an exit code.
type failure struct{ code int }

func (f failure) Error() string { return fmt.Sprintf("exit %d", f.code) }

// Main runs the command line and returns the process exit code.
func Main(args []string, stdout, stderr io.Writer, build metrics.BuildInfo) int {
	var g grammar
	exit := -1
	parser, err := kong.New(&g,
		kong.Name("forewarn"),
		kong.Description("forewarn probes every tenant of a SaaS — reachability, TLS, sign-in — "+
			"and tells you when one fails, before its customer does.\n\n"+
			"Try it: make run. By hand: export FOREWARN_DEMO_PASSWORD=forewarn-demo "+
			"FOREWARN_DEMO_PASSWORD_ACME=forewarn-demo-acme (the demo users' passwords, "+
			"read by checks.yaml), then forewarn demo & forewarn run"),
		kong.Writers(stdout, stderr),
		kong.Exit(func(code int) { exit = code }),
		kong.UsageOnError(),
		kong.ConfigureHelp(kong.HelpOptions{Compact: true}),
		kong.Vars{"max_in_flight": strconv.Itoa(scheduler.DefaultMaxInFlight)},
	)
	if err != nil {
		fmt.Fprintln(stderr, "forewarn:", err)
		return ExitRuntime
	}
	kctx, err := parser.Parse(args)
	if exit >= 0 { // --help
		return exit
	}
	if err != nil {
		fmt.Fprintln(stderr, "forewarn:", err)
		return ExitUsage
	}
	probes.UserAgent = probes.UserAgentFor(build.Version)
	e := &env{stdout: stdout, stderr: stderr, build: build, log: newLogger(stderr, g.LogLevel, g.LogFormat)}
	slog.SetDefault(e.log)
	err = kctx.Run(e)
	var f failure
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &f):
		return f.code
	default:
		fmt.Fprintln(stderr, "forewarn:", err)
		return ExitRuntime
	}
}

func newLogger(w io.Writer, level, format string) *slog.Logger {
	var lv slog.Level
	_ = lv.UnmarshalText([]byte(level))
	opts := &slog.HandlerOptions{Level: lv}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// signalContext ends on SIGINT or SIGTERM.
func signalContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}

type versionCmd struct{}

func (versionCmd) Run(e *env) error {
	fmt.Fprintf(e.stdout, "forewarn %s (revision %s)\n", e.build.Version, e.build.Revision)
	return nil
}
