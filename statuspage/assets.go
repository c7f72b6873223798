package statuspage

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"net/http"
	"path"
	"strings"
	"time"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

//go:embed schema/*.json
var schemaFS embed.FS

// assets are the parsed templates and the static files, ready to send.
type assets struct {
	tmpl    *template.Template
	static  map[string]*response // by file name
	schemas map[string]*response
	css, js string // their URLs, with a content hash for caching
	// notFound is the one 404 of every unknown path, wrong token or
	// tenant no longer configured: the same bytes, so nothing tells them
	// apart.
	notFound    *response
	unavailable *response
}

// stamp is a time as a page shows it: UTC, with its age.
type stamp struct{ T, Now time.Time }

func (s stamp) ISO() string { return s.T.UTC().Format(time.RFC3339) }
func (s stamp) UTC() string { return s.T.UTC().Format("2006-01-02 15:04 UTC") }

// Ago is the time relative to the page's: "12 min ago", "in 3 h".
func (s stamp) Ago() string {
	if s.Now.IsZero() {
		return ""
	}
	d := s.Now.Sub(s.T)
	future := d < 0
	if future {
		d = -d
	}
	var v string
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		v = fmt.Sprintf("%d min", int(d/time.Minute))
	case d < 48*time.Hour:
		v = fmt.Sprintf("%d h", int(d/time.Hour))
	default:
		v = fmt.Sprintf("%d days", int(d/(24*time.Hour)))
	}
	if future {
		return "in " + v
	}
	return v + " ago"
}

type incidentArgs struct {
	In  *incident
	Now time.Time
}

type maintArgs struct {
	List []*maintView
	Now  time.Time
}

type chartArgs struct {
	C    *chart
	ID   string
	W, H float64
}

var funcs = template.FuncMap{
	"stamp":        func(t, now time.Time) stamp { return stamp{t, now} },
	"incidentArgs": func(in *incident, now time.Time) incidentArgs { return incidentArgs{in, now} },
	"maintArgs":    func(l []*maintView, now time.Time) maintArgs { return maintArgs{l, now} },
	"chartArgs": func(c *chart, id string) chartArgs {
		return chartArgs{c, id, float64(c.W), float64(c.H)}
	},
	"sub": func(a, b float64) float64 { return a - b },
	"dur": durationText,
	"limit": func(in []*incident, n int) []*incident {
		if len(in) > n {
			return in[:n]
		}
		return in
	},
}

func loadAssets(title string) (*assets, error) {
	t, err := template.New("").Funcs(funcs).ParseFS(templateFS, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("statuspage: templates: %w", err)
	}
	a := &assets{tmpl: t, static: map[string]*response{}, schemas: map[string]*response{}}
	const year = "public, max-age=31536000, immutable"
	for _, f := range []struct{ name, ctype string }{{"style.css", "text/css; charset=utf-8"}, {"local.js", "text/javascript; charset=utf-8"}} {
		b, err := staticFS.ReadFile("static/" + f.name)
		if err != nil {
			return nil, err
		}
		a.static[f.name] = newResponse(http.StatusOK, f.ctype, year, b)
	}
	a.css = "/static/style.css?v=" + contentHash(a.static["style.css"].body)
	a.js = "/static/local.js?v=" + contentHash(a.static["local.js"].body)
	entries, err := schemaFS.ReadDir("schema")
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		b, err := schemaFS.ReadFile(path.Join("schema", e.Name()))
		if err != nil {
			return nil, err
		}
		a.schemas[e.Name()] = newResponse(http.StatusOK, "application/schema+json", "public, max-age=3600", b)
	}
	nf, err := a.message(title, "Not found", "There is no page here. If a link brought you here, ask whoever gave it to you for a new one.", StateUnknown)
	if err != nil {
		return nil, err
	}
	a.notFound = newResponse(http.StatusNotFound, "text/html; charset=utf-8", "no-store", nf)
	un, err := a.message(title, "Status temporarily unavailable", "The status could not be read just now. Please try again in a few seconds.", StateUnknown)
	if err != nil {
		return nil, err
	}
	a.unavailable = newResponse(http.StatusServiceUnavailable, "text/html; charset=utf-8", "no-store", un)
	return a, nil
}

func contentHash(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:6])
}

func (a *assets) message(title, head, text string, st State) ([]byte, error) {
	p := a.page(title, "message")
	p.PageTitle = head + " · " + title
	p.MessageTitle, p.MessageText, p.MessageState = head, text, st
	return a.execute("message", p)
}

func (a *assets) execute(name string, data any) ([]byte, error) {
	var b bytes.Buffer
	if err := a.tmpl.ExecuteTemplate(&b, name, data); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// link is a footer link.
type link struct{ URL, Text, Rel string }

// page is what the templates get.
type page struct {
	Title, PageTitle string
	Kind             string // public, tenant, message: main's data-page
	TenantID         string
	Private          bool
	CSS, JS, Feed    string
	Now              time.Time
	Stamp            *stamp
	Links            []link
	Overall          overallArgs
	Public           *publicModel
	Tenant           *tenantModel

	MessageTitle, MessageText string
	MessageState              State
}

type overallArgs struct {
	State   State
	Summary string
	Checked *stamp
}

func (a *assets) page(title, kind string) page {
	return page{Title: title, PageTitle: title, Kind: kind, CSS: a.css, JS: a.js}
}

// The file names of the badges.
var badgeFiles = []string{"status.svg", "uptime-7d.svg", "uptime-30d.svg", "uptime-90d.svg"}

// badgeWindow reads uptime-30d.svg as 30; 0 for status.svg; -1 otherwise.
func badgeWindow(file string) int {
	switch file {
	case "status.svg":
		return 0
	case "uptime-7d.svg":
		return 7
	case "uptime-30d.svg":
		return 30
	case "uptime-90d.svg":
		return 90
	}
	return -1
}

func trimSVG(file string) string { return strings.TrimSuffix(file, ".svg") }
