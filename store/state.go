package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

const (
	upsertState = `INSERT INTO state (name, value, updated_ms) VALUES (?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_ms = excluded.updated_ms`
	selectState = `SELECT value FROM state WHERE name = ?`
	deleteState = `DELETE FROM state WHERE name = ?`
)

// StateWrite is a state blob written with a case change (ApplyCaseChange).
type StateWrite struct {
	Key   string
	Value []byte
}

// SaveState stores an opaque blob under key, replacing what was there: the
// cases engine's state, a Slack thread's ts.
func (s *Store) SaveState(ctx context.Context, key string, value []byte) error {
	if value == nil {
		value = []byte{}
	}
	if _, err := s.w.ExecContext(ctx, s.q.bind(upsertState), key, value, toMS(time.Now())); err != nil {
		return fmt.Errorf("store: save state %q: %w", key, err)
	}
	return nil
}

// LoadState returns the blob saved under key, or ErrNotFound.
func (s *Store) LoadState(ctx context.Context, key string) ([]byte, error) {
	var v []byte
	err := s.r.QueryRowContext(ctx, s.q.bind(selectState), key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("store: load state %q: %w", key, err)
	}
	if v == nil {
		v = []byte{}
	}
	return v, nil
}

// DeleteState removes key; removing a missing key is no error.
func (s *Store) DeleteState(ctx context.Context, key string) error {
	if _, err := s.w.ExecContext(ctx, s.q.bind(deleteState), key); err != nil {
		return fmt.Errorf("store: delete state %q: %w", key, err)
	}
	return nil
}
