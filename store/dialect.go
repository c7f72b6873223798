package store

import (
	"strconv"
	"strings"
	"sync"
)

// The SQL of each concern sits at the top of its file, written once in the
// dialect both databases share: ? placeholders, INSERT … ON CONFLICT, CASE
// instead of LEAST/GREATEST (SQLite has neither). queries turns ? into $n
// for Postgres.
type queries struct {
	dialect dialect
	cache   sync.Map // constant query → bound query
}

func newQueries(d dialect) *queries { return &queries{dialect: d} }

// bind returns query with the dialect's placeholders. Use it for constant
// queries: the result is cached.
func (q *queries) bind(query string) string {
	if q.dialect != dialectPostgres {
		return query
	}
	if v, ok := q.cache.Load(query); ok {
		return v.(string)
	}
	b := rebind(query)
	q.cache.Store(query, b)
	return b
}

// bindOnce is bind for generated queries (row and IN lists), not cached.
func (q *queries) bindOnce(query string) string {
	if q.dialect != dialectPostgres {
		return query
	}
	return rebind(query)
}

// rebind turns each ? into $1, $2, …. Our SQL has no ? inside literals.
func rebind(query string) string {
	var b strings.Builder
	b.Grow(len(query) + 16)
	n := 0
	for i := 0; i < len(query); i++ {
		if query[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(query[i])
	}
	return b.String()
}

// valueRows writes "(?,?,?),(?,?,?)" for rows rows of cols columns.
func valueRows(rows, cols int) string {
	one := "(" + strings.Repeat("?,", cols-1) + "?)"
	var b strings.Builder
	b.Grow(rows * (len(one) + 1))
	for i := range rows {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(one)
	}
	return b.String()
}

// inList writes "?,?,?" for n values.
func inList(n int) string {
	return strings.TrimSuffix(strings.Repeat("?,", n), ",")
}

// maxParams bounds the placeholders of one generated statement: SQLite
// allows 32,766, Postgres 65,535.
const maxParams = 8000
