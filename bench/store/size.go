package main

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/forewarn/forewarn/store"
	_ "modernc.org/sqlite" // the "sqlite" driver, which the store uses too
)

// btree is one table or index as SQLite's dbstat counts it: the pages it
// holds (pgsize, the bytes on disk) and the record bytes in them (payload).
type btree struct {
	name           string
	pages          int64
	bytes, payload int64
}

func sumBytes(bs []btree) (bytes, payload int64) {
	for _, b := range bs {
		bytes += b.bytes
		payload += b.payload
	}
	return bytes, payload
}

// btrees measures table and its indexes.
func btrees(ctx context.Context, db *sql.DB, table string) ([]btree, error) {
	rows, err := db.QueryContext(ctx, `SELECT d.name, COUNT(*), SUM(d.pgsize), SUM(d.payload)
		FROM dbstat d JOIN sqlite_schema s ON s.name = d.name
		WHERE s.tbl_name = ? GROUP BY d.name ORDER BY d.name`, table)
	if err != nil {
		return nil, fmt.Errorf("dbstat: %w", err)
	}
	defer rows.Close()
	var out []btree
	for rows.Next() {
		var b btree
		if err := rows.Scan(&b.name, &b.pages, &b.bytes, &b.payload); err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, rows.Err()
}

// disk is what the disk phase found.
type disk struct {
	raw    []rawSize // http, login
	rollup rollupSize
}

// rawSize is raw results of one kind: their tables and indexes as written
// (the page fill a live file has) and after VACUUM (packed: a lower bound).
type rawSize struct {
	kind            string
	rows            int64
	written, packed []btree
	fileGrowth      int64 // the file's growth over an empty store's, rollups and free pages included
	took            time.Duration
}

func (r rawSize) perRow() (written, packed float64) {
	w, _ := sumBytes(r.written)
	p, _ := sumBytes(r.packed)
	return float64(w) / float64(r.rows), float64(p) / float64(r.rows)
}

// rollupSize is a year of rollups of some checks.
type rollupSize struct {
	checks, days    int
	hourly, daily   int64
	recorded        int64
	took            time.Duration // recording them
	oneRun          []btree       // as written: one result an hour
	atInterval      map[time.Duration][]btree
	packed          []btree // after VACUUM, at the last interval's counters
	packedInterval  time.Duration
	retentionDelete time.Duration
}

func (r rollupSize) rows() int64 { return r.hourly + r.daily }

func measureDisk(ctx context.Context, o options, dir string) (disk, error) {
	var d disk
	for _, login := range []bool{false, true} {
		kind := map[bool]string{false: "http", true: "login"}[login]
		fmt.Fprintf(os.Stderr, "disk: %d raw %s results…\n", o.rawRows, kind)
		r, err := measureRaw(ctx, o, filepath.Join(dir, "raw-"+kind+".db"), login)
		if err != nil {
			return d, err
		}
		r.kind = kind
		d.raw = append(d.raw, r)
	}
	fmt.Fprintf(os.Stderr, "disk: %d days of rollups of %d checks (%d results)…\n", o.days, o.checks, o.days*24*o.checks)
	var err error
	d.rollup, err = measureRollups(ctx, o, filepath.Join(dir, "rollups.db"))
	return d, err
}

// record puts n results of f through the store, never more than maxQueue
// waiting, and flushes.
func record(ctx context.Context, o options, s *store.Store, f *fleet, n int) error {
	for i := 0; i < n && ctx.Err() == nil; i++ {
		s.Record(f.next())
		if i%256 == 255 {
			for s.Stats().Pending > o.maxQueue && ctx.Err() == nil {
				time.Sleep(time.Millisecond)
			}
		}
	}
	return s.Flush(ctx)
}

func measureRaw(ctx context.Context, o options, path string, login bool) (rawSize, error) {
	var r rawSize
	s, err := openStore(ctx, o, path, nil)
	if err != nil {
		return r, err
	}
	if err := s.Close(ctx); err != nil {
		return r, err
	}
	empty := fileSize(path)
	if s, err = openStore(ctx, o, path, nil); err != nil {
		return r, err
	}
	began := time.Now()
	f := newUniformFleet(o.checks, login, time.Now().Add(-47*time.Hour).Truncate(time.Hour), time.Minute)
	if err := record(ctx, o, s, f, o.rawRows); err != nil {
		return r, err
	}
	r.took = time.Since(began)
	if err := s.Close(ctx); err != nil { // the last connection's close checkpoints the WAL
		return r, err
	}
	r.fileGrowth = fileSize(path) - empty
	db, err := sql.Open("sqlite", path)
	if err != nil {
		return r, err
	}
	defer db.Close()
	if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM results").Scan(&r.rows); err != nil {
		return r, err
	}
	if r.written, err = btrees(ctx, db, "results"); err != nil {
		return r, err
	}
	if _, err := db.ExecContext(ctx, "VACUUM"); err != nil {
		return r, err
	}
	r.packed, err = btrees(ctx, db, "results")
	return r, err
}

// measureRollups records one result an hour for each check over o.days,
// which makes one hourly rollup row per hour and one daily row per day,
// deletes the raw rows (retention), then measures the rollups with one run
// each and with a full hour's and day's counters at each interval.
func measureRollups(ctx context.Context, o options, path string) (rollupSize, error) {
	r := rollupSize{checks: o.checks, days: o.days, atInterval: map[time.Duration][]btree{}}
	s, err := openStore(ctx, o, path, nil)
	if err != nil {
		return r, err
	}
	yearStart := time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, -o.days)
	f := newUniformFleet(o.checks, false, yearStart, time.Hour)
	r.recorded = int64(o.days * 24 * o.checks)
	began := time.Now()
	if err := record(ctx, o, s, f, int(r.recorded)); err != nil {
		return r, err
	}
	r.took = time.Since(began)
	began = time.Now()
	// As of two days after the last hour, every raw result is past the
	// raw retention; the rollups are within theirs (400 days).
	if _, err := s.RunRetention(ctx, yearStart.AddDate(0, 0, o.days+2)); err != nil {
		return r, err
	}
	r.retentionDelete = time.Since(began)
	if err := s.Close(ctx); err != nil {
		return r, err
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		return r, err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	return r, r.measure(ctx, o, db)
}

func (r *rollupSize) measure(ctx context.Context, o options, db *sql.DB) error {
	q := "SELECT COUNT(*) FILTER (WHERE period = 'hour'), COUNT(*) FILTER (WHERE period = 'day') FROM rollups"
	if err := db.QueryRowContext(ctx, q).Scan(&r.hourly, &r.daily); err != nil {
		return err
	}
	var err error
	if r.oneRun, err = btrees(ctx, db, "rollups"); err != nil {
		return err
	}
	// Counters grow: the longest interval first, so rows only ever grow,
	// as a live row does over its hour.
	for i := len(o.intervals) - 1; i >= 0; i-- {
		iv := o.intervals[i]
		fmt.Fprintf(os.Stderr, "disk: rollup counters of a full hour and day at %s…\n", iv)
		if err := setCounters(ctx, db, iv); err != nil {
			return err
		}
		if r.atInterval[iv], err = btrees(ctx, db, "rollups"); err != nil {
			return err
		}
		r.packedInterval = iv
	}
	if _, err := db.ExecContext(ctx, "VACUUM"); err != nil {
		return err
	}
	r.packed, err = btrees(ctx, db, "rollups")
	return err
}

// setCounters gives every rollup row the counters of a full hour or day
// of one check every iv: 99.9 % successes, ~62 ms mean, most runs between
// 25 and 250 ms. Only the integers' sizes matter to the disk.
func setCounters(ctx context.Context, db *sql.DB, iv time.Duration) error {
	for _, p := range []struct {
		period string
		span   time.Duration
	}{{"hour", time.Hour}, {"day", 24 * time.Hour}} {
		runs := int64(p.span / iv)
		ok := runs - runs/1000
		l25, l50, l100, l250 := ok*5/100, ok*45/100, ok*35/100, ok*12/100
		l500 := ok - l25 - l50 - l100 - l250
		_, err := db.ExecContext(ctx, `UPDATE rollups SET runs = ?, successes = ?, ok_sum_us = ?, ok_min_us = ?, ok_max_us = ?,
			lat_5ms = 0, lat_10ms = 0, lat_25ms = ?, lat_50ms = ?, lat_100ms = ?, lat_250ms = ?, lat_500ms = ?,
			lat_1s = 0, lat_2500ms = 0, lat_5s = 0, lat_10s = 0, lat_30s = 0, lat_inf = 0 WHERE period = ?`,
			runs, ok, ok*62_000, 14_231, 481_907, l25, l50, l100, l250, l500, p.period)
		if err != nil {
			return fmt.Errorf("setting %s counters: %w", p.period, err)
		}
	}
	_, err := db.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)")
	return err
}

func fileSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}
