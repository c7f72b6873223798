package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/bits"
)

// rowStmts is one multi-row INSERT, prepared once for 1, 2, 4, …, maxRows
// rows. Compiling the statement was a sixth of the writer's time when
// each batch sent freshly generated text (SQLite parses every row of a
// VALUES list each time): with fixed sizes the text repeats and is
// prepared once, and any row count is written as maxRows-row statements
// then at most one of each smaller power of two.
//
// The statements are prepared on the write pool (for SQLite its one
// connection) and used through tx.StmtContext, which reuses a statement
// prepared on the transaction's connection and prepares it again, once,
// on another (a Postgres pool's, or a replaced SQLite connection).
type rowStmts struct {
	what  string      // for errors: "insert results"
	cols  int         // placeholders per row
	stmts []*sql.Stmt // stmts[i] has 1<<i rows
}

// prepareRows prepares query(rows) for each power of two up to maxRows.
func prepareRows(ctx context.Context, db *sql.DB, q *queries, what string, cols, maxRows int,
	query func(rows int) string) (rowStmts, error) {
	r := rowStmts{what: what, cols: cols}
	for rows := 1; rows <= maxRows; rows *= 2 {
		st, err := db.PrepareContext(ctx, q.bindOnce(query(rows)))
		if err != nil {
			r.close()
			return rowStmts{}, fmt.Errorf("prepare %s: %w", what, err)
		}
		r.stmts = append(r.stmts, st)
	}
	return r, nil
}

func (r rowStmts) maxRows() int { return 1 << (len(r.stmts) - 1) }

func (r rowStmts) close() error {
	var errs []error
	for _, st := range r.stmts {
		errs = append(errs, st.Close())
	}
	return errors.Join(errs...)
}

// rowWriter collects rows for one rowStmts in one transaction and executes
// them maxRows at a time, so a batch's arguments never all exist at once.
type rowWriter struct {
	ctx   context.Context
	tx    *sql.Tx
	set   rowStmts
	txSet []*sql.Stmt // set's statements bound to tx, made when first used
	args  []any
}

func (r rowStmts) writer(ctx context.Context, tx *sql.Tx) *rowWriter {
	return &rowWriter{ctx: ctx, tx: tx, set: r, txSet: make([]*sql.Stmt, len(r.stmts)),
		args: make([]any, 0, r.maxRows()*r.cols)}
}

// add queues one row (set.cols values), writing a full statement's worth.
func (w *rowWriter) add(row ...any) error {
	if len(row) != w.set.cols {
		return fmt.Errorf("%s: a row of %d values, want %d (a bug in the store)", w.set.what, len(row), w.set.cols)
	}
	w.args = append(w.args, row...)
	if len(w.args) >= w.set.maxRows()*w.set.cols {
		return w.exec(len(w.set.stmts) - 1)
	}
	return nil
}

// flush writes the rows still queued, largest statements first.
func (w *rowWriter) flush() error {
	for len(w.args) > 0 {
		rows := len(w.args) / w.set.cols
		if err := w.exec(bits.Len(uint(rows)) - 1); err != nil {
			return err
		}
	}
	return nil
}

// exec writes the first 1<<i queued rows with statement i.
func (w *rowWriter) exec(i int) error {
	if w.txSet[i] == nil {
		w.txSet[i] = w.tx.StmtContext(w.ctx, w.set.stmts[i])
	}
	n := (1 << i) * w.set.cols
	if _, err := w.txSet[i].ExecContext(w.ctx, w.args[:n]...); err != nil {
		return fmt.Errorf("%s: %w", w.set.what, err)
	}
	rest := copy(w.args, w.args[n:])
	clear(w.args[rest:])
	w.args = w.args[:rest]
	return nil
}
