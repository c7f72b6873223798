package probes

import (
	"bufio"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"errors"
	"fmt"
	"io"
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
func readBody(resp *http.Response, limit int64) (body []byte, over bool, err error) {
	src := &endReader{r: resp.Body}
	r, identity, err := decoder(resp, src)
	if err == nil {
		hint := int64(-1)
		if identity && resp.Request != nil && resp.Request.Method != http.MethodHead {
			hint = resp.ContentLength
		}
		body, err = readAtMost(r, limit+1, hint)
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

// readAtMost reads up to n bytes from r. hint, when ≥ 0, is the expected
// size: the buffer is sized once for it, else it grows by doubling, so a
// body's memory is bounded by n whatever the server claims or sends.
func readAtMost(r io.Reader, n, hint int64) ([]byte, error) {
	size := int64(512)
	if hint >= 0 {
		size = hint + 1 // room to see EOF without growing
	}
	buf := make([]byte, 0, min(size, n))
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
// redacted. Redaction runs before the cut, so a secret astride the cut
// cannot leak half of itself.
func excerpt(body []byte, from int, secrets []string) string {
	if len(body) == 0 {
		return "(empty)"
	}
	for from > 0 && from < len(body) && !utf8.RuneStart(body[from]) {
		from++
	}
	longest := 0
	for _, s := range secrets {
		longest = max(longest, len(s))
	}
	end := min(len(body), from+excerptRunes*utf8.UTFMax+3*longest) // 3×: escaped forms
	s := Redact(strings.ToValidUTF8(string(body[from:end]), "\uFFFD"), secrets)
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
