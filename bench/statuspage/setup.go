package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/forewarn/forewarn/bench/internal/benchenv"
	"github.com/forewarn/forewarn/demo"
	"github.com/forewarn/forewarn/internal/benchfleet"
	"github.com/forewarn/forewarn/store"
)

// fillInfo is what the report says about the store.
type fillInfo struct {
	path    string
	day     time.Time // the day its history ends (UTC)
	filled  bool      // filled by this run
	took    time.Duration
	pruned  int64 // raw results older than the monitor's retention, deleted before it started
	pruneIn time.Duration
}

// prepareStore fills the store unless a marker says it holds the fleet,
// then deletes raw results past the monitor's raw retention (48 h), as a
// monitor that had run all along would have: otherwise the monitor's
// first retention run, a minute after it starts, would delete 1.8 million
// rows in the middle of a phase.
func prepareStore(ctx context.Context, o options) (fillInfo, error) {
	fi := fillInfo{path: o.db}
	if o.refill {
		if err := removeFill(o.db); err != nil {
			return fi, err
		}
	}
	day, ok := benchfleet.Filled(o.db, o.tenants, o.days)
	if !ok {
		f := benchfleet.Fleet{Tenants: o.tenants, Days: o.days, Now: time.Now().UTC()}
		fmt.Printf("no filled store at %s: filling it (reused by later runs; -db PATH to choose the file)\n", o.db)
		began := time.Now()
		if _, err := f.Prepare(ctx, o.db, func(format string, args ...any) { fmt.Printf("  "+format+"\n", args...) }); err != nil {
			return fi, fmt.Errorf("filling the store: %w", err)
		}
		fi.filled, fi.took, day = true, time.Since(began), f.Now.Truncate(24*time.Hour)
	}
	fi.day = day
	if today := time.Now().UTC().Truncate(24 * time.Hour); day.Before(today) {
		fmt.Printf("note: the stored history ends on %s; the bars' last %d day(s) hold only what this run's monitor writes (-refill to fill again)\n",
			day.Format("2006-01-02"), int(today.Sub(day).Hours()/24))
	}
	s, err := store.OpenWith(ctx, "sqlite:"+o.db, store.Options{RetentionInterval: -1, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return fi, err
	}
	began := time.Now()
	p, err := s.RunRetention(ctx, began)
	fi.pruned, fi.pruneIn = p.Results, time.Since(began)
	if cerr := s.Close(context.Background()); err == nil {
		err = cerr
	}
	if fi.pruned > 0 {
		fmt.Printf("deleted %d raw results older than 48 h in %s, as the monitor's retention would\n", fi.pruned, fi.pruneIn.Round(time.Millisecond))
	}
	return fi, err
}

// removeFill removes a filled store, its write-ahead log and its markers;
// a file without a marker is not one this program filled, and stays.
func removeFill(path string) error {
	markers, _ := filepath.Glob(path + ".filled-*")
	if len(markers) == 0 {
		return nil
	}
	for _, p := range append(markers, path, path+"-wal", path+"-shm") {
		if err := os.Remove(p); err != nil && !os.IsNotExist(err) {
			return err
		}
	}
	return nil
}

func tenantID(i int) string { return benchfleet.TenantID(i) }

func demoTenants(n int) []demo.Tenant { return demo.Tenants(n) }

// writeChecks writes the monitor's checks.yaml: the fleet's tenants, as
// their history names them (tenant-00000 on), each probing a demo tenant
// (the demo's own ids start with acme: tenant i probes the demo's i-th
// tenant) with one http check, over the filled store, status pages on.
func writeChecks(o options, path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	w := bufio.NewWriter(f)
	fleet := benchfleet.Fleet{Tenants: o.tenants, Days: o.days}
	dts := demoTenants(o.tenants)
	fmt.Fprintf(w, "# Written by bench/statuspage: %d tenants of internal/benchfleet, each probing a demo tenant.\n", o.tenants)
	fmt.Fprintf(w, "listen: %q\n", o.listen)
	fmt.Fprintf(w, "defaults: {interval: %s, timeout: 10s}\n", o.interval)
	fmt.Fprintf(w, "store: {dsn: %q}\n", "sqlite:"+o.db)
	fmt.Fprintf(w, "status_page:\n  title: Benchmark status\n  secret: %q\n", "bench/statuspage secret, 32 bytes")
	fmt.Fprintf(w, "tenants:\n")
	for i, t := range fleet.TenantConfigs() {
		fmt.Fprintf(w, "  - {id: %q, name: %q, url: %q, seats: %d, plan: %s, region: %s, public: %t}\n",
			t.ID, t.Name, dts[i].BaseURL("http://"+o.demoListen), t.Seats, t.Plan, t.Region, t.Public)
	}
	fmt.Fprintf(w, `checks:
  - name: health
    kind: http
    request: {method: GET, url: "{{ .Tenant.URL }}/health"}
    expect: {status: [200], body_contains: ok, max_duration: 2s}
`)
	if err := w.Flush(); err != nil {
		return err
	}
	return f.Close()
}

// privateLink asks forewarn for the tenant's private page link, as an
// operator would, and returns its path: /t/{token}.
func privateLink(ctx context.Context, o options, checks string) (string, error) {
	id := tenantID(o.tenant)
	cmd := exec.CommandContext(ctx, o.bin, "status-page", "links", id, "-c", checks, "--log-level", "warn")
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("forewarn status-page links %s: %w", id, err)
	}
	f := strings.Fields(string(out))
	if len(f) != 2 || f[0] != id {
		return "", fmt.Errorf("forewarn status-page links %s: unexpected output %q", id, out)
	}
	u, err := url.Parse(f[1])
	if err != nil || !strings.HasPrefix(u.Path, "/t/") {
		return "", fmt.Errorf("forewarn status-page links %s: not a private link: %q", id, f[1])
	}
	return u.Path, nil
}

// start runs bin with args in a process group of its own, so that Ctrl-C
// reaches this program only and it stops its children in order; and
// with a parent-death signal, so that they end even if this program is
// killed outright.
func start(bin string, args ...string) (*exec.Cmd, error) {
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s %s: %w", bin, args[0], err)
	}
	return cmd, nil
}

// stopProcess ends a process start started, by its PID.
func stopProcess(cmd *exec.Cmd) { benchenv.Stop(cmd) }

// page is one response of a status page, as a browser gets it.
type page struct {
	took     time.Duration
	status   int
	encoding string
	size     int
}

func (p page) String() string {
	enc := p.encoding
	if enc == "" {
		enc = "identity"
	}
	return fmt.Sprintf("%d, %.1f KiB %s", p.status, float64(p.size)/1024, enc)
}

// fetch GETs url once with Accept-Encoding: gzip, waiting up to limit,
// and wants a 200.
func fetch(ctx context.Context, url string, limit time.Duration) (page, error) {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return page{}, err
	}
	req.Header.Set("Accept-Encoding", "gzip")
	began := time.Now()
	resp, err := (&http.Transport{DisableCompression: true}).RoundTrip(req)
	if err != nil {
		return page{}, err
	}
	defer resp.Body.Close()
	n, err := io.Copy(io.Discard, resp.Body)
	p := page{took: time.Since(began), status: resp.StatusCode, encoding: resp.Header.Get("Content-Encoding"), size: int(n)}
	if err != nil {
		return p, err
	}
	if resp.StatusCode != http.StatusOK {
		return p, fmt.Errorf("GET %s: status %d", url, resp.StatusCode)
	}
	return p, nil
}

// privateHistory reads the private page's JSON twin and says how many
// days of each check's bars hold runs: the proof that checks.yaml's
// tenants are the ones the store's history names.
func privateHistory(ctx context.Context, base, privatePath string) (string, int, error) {
	token := strings.TrimPrefix(privatePath, "/t/")
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/v1/tenants/"+token+"/status", nil)
	if err != nil {
		return "", 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", 0, fmt.Errorf("private status JSON: status %d", resp.StatusCode)
	}
	var st struct {
		Tenant struct{ ID string } `json:"tenant"`
		Checks []struct {
			Name string `json:"name"`
			Days []struct {
				Runs int64 `json:"runs"`
			} `json:"days"`
		} `json:"checks"`
		Capacity  []json.RawMessage `json:"capacity"`
		Incidents []json.RawMessage `json:"incidents"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		return "", 0, fmt.Errorf("private status JSON: %w", err)
	}
	var parts []string
	most := 0
	for _, c := range st.Checks {
		n := 0
		for _, d := range c.Days {
			if d.Runs > 0 {
				n++
			}
		}
		most = max(most, n)
		parts = append(parts, fmt.Sprintf("%s %d/%d days", c.Name, n, len(c.Days)))
	}
	return fmt.Sprintf("%s: %s; %d capacity check(s), %d incident(s)", st.Tenant.ID, strings.Join(parts, ", "),
		len(st.Capacity), len(st.Incidents)), most, nil
}
