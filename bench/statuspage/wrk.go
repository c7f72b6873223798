package main

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
	"syscall"
	"time"
)

// wrkResult is what wrk said about a phase.
type wrkResult struct {
	p50, p99, max time.Duration
	reqPerSec     float64
	requests      int
	non2xx        int
	socketErrors  string // "connect 0, read 0, write 0, timeout 0", or ""
	cpu           time.Duration
	output        string
}

// runWrk loads url as the issue asks (wrk -t2 -c200 -d20s --latency, with
// Accept-Encoding: gzip as browsers send it). --timeout 10s: wrk's default
// of 2 s would drop slower responses from the latency distribution and
// count them as socket errors only.
func runWrk(ctx context.Context, wrk string, o options, url string) (*wrkResult, error) {
	args := []string{fmt.Sprintf("-t%d", o.threads), fmt.Sprintf("-c%d", o.connections),
		fmt.Sprintf("-d%ds", int(o.duration.Round(time.Second).Seconds())), "--latency", "--timeout", "10s",
		"-H", "Accept-Encoding: gzip", url}
	cmd := exec.CommandContext(ctx, wrk, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("wrk: %w\n%s", err, out.String())
	}
	r, err := parseWrk(out.Bytes())
	if err != nil {
		return nil, fmt.Errorf("%w\n%s", err, out.String())
	}
	r.cpu = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	return r, nil
}

var (
	wrkPercentile = regexp.MustCompile(`(?m)^\s+(50|99)%\s+([\d.]+)(us|ms|s|m|h)\s*$`)
	wrkMax        = regexp.MustCompile(`(?m)^\s+Latency\s+\S+\s+\S+\s+([\d.]+)(us|ms|s|m|h)`)
	wrkRate       = regexp.MustCompile(`(?m)^Requests/sec:\s+([\d.]+)`)
	wrkRequests   = regexp.MustCompile(`(?m)^\s+(\d+) requests in `)
	wrkNon2xx     = regexp.MustCompile(`(?m)^\s+Non-2xx or 3xx responses: (\d+)`)
	wrkSocket     = regexp.MustCompile(`(?m)^\s+Socket errors: (.*)$`)
)

func parseWrk(out []byte) (*wrkResult, error) {
	r := &wrkResult{output: string(out)}
	for _, m := range wrkPercentile.FindAllSubmatch(out, -1) {
		d, err := wrkDuration(m[2], m[3])
		if err != nil {
			return nil, err
		}
		if string(m[1]) == "50" {
			r.p50 = d
		} else {
			r.p99 = d
		}
	}
	if m := wrkMax.FindSubmatch(out); m != nil {
		r.max, _ = wrkDuration(m[1], m[2])
	}
	m := wrkRate.FindSubmatch(out)
	if m == nil || r.p50 == 0 || r.p99 == 0 {
		return nil, fmt.Errorf("wrk: no latency distribution or rate in its output")
	}
	r.reqPerSec, _ = strconv.ParseFloat(string(m[1]), 64)
	if m := wrkRequests.FindSubmatch(out); m != nil {
		r.requests, _ = strconv.Atoi(string(m[1]))
	}
	if m := wrkNon2xx.FindSubmatch(out); m != nil {
		r.non2xx, _ = strconv.Atoi(string(m[1]))
	}
	if m := wrkSocket.FindSubmatch(out); m != nil {
		r.socketErrors = string(m[1])
	}
	return r, nil
}

func wrkDuration(v, unit []byte) (time.Duration, error) {
	f, err := strconv.ParseFloat(string(v), 64)
	if err != nil {
		return 0, err
	}
	scale := map[string]time.Duration{"us": time.Microsecond, "ms": time.Millisecond, "s": time.Second,
		"m": time.Minute, "h": time.Hour}[string(unit)]
	return time.Duration(f * float64(scale)), nil
}
