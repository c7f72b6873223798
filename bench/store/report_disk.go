package main

import (
	"fmt"
	"strings"
	"time"
)

// hoursDays are the rollup rows a check adds in a year.
const hoursDays = 365*24 + 365

// interval is "10 s", "60 s".
func interval(d time.Duration) string { return fmt.Sprintf("%g s", d.Seconds()) }

func parts(bs []btree, rows int64) string {
	var s []string
	for _, b := range bs {
		s = append(s, fmt.Sprintf("%s %.1f", b.name, float64(b.bytes)/float64(rows)))
	}
	return strings.Join(s, " + ")
}

func (r *report) printDisk(o options) {
	d := r.disk
	fmt.Println("### (b) Disk used per tenant-check-year")
	fmt.Println()
	fmt.Printf("Raw results: %s of each kind from %d checks every 60 s, then SQLite's dbstat, table and indexes (bytes of the pages they hold). "+
		"*As written* is the page fill the live file has (rows appended in time order, index entries spread over the checks); *packed* is after VACUUM, a lower bound.\n\n",
		thousands(int64(o.rawRows)), o.checks)
	fmt.Println("| kind | rows | bytes/row as written | bytes/row packed | as written, by b-tree (bytes/row) | file growth/row (rollups, free pages incl.) | recorded in |")
	fmt.Println("|---|---:|---:|---:|---|---:|---:|")
	for _, x := range d.raw {
		w, p := x.perRow()
		fmt.Printf("| %s | %s | %.1f | %.1f | %s | %.1f | %.1f s |\n", x.kind, thousands(x.rows), w, p, parts(x.written, x.rows),
			float64(x.fileGrowth)/float64(x.rows), x.took.Seconds())
	}
	ro := d.rollup
	fmt.Println()
	fmt.Printf("Rollups: one result an hour for each of %d checks over %d days (%s results in %.1f s, %.0f/s; the raw rows then deleted by retention in %.1f s) "+
		"gives %s hourly and %s daily rows. Their counters were then set to a full hour's and day's at each interval, longest first, so rows only grow, "+
		"as a live row does over its hour.\n\n",
		ro.checks, ro.days, thousands(ro.recorded), ro.took.Seconds(), float64(ro.recorded)/ro.took.Seconds(), ro.retentionDelete.Seconds(),
		thousands(ro.hourly), thousands(ro.daily))
	fmt.Println("| counters | bytes/row on disk | record bytes/row | by b-tree (bytes/row) |")
	fmt.Println("|---|---:|---:|---|")
	row := func(name string, bs []btree) {
		b, p := sumBytes(bs)
		n := ro.rows()
		fmt.Printf("| %s | %.1f | %.1f | %s |\n", name, float64(b)/float64(n), float64(p)/float64(n), parts(bs, n))
	}
	row("one run each (as recorded)", ro.oneRun)
	for i := len(o.intervals) - 1; i >= 0; i-- {
		row("full hour/day at "+interval(o.intervals[i]), ro.atInterval[o.intervals[i]])
	}
	row("full hour/day at "+interval(ro.packedInterval)+", packed (VACUUM)", ro.packed)
	fmt.Println()
	r.printPerYear(o)
}

func (r *report) printPerYear(o options) {
	d := r.disk
	ro := d.rollup
	fmt.Printf("**Per tenant-check-year** = bytes/raw row × rows kept (%g h ÷ interval) + bytes/rollup row × (8,760 hourly + 365 daily), as written:\n\n", rawRetention.Hours())
	fmt.Println("| interval | raw rows kept | raw MiB http / login | rollup bytes/row | rollup MiB | **total MiB, http check** | **total MiB, login check** | 10,000 http checks |")
	fmt.Println("|---|---:|---:|---:|---:|---:|---:|---:|")
	httpRow, _ := d.raw[0].perRow()
	loginRow, _ := d.raw[1].perRow()
	for _, iv := range o.intervals {
		kept := int64(rawRetention / iv)
		b, _ := sumBytes(ro.atInterval[iv])
		perRollup := float64(b) / float64(ro.rows())
		roll := perRollup * hoursDays / mib
		rh, rl := httpRow*float64(kept)/mib, loginRow*float64(kept)/mib
		fmt.Printf("| %s | %s | %.2f / %.2f | %.1f | %.2f | **%.2f** | **%.2f** | %.1f GiB |\n", interval(iv), thousands(kept), rh, rl, perRollup, roll,
			rh+roll, rl+roll, (rh+roll)*10_000/1024)
	}
	fmt.Println()
	fmt.Printf("Not counted: raw rows of up to one more hour at the peak (retention runs hourly: 49 h, +%.0f %% of the raw part); "+
		"rollups are kept 400 days, so a store older than that holds 9,600 + 400 rows (+%.0f %% of the rollup part); "+
		"the WAL (bounded by the store's auto-checkpoint at 10,000 pages plus one transaction: ~60 MiB per database under a backlog, not per check), cases, their events and the outbox.\n",
		100.0/48, 100*(float64(9600+400)/hoursDays-1))
}
