package probes

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"syscall"
)

// failure is why a probe failed: one reason from the fixed list and a
// one-line message, prefixed with the request and redacted in result().
type failure struct {
	reason Reason
	msg    string
}

// requestFailure explains an error from Client.Do.
func (x *exchange) requestFailure(ctx context.Context, err error) *failure {
	var redirect *redirectError
	if errors.As(err, &redirect) {
		return &failure{ReasonStatus, redirect.Error()}
	}
	return x.classify(ctx, err)
}

// classify files a transport or body error under one reason, in the order
// a request can fail. The probe's own deadline wins over whatever error it
// surfaced as (a dial, a TLS read, a body read), since that error is only
// the symptom of the deadline.
func (x *exchange) classify(ctx context.Context, err error) *failure {
	stage, dialed, tlsFailed := x.trace.state()
	var dnsErr *net.DNSError
	var netErr net.Error
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded) || errors.Is(err, context.DeadlineExceeded):
		return &failure{ReasonTimeout, fmt.Sprintf("timed out after %s %s", x.budget, stage)}
	case ctx.Err() != nil:
		// The caller gave up (shutdown, reload): not the tenant's fault.
		return &failure{ReasonInternal, "probe canceled " + stage}
	case errors.As(err, &dnsErr):
		return &failure{ReasonDNS, describe(err, stage)}
	case errors.As(err, &netErr) && netErr.Timeout():
		return &failure{ReasonTimeout, describe(err, stage)}
	case tlsFailed || isTLSError(err):
		return &failure{ReasonTLS, describe(err, stage)}
	case decodeError(err):
		// Filed as assertion, not connect, though a dial happened (hence
		// before that case): the connection delivered the response and it
		// is the content that is wrong, like a body failing body_contains.
		// A truncated stream counts only when the server ended the body
		// cleanly (see readBody); a dropped connection stays connect.
		return &failure{ReasonAssertion, "body does not decode: " + err.Error()}
	case dialed || isConnError(err):
		// Once a connection was attempted, anything left is the server's
		// side of it: refused, reset, closed early, garbled.
		return &failure{ReasonConnect, describe(err, stage)}
	}
	return &failure{ReasonInternal, describe(err, stage)}
}

func isTLSError(err error) bool {
	var (
		verify    *tls.CertificateVerificationError
		record    tls.RecordHeaderError
		alert     tls.AlertError
		authority x509.UnknownAuthorityError
		hostname  x509.HostnameError
		invalid   x509.CertificateInvalidError
	)
	return errors.As(err, &verify) || errors.As(err, &record) || errors.As(err, &alert) ||
		errors.As(err, &authority) || errors.As(err, &hostname) || errors.As(err, &invalid)
}

func isConnError(err error) bool {
	var opErr *net.OpError
	return errors.As(err, &opErr) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE)
}

// describe says what went wrong in a user's words: "connection refused"
// rather than "dial tcp 127.0.0.1:8080: connect: connection refused".
func describe(err error, stage string) string {
	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		err = urlErr.Err
	}
	var dnsErr *net.DNSError
	switch {
	case errors.As(err, &dnsErr):
		return "dns lookup " + dnsErr.Name + ": " + dnsErr.Err
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset by peer " + stage
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "connection closed by server " + stage
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) && opErr.Err != nil {
		return opErr.Err.Error() + " " + stage
	}
	return err.Error()
}
