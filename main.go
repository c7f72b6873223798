// Command forewarn probes every tenant of a SaaS — reachability, TLS,
// sign-in — and tells its vendor when one fails, before the customer calls.
//
// main only wires the command line to the packages; see internal/cli.
package main

import (
	"os"

	"github.com/forewarn/forewarn/internal/cli"
	"github.com/forewarn/forewarn/metrics"
)

// Set by the Makefile with -ldflags -X.
var (
	version  = "dev"
	revision = "unknown"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], os.Stdout, os.Stderr, metrics.BuildInfo{Version: version, Revision: revision}))
}
