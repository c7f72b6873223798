package cli

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/forewarn/forewarn/config"
	"github.com/forewarn/forewarn/monitor"
)

type runCmd struct {
	Config        string        `short:"c" help:"Path to checks.yaml." default:"checks.yaml" type:"path"`
	Listen        string        `help:"Address for /metrics, /healthz and /readyz (overrides listen: in the config; default 127.0.0.1:8080)."`
	MaxInFlight   int           `help:"Most probes running at once." default:"${max_in_flight}"`
	Watch         bool          `help:"Reload when the config file changes (SIGHUP always reloads)." default:"true" negatable:""`
	WatchInterval time.Duration `help:"How often to look for a change of the config file." default:"5s"`
}

func (c runCmd) Run(e *env) error {
	ctx, stop := signalContext()
	defer stop()
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	reload := make(chan struct{}, 1)
	go func() {
		for range hup {
			select {
			case reload <- struct{}{}:
			default:
			}
		}
	}()
	if c.MaxInFlight < 1 {
		return usage(e, "--max-in-flight %d: want at least 1", c.MaxInFlight)
	}
	if c.WatchInterval < 100*time.Millisecond {
		return usage(e, "--watch-interval %s: want at least 100ms", c.WatchInterval)
	}
	watch := c.WatchInterval
	if !c.Watch {
		watch = -1
	}
	err := monitor.Run(ctx, monitor.Options{
		ConfigPath: c.Config, Listen: c.Listen, MaxInFlight: c.MaxInFlight,
		WatchInterval: watch, Reload: reload, Build: e.build, Logger: e.log,
	})
	return configFailure(e, err)
}

// configFailure prints every configuration error, one per line, and turns
// them into exit code 1; other errors pass through.
func configFailure(e *env, err error) error {
	if errs, ok := err.(config.Errors); ok {
		for _, ce := range errs {
			e.stderr.Write([]byte(ce.Error() + "\n"))
		}
		e.stderr.Write([]byte("forewarn: the configuration has errors; nothing was started\n"))
		return failure{ExitFailed}
	}
	return err
}

// usage reports a wrong command line: exit code 2.
func usage(e *env, format string, args ...any) error {
	fmt.Fprintf(e.stderr, "forewarn: "+format+"\n", args...)
	return failure{ExitUsage}
}
