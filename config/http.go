package config

import (
	"crypto/x509"
	"net/url"
	"strings"

	"github.com/forewarn/forewarn/probes"
	"gopkg.in/yaml.v3"
)

var (
	httpKeys      = append([]string{"request", "expect"}, transportKeys...)
	requestKeys   = []string{"method", "url", "headers", "body"}
	transportKeys = []string{"follow_redirects", "max_redirects", "body_limit", "tls"}
	tlsKeys       = []string{"server_name", "ca_file", "insecure_skip_verify"}
)

// httpCheck is an http check with its templates parsed.
type httpCheck struct {
	method, url, body *tmpl
	headers           [][2]*tmpl // name, value
	transport         transportDef
	expect            *expectDef
}

// transportDef is how a response is fetched: the same keys, defaults and
// checks for an http check and for each step of a login check.
type transportDef struct {
	followRedirects    bool
	maxRedirects       int
	bodyLimit          int64
	serverName, caFile *tmpl
	insecureSkipVerify bool
}

func decodeHTTP(d *decoder, n *yaml.Node, m map[string]*yaml.Node, field string) kindSpec {
	h := &httpCheck{}
	rf := join(field, "request")
	if d.required(n, m, field, "request") {
		if r := d.fields(m["request"], rf, "request", requestKeys); r != nil && d.required(m["request"], r, rf, "url") {
			h.method = d.template(r["method"], join(rf, "method"))
			h.url = d.template(r["url"], join(rf, "url"))
			h.body = d.template(r["body"], join(rf, "body"))
			hf := join(rf, "headers")
			for _, p := range d.pairs(r["headers"], hf) {
				f := join(hf, p.key)
				h.headers = append(h.headers, [2]*tmpl{d.parseTemplate(p.key, at(p.k, f)), d.template(p.v, f)})
			}
		}
	}
	h.transport = d.decodeTransport(m, field)
	h.expect = d.decodeExpect(m["expect"], join(field, "expect"))
	return h
}

// decodeTransport reads transportKeys from m, the mapping that holds them.
func (d *decoder) decodeTransport(m map[string]*yaml.Node, field string) transportDef {
	tr := transportDef{
		followRedirects: d.boolean(m["follow_redirects"], join(field, "follow_redirects"), true),
		// 0 is kept as written: with follow_redirects it means "follow none".
		maxRedirects: d.integer(m["max_redirects"], join(field, "max_redirects"), d.defaults.MaxRedirects, 0),
		bodyLimit:    d.bodyLimit(m["body_limit"], join(field, "body_limit"), d.defaults.BodyLimit),
	}
	tf := join(field, "tls")
	if t := d.fields(m["tls"], tf, "tls", tlsKeys); t != nil {
		tr.serverName = d.template(t["server_name"], join(tf, "server_name"))
		tr.caFile = d.template(t["ca_file"], join(tf, "ca_file"))
		tr.insecureSkipVerify = d.boolean(t["insecure_skip_verify"], join(tf, "insecure_skip_verify"), false)
	}
	return tr
}

func (x *expansion) tls(tr transportDef) probes.TLSConfig {
	c := probes.TLSConfig{ServerName: x.exec(tr.serverName), InsecureSkipVerify: tr.insecureSkipVerify}
	c.CAFile, c.CAPEM, c.Roots = x.caFile(tr.caFile)
	return c
}

func (h *httpCheck) overrideKeys() []string { return []string{"expect"} }

func (h *httpCheck) decodeOverride(d *decoder, m map[string]*yaml.Node, field string) any {
	if value(m["expect"]) == nil {
		return nil
	}
	return d.decodeExpect(m["expect"], join(field, "expect"))
}

func (h *httpCheck) expand(x *expansion, t *probes.Target, ov any) {
	expect := h.expect
	if o, _ := ov.(*expectDef); o != nil {
		expect = expect.merge(o)
	}
	spec := &probes.HTTPSpec{
		Request: probes.HTTPRequest{
			Method: x.method(h.method),
			URL:    x.url(h.url),
			Body:   x.exec(h.body),
		},
		Expect:          expect.expand(x),
		FollowRedirects: h.transport.followRedirects,
		MaxRedirects:    h.transport.maxRedirects,
		BodyLimit:       h.transport.bodyLimit,
		TLS:             x.tls(h.transport),
	}
	spec.Request.Headers = x.headers(h.headers)
	t.HTTP = spec
}

// method is filled in, GET included, so that a printed plan shows it.
func (x *expansion) method(t *tmpl) string {
	m, ok := x.run(t)
	if ok && m != "" && !isToken(m) {
		x.errorf(t, "invalid method %q", m)
	}
	return probes.HTTPRequest{Method: m}.MethodOrGet()
}

func (x *expansion) url(t *tmpl) string {
	s, ok := x.run(t)
	if ok {
		x.checkURL(t, s)
	}
	return s
}

// checkURL reports s, the value of t, unless it is an absolute http(s) URL.
func (x *expansion) checkURL(t *tmpl, s string) {
	u, err := url.Parse(s)
	switch {
	case err != nil:
		x.errorf(t, "invalid URL: %v", err.(*url.Error).Err)
	case u.Scheme != "http" && u.Scheme != "https" || u.Host == "":
		x.errorf(t, "invalid URL %q: want an absolute http or https URL", s)
	}
}

func (x *expansion) headers(hs [][2]*tmpl) map[string]string {
	if len(hs) == 0 {
		return nil
	}
	out := make(map[string]string, len(hs))
	seen := map[string]bool{}
	for _, h := range hs {
		name, ok := x.run(h[0])
		val := x.exec(h[1])
		switch lower := strings.ToLower(name); {
		case !ok:
			continue
		case !isToken(name):
			x.errorf(h[0], "invalid header name %q", name)
		case seen[lower]:
			x.errorf(h[0], "header %q is set twice", name)
		case strings.ContainsAny(val, "\r\n\x00"):
			// A value spanning lines would inject headers of its own.
			x.errorf(h[1], "header value contains a line break or NUL")
		default:
			seen[lower] = true
			out[name] = val
		}
	}
	return out
}

// caFile reads and parses the CA bundle once per path at load, so that a
// probe never touches the file system or parses PEM, and every target of a
// bundle shares one pool.
func (x *expansion) caFile(t *tmpl) (string, []byte, *x509.CertPool) {
	name := x.exec(t)
	if name == "" {
		return "", nil, nil
	}
	path := x.src.path(name)
	ca, ok := x.ca[path]
	if !ok {
		data, err := x.src.o.ReadFile(path)
		if err != nil {
			ca.err = "cannot read CA file " + name + ": " + pathError(err).Error()
		} else if ca.roots, err = probes.CertPool(data); err != nil {
			ca.err = "CA file " + name + " contains no PEM certificate"
		} else {
			ca.pem = data
		}
		x.ca[path] = ca
	}
	if ca.err != "" {
		x.errorf(t, "%s", ca.err)
	}
	return path, ca.pem, ca.roots
}

// isToken reports whether s is an RFC 9110 token, as methods and header
// names must be.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range []byte(s) {
		if c >= 0x7f || c <= ' ' || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return true
}
