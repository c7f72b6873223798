package probes

import (
	"bufio"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// readBody reads the decoded body once, at most limit+1 bytes: the extra byte
// tells a body of exactly limit bytes from a larger one without reading on.
// The limit counts decoded bytes, so a small gzip bomb is stopped like a huge
// plain body. over reports a body larger than limit; body is then cut to it.
// Any positive limit is safe, math.MaxInt64 included.
func readBody(resp *http.Response, limit int64) (body []byte, over bool, err error) {
	src := &endReader{r: resp.Body}
	r, identity, err := decoder(resp, src)
	if err == nil {
		hint := int64(-1)
		if identity && resp.Request != nil && resp.Request.Method != http.MethodHead {
			hint = resp.ContentLength
		}
		body, err = readAtMost(r, plusOne(limit), hint)
	}
	switch {
	case int64(len(body)) > limit:
		return body[:limit], true, nil
	case errors.Is(err, io.EOF) && len(body) == 0:
		return nil, false, nil // encoded but empty, as a HEAD or 204 may be
	case errors.Is(err, io.ErrUnexpectedEOF) && src.clean:
		// The server ended its response cleanly mid-stream: the compressed
		// body itself is cut short, the connection is fine.
		err = &truncatedError{err}
	}
	return body, false, err
}

// endReader records whether the response body ended cleanly, to tell a
// truncated compressed stream from a broken connection.
type endReader struct {
	r     io.Reader
	clean bool
}

func (e *endReader) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	e.clean = err == io.EOF
	return n, err
}

type truncatedError struct{ err error }

func (e *truncatedError) Error() string { return "compressed body truncated" }
func (e *truncatedError) Unwrap() error { return e.err }

// decoder undoes the Content-Encoding the probe asked for. Any other
// encoding is judged as it came: the server ignored Accept-Encoding.
func decoder(resp *http.Response, body io.Reader) (r io.Reader, identity bool, err error) {
	switch strings.ToLower(strings.TrimSpace(resp.Header.Get("Content-Encoding"))) {
	case "gzip", "x-gzip":
		r, err = gzip.NewReader(body)
		return r, false, err
	case "deflate":
		r, err = deflateReader(body)
		return r, false, err
	case "", "identity":
		return body, true, nil
	}
	return body, false, nil
}

// deflateReader reads "deflate", which RFC 9110 defines as zlib-wrapped but
// which some servers send as a raw deflate stream: sniff the zlib header.
func deflateReader(r io.Reader) (io.Reader, error) {
	br := bufio.NewReader(r)
	h, err := br.Peek(2)
	if len(h) == 0 {
		return nil, err
	}
	if len(h) == 2 && h[0]&0x0f == 8 && (uint16(h[0])<<8|uint16(h[1]))%31 == 0 {
		return zlib.NewReader(br)
	}
	return flate.NewReader(br), nil
}

// decodeError reports whether err is a corrupt compressed body, as opposed
// to a failure of the connection under it.
func decodeError(err error) bool {
	var corrupt flate.CorruptInputError
	var truncated *truncatedError
	return errors.As(err, &truncated) || errors.Is(err, gzip.ErrHeader) || errors.Is(err, gzip.ErrChecksum) ||
		errors.Is(err, zlib.ErrHeader) || errors.Is(err, zlib.ErrChecksum) ||
		errors.Is(err, zlib.ErrDictionary) || errors.As(err, &corrupt)
}

// maxPrealloc bounds the buffer sized from Content-Length up front: the
// header is the server's claim, and a huge body_limit must not let a claim
// of terabytes allocate them before a byte arrives. Past it, the buffer
// grows with what is actually read. It fits the default limit's read.
const maxPrealloc = defaultBodyLimit + 1

// plusOne is n+1, saturating at math.MaxInt64 rather than wrapping negative.
func plusOne(n int64) int64 {
	if n == math.MaxInt64 {
		return n
	}
	return n + 1
}

// readAtMost reads up to n bytes from r. hint, when ≥ 0, is the expected
// size: the buffer is sized once for it (up to maxPrealloc), else it grows
// by doubling, so a body's memory is bounded by n whatever the server claims
// or sends.
func readAtMost(r io.Reader, n, hint int64) ([]byte, error) {
	size := int64(512)
	if hint >= 0 {
		size = plusOne(hint) // room to see EOF without growing
	}
	buf := make([]byte, 0, min(size, n, maxPrealloc))
	for int64(len(buf)) < n {
		if len(buf) == cap(buf) {
			buf = slices.Grow(buf, int(min(int64(cap(buf)), n-int64(len(buf)))))
		}
		m, err := r.Read(buf[len(buf):min(int64(cap(buf)), n)])
		buf = buf[:len(buf)+m]
		if errors.Is(err, io.EOF) {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
	return buf, nil
}

// excerptRunes bounds a body excerpt in a message.
const excerptRunes = 120

// excerpt shows body from byte offset from as one short line, secrets
// redacted. Both ends of the excerpt are widened to whole secrets before the
// body is cut, so a secret astride either cut is masked whole instead of
// being cut first and then missed by redaction, leaking the rest of it.
func excerpt(body []byte, from int, secrets []string) string {
	if len(body) == 0 {
		return "(empty)"
	}
	from = runeStart(body, from, +1)
	end := runeStart(body, from+excerptRunes*utf8.UTFMax, -1)
	from, end, spans := secretsAround(body, from, end, secretForms(secrets))
	s := strings.ToValidUTF8(mask(body, spans, from, end), "\uFFFD")
	s = strings.Join(strings.FieldsFunc(s, func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsControl(r)
	}), " ")
	cut := end < len(body)
	if runes := []rune(s); len(runes) > excerptRunes {
		s, cut = string(runes[:excerptRunes]), true
	}
	if from > 0 {
		s = "…" + s
	}
	if cut {
		s += "…"
	}
	return s
}

// runeStart moves i, clamped to body, in direction step until it starts a
// rune, so that a cut never splits one.
func runeStart(body []byte, i, step int) int {
	i = min(max(i, 0), len(body))
	for i > 0 && i < len(body) && !utf8.RuneStart(body[i]) {
		i += step
	}
	return i
}

// secretsAround finds the secrets near body[from:end] and widens from and
// end so that none crosses them. It searches only a window reaching the
// longest form past each end: any secret touching the excerpt lies wholly
// in it, and a multi-megabyte body is not scanned to show 120 runes.
func secretsAround(body []byte, from, end int, forms []string) (int, int, []secretSpan) {
	if len(forms) == 0 {
		return from, end, nil
	}
	reach := longestForm(forms)
	lo, hi := max(0, from-reach), min(len(body), end+reach)
	spans := secretSpans(body[lo:hi], lo, forms)
	for _, s := range spans {
		if s.start < from && from < s.end {
			from = s.start
		}
		if s.start < end && end < s.end {
			end = s.end
		}
	}
	return from, end, spans
}

// fmtBytes shows a size the way a config states it: "1 MiB", "512 KiB".
func fmtBytes(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
